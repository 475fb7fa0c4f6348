/* test_faults.c — fault injection as an ordinary test, in SQLite's manner: this program defines
 * malloc, calloc, realloc and free, and LMDB's I/O calls (pwrite, write, writev, fdatasync, fsync),
 * each passing through to the real one (dlsym(RTLD_NEXT)) unless a test armed it to fail. Every
 * call that allocates is run with the 1st, 2nd, 3rd... allocation failing until it succeeds: each
 * failure must be a documented code, leave nothing behind (the path opens again, ASan's leak check)
 * and lose nothing committed. Commits and syncs are run with their writes and syncs failing: KV_E_IO,
 * and after closing and reopening, exactly what was committed before is there.
 *
 *   test_alloc_env_open, test_alloc_txn_begin, test_alloc_cursor_open, test_alloc_put_commit,
 *   test_alloc_handle_abi, test_alloc_marshal_batch
 *   test_io_commit_writes (both durabilities), test_io_commit_sync, test_io_env_sync
 */
#define _GNU_SOURCE
#include "kv.h"
#include "kv_handle.h"
#include "kv_marshal.h"
#include "testlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>


/* The definitions below replace libc's for the whole process — LMDB's calls included — so they are
 * exported (the build's default visibility is hidden). */
#define INTERPOSE __attribute__((visibility("default")))

/* ---- Allocation failure ------------------------------------------------------------------------- */
/* alloc_countdown > 0: the allocation that brings it to 0 fails (and every later one while
 * alloc_sticky is set, as when memory stays short); alloc_failed counts the failures. */
static atomic_long alloc_countdown;
static atomic_int alloc_sticky, alloc_failed;

static int alloc_fails(void) {
  long n = atomic_load_explicit(&alloc_countdown, memory_order_relaxed);
  if (n <= 0) return 0;
  if (atomic_fetch_sub(&alloc_countdown, 1) != 1) return 0;
  if (atomic_load(&alloc_sticky)) atomic_store(&alloc_countdown, 1);
  atomic_fetch_add(&alloc_failed, 1);
  errno = ENOMEM;
  return 1;
}

/* dlsym may allocate before the real functions are known: those few bytes come from here. */
static unsigned char boot_heap[1 << 16];
static size_t boot_used;
static int in_boot(const void *p) {
  return (const unsigned char *)p >= boot_heap && (const unsigned char *)p < boot_heap + sizeof boot_heap;
}
static void *boot_alloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (boot_used + n > sizeof boot_heap) return NULL;
  void *p = boot_heap + boot_used;
  boot_used += n;
  return p;
}

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* Resolved once this program's constructors run (after libc's, and a sanitizer runtime's, own
 * start-up, which allocate from boot_heap meanwhile); never from inside an allocation, where dlsym
 * would recurse into it. */
__attribute__((constructor)) static void resolve_alloc(void) {
  void *p[4] = {dlsym(RTLD_NEXT, "malloc"), dlsym(RTLD_NEXT, "calloc"), dlsym(RTLD_NEXT, "realloc"),
                dlsym(RTLD_NEXT, "free")};
  memcpy(&real_calloc, &p[1], sizeof p[1]);
  memcpy(&real_realloc, &p[2], sizeof p[2]);
  memcpy(&real_free, &p[3], sizeof p[3]);
  memcpy(&real_malloc, &p[0], sizeof p[0]); /* last: malloc's test for all four */
}

INTERPOSE void *malloc(size_t n) {
  if (!real_malloc) return boot_alloc(n);
  return alloc_fails() ? NULL : real_malloc(n);
}

INTERPOSE void *calloc(size_t n, size_t m) {
  if (!real_malloc) return boot_alloc(n * m); /* boot_heap is zeroed */
  return alloc_fails() ? NULL : real_calloc(n, m);
}

INTERPOSE void *realloc(void *p, size_t n) {
  if (in_boot(p) || !real_malloc) {
    void *q = malloc(n);
    if (q && p) {
      size_t left = (size_t)(boot_heap + sizeof boot_heap - (unsigned char *)p);
      memcpy(q, p, n < left ? n : left);
    }
    return q;
  }
  return alloc_fails() ? NULL : real_realloc(p, n);
}

INTERPOSE void free(void *p) {
  if (!p || in_boot(p) || !real_malloc) return;
  real_free(p);
}

/* ---- I/O failure -------------------------------------------------------------------------------- */
/* io_write_countdown > 0: the write (pwrite, write, writev to a file, not stdout/stderr) that brings it
 * to 0 fails with EIO, and every later one while armed; io_sync_fail: fdatasync and fsync fail. */
static atomic_long io_write_countdown;
static atomic_int io_sync_fail, io_failed;

#define REAL(fn)                                                                                   \
  static __typeof__(&fn) real_;                                                                    \
  if (!real_) {                                                                                    \
    void *p_ = dlsym(RTLD_NEXT, #fn);                                                              \
    memcpy(&real_, &p_, sizeof real_);                                                             \
  }

static int write_fails(int fd) {
  if (fd <= 2 || atomic_load(&io_write_countdown) <= 0) return 0;
  if (atomic_fetch_sub(&io_write_countdown, 1) > 1) return 0;
  atomic_store(&io_write_countdown, 1); /* the disk stays broken */
  atomic_fetch_add(&io_failed, 1);
  errno = EIO;
  return 1;
}

static int sync_fails(void) {
  if (!atomic_load(&io_sync_fail)) return 0;
  atomic_fetch_add(&io_failed, 1);
  errno = EIO;
  return 1;
}

INTERPOSE ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite);
  return write_fails(fd) ? -1 : real_(fd, buf, n, off);
}

INTERPOSE ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write);
  return write_fails(fd) ? -1 : real_(fd, buf, n);
}

INTERPOSE ssize_t writev(int fd, const struct iovec *iov, int n) {
  REAL(writev);
  return write_fails(fd) ? -1 : real_(fd, iov, n);
}

INTERPOSE int fdatasync(int fd) {
  REAL(fdatasync);
  return sync_fails() ? -1 : real_(fd);
}

INTERPOSE int fsync(int fd) {
  REAL(fsync);
  return sync_fails() ? -1 : real_(fd);
}

static void disarm(void) {
  atomic_store(&alloc_countdown, 0);
  atomic_store(&alloc_sticky, 0);
  atomic_store(&io_write_countdown, 0);
  atomic_store(&io_sync_fail, 0);
}

/* ---- Helpers ------------------------------------------------------------------------------------ */
static kv_options opts(uint32_t durability) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = durability;
  o.map_size = 16u << 20;
  return o;
}

#define MAX_TRIES 2000

/* Runs body with the n-th allocation failing, n = 1, 2, ... until body succeeds (rc == KV_OK). Each
 * failure must be one of the codes listed; cleanup (run with allocation working) restores the state.
 * Sets *tries to the number of failing runs. */
#define ALLOC_LOOP(tries, rc_expr, allowed_ok, cleanup_fail)                                       \
  do {                                                                                             \
    int done_ = 0;                                                                                 \
    for (long n_ = 1; n_ <= MAX_TRIES && !done_; n_++) {                                           \
      atomic_store(&alloc_failed, 0);                                                              \
      atomic_store(&alloc_countdown, n_);                                                          \
      int rc_ = (rc_expr);                                                                         \
      disarm();                                                                                    \
      if (rc_ == KV_OK) {                                                                          \
        done_ = 1;                                                                                 \
        break;                                                                                     \
      }                                                                                            \
      (tries)++;                                                                                   \
      if (!(allowed_ok))                                                                           \
        T_FAIL_RETURN("allocation %ld failing: %s (%s)", n_, kv_err_name(rc_), kv_last_error());  \
      cleanup_fail;                                                                                \
      T_CHECK();                                                                                   \
    }                                                                                              \
    if (!done_) T_FAIL_RETURN("never succeeded in %d tries", MAX_TRIES);                           \
  } while (0)

static void expect_reopens(void) {
  kv_env *env = NULL;
  int rc = kv_env_open(&env, t_path("db"), NULL);
  if (rc != KV_OK) T_FAIL_RETURN("the path does not open again: %s (%s)", kv_err_name(rc), kv_last_error());
  T_OK(kv_env_close(env));
}

/* ---- Allocation failure, call by call ------------------------------------------------------------ */
static void test_alloc_env_open(void) {
  kv_options o = opts(KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  int tries = 0;
  ALLOC_LOOP(tries, kv_env_open(&env, t_path("db"), &o), rc_ == KV_E_NO_MEMORY, expect_reopens());
  T_TRUE(tries > 0); /* kv_env_open allocates: at least its own object */
  T_OK(kv_env_put(env, "k", 1, "v", 1));
  T_OK(kv_env_close(env));
  printf("  kv_env_open: %d allocation failures, each KV_E_NO_MEMORY\n", tries);
  t_leak_check();
}

static void test_alloc_txn_begin(void) {
  kv_options o = opts(KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  T_OK(kv_env_put(env, "k", 1, "v", 1));
  for (unsigned flags = 0; flags < 2; flags++) {
    kv_txn *t = NULL;
    int tries = 0;
    ALLOC_LOOP(tries, kv_txn_begin(&t, env, flags), rc_ == KV_E_NO_MEMORY, (void)0);
    T_TRUE(tries > 0);
    T_OK(kv_txn_free(t));
  }
  T_OK(kv_env_close(env)); /* no half-begun transaction keeps it open */
  t_leak_check();
}

static void test_alloc_cursor_open(void) {
  kv_options o = opts(KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  T_OK(kv_env_put(env, "k", 1, "v", 1));
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  kv_cursor *c = NULL;
  int tries = 0;
  ALLOC_LOOP(tries, kv_cursor_open(&c, t, NULL, 0), rc_ == KV_E_NO_MEMORY, (void)0);
  T_TRUE(tries > 0);
  const void *k;
  size_t kl;
  T_OK(kv_cursor_next(c, &k, &kl, NULL, NULL));
  T_OK(kv_cursor_close(c));
  T_OK(kv_txn_free(t));
  T_OK(kv_env_close(env));
  t_leak_check();
}

/* A write transaction under allocation failure: a failing put fails the transaction (KV_E_NO_MEMORY,
 * then KV_E_TXN_FAILED), nothing of it is committed, and the redo commits all of it. */
static int put_many_commit(kv_env *env, int n) {
  kv_txn *t = NULL;
  int rc = kv_txn_begin(&t, env, KV_TXN_WRITE);
  for (int i = 0; i < n && rc == KV_OK; i++) {
    char key[16], val[200];
    snprintf(key, sizeof key, "p%04d", i);
    memset(val, 'a' + i % 26, sizeof val);
    rc = kv_put(t, key, strlen(key), val, sizeof val);
  }
  if (rc == KV_OK) rc = kv_txn_commit(t);
  kv_txn_free(t); /* frees, even after a failure; NULL if the begin failed */
  return rc;
}

static void expect_puts(kv_env *env, int n) {
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  int found = 0;
  for (int i = 0; i < 300; i++) {
    char key[16], val[200];
    size_t len = 0;
    snprintf(key, sizeof key, "p%04d", i);
    if (kv_get(t, key, strlen(key), val, sizeof val, &len) == KV_OK) found++;
  }
  T_OK(kv_txn_free(t));
  T_EQ_INT(found, n);
}

static void test_alloc_put_commit(void) {
  kv_options o = opts(KV_DURABLE_SYNC);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  int tries = 0;
  ALLOC_LOOP(tries, put_many_commit(env, 300),
             rc_ == KV_E_NO_MEMORY || rc_ == KV_E_TXN_FAILED, expect_puts(env, 0));
  T_TRUE(tries > 0);
  expect_puts(env, 300);
  T_CHECK();
  T_OK(kv_env_close(env));
  T_OK(kv_env_open(&env, t_path("db"), &o));
  expect_puts(env, 300);
  T_CHECK();
  T_OK(kv_env_close(env));
  t_leak_check();
}

/* The handle ABI: a failed creation creates no handle. */
static int handle_objects(kvh_handle env) {
  kvh_handle t = 0, c = 0;
  int rc = kvh_txn_begin(&t, env, KV_TXN_READ);
  if (rc == KV_OK) rc = kvh_cursor_open(&c, t, NULL, 0);
  if (c) kvh_cursor_close(c);
  if (t) kvh_txn_abort(t);
  return rc;
}

static void test_alloc_handle_abi(void) {
  kv_options o = opts(KV_DURABLE_NOSYNC);
  kvh_handle env = 0;
  int tries = 0;
  ALLOC_LOOP(tries, kvh_env_open(&env, t_path("db"), &o), rc_ == KV_E_NO_MEMORY,
             T_EQ_INT(kvh_live_count(), 0));
  T_OK(kvh_env_put(env, "k", 1, "v", 1));
  tries = 0;
  ALLOC_LOOP(tries, handle_objects(env), rc_ == KV_E_NO_MEMORY, T_EQ_INT(kvh_live_count(), 1));
  T_TRUE(tries > 0);
  T_OK(kvh_env_close(env));
  T_EQ_INT(kvh_live_count(), 0);
  t_leak_check();
}

/* kvm_call's GET_BATCH allocates its scratch beyond 32 keys: KV_E_NO_MEMORY, then the answer. */
static int batch_call(kvh_handle txn, unsigned char *resp, size_t cap) {
  enum { N = 40 };
  unsigned char req[2 + 8 + 4 + 4 * N + N];
  size_t at = 0;
  req[at++] = KVM_VERSION;
  req[at++] = KVM_OP_GET_BATCH;
  for (int i = 0; i < 8; i++) req[at++] = (unsigned char)(txn >> (8 * i));
  req[at++] = N, req[at++] = 0, req[at++] = 0, req[at++] = 0;
  for (int i = 0; i < N; i++) req[at++] = 1, req[at++] = 0, req[at++] = 0, req[at++] = 0;
  for (int i = 0; i < N; i++) req[at++] = 'k';
  size_t n = 0;
  return kvm_call(req, at, resp, cap, &n);
}

static void test_alloc_marshal_batch(void) {
  kv_options o = opts(KV_DURABLE_NOSYNC);
  kvh_handle env = 0, txn = 0;
  T_OK(kvh_env_open(&env, t_path("db"), &o));
  T_OK(kvh_env_put(env, "k", 1, "v", 1));
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  static unsigned char resp[4096];
  int tries = 0;
  ALLOC_LOOP(tries, batch_call(txn, resp, sizeof resp), rc_ == KV_E_NO_MEMORY, (void)0);
  T_TRUE(tries > 0);
  T_OK(kvh_txn_abort(txn));
  T_OK(kvh_env_close(env));
  t_leak_check();
}

/* ---- I/O errors on commit and sync --------------------------------------------------------------- */
/* Commits batch i (keys b<i>-0..19) unless the disk fails; returns the commit's code. */
static int commit_batch(kv_env *env, int i) {
  kv_txn *t = NULL;
  int rc = kv_txn_begin(&t, env, KV_TXN_WRITE);
  for (int k = 0; k < 20 && rc == KV_OK; k++) {
    char key[24], val[500];
    snprintf(key, sizeof key, "b%03d-%02d", i, k);
    memset(val, 'a' + (i + k) % 26, sizeof val);
    rc = kv_put(t, key, strlen(key), val, sizeof val);
  }
  if (rc == KV_OK) rc = kv_txn_commit(t);
  kv_txn_free(t);
  return rc;
}

/* Batch i is there in full (want 1) or not at all (want 0). */
static void expect_batch(kv_env *env, int i, int want) {
  kv_txn *t = NULL;
  T_OK(kv_txn_begin(&t, env, KV_TXN_READ));
  int found = 0;
  for (int k = 0; k < 20; k++) {
    char key[24], val[500];
    size_t len = 0;
    snprintf(key, sizeof key, "b%03d-%02d", i, k);
    if (kv_get(t, key, strlen(key), val, sizeof val, &len) == KV_OK && len == sizeof val &&
        val[0] == 'a' + (i + k) % 26)
      found++;
  }
  T_OK(kv_txn_free(t));
  if (found != 20 * want) T_FAIL_RETURN("batch %d: %d of 20 records, want %d", i, found, 20 * want);
}

static void io_commit_case(uint32_t durability) {
  kv_options o = opts(durability);
  kv_env *env = NULL;
  const char *path = t_path(durability == KV_DURABLE_SYNC ? "sync.db" : "nosync.db");
  T_OK(kv_env_open(&env, path, &o));
  int committed = 0, failures = 0, given_up = 0;
  for (long n = 1; n <= 12; n++) { /* the 1st, 2nd, ... write of the commit fails */
    T_OK(commit_batch(env, committed));
    committed++;
    atomic_store(&io_write_countdown, n);
    int rc = commit_batch(env, committed);
    disarm();
    if (rc == KV_OK) {
      committed++;
      continue;
    }
    failures++;
    T_KV(rc, KV_E_IO);
    /* A failed data page leaves the environment usable; a failed meta page makes LMDB give it up:
     * then every call is KV_E_IO. */
    kv_txn *t = NULL;
    rc = kv_txn_begin(&t, env, KV_TXN_READ);
    kv_txn_free(t);
    if (rc != KV_OK && rc != KV_E_IO) T_FAIL_RETURN("after the failed commit: %s", kv_err_name(rc));
    given_up += rc == KV_E_IO;
    /* Whether LMDB could go on (a data page failed) or gave the environment up (the meta page
     * failed: KV_E_IO on every call), a close and reopen finds exactly what was committed. */
    T_OK(kv_env_close(env));
    T_OK(kv_env_open(&env, path, &o));
    for (int i = 0; i <= committed; i++) {
      expect_batch(env, i, i < committed);
      T_CHECK();
    }
  }
  T_TRUE(failures > 0);
  T_OK(kv_env_close(env));
  T_OK(kv_env_open(&env, path, &o));
  for (int i = 0; i < committed; i++) {
    expect_batch(env, i, 1);
    T_CHECK();
  }
  T_OK(kv_env_close(env));
  printf("  %s: %d commits failed with KV_E_IO (%d of them giving the environment up), %d "
         "committed, nothing lost\n", durability == KV_DURABLE_SYNC ? "sync" : "nosync", failures,
         given_up, committed);
  t_leak_check();
}

static void test_io_commit_writes(void) {
  io_commit_case(KV_DURABLE_SYNC);
  T_CHECK();
  io_commit_case(KV_DURABLE_NOSYNC);
}

static void test_io_commit_sync(void) {
  kv_options o = opts(KV_DURABLE_SYNC);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  T_OK(commit_batch(env, 0));
  atomic_store(&io_sync_fail, 1);
  int rc = commit_batch(env, 1);
  disarm();
  T_KV(rc, KV_E_IO);
  T_TRUE(atomic_load(&io_failed) > 0);
  T_OK(kv_env_close(env));
  T_OK(kv_env_open(&env, t_path("db"), &o));
  expect_batch(env, 0, 1);
  T_CHECK();
  expect_batch(env, 1, 0); /* its data never reached the disk: not committed */
  T_CHECK();
  T_OK(commit_batch(env, 1));
  expect_batch(env, 1, 1);
  T_CHECK();
  T_OK(kv_env_close(env));
  t_leak_check();
}

static void test_io_env_sync(void) {
  kv_options o = opts(KV_DURABLE_NOSYNC);
  kv_env *env = NULL;
  T_OK(kv_env_open(&env, t_path("db"), &o));
  T_OK(commit_batch(env, 0));
  atomic_store(&io_sync_fail, 1);
  int rc = kv_env_sync(env);
  disarm();
  T_KV(rc, KV_E_IO);
  T_OK(kv_env_sync(env)); /* the disk works again */
  T_OK(kv_env_close(env));
  T_OK(kv_env_open(&env, t_path("db"), &o));
  expect_batch(env, 0, 1);
  T_CHECK();
  T_OK(kv_env_close(env));
  t_leak_check();
}

static const t_case cases[] = {
    T_CASE(test_alloc_env_open),  T_CASE(test_alloc_txn_begin),  T_CASE(test_alloc_cursor_open),
    T_CASE(test_alloc_put_commit), T_CASE(test_alloc_handle_abi), T_CASE(test_alloc_marshal_batch),
    T_CASE(test_io_commit_writes), T_CASE(test_io_commit_sync),  T_CASE(test_io_env_sync),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
