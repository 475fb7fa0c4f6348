/* test_marshal_row.c — the marshal row of the shim table (shims/marshal/row.c) where it does more
 * than forward a call: requests larger than its stack buffer, responses it must grow and retry,
 * results decoded out of a response into the caller's buffers, and shim.h's cursor contract (a
 * record too big for the caller's buffers is reported with its lengths and returned again next
 * time) carried across the wire. The behaviour shared with every row is tests/conformance's.
 */
#include "kv_marshal.h"
#include "shim.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const kvs_shim *const S = &kvs_shim_marshal;

static kvs_obj open_env(void) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = 256u << 20;
  kvs_obj env = 0;
  int rc = S->env_open(&env, t_path("db"), &o);
  if (rc != KV_OK) t_fail(__FILE__, __LINE__, "env_open: %s", t_errname(rc));
  return env;
}

static unsigned char *pattern(size_t n, unsigned seed) {
  unsigned char *p = malloc(n ? n : 1);
  for (size_t i = 0; p && i < n; i++) p[i] = (unsigned char)(i * 31 + seed + (i >> 11));
  return p;
}

static void test_init_and_calibration(void) {
  const char *why = NULL;
  T_OK(S->init(&why));
  T_EQ_STR(S->name, "marshal");
  kvs_obj env = open_env();
  T_CHECK();
  S->noop(env);
  T_EQ_INT(S->add(env, 40, 2), 42);
  T_EQ_INT(S->add(env, -5, -6), -11);
  T_EQ_U64(S->spin(env, 1), 0x6c576fac43fd007cu);
  T_OK(S->env_close(env));
}

/* Values far beyond the row's 4 KiB buffers, through put, get and the one-shot forms. */
static void test_large_values(void) {
  kvs_obj env = open_env(), txn;
  T_CHECK();
  static const size_t sizes[] = {4095, 4096, 4097, 65536, 3u << 20};
  for (size_t i = 0; i < T_COUNT(sizes); i++) {
    size_t vl = sizes[i], len = 0;
    unsigned char *val = pattern(vl, (unsigned)i), *out = malloc(vl);
    T_TRUE(val && out);
    char key[16];
    size_t kl = (size_t)snprintf(key, sizeof key, "v%zu", vl);
    T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
    T_OK(S->put(txn, key, kl, val, vl));
    T_KV(S->get(txn, key, kl, out, vl - 1, &len), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(len, vl);
    T_KV(S->get(txn, key, kl, NULL, 0, &len), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(len, vl);
    memset(out, 0, vl);
    T_OK(S->get(txn, key, kl, out, vl, &len));
    T_EQ_MEM(out, len, val, vl);
    T_OK(S->txn_commit(txn));
    memset(out, 0, vl);
    T_OK(S->env_get(env, key, kl, out, vl, &len));
    T_EQ_MEM(out, len, val, vl);
    T_OK(S->env_put(env, key, kl, out, vl / 2));
    T_OK(S->env_get(env, key, kl, out, vl, &len));
    T_EQ_INT(len, vl / 2);
    free(val);
    free(out);
  }
  T_OK(S->env_close(env));
}

static void test_get_batch_beyond_stack(void) {
  kvs_obj env = open_env(), txn;
  T_CHECK();
  enum { N = 300, VL = 100 }; /* 30 KB of values, 300 keys */
  char keys[N * 8 + 1]; /* + snprintf's NUL */
  size_t key_lens[N], val_lens[N], found = 0;
  unsigned char *val = pattern(VL, 7);
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  for (int i = 0; i < N; i++) {
    snprintf(keys + i * 8, 9, "k%07d", i);
    key_lens[i] = 8;
    if (i % 3) T_OK(S->put(txn, keys + i * 8, 8, val, VL)); /* every third key is a miss */
  }
  size_t hits = N - (N + 2) / 3, cap = hits * VL;
  unsigned char *buf = malloc(cap);
  T_TRUE(buf != NULL);
  T_KV(S->get_batch(txn, N, keys, key_lens, buf, cap - 1, val_lens, &found), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(found, hits);
  T_EQ_INT(val_lens[1], VL);
  T_EQ_U64(val_lens[0], SIZE_MAX);
  T_OK(S->get_batch(txn, N, keys, key_lens, buf, cap, val_lens, &found));
  T_EQ_INT(found, hits);
  for (size_t i = 0; i < hits; i++) T_EQ_MEM(buf + i * VL, VL, val, VL);
  T_KV(S->get_batch(txn, 1, NULL, key_lens, buf, cap, val_lens, &found), KV_E_INVALID);
  T_KV(S->get_batch(txn, (size_t)KVM_BATCH_MAX + 1, keys, key_lens, buf, cap, val_lens, &found),
       KV_E_INVALID);
  T_OK(S->txn_abort(txn));
  free(val);
  free(buf);
  T_OK(S->env_close(env));
}

typedef struct seen {
  size_t n, bytes, stop_at;
  char last[16];
} seen;

static int count_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  seen *s = payload;
  (void)v;
  s->n++;
  s->bytes += kl + vl;
  memcpy(s->last, k, kl < 15 ? kl : 15);
  s->last[kl < 15 ? kl : 15] = 0;
  return s->n == s->stop_at ? 7 : 0;
}

static void test_scan_beyond_stack(void) {
  kvs_obj env = open_env(), txn;
  T_CHECK();
  unsigned char *val = pattern(1000, 3);
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  for (int i = 0; i < 500; i++) {
    char k[16];
    int kl = snprintf(k, sizeof k, "s%04d", i);
    T_OK(S->put(txn, k, (size_t)kl, val, (size_t)(i % 7) * 150)); /* ~220 KB in all */
  }
  seen s = {0};
  size_t count = 0, bytes = 0;
  for (int i = 0; i < 500; i++) bytes += 5 + (size_t)(i % 7) * 150;
  T_OK(S->scan(txn, NULL, 0, NULL, 0, count_cb, &s, &count));
  T_EQ_INT(count, 500);
  T_EQ_INT(s.bytes, bytes);
  T_EQ_STR(s.last, "s0499");
  memset(&s, 0, sizeof s);
  s.stop_at = 3;
  T_KV(S->scan(txn, "s0100", 5, "s0200", 5, count_cb, &s, &count), 7);
  T_EQ_INT(count, 3);
  T_EQ_STR(s.last, "s0102");
  T_KV(S->scan(txn, NULL, 3, NULL, 0, count_cb, &s, &count), KV_E_INVALID);
  T_KV(S->scan(txn, "", 0, NULL, 0, count_cb, &s, &count), KV_E_KEY_SIZE); /* present, empty */
  T_OK(S->txn_abort(txn));
  free(val);
  T_OK(S->env_close(env));
}

/* shim.h: a record too big for either buffer is KV_E_BUFFER_TOO_SMALL with both lengths and is
 * returned again by the next call; a record bigger than the row's own response buffer is fetched
 * after one grow-and-retry, without skipping anything. */
static void test_cursor_contract(void) {
  kvs_obj env = open_env(), txn, cur;
  T_CHECK();
  size_t big = 10000;
  unsigned char *val = pattern(big, 9), *vbuf = malloc(big);
  T_TRUE(val && vbuf);
  T_OK(S->env_put(env, "a", 1, val, 10));
  T_OK(S->env_put(env, "b", 1, val, big));
  T_OK(S->env_put(env, "c", 1, val, 0));
  T_OK(S->txn_begin(&txn, env, KV_TXN_READ));
  T_OK(S->cursor_open(&cur, txn, NULL, 0));
  char k[8];
  size_t kl = 0, vl = 0;
  T_KV(S->cursor_next(cur, k, 0, &kl, vbuf, big, &vl), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(kl, 1);
  T_EQ_INT(vl, 10);
  T_OK(S->cursor_next(cur, k, sizeof k, &kl, vbuf, 10, &vl));
  T_EQ_MEM(k, kl, "a", 1);
  T_EQ_MEM(vbuf, vl, val, 10);
  T_KV(S->cursor_next(cur, k, sizeof k, &kl, vbuf, big - 1, &vl), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(vl, big);
  T_KV(S->cursor_next(cur, NULL, 0, NULL, NULL, 0, NULL), KV_E_BUFFER_TOO_SMALL);
  T_OK(S->cursor_next(cur, k, sizeof k, &kl, vbuf, big, &vl)); /* b, through a grown buffer */
  T_EQ_MEM(k, kl, "b", 1);
  T_EQ_MEM(vbuf, vl, val, big);
  T_OK(S->cursor_next(cur, k, sizeof k, &kl, NULL, 0, &vl));
  T_EQ_MEM(k, kl, "c", 1);
  T_EQ_INT(vl, 0);
  T_KV(S->cursor_next(cur, k, sizeof k, &kl, vbuf, big, &vl), KV_E_DONE);
  T_KV(S->cursor_next(cur, NULL, 4, &kl, vbuf, big, &vl), KV_E_INVALID);
  T_OK(S->cursor_close(cur));
  T_KV(S->cursor_open(&cur, txn, NULL, 2), KV_E_INVALID);
  T_KV(S->cursor_open(NULL, txn, NULL, 0), KV_E_INVALID);
  T_OK(S->txn_abort(txn));
  free(val);
  free(vbuf);
  T_OK(S->env_close(env));
}

/* What a request cannot carry is refused by the row with the engine's code. */
static void test_unencodable_arguments(void) {
  kvs_obj env = open_env(), txn;
  T_CHECK();
  char buf[4];
  size_t len;
  T_KV(S->env_open(&env, NULL, NULL), KV_E_INVALID);
  T_KV(S->env_open(NULL, t_path("x"), NULL), KV_E_INVALID);
  T_KV(S->txn_begin(NULL, env, 0), KV_E_INVALID);
  T_OK(S->txn_begin(&txn, env, KV_TXN_WRITE));
  T_KV(S->put(txn, NULL, 1, "v", 1), KV_E_INVALID);
  T_KV(S->put(txn, "k", 1, NULL, 1), KV_E_INVALID);
  T_KV(S->put(txn, "k", 1, "v", KV_VALUE_MAX + 1), KV_E_VALUE_SIZE);
  T_KV(S->put(txn, "k", (size_t)UINT32_MAX + 1, "v", 1), KV_E_KEY_SIZE);
  T_KV(S->get(txn, "k", 1, NULL, 1, &len), KV_E_INVALID);
  T_KV(S->del(txn, NULL, 1), KV_E_INVALID);
  T_OK(S->put(txn, "k", 1, NULL, 0)); /* an empty value may be NULL */
  T_OK(S->get(txn, "k", 1, buf, sizeof buf, &len));
  T_EQ_INT(len, 0);
  T_OK(S->get(txn, "k", 1, NULL, 0, NULL));
  T_OK(S->txn_commit(txn));
  T_KV(S->txn_commit(txn), KV_E_BAD_HANDLE); /* released */
  T_KV(S->put(0, "k", 1, "v", 1), KV_E_BAD_HANDLE);
  T_OK(S->env_close(env));
  T_KV(S->env_close(env), KV_E_BAD_HANDLE);
}

static const t_case cases[] = {
    T_CASE(test_init_and_calibration), T_CASE(test_large_values),
    T_CASE(test_get_batch_beyond_stack), T_CASE(test_scan_beyond_stack),
    T_CASE(test_cursor_contract), T_CASE(test_unencodable_arguments),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
