/* test_races.c — the engine's races, made deterministic: this program defines some of LMDB's
 * functions itself (mdb_txn_commit, mdb_env_open, mdb_env_close, mdb_get), so libkv.a, linked into
 * it, calls them; each calls LMDB's own through dlsym(RTLD_NEXT) and, when a test arms it, stops at
 * the point where a race window opens until the other thread has done its part (or a timeout ran
 * out). Each test failed on the engine before its fix (the commit that added it says how).
 *
 *   test_writer_recorded_after_commit_race   a thread whose write transaction's commit has just
 *     released LMDB's write lock must not erase the record of the thread that took the lock next:
 *     that thread's second write transaction is KV_E_BUSY, not a self-deadlock in LMDB.
 *   test_open_during_close_waits             kv_env_open of a path whose kv_env_close is still inside
 *     LMDB's close waits for it: two LMDB environments never have one file open at once.
 *   test_txn_of_exited_thread                a transaction whose owner thread exited is not the
 *     transaction of the next thread glibc gives the same thread pointer (KV_E_WRONG_THREAD); the
 *     exit ended it, so another writer does not wait for a dead thread's lock.
 *   test_close_during_oneshot_busy           kv_env_close while another thread's one-shot call is
 *     inside LMDB returns KV_E_BUSY instead of unmapping the environment under it.
 */
#define _GNU_SOURCE
#include "kv.h"
#include "testlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Gates: a one-shot event a thread can wait for, with a timeout ------------------------------ */
typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
} gate;

static void gate_init(gate *g) {
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  g->open = 0;
}

static void gate_open(gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

/* 1 if the gate opened within ms milliseconds, else 0. */
static int gate_wait(gate *g, long ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&g->mu);
  int rc = 0;
  while (!g->open && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&g->cv, &g->mu, &until);
  int open = g->open;
  pthread_mutex_unlock(&g->mu);
  return open;
}

/* ---- The interposed LMDB functions -------------------------------------------------------------- */
/* LMDB's own definition of name (the next one in lookup order: liblmdb.so's). */
static void *lmdb_real(const char *name) {
  void *p = dlsym(RTLD_NEXT, name);
  if (!p) {
    fprintf(stderr, "dlsym(RTLD_NEXT, %s): %s\n", name, dlerror());
    abort();
  }
  return p;
}
#define REAL(fn)                                                                                   \
  static __typeof__(&fn) real_;                                                                    \
  if (!real_) {                                                                                    \
    void *p_ = lmdb_real(#fn);                                                                     \
    memcpy(&real_, &p_, sizeof real_);                                                             \
  }

/* What the hooks wait for and open. One test at a time per process (the runner forks per test). */
static gate g_a, g_b, g_c;
static _Atomic(pthread_t *) hook_thread; /* the thread whose call stops, or NULL: hooks off */
static atomic_int hook_kind;
enum { HOOK_NONE, HOOK_AFTER_COMMIT, HOOK_BEFORE_ENV_CLOSE, HOOK_BEFORE_GET };

static int hooked(int kind) {
  pthread_t *t = atomic_load(&hook_thread);
  return t && atomic_load(&hook_kind) == kind && pthread_equal(*t, pthread_self());
}

static void hook_arm(int kind, pthread_t *thread) {
  atomic_store(&hook_kind, kind);
  atomic_store(&hook_thread, thread);
}

static void hook_disarm(void) { atomic_store(&hook_thread, NULL); }

int mdb_txn_commit(MDB_txn *txn) {
  REAL(mdb_txn_commit);
  int rc = real_(txn);
  if (hooked(HOOK_AFTER_COMMIT)) { /* LMDB has released the write lock */
    hook_disarm();
    gate_open(&g_a);
    gate_wait(&g_b, 2000); /* until the next writer has begun */
  }
  return rc;
}

/* Every LMDB environment open in this process, by path, to catch one file opened twice. */
#define MAX_OPEN 8
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  MDB_env *env;
  char path[1024];
} open_envs[MAX_OPEN];
static int opened_twice;

int mdb_env_open(MDB_env *env, const char *path, unsigned flags, mdb_mode_t mode) {
  REAL(mdb_env_open);
  pthread_mutex_lock(&open_mu);
  int free_slot = -1;
  for (int i = 0; i < MAX_OPEN; i++) {
    if (open_envs[i].env && strcmp(open_envs[i].path, path) == 0) opened_twice++;
    if (!open_envs[i].env && free_slot < 0) free_slot = i;
  }
  if (free_slot >= 0) {
    open_envs[free_slot].env = env;
    snprintf(open_envs[free_slot].path, sizeof open_envs[free_slot].path, "%s", path);
  }
  pthread_mutex_unlock(&open_mu);
  return real_(env, path, flags, mode);
}

void mdb_env_close(MDB_env *env) {
  REAL(mdb_env_close);
  if (hooked(HOOK_BEFORE_ENV_CLOSE)) {
    hook_disarm();
    gate_open(&g_a);
    gate_wait(&g_b, 300); /* until the other thread's open returned (it may be waiting for us) */
  }
  pthread_mutex_lock(&open_mu);
  for (int i = 0; i < MAX_OPEN; i++)
    if (open_envs[i].env == env) open_envs[i].env = NULL;
  pthread_mutex_unlock(&open_mu);
  real_(env);
}

int mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data) {
  REAL(mdb_get);
  if (hooked(HOOK_BEFORE_GET)) {
    hook_disarm();
    gate_open(&g_a);
    gate_wait(&g_b, 2000); /* until the other thread's kv_env_close returned */
  }
  return real_(txn, dbi, key, data);
}

/* ---- Helpers ------------------------------------------------------------------------------------ */
static kv_env *open_nosync(const char *name) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  kv_env *env = NULL;
  int rc = kv_env_open(&env, t_path(name), &o);
  if (rc != KV_OK) {
    t_fail(__FILE__, __LINE__, "kv_env_open: %s", kv_last_error());
    return NULL;
  }
  return env;
}

static void setup(void) {
  gate_init(&g_a);
  gate_init(&g_b);
  gate_init(&g_c);
  hook_disarm();
}

/* ---- 1. The one-writer-per-thread record after a commit ------------------------------------------ */
typedef struct writer_ctx {
  kv_env *env;
  pthread_t a;
  int a_commit, b_first, b_commit;
  atomic_int b_second; /* polled by the main thread */
} writer_ctx;

static void *writer_a(void *p) {
  writer_ctx *c = p;
  kv_txn *t = NULL;
  c->a_commit = kv_txn_begin(&t, c->env, KV_TXN_WRITE);
  if (c->a_commit == KV_OK) c->a_commit = kv_put(t, "a", 1, "1", 1);
  c->a = pthread_self();
  hook_arm(HOOK_AFTER_COMMIT, &c->a);
  if (c->a_commit == KV_OK) c->a_commit = kv_txn_commit(t);
  hook_disarm();
  gate_open(&g_a); /* (also when something failed before the hook) */
  kv_txn_free(t);
  gate_open(&g_c); /* kv_txn_commit has returned */
  return NULL;
}

static void *writer_b(void *p) {
  writer_ctx *c = p;
  gate_wait(&g_a, 5000); /* A's commit has released LMDB's write lock */
  kv_txn *w1 = NULL, *w2 = NULL;
  c->b_first = kv_txn_begin(&w1, c->env, KV_TXN_WRITE);
  gate_open(&g_b);
  gate_wait(&g_c, 5000);
  int rc = kv_txn_begin(&w2, c->env, KV_TXN_WRITE); /* must not wait for itself */
  if (rc == KV_OK) kv_txn_free(w2);
  c->b_commit = c->b_first == KV_OK ? kv_txn_commit(w1) : c->b_first;
  kv_txn_free(w1);
  atomic_store(&c->b_second, rc);
  return NULL;
}

static void test_writer_recorded_after_commit_race(void) {
  setup();
  writer_ctx c;
  memset(&c, 0, sizeof c);
  c.env = open_nosync("db");
  T_CHECK();
  atomic_store(&c.b_second, 12345);
  pthread_t ta, tb;
  T_EQ_INT(pthread_create(&ta, NULL, writer_a, &c), 0);
  T_EQ_INT(pthread_create(&tb, NULL, writer_b, &c), 0);
  pthread_join(ta, NULL);
  for (int i = 0; i < 300 && atomic_load(&c.b_second) == 12345; i++) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (atomic_load(&c.b_second) == 12345)
    T_FAIL_RETURN("a second write transaction in one thread blocked on LMDB's write lock, which the "
                  "thread itself holds: the engine lost the record that it is the writer");
  pthread_join(tb, NULL);
  T_OK(c.a_commit);
  T_OK(c.b_first);
  T_KV(atomic_load(&c.b_second), KV_E_BUSY);
  T_OK(c.b_commit);
  T_OK(kv_env_close(c.env));
}

/* ---- 2. An open of a path whose close is in progress ---------------------------------------------- */
typedef struct reopen_ctx {
  kv_env *env, *again;
  pthread_t closer;
  int close_rc, open_rc;
} reopen_ctx;

static void *closer(void *p) {
  reopen_ctx *c = p;
  c->closer = pthread_self();
  hook_arm(HOOK_BEFORE_ENV_CLOSE, &c->closer);
  c->close_rc = kv_env_close(c->env);
  hook_disarm();
  gate_open(&g_a);
  return NULL;
}

static void *opener(void *p) {
  reopen_ctx *c = p;
  gate_wait(&g_a, 5000); /* the close is inside LMDB's mdb_env_close */
  c->open_rc = kv_env_open(&c->again, t_path("db"), NULL);
  gate_open(&g_b);
  return NULL;
}

static void test_open_during_close_waits(void) {
  setup();
  reopen_ctx c;
  memset(&c, 0, sizeof c);
  c.env = open_nosync("db");
  T_CHECK();
  T_OK(kv_env_put(c.env, "k", 1, "v", 1));
  pthread_t t1, t2;
  T_EQ_INT(pthread_create(&t1, NULL, closer, &c), 0);
  T_EQ_INT(pthread_create(&t2, NULL, opener, &c), 0);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  T_OK(c.close_rc);
  T_OK(c.open_rc);
  T_EQ_INT(opened_twice, 0); /* LMDB saw the file opened a second time before the first close */
  char buf[4];
  size_t len = 0;
  T_OK(kv_env_get(c.again, "k", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "v", 1);
  T_OK(kv_env_close(c.again));
}

/* ---- 3. A transaction whose thread exited --------------------------------------------------------- */
typedef struct exited_ctx {
  kv_env *env;
  kv_txn *r, *w;
  pthread_t a_self;
  int a_rc;
  int reused; /* the second thread got the first one's identity */
  int get_rc, put_rc, commit_rc, free_w_rc, free_r_rc, begin_rc, commit2_rc, get2_rc;
} exited_ctx;

static void *exited_owner(void *p) {
  exited_ctx *c = p;
  c->a_self = pthread_self();
  c->a_rc = kv_txn_begin(&c->r, c->env, KV_TXN_READ);
  if (c->a_rc == KV_OK) c->a_rc = kv_txn_begin(&c->w, c->env, KV_TXN_WRITE);
  if (c->a_rc == KV_OK) c->a_rc = kv_put(c->w, "lost", 4, "x", 1);
  return NULL; /* exits holding both */
}

static void *next_thread(void *p) {
  exited_ctx *c = p;
  c->reused = pthread_equal(c->a_self, pthread_self());
  char buf[8];
  size_t len = 0;
  c->get_rc = kv_get(c->r, "k", 1, buf, sizeof buf, &len);
  c->put_rc = kv_put(c->w, "k", 1, "2", 1);
  c->commit_rc = kv_txn_commit(c->w);
  c->free_w_rc = kv_txn_free(c->w);
  c->free_r_rc = kv_txn_free(c->r);
  kv_txn *t = NULL;
  c->begin_rc = kv_txn_begin(&t, c->env, KV_TXN_WRITE); /* the dead thread holds no lock */
  if (c->begin_rc == KV_OK) {
    c->commit2_rc = kv_put(t, "k", 1, "3", 1);
    if (c->commit2_rc == KV_OK) c->commit2_rc = kv_txn_commit(t);
    kv_txn_free(t);
  }
  c->get2_rc = kv_env_get(c->env, "lost", 4, buf, sizeof buf, &len);
  gate_open(&g_a);
  return NULL;
}

static void test_txn_of_exited_thread(void) {
  setup();
  exited_ctx c;
  memset(&c, 0, sizeof c);
  c.env = open_nosync("db");
  T_CHECK();
  T_OK(kv_env_put(c.env, "k", 1, "1", 1));
  pthread_t t;
  T_EQ_INT(pthread_create(&t, NULL, exited_owner, &c), 0);
  pthread_join(t, NULL);
  T_OK(c.a_rc);
  /* glibc hands a joined thread's stack, and so its thread pointer, to the next thread it creates. */
  T_EQ_INT(pthread_create(&t, NULL, next_thread, &c), 0);
  if (!gate_wait(&g_a, 5000))
    T_FAIL_RETURN("the second thread hangs (a write transaction of the dead thread holds the lock)");
  pthread_join(t, NULL);
  if (!c.reused) printf("  (note: the second thread did not get the first one's thread pointer)\n");
  T_KV(c.get_rc, KV_E_WRONG_THREAD);
  T_KV(c.put_rc, KV_E_WRONG_THREAD);
  T_KV(c.commit_rc, KV_E_WRONG_THREAD);
  T_OK(c.free_w_rc); /* ended by its thread's exit: any thread may free it */
  T_OK(c.free_r_rc);
  T_OK(c.begin_rc);
  T_OK(c.commit2_rc);
  T_KV(c.get2_rc, KV_E_NOT_FOUND); /* the dead thread's write was aborted, not committed */
  T_OK(kv_env_close(c.env));
}

/* ---- 4. Closing an environment while another thread's one-shot call runs --------------------------- */
typedef struct oneshot_ctx {
  kv_env *env;
  pthread_t reader;
  int get_rc;
  char buf[4];
  size_t len;
} oneshot_ctx;

static void *oneshot_reader(void *p) {
  oneshot_ctx *c = p;
  c->reader = pthread_self();
  hook_arm(HOOK_BEFORE_GET, &c->reader);
  c->get_rc = kv_env_get(c->env, "k", 1, c->buf, sizeof c->buf, &c->len);
  hook_disarm();
  gate_open(&g_a);
  return NULL;
}

static void test_close_during_oneshot_busy(void) {
  setup();
  oneshot_ctx c;
  memset(&c, 0, sizeof c);
  c.env = open_nosync("db");
  T_CHECK();
  T_OK(kv_env_put(c.env, "k", 1, "v", 1));
  pthread_t t;
  T_EQ_INT(pthread_create(&t, NULL, oneshot_reader, &c), 0);
  gate_wait(&g_a, 5000); /* the reader is inside kv_env_get, in front of mdb_get */
  int close_rc = kv_env_close(c.env);
  gate_open(&g_b);
  pthread_join(t, NULL);
  T_KV(close_rc, KV_E_BUSY);
  T_OK(c.get_rc);
  T_EQ_MEM(c.buf, c.len, "v", 1);
  T_OK(kv_env_close(c.env));
}

static const t_case cases[] = {
    T_CASE(test_writer_recorded_after_commit_race),
    T_CASE(test_open_during_close_waits),
    T_CASE(test_txn_of_exited_thread),
    T_CASE(test_close_during_oneshot_busy),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
