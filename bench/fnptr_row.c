/* fnptr_row.c — c/fnptr: the direct row reached through the shim table's function pointers. Each call
 * in these loops is an indirect call to the direct row's wrapper, which then calls the engine: how
 * every C figure was timed before each row's loops held its own call site, kept as a mechanism of
 * its own because it shows what one indirect call adds (c/fnptr - c/direct). The row object lives
 * in another translation unit, so the compiler cannot see through the pointers. */
#include "workloads.h"

static void kvs__noop(kvs_obj env) { kvs_shim_direct.noop(env); }
static int kvs__add(kvs_obj env, int a, int b) { return kvs_shim_direct.add(env, a, b); }
static uint64_t kvs__spin(kvs_obj env, uint64_t n) { return kvs_shim_direct.spin(env, n); }
static int kvs__txn_begin(kvs_obj *txn, kvs_obj env, unsigned flags) {
  return kvs_shim_direct.txn_begin(txn, env, flags);
}
static int kvs__txn_commit(kvs_obj txn) { return kvs_shim_direct.txn_commit(txn); }
static int kvs__put(kvs_obj txn, const void *k, size_t kl, const void *v, size_t vl) {
  return kvs_shim_direct.put(txn, k, kl, v, vl);
}
static int kvs__get(kvs_obj txn, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  return kvs_shim_direct.get(txn, k, kl, buf, cap, len);
}
static int kvs__get_batch(kvs_obj txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                          size_t cap, size_t *val_lens, size_t *found) {
  return kvs_shim_direct.get_batch(txn, n, keys, key_lens, buf, cap, val_lens, found);
}
static int kvs__scan(kvs_obj txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                     kv_scan_fn fn, void *payload, size_t *count) {
  return kvs_shim_direct.scan(txn, lo, lo_len, hi, hi_len, fn, payload, count);
}
static int kvs__cursor_open(kvs_obj *cur, kvs_obj txn, const void *start, size_t start_len) {
  return kvs_shim_direct.cursor_open(cur, txn, start, start_len);
}
static int kvs__cursor_next(kvs_obj cur, void *kb, size_t kc, size_t *kl, void *vb, size_t vc, size_t *vl) {
  return kvs_shim_direct.cursor_next(cur, kb, kc, kl, vb, vc, vl);
}
static int kvs__cursor_close(kvs_obj cur) { return kvs_shim_direct.cursor_close(cur); }

#include "loops.h"
WL_LOOPS_DEFINE(wl_loops_fnptr, NULL);
