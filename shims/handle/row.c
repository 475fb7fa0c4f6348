/* row.c — the handle row: the engine reached through the integer-handle ABI of kv_handle.h (linked
 * statically, like the direct row, so the difference between the two is the handle checks alone).
 * Objects travel as kvs_obj holding the kvh_handle itself. The calibration calls validate the
 * environment handle on every call, so their cost includes that check. */
#include "shim.h"

#include "kv_handle.h"

static int kvs__init(const char **why) {
  (void)why;
  return KV_OK;
}

static void kvs__noop(kvs_obj env) { (void)kvh_noop(env); }

/* The row's add and spin return the result itself; a handle error (which the conformance suite never
 * provokes here) yields 0. */
static int kvs__add(kvs_obj env, int a, int b) {
  int sum = 0;
  (void)kvh_add(env, a, b, &sum);
  return sum;
}

static uint64_t kvs__spin(kvs_obj env, uint64_t n) {
  uint64_t out = 0;
  (void)kvh_spin(env, n, &out);
  return out;
}

static int kvs__env_open(kvs_obj *env, const char *path, const kv_options *opts) {
  return kvh_env_open(env, path, opts);
}
static int kvs__env_close(kvs_obj env) { return kvh_env_close(env); }

static int kvs__txn_begin(kvs_obj *txn, kvs_obj env, unsigned flags) {
  return kvh_txn_begin(txn, env, flags);
}
/* kvh_txn_commit/abort already end the transaction and release the handle. */
static int kvs__txn_commit(kvs_obj txn) { return kvh_txn_commit(txn); }
static int kvs__txn_abort(kvs_obj txn) { return kvh_txn_abort(txn); }

static int kvs__put(kvs_obj txn, const void *k, size_t kl, const void *v, size_t vl) {
  return kvh_put(txn, k, kl, v, vl);
}
static int kvs__get(kvs_obj txn, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  return kvh_get(txn, k, kl, buf, cap, len);
}
static int kvs__del(kvs_obj txn, const void *k, size_t kl) { return kvh_del(txn, k, kl); }
static int kvs__get_batch(kvs_obj txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                          size_t cap, size_t *val_lens, size_t *found) {
  return kvh_get_batch(txn, n, keys, key_lens, buf, cap, val_lens, found);
}

static int kvs__env_put(kvs_obj env, const void *k, size_t kl, const void *v, size_t vl) {
  return kvh_env_put(env, k, kl, v, vl);
}
static int kvs__env_get(kvs_obj env, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  return kvh_env_get(env, k, kl, buf, cap, len);
}
static int kvs__env_del(kvs_obj env, const void *k, size_t kl) { return kvh_env_del(env, k, kl); }

/* kvh_cursor_next already has the row's copy-out contract (pending record, no advance). */
static int kvs__cursor_open(kvs_obj *cur, kvs_obj txn, const void *start, size_t start_len) {
  return kvh_cursor_open(cur, txn, start, start_len);
}
static int kvs__cursor_next(kvs_obj cur, void *kbuf, size_t kcap, size_t *klen, void *vbuf,
                            size_t vcap, size_t *vlen) {
  return kvh_cursor_next(cur, kbuf, kcap, klen, vbuf, vcap, vlen);
}
static int kvs__cursor_close(kvs_obj cur) { return kvh_cursor_close(cur); }

static int kvs__scan(kvs_obj txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                     kv_scan_fn fn, void *payload, size_t *count) {
  return kvh_scan(txn, lo, lo_len, hi, hi_len, fn, payload, count);
}

KVS_ROW_OBJECT(handle) = KVS_SHIM_ROW("handle");
