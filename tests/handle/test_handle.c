/* test_handle.c — the handle ABI (kv_handle.h) under every misuse it promises to survive: handle 0,
 * forged values, stale handles (after close, commit, abort, slot reuse), double release, wrong types,
 * generation wrap, a full table, exclusive handles used from two threads at once, transactions used
 * from a non-owner thread, a shared environment under concurrent use and close, cursors outliving
 * their transaction, and cursor copy-out with buffers too small. Each test runs in its own process,
 * so each starts with an empty handle table. */
#define _POSIX_C_SOURCE 200809L
#include "kv_handle.h"
#include "kv_handle_debug.h"
#include "testlib.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- Helpers ----------------------------------------------------------------------------------- */

/* The debugging layout documented in kv_handle.h: generation << 32 | type << 24 | (index + 1). */
static uint32_t h_index(kvh_handle h) { return (uint32_t)(h & 0xffffffu) - 1u; }
static uint32_t h_gen(kvh_handle h) { return (uint32_t)(h >> 32); }
static kvh_handle h_make(uint32_t gen, unsigned type, uint32_t index1) {
  return (kvh_handle)gen << 32 | (kvh_handle)(type & 0xffu) << 24 | (index1 & 0xffffffu);
}

static kvh_handle open_env_sized(const char *path, uint64_t map_size) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = map_size;
  kvh_handle env = KVH_NULL;
  int rc = kvh_env_open(&env, path, &o);
  if (rc != KV_OK) t_fail(__FILE__, __LINE__, "kvh_env_open(%s): %s", path, kv_err_name(rc));
  return env;
}
static kvh_handle open_env_at(const char *path) { return open_env_sized(path, 16u << 20); }
static kvh_handle open_env(void) { return open_env_at(t_path("db")); }

static void put_one(kvh_handle env, const char *k, const char *v) {
  T_OK(kvh_env_put(env, k, strlen(k), v, strlen(v)));
}

static uint32_t live_slots(void) {
  kv__handle_stats st;
  kv__handle_debug_stats(&st);
  return st.live;
}

/* Sets the thread's last error to something else, so the next check proves the call under test wrote
 * its own. */
static void scribble_last_error(void) { (void)kv_options_init(NULL); }

/* expr must fail with err and leave a last-error message naming it. */
#define T_ERR(expr, err)                                                                           \
  do {                                                                                             \
    scribble_last_error();                                                                         \
    T_KV(expr, err);                                                                               \
    if (strncmp(kv_last_error(), kv_err_name(err), strlen(kv_err_name(err))) != 0)                 \
      T_FAIL_RETURN("%s: last error \"%s\" does not report %s", #expr, kv_last_error(),            \
                    kv_err_name(err));                                                             \
  } while (0)

/* Every function that takes an environment handle, called with h: each must return err and leave its
 * out-parameters untouched. */
static void expect_env_family(kvh_handle h, int err) {
  int sum = 12345;
  uint64_t out = 777;
  kvh_handle t = 999;
  char buf[8] = "xxxxxxx";
  size_t len = 4242;
  T_ERR(kvh_noop(h), err);
  T_ERR(kvh_add(h, 1, 2, &sum), err);
  T_EQ_INT(sum, 12345);
  T_ERR(kvh_spin(h, 10, &out), err);
  T_EQ_U64(out, 777);
  T_ERR(kvh_env_set_map_size(h, 32u << 20), err);
  T_ERR(kvh_env_map_size(h, &out), err);
  T_EQ_U64(out, 777);
  T_ERR(kvh_env_sync(h), err);
  T_ERR(kvh_env_put(h, "k", 1, "v", 1), err);
  T_ERR(kvh_env_get(h, "k", 1, buf, sizeof buf, &len), err);
  T_EQ_INT(len, 4242);
  T_EQ_STR(buf, "xxxxxxx");
  T_ERR(kvh_env_del(h, "k", 1), err);
  T_ERR(kvh_txn_begin(&t, h, KV_TXN_READ), err);
  T_ERR(kvh_txn_begin(&t, h, KV_TXN_WRITE), err);
  T_EQ_U64(t, 999);
  T_ERR(kvh_env_close(h), err);
}

static int never_called(const void *k, size_t kl, const void *v, size_t vl, void *p) {
  (void)k, (void)kl, (void)v, (void)vl;
  ++*(int *)p;
  return 0;
}

/* Every function that takes a transaction handle. */
static void expect_txn_family(kvh_handle h, int err) {
  char buf[8] = "xxxxxxx";
  size_t len = 4242, lens[1] = {1}, vlens[1] = {4242}, found = 4242, count = 4242;
  kvh_handle c = 999;
  int calls = 0;
  T_ERR(kvh_put(h, "k", 1, "v", 1), err);
  T_ERR(kvh_get(h, "k", 1, buf, sizeof buf, &len), err);
  T_EQ_INT(len, 4242);
  T_ERR(kvh_del(h, "k", 1), err);
  T_ERR(kvh_get_batch(h, 1, "k", lens, buf, sizeof buf, vlens, &found), err);
  T_EQ_INT(vlens[0], 4242);
  T_EQ_INT(found, 4242);
  T_ERR(kvh_scan(h, NULL, 0, NULL, 0, never_called, &calls, &count), err);
  T_EQ_INT(calls, 0);
  T_EQ_INT(count, 4242);
  T_ERR(kvh_cursor_open(&c, h, NULL, 0), err);
  T_EQ_U64(c, 999);
  T_ERR(kvh_txn_reset(h), err);
  T_ERR(kvh_txn_renew(h), err);
  T_ERR(kvh_txn_is_write(h), err);
  T_ERR(kvh_txn_commit(h), err);
  T_ERR(kvh_txn_abort(h), err);
  T_EQ_STR(buf, "xxxxxxx");
}

/* Every function that takes a cursor handle. */
static void expect_cursor_family(kvh_handle h, int err) {
  char k[8] = "xxxxxxx", v[8] = "yyyyyyy";
  size_t kl = 4242, vl = 4343;
  T_ERR(kvh_cursor_next(h, k, sizeof k, &kl, v, sizeof v, &vl), err);
  T_EQ_INT(kl, 4242);
  T_EQ_INT(vl, 4343);
  T_EQ_STR(k, "xxxxxxx");
  T_ERR(kvh_cursor_close(h), err);
}

/* A handle that names no live object: every function of every family says KV_E_BAD_HANDLE. */
static void expect_dead(kvh_handle h) {
  T_ERR(kvh_type(h), KV_E_BAD_HANDLE);
  expect_env_family(h, KV_E_BAD_HANDLE);
  T_CHECK();
  expect_txn_family(h, KV_E_BAD_HANDLE);
  T_CHECK();
  expect_cursor_family(h, KV_E_BAD_HANDLE);
}

/* Reads the whole store through a fresh read transaction and cursor; returns the record count. */
static size_t count_records(kvh_handle env) {
  kvh_handle txn, cur;
  size_t n = 0, kl, vl;
  static char k[KV_KEY_MAX], v[64 << 10]; /* larger than any value the tests store */
  if (kvh_txn_begin(&txn, env, KV_TXN_READ) != KV_OK) return SIZE_MAX;
  if (kvh_cursor_open(&cur, txn, NULL, 0) != KV_OK) return SIZE_MAX;
  int rc;
  while ((rc = kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl)) == KV_OK) n++;
  if (kvh_cursor_close(cur) != KV_OK || kvh_txn_commit(txn) != KV_OK) return SIZE_MAX;
  return rc == KV_E_DONE ? n : SIZE_MAX;
}

/* The three live objects the misuse tests aim at: an environment holding "a", a write transaction on
 * it, and a cursor in that transaction. */
static void open_three(kvh_handle *env, kvh_handle *txn, kvh_handle *cur) {
  *env = open_env();
  T_CHECK();
  put_one(*env, "a", "1");
  T_CHECK();
  T_OK(kvh_txn_begin(txn, *env, KV_TXN_WRITE));
  T_OK(kvh_cursor_open(cur, *txn, NULL, 0));
}

/* After the misuse, open_three's objects still work — the cursor reads "a", the transaction writes
 * and commits — and closing them leaves no live slot. */
static void expect_untouched_then_close(kvh_handle env, kvh_handle txn, kvh_handle cur) {
  char k[4], v[4];
  size_t kl, vl;
  T_OK(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "a", 1);
  T_OK(kvh_put(txn, "b", 1, "2", 1));
  T_OK(kvh_cursor_close(cur));
  T_OK(kvh_txn_commit(txn));
  T_EQ_INT(count_records(env), 2);
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

/* ---- Invalid values ---------------------------------------------------------------------------- */

static void test_null_handle(void) {
  expect_dead(KVH_NULL);
  T_CHECK();
  /* With live objects around, 0 is still nothing. */
  kvh_handle env = open_env(), txn;
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  expect_dead(KVH_NULL);
  T_CHECK();
  T_OK(kvh_txn_abort(txn));
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

static void test_valid_handles_look_as_documented(void) {
  kv__handle_stats st;
  kv__handle_debug_stats(&st);
  kvh_handle env = open_env(), txn, cur;
  T_CHECK();
  if (st.touched == 0) { /* a fresh table (always, unless T_NOFORK=1): the first slot, generation 1 */
    T_EQ_INT(h_index(env), 0);
    T_EQ_INT(h_gen(env), 1);
  }
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_WRITE));
  T_OK(kvh_cursor_open(&cur, txn, NULL, 0));
  T_EQ_INT(kvh_type(env), KVH_TYPE_ENV);
  T_EQ_INT(kvh_type(txn), KVH_TYPE_TXN);
  T_EQ_INT(kvh_type(cur), KVH_TYPE_CURSOR);
  kvh_handle hs[3] = {env, txn, cur};
  for (int i = 0; i < 3; i++) {
    T_TRUE(hs[i] != KVH_NULL);
    T_EQ_INT((hs[i] >> 24) & 0xff, i + 1);      /* type bits */
    T_TRUE(h_gen(hs[i]) >= 1);                  /* generations start at 1 */
    T_TRUE(h_index(hs[i]) < KVH_CAPACITY);
  }
  T_TRUE(h_index(env) != h_index(txn) && h_index(txn) != h_index(cur));
  T_EQ_INT(live_slots(), 3);
  T_OK(kvh_cursor_close(cur));
  T_OK(kvh_txn_abort(txn));
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

static uint64_t xorshift(uint64_t *s) {
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 2685821657736338717u;
}

static void test_forged_handles(void) {
  kvh_handle env, txn, cur;
  open_three(&env, &txn, &cur);
  T_CHECK();
  const kvh_handle live[3] = {env, txn, cur};

  for (int i = 0; i < 3; i++) {
    const kvh_handle h = live[i];
    const unsigned type = (unsigned)(i + 1);
    const uint32_t gen = h_gen(h), idx1 = h_index(h) + 1;
    const kvh_handle forged[] = {
        h_make(gen, type, 0),                /* index + 1 == 0 */
        h_make(gen, type, KVH_CAPACITY + 1), /* one past the table */
        h_make(gen, type, 0xffffff),         /* the largest index the bits can hold */
        h_make(gen, 0, idx1),                /* type bits invalid */
        h_make(gen, 4, idx1),
        h_make(gen, 0xff, idx1),
        h_make(gen + 1, type, idx1),         /* generation mismatch */
        h_make(gen - 1, type, idx1),
        h_make(0, type, idx1),
        h_make(gen ^ 0x80000000u, type, idx1),
        h_make(gen, (type % 3) + 1, idx1),   /* the slot's object with other (valid) type bits */
        h_make(gen, ((type + 1) % 3) + 1, idx1),
        h | 0x00ff000000000000u,
        (kvh_handle)idx1,                    /* just an index, as a careless binding might pass */
        ~h,
    };
    for (size_t f = 0; f < T_COUNT(forged); f++) {
      expect_dead(forged[f]);
      if (t_failed()) T_FAIL_RETURN("forged #%zu from handle %d (0x%016" PRIx64 ")", f, i, forged[f]);
    }
  }

  /* Random bits: never a live handle by chance (checked), never anything but KV_E_BAD_HANDLE. */
  uint64_t seed = 0x5eed5eed;
  for (int i = 0; i < 200000; i++) {
    kvh_handle h = xorshift(&seed);
    if (i & 1) h = (h & ~UINT64_C(0xffffff)) | (h & 0xffff); /* in-range index, half the time */
    if (h == env || h == txn || h == cur) continue;
    T_KV(kvh_type(h), KV_E_BAD_HANDLE);
    T_KV(kvh_noop(h), KV_E_BAD_HANDLE);
    T_KV(kvh_get(h, "a", 1, NULL, 0, NULL), KV_E_BAD_HANDLE);
    T_KV(kvh_cursor_next(h, NULL, 0, NULL, NULL, 0, NULL), KV_E_BAD_HANDLE);
  }

  /* The live objects were not disturbed by any of it. */
  expect_untouched_then_close(env, txn, cur);
}

/* ---- Stale handles ------------------------------------------------------------------------------ */

static void test_env_stale_after_close(void) {
  kvh_handle env = open_env();
  T_CHECK();
  put_one(env, "a", "1");
  T_CHECK();
  T_OK(kvh_env_close(env));
  expect_dead(env); /* includes a second kvh_env_close: KV_E_BAD_HANDLE */
  T_CHECK();
  T_ERR(kvh_env_close(env), KV_E_BAD_HANDLE);
  T_EQ_INT(live_slots(), 0);
}

static void test_txn_stale_after_commit(void) {
  kvh_handle env = open_env(), txn;
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_WRITE));
  T_OK(kvh_put(txn, "a", 1, "1", 1));
  T_OK(kvh_txn_commit(txn));
  T_ERR(kvh_txn_commit(txn), KV_E_BAD_HANDLE); /* double commit */
  T_ERR(kvh_txn_abort(txn), KV_E_BAD_HANDLE);  /* abort after commit */
  expect_dead(txn);
  T_CHECK();
  T_EQ_INT(count_records(env), 1); /* the commit happened once */
  T_OK(kvh_env_close(env));        /* and the transaction was freed */
}

static void test_txn_stale_after_abort(void) {
  kvh_handle env = open_env(), txn;
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_WRITE));
  T_OK(kvh_put(txn, "a", 1, "1", 1));
  T_OK(kvh_txn_abort(txn));
  T_ERR(kvh_txn_abort(txn), KV_E_BAD_HANDLE);  /* double abort */
  T_ERR(kvh_txn_commit(txn), KV_E_BAD_HANDLE); /* commit after abort */
  expect_dead(txn);
  T_CHECK();
  T_EQ_INT(count_records(env), 0);
  T_OK(kvh_env_close(env));
}

static void test_cursor_stale_after_close(void) {
  kvh_handle env = open_env(), txn, cur;
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  T_OK(kvh_cursor_open(&cur, txn, NULL, 0));
  T_OK(kvh_cursor_close(cur));
  T_ERR(kvh_cursor_close(cur), KV_E_BAD_HANDLE); /* double close */
  expect_dead(cur);
  T_CHECK();
  T_OK(kvh_txn_commit(txn));
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

/* A released slot is reused (most recently freed first) with the next generation: the old handle
 * names the same slot but stays dead, and the new one works. */
static void test_stale_after_slot_reuse(void) {
  kvh_handle env1 = open_env_at(t_path("one"));
  T_CHECK();
  T_OK(kvh_env_close(env1));
  kvh_handle env2 = open_env_at(t_path("two"));
  T_CHECK();
  T_EQ_INT(h_index(env2), h_index(env1));
  T_EQ_INT(h_gen(env2), h_gen(env1) + 1);
  expect_dead(env1);
  T_CHECK();
  T_OK(kvh_noop(env2));

  kvh_handle t1, t2, c1, c2;
  T_OK(kvh_txn_begin(&t1, env2, KV_TXN_WRITE));
  T_OK(kvh_put(t1, "a", 1, "1", 1));
  T_OK(kvh_cursor_open(&c1, t1, NULL, 0));
  T_OK(kvh_cursor_close(c1));
  T_OK(kvh_txn_commit(t1));
  T_OK(kvh_txn_begin(&t2, env2, KV_TXN_READ));
  T_OK(kvh_cursor_open(&c2, t2, NULL, 0));
  T_EQ_INT(h_index(t2), h_index(t1)); /* LIFO: t1's slot went back last, c1's before it */
  T_EQ_INT(h_index(c2), h_index(c1));
  T_EQ_INT(h_gen(t2), h_gen(t1) + 1);
  T_EQ_INT(h_gen(c2), h_gen(c1) + 1);
  expect_dead(t1);
  T_CHECK();
  expect_dead(c1);
  T_CHECK();
  char k[4], v[4];
  size_t kl, vl;
  T_OK(kvh_cursor_next(c2, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(v, vl, "1", 1);
  T_OK(kvh_cursor_close(c2));
  T_OK(kvh_txn_abort(t2));
  T_OK(kvh_env_close(env2));
  T_EQ_INT(live_slots(), 0);
}

/* ---- Wrong types -------------------------------------------------------------------------------- */

static void test_wrong_type_every_family(void) {
  kvh_handle env, txn, cur;
  open_three(&env, &txn, &cur);
  T_CHECK();

  expect_txn_family(env, KV_E_HANDLE_TYPE);
  T_CHECK();
  expect_cursor_family(env, KV_E_HANDLE_TYPE);
  T_CHECK();
  expect_env_family(txn, KV_E_HANDLE_TYPE);
  T_CHECK();
  expect_cursor_family(txn, KV_E_HANDLE_TYPE);
  T_CHECK();
  expect_env_family(cur, KV_E_HANDLE_TYPE);
  T_CHECK();
  expect_txn_family(cur, KV_E_HANDLE_TYPE);
  T_CHECK();

  /* None of it touched the objects: all three still work and still have their types. */
  T_EQ_INT(kvh_type(env), KVH_TYPE_ENV);
  T_EQ_INT(kvh_type(txn), KVH_TYPE_TXN);
  T_EQ_INT(kvh_type(cur), KVH_TYPE_CURSOR);
  expect_untouched_then_close(env, txn, cur);
}

/* ---- Generation wrap and a full table ----------------------------------------------------------- */

static void test_generation_wrap_retires_slot(void) {
  kvh_handle e1 = open_env();
  T_CHECK();
  const uint32_t slot = h_index(e1);
  kv__handle_stats st, before;
  kv__handle_debug_stats(&before);
  T_KV(kv__handle_debug_set_generation(slot, 5), KV_E_BUSY); /* live: refused */
  T_OK(kvh_env_close(e1));
  T_KV(kv__handle_debug_set_generation(KVH_CAPACITY, 5), KV_E_INVALID);
  T_KV(kv__handle_debug_set_generation(slot, 0), KV_E_INVALID);
  T_OK(kv__handle_debug_set_generation(slot, UINT32_MAX - 1));

  kvh_handle e2 = open_env(); /* the slot's second-to-last generation */
  T_CHECK();
  T_EQ_INT(h_index(e2), slot);
  T_EQ_U64(h_gen(e2), UINT32_MAX - 1);
  T_OK(kvh_noop(e2));
  T_OK(kvh_env_close(e2));

  kvh_handle e3 = open_env(); /* its last generation */
  T_CHECK();
  T_EQ_INT(h_index(e3), slot);
  T_EQ_U64(h_gen(e3), UINT32_MAX);
  put_one(e3, "a", "1");
  T_CHECK();
  T_OK(kvh_env_close(e3)); /* would wrap to 0: the slot retires */

  kv__handle_debug_stats(&st);
  T_EQ_INT(st.retired, before.retired + 1);
  T_EQ_INT(st.live, before.live - 1);
  T_KV(kv__handle_debug_set_generation(slot, 7), KV_E_HANDLE_FULL); /* stays retired */

  kvh_handle e4 = open_env(); /* another slot, never the retired one */
  T_CHECK();
  T_TRUE(h_index(e4) != slot);
  for (uint32_t g = 0; g < 4; g++) /* no earlier handle of the slot came back to life */
    expect_dead(h_make(g == 0 ? 1 : g == 1 ? UINT32_MAX - 1 : g == 2 ? UINT32_MAX : 0,
                       KVH_TYPE_ENV, slot + 1));
  T_CHECK();
  expect_dead(e3);
  T_CHECK();
  /* Churn: the retired slot is never handed out again. */
  for (int i = 0; i < 100; i++) {
    kvh_handle t;
    T_OK(kvh_txn_begin(&t, e4, KV_TXN_READ));
    T_TRUE(h_index(t) != slot);
    T_OK(kvh_txn_abort(t));
  }
  T_OK(kvh_env_close(e4));
  kv__handle_debug_stats(&st);
  T_EQ_INT(st.retired, before.retired + 1);
  T_EQ_INT(st.live, before.live - 1);
}

static void test_table_full_and_recovery(void) {
  static kvh_handle curs[KVH_CAPACITY];
  kvh_handle env = open_env(), txn, extra;
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  kv__handle_stats st;
  kv__handle_debug_stats(&st); /* env + txn in a fresh process; the retired slots are lost */
  const size_t room = KVH_CAPACITY - st.live - st.retired;
  size_t n = 0;
  int rc;
  while ((rc = kvh_cursor_open(&curs[n], txn, NULL, 0)) == KV_OK) {
    n++;
    if (n == T_COUNT(curs)) break;
  }
  T_KV(rc, KV_E_HANDLE_FULL);
  T_EQ_INT(n, room); /* the cursors fill the table exactly */
  T_EQ_INT(live_slots() + st.retired, KVH_CAPACITY);

  /* Every kind of creation fails cleanly, and creates nothing. */
  T_ERR(kvh_cursor_open(&extra, txn, NULL, 0), KV_E_HANDLE_FULL);
  T_ERR(kvh_txn_begin(&extra, env, KV_TXN_READ), KV_E_HANDLE_FULL);
  T_ERR(kvh_txn_begin(&extra, env, KV_TXN_WRITE), KV_E_HANDLE_FULL);
  T_ERR(kvh_env_open(&extra, t_path("other"), NULL), KV_E_HANDLE_FULL);
  T_TRUE(access(t_path("other"), F_OK) != 0); /* no file was created */
  T_ERR(kvh_env_close(env), KV_E_BUSY);        /* the transaction is still open */
  /* Existing handles keep working while the table is full. */
  T_OK(kvh_noop(env));
  T_KV(kvh_cursor_next(curs[0], NULL, 0, NULL, NULL, 0, NULL), KV_E_DONE);

  /* One slot freed: exactly one creation succeeds, in that slot. */
  const uint32_t freed = h_index(curs[7]);
  T_OK(kvh_cursor_close(curs[7]));
  T_OK(kvh_txn_begin(&extra, env, KV_TXN_WRITE));
  T_EQ_INT(h_index(extra), freed);
  T_ERR(kvh_cursor_open(&curs[7], txn, NULL, 0), KV_E_HANDLE_FULL);
  T_OK(kvh_put(extra, "k", 1, "v", 1));
  T_OK(kvh_txn_commit(extra));
  T_OK(kvh_cursor_open(&curs[7], txn, NULL, 0)); /* its slot again */

  /* Two freed: a second environment can open and close. */
  T_OK(kvh_cursor_close(curs[100]));
  T_OK(kvh_cursor_close(curs[101]));
  kvh_handle env2 = open_env_at(t_path("other"));
  T_CHECK();
  T_OK(kvh_env_put(env2, "x", 1, "y", 1));
  T_OK(kvh_env_close(env2));

  /* Drain: commit first (cursors detach), then close every cursor. */
  T_OK(kvh_txn_commit(txn));
  for (size_t i = 0; i < n; i++) {
    if (i == 100 || i == 101) continue;
    rc = kvh_cursor_close(curs[i]);
    if (rc != KV_OK) T_FAIL_RETURN("closing cursor %zu: %s", i, kv_err_name(rc));
  }
  T_OK(kvh_env_close(env));
  kv__handle_debug_stats(&st);
  T_EQ_INT(st.live, 0);
  T_EQ_INT(st.free + st.retired, KVH_CAPACITY);
}

/* ---- Exclusive handles used from two threads at once ------------------------------------------ */

typedef struct busy_ctx {
  kvh_handle env, txn, cur;
  pthread_barrier_t inside, release;
  int scan_rc, commit_rc, close_rc, ready_rc;
  size_t count, seen;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int ready;
} busy_ctx;

static int blocking_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  (void)k, (void)kl, (void)v, (void)vl;
  busy_ctx *c = payload;
  if (c->seen++ == 0) { /* hold the transaction on the first record until the main thread is done */
    pthread_barrier_wait(&c->inside);
    pthread_barrier_wait(&c->release);
  }
  return 0;
}

static void *busy_owner(void *arg) {
  busy_ctx *c = arg;
  c->ready_rc = kvh_txn_begin(&c->txn, c->env, KV_TXN_WRITE);
  if (c->ready_rc == KV_OK) c->ready_rc = kvh_cursor_open(&c->cur, c->txn, NULL, 0);
  if (c->ready_rc != KV_OK) { /* let the main thread see the failure instead of hanging */
    pthread_barrier_wait(&c->inside);
    pthread_barrier_wait(&c->release);
    return NULL;
  }
  c->scan_rc = kvh_scan(c->txn, NULL, 0, NULL, 0, blocking_cb, c, &c->count);
  c->close_rc = kvh_cursor_close(c->cur);
  c->commit_rc = kvh_txn_commit(c->txn);
  return NULL;
}

static void test_exclusive_busy_across_threads(void) {
  busy_ctx c;
  memset(&c, 0, sizeof c);
  c.env = open_env();
  T_CHECK();
  put_one(c.env, "a", "1");
  put_one(c.env, "b", "2");
  put_one(c.env, "c", "3");
  T_CHECK();
  pthread_barrier_init(&c.inside, NULL, 2);
  pthread_barrier_init(&c.release, NULL, 2);
  pthread_t th;
  T_EQ_INT(pthread_create(&th, NULL, busy_owner, &c), 0);
  pthread_barrier_wait(&c.inside); /* the owner is now inside kvh_scan's callback */

  /* Everything the main thread tries on the held transaction and its cursor: KV_E_BUSY. */
  int failed = 0;
  if (c.ready_rc == KV_OK) {
    expect_txn_family(c.txn, KV_E_BUSY);
    failed |= t_failed();
    char k[8], v[8];
    size_t kl = 4242, vl = 4242;
    if (!failed && kvh_cursor_next(c.cur, k, sizeof k, &kl, v, sizeof v, &vl) != KV_E_BUSY)
      t_fail(__FILE__, __LINE__, "kvh_cursor_next during the scan"); /* it needs its transaction */
    failed |= t_failed();
    if (!failed && kvh_type(c.txn) != KVH_TYPE_TXN) t_fail(__FILE__, __LINE__, "kvh_type(txn)");
    if (!failed && kvh_type(c.cur) != KVH_TYPE_CURSOR) t_fail(__FILE__, __LINE__, "kvh_type(cur)");
    if (!failed && strstr(kv_last_error(), "in use") == NULL) /* last: the cursor's next */
      t_fail(__FILE__, __LINE__, "last error \"%s\" does not say in use", kv_last_error());
    /* A cursor closed by another thread (a finalizer's) goes even while its transaction is busy:
     * the engine frees it when the transaction ends. */
    if (!t_failed() && kvh_cursor_close(c.cur) != KV_OK)
      t_fail(__FILE__, __LINE__, "kvh_cursor_close from another thread during the scan");
    /* The environment is shared: reads go through; closing it is refused. */
    char buf[4];
    size_t len;
    if (!t_failed() && kvh_env_get(c.env, "b", 1, buf, sizeof buf, &len) != KV_OK)
      t_fail(__FILE__, __LINE__, "kvh_env_get during the scan");
    if (!t_failed() && kvh_env_close(c.env) != KV_E_BUSY)
      t_fail(__FILE__, __LINE__, "kvh_env_close during the scan");
  }
  pthread_barrier_wait(&c.release);
  pthread_join(th, NULL);
  pthread_barrier_destroy(&c.inside);
  pthread_barrier_destroy(&c.release);
  T_CHECK();
  T_OK(c.ready_rc);
  /* The first caller proceeded undisturbed. */
  T_OK(c.scan_rc);
  T_EQ_INT(c.count, 3);
  T_EQ_INT(c.close_rc, KV_E_BAD_HANDLE); /* the main thread closed it */
  T_OK(c.commit_rc);
  expect_dead(c.txn);
  T_CHECK();
  T_OK(kvh_env_close(c.env));
  T_EQ_INT(live_slots(), 0);
}

/* The same rule within one thread: a scan callback calling back into its own transaction. */
typedef struct reenter_ctx {
  kvh_handle env, txn, cur, other;
  int get_rc, next_rc, commit_rc, close_rc, other_rc, env_rc, n;
} reenter_ctx;

static int reenter_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  (void)k, (void)kl, (void)v, (void)vl;
  reenter_ctx *c = payload;
  char buf[4];
  size_t len;
  if (c->n++ == 0) {
    c->get_rc = kvh_get(c->txn, "a", 1, buf, sizeof buf, &len);
    c->next_rc = kvh_cursor_next(c->cur, buf, sizeof buf, &len, buf, sizeof buf, &len);
    c->commit_rc = kvh_txn_commit(c->txn);
    c->close_rc = kvh_cursor_close(c->cur);
    c->other_rc = kvh_get(c->other, "a", 1, buf, sizeof buf, &len);
    c->env_rc = kvh_env_get(c->env, "a", 1, buf, sizeof buf, &len);
  }
  return 0;
}

static void test_scan_callback_reentry_is_busy(void) {
  reenter_ctx c;
  memset(&c, 0, sizeof c);
  c.env = open_env();
  T_CHECK();
  put_one(c.env, "a", "1");
  put_one(c.env, "b", "2");
  T_CHECK();
  T_OK(kvh_txn_begin(&c.txn, c.env, KV_TXN_READ));
  T_OK(kvh_txn_begin(&c.other, c.env, KV_TXN_READ));
  T_OK(kvh_cursor_open(&c.cur, c.txn, NULL, 0));
  size_t count = 0;
  T_OK(kvh_scan(c.txn, NULL, 0, NULL, 0, reenter_cb, &c, &count));
  T_EQ_INT(count, 2);
  T_KV(c.get_rc, KV_E_BUSY);
  T_KV(c.next_rc, KV_E_BUSY);
  T_KV(c.commit_rc, KV_E_BUSY);
  T_KV(c.close_rc, KV_E_BUSY);
  T_OK(c.other_rc); /* other handles are free to use */
  T_OK(c.env_rc);
  /* After the scan, everything is usable again. */
  char k[4], v[4];
  size_t kl, vl;
  T_OK(kvh_cursor_next(c.cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "a", 1);
  T_OK(kvh_cursor_close(c.cur));
  T_OK(kvh_txn_commit(c.txn));
  T_OK(kvh_txn_commit(c.other));
  T_OK(kvh_env_close(c.env));
}

/* ---- Transactions used from a thread that does not own them ------------------------------------ */

typedef struct foreign_ctx {
  kvh_handle env, wtxn, rtxn, cur;
  int renew_rc, abort_rc;
} foreign_ctx;

static void foreign_calls(foreign_ctx *c) {
  char buf[8] = "xxxxxxx";
  size_t len = 4242, lens[1] = {1}, vlens[1] = {4242}, found = 4242, count = 0;
  kvh_handle h = 999;
  int calls = 0;
  /* First (before any write attempt, which would make the retry re-seek through the engine): the
   * cursor has a pending record, and a foreign thread neither gets it nor consumes it. */
  T_ERR(kvh_cursor_next(c->cur, buf, sizeof buf, &len, buf, sizeof buf, &len), KV_E_WRONG_THREAD);
  T_ERR(kvh_cursor_next(c->cur, NULL, 0, &len, NULL, 0, &len), KV_E_WRONG_THREAD);
  T_EQ_INT(len, 4242);
  T_ERR(kvh_put(c->wtxn, "z", 1, "v", 1), KV_E_WRONG_THREAD);
  T_ERR(kvh_get(c->wtxn, "a", 1, buf, sizeof buf, &len), KV_E_WRONG_THREAD);
  T_EQ_INT(len, 4242);
  T_ERR(kvh_del(c->wtxn, "a", 1), KV_E_WRONG_THREAD);
  T_ERR(kvh_get_batch(c->wtxn, 1, "a", lens, buf, sizeof buf, vlens, &found), KV_E_WRONG_THREAD);
  T_ERR(kvh_scan(c->wtxn, NULL, 0, NULL, 0, never_called, &calls, &count), KV_E_WRONG_THREAD);
  T_EQ_INT(calls, 0);
  T_ERR(kvh_cursor_open(&h, c->wtxn, NULL, 0), KV_E_WRONG_THREAD);
  T_EQ_U64(h, 999);
  T_ERR(kvh_txn_commit(c->wtxn), KV_E_WRONG_THREAD); /* nothing happens; the handle stays */
  T_ERR(kvh_txn_reset(c->rtxn), KV_E_WRONG_THREAD);
  T_ERR(kvh_txn_renew(c->rtxn), KV_E_BUSY); /* still active: kv_txn_renew's answer */
  T_ERR(kvh_txn_commit(c->rtxn), KV_E_WRONG_THREAD);
  /* And after them (the retry now re-seeks: the engine refuses the foreign thread). */
  T_ERR(kvh_cursor_next(c->cur, buf, sizeof buf, &len, buf, sizeof buf, &len), KV_E_WRONG_THREAD);
  T_EQ_STR(buf, "xxxxxxx");
  /* (Aborts and closes work from any thread: test_release_from_other_threads.) */
}

static void *foreign_thread_calls(void *arg) {
  foreign_calls(arg);
  return NULL;
}

static void *foreign_renew(void *arg) {
  foreign_ctx *c = arg;
  c->renew_rc = kvh_txn_renew(c->rtxn); /* a reset reader may be renewed by any thread... */
  char buf[8];
  size_t len = 0;
  c->abort_rc = kvh_get(c->rtxn, "a", 1, buf, sizeof buf, &len); /* ...which then owns it */
  return NULL; /* and its exit ends it */
}

/* Runs fn in a new thread and joins it; the thread's failures are the test's (same process). */
static void in_thread(void *(*fn)(void *), void *arg) {
  pthread_t th;
  if (pthread_create(&th, NULL, fn, arg) != 0) T_FAIL_RETURN("pthread_create");
  pthread_join(th, NULL);
}

static void test_txn_from_non_owner_thread(void) {
  foreign_ctx c;
  memset(&c, 0, sizeof c);
  c.env = open_env();
  T_CHECK();
  put_one(c.env, "a", "alpha");
  put_one(c.env, "b", "beta");
  T_CHECK();
  T_OK(kvh_txn_begin(&c.wtxn, c.env, KV_TXN_WRITE));
  T_OK(kvh_txn_begin(&c.rtxn, c.env, KV_TXN_READ));
  T_OK(kvh_cursor_open(&c.cur, c.wtxn, NULL, 0));
  char k[8], v[8];
  size_t kl = 0, vl = 0;
  T_ERR(kvh_cursor_next(c.cur, k, 0, &kl, v, 0, &vl), KV_E_BUFFER_TOO_SMALL); /* "a" pending */
  T_EQ_INT(kl, 1);
  T_EQ_INT(vl, 5);

  in_thread(foreign_thread_calls, &c);
  T_CHECK();

  /* The owner still has everything, the pending record included. */
  T_OK(kvh_cursor_next(c.cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "a", 1);
  T_EQ_MEM(v, vl, "alpha", 5);
  T_OK(kvh_put(c.wtxn, "c", 1, "gamma", 5));
  T_OK(kvh_cursor_close(c.cur));
  T_OK(kvh_txn_commit(c.wtxn));
  T_EQ_INT(count_records(c.env), 3);

  /* Reset here, renew there: ownership moves with the renew. */
  T_OK(kvh_txn_reset(c.rtxn));
  in_thread(foreign_renew, &c);
  T_CHECK();
  T_OK(c.renew_rc);
  char buf[8];
  size_t len;
  T_OK(c.abort_rc);
  /* The renewing thread exited, which ended the transaction: no thread owns it now. */
  T_ERR(kvh_get(c.rtxn, "a", 1, buf, sizeof buf, &len), KV_E_WRONG_THREAD);
  T_ERR(kvh_txn_commit(c.rtxn), KV_E_WRONG_THREAD);
  T_ERR(kvh_txn_abort(c.rtxn), KV_E_TXN_ENDED); /* released, by this other thread */
  expect_dead(c.rtxn);
  T_CHECK();
  T_OK(kvh_env_close(c.env));
  T_EQ_INT(live_slots(), 0);
}

/* ---- A shared environment ----------------------------------------------------------------------- */

#define SHARED_THREADS 4
#define SHARED_OPS 1500

typedef struct shared_ctx {
  kvh_handle env;
  int id;
  int errors;
  char why[160];
} shared_ctx;

static void *shared_worker(void *arg) {
  shared_ctx *c = arg;
  for (int i = 0; i < SHARED_OPS && !c->errors; i++) {
    char k[32], v[32], buf[32];
    int kl = snprintf(k, sizeof k, "t%d-%05d", c->id, i);
    int vl = snprintf(v, sizeof v, "value-%d-%d", c->id, i * 7);
    size_t len = 0;
    int rc = kvh_env_put(c->env, k, (size_t)kl, v, (size_t)vl);
    if (rc == KV_OK) rc = kvh_env_get(c->env, k, (size_t)kl, buf, sizeof buf, &len);
    if (rc == KV_OK && (len != (size_t)vl || memcmp(buf, v, len) != 0)) rc = KV_E_INTERNAL;
    if (rc == KV_OK) rc = kvh_noop(c->env);
    if (rc == KV_OK && i % 50 == 0) { /* and now and then a read transaction of its own */
      kvh_handle t;
      rc = kvh_txn_begin(&t, c->env, KV_TXN_READ);
      if (rc == KV_OK) {
        rc = kvh_get(t, k, (size_t)kl, buf, sizeof buf, &len);
        int crc = kvh_txn_commit(t);
        if (rc == KV_OK) rc = crc;
      }
    }
    if (rc != KV_OK) {
      c->errors++;
      snprintf(c->why, sizeof c->why, "thread %d op %d: %s", c->id, i, kv_err_name(rc));
    }
  }
  return NULL;
}

static void test_env_shared_by_threads(void) {
  /* 6000 write transactions, one per put, while the other threads read: LMDB reuses a freed page
   * only once no reader can still see it, so a thread descheduled inside a read keeps every page
   * freed since then in use (copy-on-write: a few pages per commit). On a loaded machine 16 MiB
   * filled up (KV_E_MAP_FULL at op 1039 of one thread); the map is address space, not disk, so
   * give the worst case room: 6000 commits of 4 pages each is 94 MiB. */
  kvh_handle env = open_env_sized(t_path("db"), (uint64_t)256 << 20);
  T_CHECK();
  shared_ctx ctx[SHARED_THREADS];
  pthread_t th[SHARED_THREADS];
  for (int i = 0; i < SHARED_THREADS; i++) {
    memset(&ctx[i], 0, sizeof ctx[i]);
    ctx[i].env = env;
    ctx[i].id = i;
    T_EQ_INT(pthread_create(&th[i], NULL, shared_worker, &ctx[i]), 0);
  }
  for (int i = 0; i < SHARED_THREADS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < SHARED_THREADS; i++)
    if (ctx[i].errors) T_FAIL_RETURN("%s", ctx[i].why);
  T_EQ_INT(count_records(env), SHARED_THREADS * SHARED_OPS);
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

/* Threads keep using an environment while another closes it: every answer is a legal one (a call gets
 * through, or KV_E_BUSY while the close decides, or KV_E_BAD_HANDLE once it is closed), nothing
 * crashes (ASan) and nothing races (TSan). */
typedef struct race_ctx {
  kvh_handle env;
  int bad_rc;       /* an illegal answer, if any */
  _Atomic long ok;  /* calls that went through (read by the main thread while running) */
  long busy;
  _Atomic int done;
} race_ctx;

static void race_loop(race_ctx *c) {
  for (long i = 0;; i++) {
    char buf[8];
    size_t len;
    int rc = (i % 3 == 0) ? kvh_noop(c->env) : kvh_env_get(c->env, "a", 1, buf, sizeof buf, &len);
    if (i % 7 == 0 && rc == KV_OK) {
      kvh_handle t;
      rc = kvh_txn_begin(&t, c->env, KV_TXN_READ);
      if (rc == KV_OK && (rc = kvh_txn_abort(t)) != KV_OK) {
        c->bad_rc = rc;
        return;
      }
    }
    if (rc == KV_E_BAD_HANDLE) return; /* closed: done */
    if (i % 4 == 0) sched_yield(); /* leave the closer a moment with no call inside */
    if (rc == KV_OK) atomic_fetch_add(&c->ok, 1);
    else if (rc == KV_E_BUSY) c->busy++;
    else {
      c->bad_rc = rc;
      return;
    }
  }
}

static void *race_worker(void *arg) {
  race_ctx *c = arg;
  race_loop(c);
  atomic_store(&c->done, 1);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_env_close_races_with_users(void) {
  for (int round = 0; round < 10; round++) {
    race_ctx c[3];
    pthread_t th[3];
    kvh_handle env = open_env();
    T_CHECK();
    put_one(env, "a", "1");
    T_CHECK();
    for (int i = 0; i < 3; i++) {
      memset(&c[i], 0, sizeof c[i]);
      atomic_init(&c[i].ok, 0);
      atomic_init(&c[i].done, 0);
      c[i].env = env;
      T_EQ_INT(pthread_create(&th[i], NULL, race_worker, &c[i]), 0);
    }
    /* Close only once every worker is in full swing. */
    for (int i = 0; i < 3; i++)
      while (atomic_load(&c[i].ok) < 200 && !atomic_load(&c[i].done)) sched_yield();
    int rc;
    const double deadline = now_s() + 30;
    while ((rc = kvh_env_close(env)) == KV_E_BUSY && now_s() < deadline) sched_yield();
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    T_OK(rc);
    for (int i = 0; i < 3; i++)
      if (c[i].bad_rc) T_FAIL_RETURN("round %d worker %d got %s", round, i, kv_err_name(c[i].bad_rc));
    expect_dead(env);
    T_CHECK();
    T_EQ_INT(live_slots(), 0);
  }
}

static void test_env_close_busy_while_txn_open(void) {
  kvh_handle env = open_env(), txn;
  T_CHECK();
  put_one(env, "a", "1");
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  T_ERR(kvh_env_close(env), KV_E_BUSY);
  T_TRUE(strstr(kv_last_error(), "transaction") != NULL);
  /* Nothing was closed: the environment and the transaction both work. */
  char buf[4];
  size_t len;
  T_OK(kvh_env_get(env, "a", 1, buf, sizeof buf, &len));
  T_OK(kvh_get(txn, "a", 1, buf, sizeof buf, &len));
  T_EQ_INT(kvh_type(env), KVH_TYPE_ENV);
  /* A reset transaction still counts as open until its handle is released. */
  T_OK(kvh_txn_reset(txn));
  T_ERR(kvh_env_close(env), KV_E_BUSY);
  T_ERR(kvh_txn_abort(txn), KV_E_TXN_ENDED); /* kv_txn_abort's answer; the handle is released */
  expect_dead(txn);
  T_CHECK();
  T_OK(kvh_env_close(env));
  expect_dead(env);
  T_CHECK();
  T_EQ_INT(live_slots(), 0);
}

/* kvh_env_close while another thread is inside a call on the environment: KV_E_BUSY from the handle
 * layer itself. The other call is made to wait inside deterministically: it is a one-shot write that
 * blocks on LMDB's writer lock, held by a write transaction of this thread. */
typedef struct inuse_ctx {
  kvh_handle env;
  int put_rc;
} inuse_ctx;

static void *inuse_writer(void *arg) {
  inuse_ctx *c = arg;
  /* KV_E_BUSY while the main thread's close attempt holds the environment locked: try again. */
  while ((c->put_rc = kvh_env_put(c->env, "w", 1, "2", 1)) == KV_E_BUSY) sched_yield();
  return NULL;
}

static void test_env_close_busy_while_in_use(void) {
  inuse_ctx c = {open_env(), -999};
  kvh_handle txn;
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, c.env, KV_TXN_WRITE));
  pthread_t th;
  T_EQ_INT(pthread_create(&th, NULL, inuse_writer, &c), 0);
  /* Until the writer has entered, the answer is the engine's (a transaction is open); once it is
   * inside, the handle layer answers first: the environment is in use. */
  int seen_in_use = 0;
  const double deadline = now_s() + 30;
  while (!seen_in_use && now_s() < deadline) {
    int rc = kvh_env_close(c.env);
    if (rc != KV_E_BUSY) {
      t_fail(__FILE__, __LINE__, "kvh_env_close: %s", kv_err_name(rc));
      break;
    }
    seen_in_use = strstr(kv_last_error(), "in use") != NULL;
    if (!seen_in_use) nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  int commit_rc = kvh_txn_commit(txn); /* lets the writer through */
  pthread_join(th, NULL);
  T_CHECK();
  T_TRUE(seen_in_use);
  T_OK(commit_rc);
  T_OK(c.put_rc);
  T_EQ_INT(count_records(c.env), 1);
  T_OK(kvh_env_close(c.env));
}

/* ---- Cursors ------------------------------------------------------------------------------------ */

typedef enum { END_COMMIT, END_ABORT, END_RESET } end_kind;

static void cursor_after_end(end_kind how, int pending) {
  kvh_handle env = open_env(), txn, cur;
  T_CHECK();
  put_one(env, "a", "1");
  put_one(env, "b", "2");
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, how == END_RESET ? KV_TXN_READ : KV_TXN_WRITE));
  T_OK(kvh_cursor_open(&cur, txn, NULL, 0));
  char k[4], v[4];
  size_t kl, vl;
  if (pending) T_ERR(kvh_cursor_next(cur, k, 0, &kl, v, 0, &vl), KV_E_BUFFER_TOO_SMALL);
  else T_OK(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
  switch (how) {
  case END_COMMIT: T_OK(kvh_txn_commit(txn)); break;
  case END_ABORT: T_OK(kvh_txn_abort(txn)); break;
  case END_RESET: T_OK(kvh_txn_reset(txn)); break;
  }
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_CURSOR_ENDED);
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_CURSOR_ENDED);
  if (how == END_RESET) { /* a renewed snapshot does not revive the cursor */
    T_OK(kvh_txn_renew(txn));
    T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_CURSOR_ENDED);
    T_OK(kvh_txn_commit(txn));
  } else {
    /* The transaction's slot is reused by a new transaction: the cursor must not mistake it for its
     * own (the cursor remembers its transaction by handle, generation included). */
    kvh_handle t2;
    T_OK(kvh_txn_begin(&t2, env, KV_TXN_READ));
    T_EQ_INT(h_index(t2), h_index(txn));
    T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_CURSOR_ENDED);
    T_OK(kvh_txn_commit(t2));
  }
  T_OK(kvh_cursor_close(cur));
  T_ERR(kvh_cursor_close(cur), KV_E_BAD_HANDLE);
  expect_dead(cur);
  T_CHECK();
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

static void test_cursor_after_commit(void) { cursor_after_end(END_COMMIT, 0); }
static void test_cursor_after_abort(void) { cursor_after_end(END_ABORT, 0); }
static void test_cursor_after_reset(void) { cursor_after_end(END_RESET, 0); }
static void test_cursor_pending_after_commit(void) { cursor_after_end(END_COMMIT, 1); }
static void test_cursor_pending_after_reset(void) { cursor_after_end(END_RESET, 1); }

/* A cursor handle may even outlive its environment: it answers KV_E_CURSOR_ENDED, closes cleanly, and
 * touches nothing that was freed (ASan). */
static void test_cursor_outlives_env(void) {
  kvh_handle env = open_env(), txn, cur, pend;
  T_CHECK();
  put_one(env, "a", "1");
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  T_OK(kvh_cursor_open(&cur, txn, NULL, 0));
  T_OK(kvh_cursor_open(&pend, txn, NULL, 0));
  T_ERR(kvh_cursor_next(pend, NULL, 0, NULL, NULL, 0, NULL), KV_E_BUFFER_TOO_SMALL);
  T_OK(kvh_txn_commit(txn));
  T_OK(kvh_env_close(env)); /* cursors are not transactions: the close goes through */
  char k[4], v[4];
  size_t kl, vl;
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_CURSOR_ENDED);
  T_ERR(kvh_cursor_next(pend, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_CURSOR_ENDED);
  T_OK(kvh_cursor_close(cur));
  T_OK(kvh_cursor_close(pend));
  T_EQ_INT(live_slots(), 0);
}

static void test_cursor_small_buffers_do_not_advance(void) {
  enum { N = 40 };
  kvh_handle env = open_env(), txn, cur;
  T_CHECK();
  char ek[N][48], ev[N][300];
  size_t ekl[N], evl[N];
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_WRITE));
  for (int i = 0; i < N; i++) { /* keys in order, with lengths and value lengths that vary */
    static const char tail[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    ekl[i] = (size_t)snprintf(ek[i], sizeof ek[i], "k%02d%.*s", i, i, tail);
    evl[i] = (size_t)(i * 7 % 300);
    for (size_t b = 0; b < evl[i]; b++) ev[i][b] = (char)('a' + (b + (size_t)i) % 26);
    T_OK(kvh_put(txn, ek[i], ekl[i], ev[i], evl[i]));
  }
  T_OK(kvh_txn_commit(txn));

  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  T_OK(kvh_cursor_open(&cur, txn, NULL, 0));
  char k[64], v[320];
  size_t kl, vl;
  for (int i = 0; i < N; i++) {
    /* Key buffer one byte short. */
    kl = vl = 0;
    T_ERR(kvh_cursor_next(cur, k, ekl[i] - 1, &kl, v, sizeof v, &vl), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(kl, ekl[i]);
    T_EQ_INT(vl, evl[i]);
    /* Value buffer one byte short (when there is a value). */
    if (evl[i] > 0) {
      kl = vl = 0;
      T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, evl[i] - 1, &vl), KV_E_BUFFER_TOO_SMALL);
      T_EQ_INT(kl, ekl[i]);
      T_EQ_INT(vl, evl[i]);
    }
    /* A length query; then without length pointers at all. */
    kl = vl = 0;
    T_ERR(kvh_cursor_next(cur, NULL, 0, &kl, NULL, 0, &vl), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(kl, ekl[i]);
    T_EQ_INT(vl, evl[i]);
    T_ERR(kvh_cursor_next(cur, NULL, 0, NULL, NULL, 0, NULL), KV_E_BUFFER_TOO_SMALL);
    /* A NULL buffer with a capacity: invalid, and still no advance. */
    T_ERR(kvh_cursor_next(cur, NULL, 8, &kl, v, sizeof v, &vl), KV_E_INVALID);
    /* Exact sizes: the same record, delivered. */
    T_OK(kvh_cursor_next(cur, k, ekl[i], &kl, v, evl[i], &vl));
    T_EQ_MEM(k, kl, ek[i], ekl[i]);
    T_EQ_MEM(v, vl, ev[i], evl[i]);
  }
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_DONE);
  T_ERR(kvh_cursor_next(cur, NULL, 0, NULL, NULL, 0, NULL), KV_E_DONE);
  T_OK(kvh_cursor_close(cur));
  T_OK(kvh_txn_commit(txn));
  T_OK(kvh_env_close(env));
}

/* A pending record survives writes to its transaction: the retry sees the data as it is now. */
static void test_cursor_pending_across_writes(void) {
  kvh_handle env = open_env(), txn, cur;
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_WRITE));
  static const char *keys[] = {"a", "b", "c", "d", "e"};
  char big[2000];
  memset(big, 'x', sizeof big);
  for (int i = 0; i < 5; i++) T_OK(kvh_put(txn, keys[i], 1, big, 100 + (size_t)i));
  T_OK(kvh_cursor_open(&cur, txn, NULL, 0));
  char k[8], v[4000];
  size_t kl, vl;
  T_OK(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl)); /* a */
  T_EQ_MEM(k, kl, "a", 1);

  /* b pending; b deleted: the retry returns c. */
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, 1, &vl), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(vl, 101);
  T_OK(kvh_del(txn, "b", 1));
  T_OK(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "c", 1);
  T_EQ_INT(vl, 102);

  /* d pending; d rewritten with a longer value: the retry reports the new length, then returns it. */
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, 1, &vl), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(vl, 103);
  memset(big, 'y', sizeof big);
  T_OK(kvh_put(txn, "d", 1, big, sizeof big));
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, 1, &vl), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(vl, sizeof big);
  T_OK(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "d", 1);
  T_EQ_MEM(v, vl, big, sizeof big);

  /* e pending; a key inserted before it ("da") is not returned: the cursor stays at e. */
  T_ERR(kvh_cursor_next(cur, NULL, 0, &kl, NULL, 0, &vl), KV_E_BUFFER_TOO_SMALL);
  T_OK(kvh_put(txn, "da", 2, "new", 3));
  T_OK(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "e", 1);
  T_EQ_INT(vl, 104);
  T_ERR(kvh_cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_DONE);

  /* A pending last record deleted: the retry is the end. */
  kvh_handle c2;
  T_OK(kvh_cursor_open(&c2, txn, "e", 1));
  T_ERR(kvh_cursor_next(c2, NULL, 0, NULL, NULL, 0, NULL), KV_E_BUFFER_TOO_SMALL);
  T_OK(kvh_del(txn, "e", 1));
  T_ERR(kvh_cursor_next(c2, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_DONE);
  T_OK(kvh_cursor_close(c2));

  T_OK(kvh_cursor_close(cur));
  T_OK(kvh_txn_commit(txn));
  T_EQ_INT(count_records(env), 4); /* a c d da */
  T_OK(kvh_env_close(env));
}

/* ---- Commit and abort always release; argument errors create nothing --------------------------- */

static void test_failed_commit_releases_handle(void) {
  kvh_handle env, txn;
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = 1u << 20;
  T_OK(kvh_env_open(&env, t_path("db"), &o));
  static unsigned char val[64 << 10];
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_WRITE));
  int rc = KV_OK;
  for (int i = 0; i < 64 && rc == KV_OK; i++) {
    char key[16];
    snprintf(key, sizeof key, "%03d", i);
    rc = kvh_put(txn, key, 3, val, sizeof val);
  }
  T_KV(rc, KV_E_MAP_FULL);
  rc = kvh_txn_commit(txn); /* LMDB refuses to commit a transaction that failed a write */
  T_NE_INT(rc, KV_OK);
  T_TRUE(rc < 0 && rc >= KV_E_LAST_);
  expect_dead(txn); /* released anyway */
  T_CHECK();
  T_OK(kvh_env_close(env)); /* and freed in the engine: nothing holds the environment */

  /* Commit of a reset read transaction: kv_txn_commit's KV_E_TXN_ENDED, and released. */
  env = open_env_at(t_path("db2"));
  T_CHECK();
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_READ));
  T_OK(kvh_txn_reset(txn));
  T_ERR(kvh_txn_commit(txn), KV_E_TXN_ENDED);
  expect_dead(txn);
  T_CHECK();
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

static void test_calibration_and_arguments(void) {
  kvh_handle env = open_env(), txn, h = 999;
  T_CHECK();
  int sum = 0;
  uint64_t out = 0;
  T_OK(kvh_noop(env));
  T_OK(kvh_add(env, 2, 3, &sum));
  T_EQ_INT(sum, 5);
  T_OK(kvh_add(env, INT_MAX, 1, &sum));
  T_EQ_INT(sum, INT_MIN);
  T_OK(kvh_spin(env, 1000, &out));
  T_EQ_U64(out, kv_spin(1000));
  T_ERR(kvh_add(env, 1, 1, NULL), KV_E_INVALID);
  T_ERR(kvh_spin(env, 1, NULL), KV_E_INVALID);

  const uint32_t live = live_slots();
  T_ERR(kvh_env_open(NULL, t_path("x"), NULL), KV_E_INVALID);
  T_ERR(kvh_env_open(&h, NULL, NULL), KV_E_INVALID);
  T_ERR(kvh_env_open(&h, t_path("db"), NULL), KV_E_BUSY); /* already open in this process */
  T_ERR(kvh_env_open(&h, t_path("no/such/dir/db"), NULL), KV_E_IO);
  T_ERR(kvh_txn_begin(NULL, env, KV_TXN_READ), KV_E_INVALID);
  T_ERR(kvh_txn_begin(&h, env, 0x40), KV_E_INVALID);
  T_EQ_U64(h, 999);
  T_OK(kvh_txn_begin(&txn, env, KV_TXN_WRITE));
  T_ERR(kvh_txn_begin(&h, env, KV_TXN_WRITE), KV_E_BUSY); /* one writer per thread */
  T_ERR(kvh_cursor_open(NULL, txn, NULL, 0), KV_E_INVALID);
  T_ERR(kvh_cursor_open(&h, txn, "", 0), KV_E_KEY_SIZE);
  T_ERR(kvh_txn_reset(txn), KV_E_INVALID); /* a write transaction */
  T_ERR(kvh_txn_renew(txn), KV_E_INVALID);
  T_EQ_U64(h, 999);
  T_EQ_INT(live_slots(), live + 1); /* failed creations took no slot */
  T_OK(kvh_txn_abort(txn));
  T_EQ_INT(live_slots(), live);
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

/* What kv.h has and the handle ABI now has too: sync, the map size, whether a transaction writes. A
 * no-sync environment is made durable with kvh_env_sync. */
static void test_env_sync_map_size_is_write(void) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = 8u << 20;
  kvh_handle env = 0, r = 0, w = 0;
  T_OK(kvh_env_open(&env, t_path("db"), &o));
  uint64_t size = 0;
  T_OK(kvh_env_map_size(env, &size));
  T_EQ_U64(size, 8u << 20);
  T_OK(kvh_env_set_map_size(env, 16u << 20));
  T_OK(kvh_env_map_size(env, &size));
  T_EQ_U64(size, 16u << 20);
  T_ERR(kvh_env_map_size(env, NULL), KV_E_INVALID);
  T_OK(kvh_env_put(env, "k", 1, "v", 1));
  T_OK(kvh_env_sync(env));
  T_OK(kvh_txn_begin(&r, env, KV_TXN_READ));
  T_OK(kvh_txn_begin(&w, env, KV_TXN_WRITE));
  T_EQ_INT(kvh_txn_is_write(r), 0);
  T_EQ_INT(kvh_txn_is_write(w), 1);
  T_OK(kvh_txn_commit(w));
  T_OK(kvh_txn_abort(r));
  T_OK(kvh_env_close(env));
  o.flags = KV_ENV_READ_ONLY;
  T_OK(kvh_env_open(&env, t_path("db"), &o));
  T_ERR(kvh_env_sync(env), KV_E_READ_ONLY);
  T_OK(kvh_env_close(env));
  T_EQ_INT(live_slots(), 0);
}

static const t_case cases[] = {
    T_CASE(test_null_handle),
    T_CASE(test_valid_handles_look_as_documented),
    T_CASE(test_forged_handles),
    T_CASE(test_env_stale_after_close),
    T_CASE(test_txn_stale_after_commit),
    T_CASE(test_txn_stale_after_abort),
    T_CASE(test_cursor_stale_after_close),
    T_CASE(test_stale_after_slot_reuse),
    T_CASE(test_wrong_type_every_family),
    T_CASE(test_generation_wrap_retires_slot),
    T_CASE(test_table_full_and_recovery),
    T_CASE(test_exclusive_busy_across_threads),
    T_CASE(test_scan_callback_reentry_is_busy),
    T_CASE(test_txn_from_non_owner_thread),
    T_CASE(test_env_shared_by_threads),
    T_CASE(test_env_close_races_with_users),
    T_CASE(test_env_close_busy_while_txn_open),
    T_CASE(test_env_close_busy_while_in_use),
    T_CASE(test_cursor_after_commit),
    T_CASE(test_cursor_after_abort),
    T_CASE(test_cursor_after_reset),
    T_CASE(test_cursor_pending_after_commit),
    T_CASE(test_cursor_pending_after_reset),
    T_CASE(test_cursor_outlives_env),
    T_CASE(test_cursor_small_buffers_do_not_advance),
    T_CASE(test_cursor_pending_across_writes),
    T_CASE(test_failed_commit_releases_handle),
    T_CASE(test_calibration_and_arguments),
    T_CASE(test_env_sync_map_size_is_write),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
