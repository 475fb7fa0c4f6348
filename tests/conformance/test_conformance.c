/* test_conformance.c — one suite, run against every shim (ctest lists conformance.<shim> for each):
 * the same operations must give the same results and the same error codes through every row of the
 * shim table, plus a randomized sequence of operations checked against an in-memory model.
 *
 * Usage: test_conformance --shim NAME [filter]
 */
#include "shim.h"
#include "testlib.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const kvs_shim *S;

/* Opens a fresh no-sync environment in the test's scratch folder. */
static kvs_obj open_env(const char *name, uint64_t map_size, uint32_t flags) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = map_size;
  o.flags = flags;
  kvs_obj env = 0;
  int rc = S->env_open(&env, t_path(name), &o);
  if (rc != KV_OK) t_fail(__FILE__, __LINE__, "env_open(%s): %s", name, kv_err_name(rc));
  return env;
}

static uint64_t spin_model(uint64_t n) {
  uint64_t x = n;
  for (uint64_t i = 0; i < n; i++) x = x * 6364136223846793005u + 1442695040888963407u;
  return x;
}

static void test_calibration(void) {
  kvs_obj env = open_env("db", 0, 0);
  T_CHECK();
  S->noop(env);
  T_EQ_INT(S->add(env, 2, 3), 5);
  T_EQ_INT(S->add(env, -7, 7), 0);
  T_EQ_INT(S->add(env, INT_MAX, 1), INT_MIN);
  T_EQ_U64(S->spin(env, 0), 0);
  T_EQ_U64(S->spin(env, 1), spin_model(1));
  T_EQ_U64(S->spin(env, 1000), spin_model(1000));
  T_OK(S->env_close(env));
}

static void test_put_get_del(void) {
  kvs_obj env = open_env("db", 0, 0), txn;
  T_CHECK();
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  T_OK(S->put(txn, "alpha", 5, "one", 3));
  T_OK(S->put(txn, "beta", 4, "", 0));
  T_OK(S->put(txn, "alpha", 5, "uno", 3)); /* replace */
  char buf[16];
  size_t len = 0;
  T_OK(S->get(txn, "alpha", 5, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "uno", 3);
  T_OK(S->get(txn, "beta", 4, buf, sizeof buf, &len));
  T_EQ_INT(len, 0);
  T_KV(S->get(txn, "gamma", 5, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_OK(S->del(txn, "beta", 4));
  T_KV(S->del(txn, "beta", 4), KV_E_NOT_FOUND);
  T_KV(S->get(txn, "beta", 4, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_OK(S->txn_commit(txn));

  T_OK(S->txn_begin(&txn, env, KV_TXN_READ));
  T_OK(S->get(txn, "alpha", 5, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "uno", 3);
  T_KV(S->put(txn, "x", 1, "y", 1), KV_E_READ_ONLY);
  T_KV(S->del(txn, "alpha", 5), KV_E_READ_ONLY);
  T_OK(S->txn_abort(txn));
  T_OK(S->env_close(env));
}

static void test_abort_discards_commit_persists(void) {
  kvs_obj env = open_env("db", 0, 0), txn;
  T_CHECK();
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  T_OK(S->put(txn, "kept", 4, "1", 1));
  T_OK(S->txn_commit(txn));
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  T_OK(S->put(txn, "dropped", 7, "2", 1));
  T_OK(S->del(txn, "kept", 4));
  T_OK(S->txn_abort(txn));
  T_OK(S->env_close(env));

  env = open_env("db", 0, 0); /* reopen: the commit is on disk, the abort left nothing */
  T_CHECK();
  char buf[4];
  size_t len;
  T_OK(S->env_get(env, "kept", 4, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_KV(S->env_get(env, "dropped", 7, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_OK(S->env_close(env));
}

static void test_buffer_too_small_reports_length(void) {
  kvs_obj env = open_env("db", 0, 0), txn;
  T_CHECK();
  T_OK(S->env_put(env, "k", 1, "0123456789", 10));
  T_OK(S->txn_begin(&txn, env, KV_TXN_READ));
  char buf[10];
  size_t len = 0;
  T_KV(S->get(txn, "k", 1, buf, 9, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, 10);
  len = 0;
  T_KV(S->get(txn, "k", 1, NULL, 0, &len), KV_E_BUFFER_TOO_SMALL); /* a length query */
  T_EQ_INT(len, 10);
  T_OK(S->get(txn, "k", 1, buf, len, &len));
  T_EQ_MEM(buf, len, "0123456789", 10);
  T_KV(S->get(txn, "k", 1, NULL, 4, &len), KV_E_INVALID);
  T_OK(S->txn_abort(txn));
  T_KV(S->env_get(env, "k", 1, buf, 3, &len), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(len, 10);
  T_OK(S->env_close(env));
}

static void test_key_limits(void) {
  kvs_obj env = open_env("db", 0, 0), txn;
  T_CHECK();
  unsigned char key[KV_KEY_MAX + 1];
  memset(key, 'k', sizeof key);
  char buf[4];
  size_t len;
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  T_OK(S->put(txn, key, KV_KEY_MAX, "v", 1));
  T_OK(S->put(txn, key, 1, "w", 1));
  T_KV(S->put(txn, key, 0, "v", 1), KV_E_KEY_SIZE);
  T_KV(S->put(txn, key, KV_KEY_MAX + 1, "v", 1), KV_E_KEY_SIZE);
  T_KV(S->get(txn, key, 0, buf, sizeof buf, &len), KV_E_KEY_SIZE);
  T_KV(S->get(txn, key, KV_KEY_MAX + 1, buf, sizeof buf, &len), KV_E_KEY_SIZE);
  T_KV(S->del(txn, key, KV_KEY_MAX + 1), KV_E_KEY_SIZE);
  T_KV(S->put(txn, NULL, 3, "v", 1), KV_E_INVALID);
  T_KV(S->put(txn, "k", 1, NULL, 3), KV_E_INVALID);
  T_OK(S->get(txn, key, KV_KEY_MAX, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "v", 1);
  T_OK(S->txn_commit(txn));
  T_KV(S->env_put(env, key, 0, "v", 1), KV_E_KEY_SIZE);
  T_KV(S->env_get(env, key, KV_KEY_MAX + 1, buf, sizeof buf, &len), KV_E_KEY_SIZE);
  T_KV(S->env_del(env, key, 0), KV_E_KEY_SIZE);
  T_OK(S->env_close(env));
}

static void test_large_values(void) {
  kvs_obj env = open_env("db", (uint64_t)256 << 20, 0), txn;
  T_CHECK();
  static const size_t sizes[] = {0, 1, 8, 4096, 1u << 20, 16u << 20};
  size_t max = 16u << 20;
  unsigned char *val = malloc(max), *out = malloc(max);
  T_TRUE(val && out);
  for (size_t i = 0; i < max; i++) val[i] = (unsigned char)(i * 131 + (i >> 12));
  for (size_t i = 0; i < T_COUNT(sizes); i++) {
    char key[16];
    int kl = snprintf(key, sizeof key, "v%zu", sizes[i]);
    T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
    T_OK(S->put(txn, key, (size_t)kl, val, sizes[i]));
    T_OK(S->txn_commit(txn));
    size_t len = 0;
    T_OK(S->txn_begin(&txn, env, KV_TXN_READ));
    T_OK(S->get(txn, key, (size_t)kl, out, max, &len));
    T_EQ_MEM(out, len, val, sizes[i]);
    T_OK(S->txn_abort(txn));
  }
  free(val);
  free(out);
  T_OK(S->env_close(env));
}

static void test_one_shot(void) {
  kvs_obj env = open_env("db", 0, 0);
  T_CHECK();
  char buf[8];
  size_t len;
  T_OK(S->env_put(env, "a", 1, "1", 1));
  T_OK(S->env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_OK(S->env_del(env, "a", 1));
  T_KV(S->env_del(env, "a", 1), KV_E_NOT_FOUND);
  T_KV(S->env_get(env, "a", 1, buf, sizeof buf, &len), KV_E_NOT_FOUND);
  T_OK(S->env_close(env));
}

static void test_one_writer_per_thread(void) {
  kvs_obj env = open_env("db", 0, 0), w, w2, r;
  T_CHECK();
  T_OK(S->txn_begin(&w, env, KV_TXN_WRITE));
  T_KV(S->txn_begin(&w2, env, KV_TXN_WRITE), KV_E_BUSY);
  T_KV(S->env_put(env, "a", 1, "1", 1), KV_E_BUSY);
  T_OK(S->txn_begin(&r, env, KV_TXN_READ)); /* readers never block */
  T_OK(S->txn_abort(r));
  T_KV(S->env_close(env), KV_E_BUSY); /* a transaction is open */
  T_OK(S->txn_abort(w));
  T_OK(S->env_close(env));
}

static void test_read_only_env(void) {
  kvs_obj env = open_env("db", 0, 0), txn;
  T_CHECK();
  T_OK(S->env_put(env, "a", 1, "1", 1));
  T_OK(S->env_close(env));
  env = open_env("db", 0, KV_ENV_READ_ONLY);
  T_CHECK();
  T_KV(S->txn_begin(&txn, env, KV_TXN_WRITE), KV_E_READ_ONLY);
  T_KV(S->env_put(env, "b", 1, "2", 1), KV_E_READ_ONLY);
  T_KV(S->env_del(env, "a", 1), KV_E_READ_ONLY);
  char buf[2];
  size_t len;
  T_OK(S->env_get(env, "a", 1, buf, sizeof buf, &len));
  T_EQ_MEM(buf, len, "1", 1);
  T_OK(S->env_close(env));
}

static void test_map_full(void) {
  kvs_obj env = open_env("db", 1u << 20, 0), txn; /* 1 MiB map */
  T_CHECK();
  static unsigned char val[64 << 10];
  int rc = KV_OK;
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  for (int i = 0; i < 64 && rc == KV_OK; i++) {
    char key[8];
    snprintf(key, sizeof key, "%03d", i);
    rc = S->put(txn, key, 3, val, sizeof val);
  }
  T_KV(rc, KV_E_MAP_FULL);
  T_OK(S->txn_abort(txn));
  T_OK(S->env_close(env));
}

static void test_bad_arguments(void) {
  kv_options o = KV_OPTIONS_INIT;
  kvs_obj env;
  o.version = 99;
  T_KV(S->env_open(&env, t_path("db"), &o), KV_E_VERSION);
  o.version = KV_OPTIONS_VERSION;
  o.flags = 0x80;
  T_KV(S->env_open(&env, t_path("db"), &o), KV_E_INVALID);
  o.flags = 0;
  o.durability = 7;
  T_KV(S->env_open(&env, t_path("db"), &o), KV_E_INVALID);
  T_KV(S->env_open(&env, "", NULL), KV_E_INVALID);
  T_KV(S->env_open(&env, t_path("no/such/dir/db"), NULL), KV_E_IO);
  env = open_env("db", 0, 0);
  T_CHECK();
  kvs_obj txn;
  T_KV(S->txn_begin(&txn, env, 0x40), KV_E_INVALID);
  T_OK(S->env_close(env));
}

/* ---- Iteration ------------------------------------------------------------------------------- */
static void fill(kvs_obj env, int n) {
  kvs_obj txn;
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  for (int i = 0; i < n; i++) {
    char k[16], v[16];
    int kl = snprintf(k, sizeof k, "key%03d", i), vl = snprintf(v, sizeof v, "val%d", i);
    T_OK(S->put(txn, k, (size_t)kl, v, (size_t)vl));
  }
  T_OK(S->txn_commit(txn));
}

static void test_cursor(void) {
  kvs_obj env = open_env("db", 0, 0), txn, cur;
  T_CHECK();
  fill(env, 50);
  T_CHECK();
  T_OK(S->env_put(env, "key", 3, "prefix", 6)); /* a prefix sorts before its extensions */
  T_OK(S->txn_begin(&txn, env, KV_TXN_READ));
  T_OK(S->cursor_open(&cur, txn, NULL, 0));
  char k[32], v[32];
  size_t kl, vl;
  T_OK(S->cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "key", 3);
  for (int i = 0; i < 50; i++) {
    char ek[16], ev[16];
    int ekl = snprintf(ek, sizeof ek, "key%03d", i), evl = snprintf(ev, sizeof ev, "val%d", i);
    if (i == 7) { /* a buffer too small: lengths reported, the cursor stays */
      T_KV(S->cursor_next(cur, k, 2, &kl, v, sizeof v, &vl), KV_E_BUFFER_TOO_SMALL);
      T_EQ_INT(kl, ekl);
      T_EQ_INT(vl, evl);
      T_KV(S->cursor_next(cur, k, sizeof k, &kl, v, 1, &vl), KV_E_BUFFER_TOO_SMALL);
    }
    T_OK(S->cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
    T_EQ_MEM(k, kl, ek, ekl);
    T_EQ_MEM(v, vl, ev, evl);
  }
  T_KV(S->cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_DONE);
  T_KV(S->cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_DONE);
  T_OK(S->cursor_close(cur));

  T_OK(S->cursor_open(&cur, txn, "key0405", 7)); /* starts at the first key >= start */
  T_OK(S->cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl));
  T_EQ_MEM(k, kl, "key041", 6);
  T_OK(S->cursor_close(cur));
  T_OK(S->cursor_open(&cur, txn, "zzz", 3));
  T_KV(S->cursor_next(cur, k, sizeof k, &kl, v, sizeof v, &vl), KV_E_DONE);
  T_OK(S->cursor_close(cur));
  T_KV(S->cursor_open(&cur, txn, "", 0), KV_E_KEY_SIZE); /* a start key, but empty */
  unsigned char big[KV_KEY_MAX + 1] = {0};
  T_KV(S->cursor_open(&cur, txn, big, sizeof big), KV_E_KEY_SIZE);
  T_OK(S->txn_abort(txn));
  T_OK(S->env_close(env));
}

typedef struct scan_seen {
  int n, stop_at;
  char first[16], last[16];
} scan_seen;

static int scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  scan_seen *s = payload;
  (void)v, (void)vl;
  size_t n = kl < 15 ? kl : 15;
  if (s->n == 0) memcpy(s->first, k, n), s->first[n] = 0;
  memcpy(s->last, k, n), s->last[n] = 0;
  s->n++;
  return s->n == s->stop_at ? 42 : 0;
}

static void test_scan(void) {
  kvs_obj env = open_env("db", 0, 0), txn;
  T_CHECK();
  fill(env, 100);
  T_CHECK();
  T_OK(S->txn_begin(&txn, env, KV_TXN_READ));
  scan_seen s = {0};
  size_t count = 0;
  T_OK(S->scan(txn, NULL, 0, NULL, 0, scan_cb, &s, &count));
  T_EQ_INT(count, 100);
  T_EQ_INT(s.n, 100);
  T_EQ_STR(s.first, "key000");
  T_EQ_STR(s.last, "key099");
  memset(&s, 0, sizeof s);
  T_OK(S->scan(txn, "key010", 6, "key020", 6, scan_cb, &s, &count)); /* [lo, hi) */
  T_EQ_INT(count, 10);
  T_EQ_STR(s.first, "key010");
  T_EQ_STR(s.last, "key019");
  memset(&s, 0, sizeof s);
  T_OK(S->scan(txn, "key050", 6, "key050", 6, scan_cb, &s, &count)); /* empty range */
  T_EQ_INT(count, 0);
  memset(&s, 0, sizeof s);
  s.stop_at = 5;
  T_KV(S->scan(txn, "key090", 6, NULL, 0, scan_cb, &s, &count), 42); /* the callback's stop value */
  T_EQ_INT(count, 5);
  T_EQ_STR(s.last, "key094");
  T_KV(S->scan(txn, NULL, 0, NULL, 0, NULL, NULL, &count), KV_E_INVALID);
  T_OK(S->txn_abort(txn));
  T_OK(S->env_close(env));
}

static void test_get_batch(void) {
  kvs_obj env = open_env("db", 0, 0), txn;
  T_CHECK();
  fill(env, 10);
  T_CHECK();
  T_OK(S->txn_begin(&txn, env, KV_TXN_READ));
  const char keys[] = "key003key999key000";
  size_t key_lens[3] = {6, 6, 6}, val_lens[3], found = 0;
  char buf[64];
  T_OK(S->get_batch(txn, 3, keys, key_lens, buf, sizeof buf, val_lens, &found));
  T_EQ_INT(found, 2);
  T_EQ_INT(val_lens[0], 4);
  T_EQ_U64(val_lens[1], SIZE_MAX);
  T_EQ_INT(val_lens[2], 4);
  T_EQ_MEM(buf, 8, "val3val0", 8);
  T_KV(S->get_batch(txn, 3, keys, key_lens, buf, 5, val_lens, &found), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(val_lens[0] + val_lens[2], 8);
  T_OK(S->get_batch(txn, 0, NULL, NULL, NULL, 0, NULL, &found));
  T_EQ_INT(found, 0);
  key_lens[1] = 0;
  T_KV(S->get_batch(txn, 3, keys, key_lens, buf, sizeof buf, val_lens, &found), KV_E_KEY_SIZE);
  T_OK(S->txn_abort(txn));
  T_OK(S->env_close(env));
}

/* ---- Randomized operations against a model ---------------------------------------------------- */
#define M_KEYS 200 /* keys are drawn from "r%d" for d < M_KEYS, so hits and misses both happen */
#define M_VALMAX 300

typedef struct model {
  int present[M_KEYS];
  size_t len[M_KEYS];
  unsigned char val[M_KEYS][M_VALMAX];
} model;

static uint64_t rng_next(uint64_t *s) { /* xorshift64*: fixed seeds give the same sequence */
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 2685821657736338717u;
}

static size_t model_key(int i, char *k) { return (size_t)snprintf(k, 16, "r%03d", i); }

static int model_scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  const model *m = payload;
  const unsigned char *d = k; /* keys are "rNNN", not NUL-terminated */
  if (kl != 4) return 1;
  int i = (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  if (i < 0 || i >= M_KEYS) return 1;
  if (!m->present[i] || m->len[i] != vl || memcmp(m->val[i], v, vl) != 0) return 1;
  return 0;
}

static void run_random(uint64_t seed, int ops) {
  kvs_obj env = open_env("db", 64u << 20, 0), txn = 0;
  T_CHECK();
  static model committed, pending; /* pending is what the open write transaction sees */
  memset(&committed, 0, sizeof committed);
  pending = committed;
  uint64_t s = seed;
  int in_txn = 0;
  unsigned char val[M_VALMAX], out[M_VALMAX];
  for (int op = 0; op < ops; op++) {
    uint64_t r = rng_next(&s);
    int i = (int)(r % M_KEYS);
    char k[16];
    size_t kl = model_key(i, k), len = 0;
    unsigned kind = (unsigned)(r >> 32) % 100;
    if (!in_txn) {
      int rc = S->txn_begin(&txn, env, KV_TXN_WRITE);
      if (rc != KV_OK) T_FAIL_RETURN("seed %" PRIu64 " op %d: txn_begin %s", seed, op, t_errname(rc));
      in_txn = 1;
      pending = committed;
    }
    int rc, want;
    if (kind < 40) { /* put */
      size_t vl = (size_t)(rng_next(&s) % M_VALMAX);
      for (size_t b = 0; b < vl; b++) val[b] = (unsigned char)(r >> (b % 56)) ^ (unsigned char)b;
      rc = S->put(txn, k, kl, val, vl);
      want = KV_OK;
      pending.present[i] = 1, pending.len[i] = vl, memcpy(pending.val[i], val, vl);
    } else if (kind < 70) { /* get */
      rc = S->get(txn, k, kl, out, sizeof out, &len);
      want = pending.present[i] ? KV_OK : KV_E_NOT_FOUND;
      if (rc == KV_OK && want == KV_OK && (len != pending.len[i] || memcmp(out, pending.val[i], len)))
        T_FAIL_RETURN("seed %" PRIu64 " op %d: get %s returned the wrong value", seed, op, k);
    } else if (kind < 85) { /* del */
      rc = S->del(txn, k, kl);
      want = pending.present[i] ? KV_OK : KV_E_NOT_FOUND;
      pending.present[i] = 0;
    } else if (kind < 92) { /* commit */
      rc = S->txn_commit(txn);
      want = KV_OK;
      committed = pending;
      in_txn = 0;
    } else if (kind < 95) { /* abort */
      rc = S->txn_abort(txn);
      want = KV_OK;
      in_txn = 0;
    } else { /* scan the whole store in a read snapshot: sees exactly the committed state */
      kvs_obj rtx;
      size_t count = 0, expect = 0;
      for (int j = 0; j < M_KEYS; j++) expect += (size_t)committed.present[j];
      T_OK(S->txn_abort(txn));
      in_txn = 0;
      T_OK(S->txn_begin(&rtx, env, KV_TXN_READ));
      rc = S->scan(rtx, NULL, 0, NULL, 0, model_scan_cb, &committed, &count);
      T_OK(S->txn_abort(rtx));
      want = KV_OK;
      if (rc == KV_OK && count != expect)
        T_FAIL_RETURN("seed %" PRIu64 " op %d: scan saw %zu records, model has %zu", seed, op, count,
                      expect);
    }
    if (rc != want)
      T_FAIL_RETURN("seed %" PRIu64 " op %d (kind %u, key %s): got %s, model says %s", seed, op, kind,
                    k, t_errname(rc), t_errname(want));
  }
  if (in_txn) T_OK(S->txn_commit(txn));
  T_OK(S->env_close(env));
}

static void test_random_vs_model(void) {
  static const uint64_t seeds[] = {1, 0x5eed, 0xdeadbeefcafe, 20261125};
  for (size_t i = 0; i < T_COUNT(seeds); i++) {
    run_random(seeds[i], 3000);
    T_CHECK();
    char lock[4200];
    snprintf(lock, sizeof lock, "%s-lock", t_path("db")); /* a fresh database per seed */
    remove(t_path("db"));
    remove(lock);
  }
}

static const t_case cases[] = {
    T_CASE(test_calibration),
    T_CASE(test_put_get_del),
    T_CASE(test_abort_discards_commit_persists),
    T_CASE(test_buffer_too_small_reports_length),
    T_CASE(test_key_limits),
    T_CASE(test_large_values),
    T_CASE(test_one_shot),
    T_CASE(test_one_writer_per_thread),
    T_CASE(test_read_only_env),
    T_CASE(test_map_full),
    T_CASE(test_bad_arguments),
    T_CASE(test_cursor),
    T_CASE(test_scan),
    T_CASE(test_get_batch),
    T_CASE(test_random_vs_model),
};

int main(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[1], "--shim") != 0) {
    fprintf(stderr, "usage: %s --shim NAME [filter]\n", argv[0]);
    return 2;
  }
  S = kvs_shim_find(argv[2]);
  if (!S) {
    fprintf(stderr, "no shim named %s\n", argv[2]);
    return 2;
  }
  const char *why = "";
  int rc = S->init(&why);
  if (rc != KV_OK) {
    fprintf(stderr, "shim %s cannot start: %s (%s)\n", S->name, t_errname(rc), why);
    return 1;
  }
  argv[2] = argv[0];
  return t_main(argc - 2, argv + 2, cases, T_COUNT(cases));
}
