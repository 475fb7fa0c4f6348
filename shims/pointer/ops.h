/* ops.h — the shim row for the pointer API (kv.h), written once for the three ways of reaching it.
 *
 * The including file defines:
 *   KVS_FN(name)   an expression that calls kv_<name>: `kv_##name` (direct, plt) or a pointer
 *                  resolved with dlsym (dlopen);
 *   KVS_ROW        the row's name token (direct, plt, dlopen): the row object is kvs_shim_<KVS_ROW>;
 *   KVS_ROW_ATTR   attributes of the row object (visibility for one exported from its own .so);
 *   kvs__init      the row's init function.
 * Objects travel as kvs_obj (uint64_t) holding the pointer.
 */
#ifndef FFIBENCH_POINTER_OPS_H
#define FFIBENCH_POINTER_OPS_H

#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "pointer/funcs.h"

#define KVS_PTR(T, o) ((T *)(uintptr_t)(o))
#define KVS_OBJ(p) ((kvs_obj)(uintptr_t)(p))

static void kvs__noop(kvs_obj env) {
  (void)env;
  KVS_FN(noop)();
}
static int kvs__add(kvs_obj env, int a, int b) {
  (void)env;
  return KVS_FN(add)(a, b);
}
static uint64_t kvs__spin(kvs_obj env, uint64_t n) {
  (void)env;
  return KVS_FN(spin)(n);
}

static int kvs__env_open(kvs_obj *env, const char *path, const kv_options *opts) {
  kv_env *e;
  int rc = KVS_FN(env_open)(&e, path, opts);
  if (rc == KV_OK) *env = KVS_OBJ(e);
  return rc;
}
static int kvs__env_close(kvs_obj env) { return KVS_FN(env_close)(KVS_PTR(kv_env, env)); }

static int kvs__txn_begin(kvs_obj *txn, kvs_obj env, unsigned flags) {
  kv_txn *t;
  int rc = KVS_FN(txn_begin)(&t, KVS_PTR(kv_env, env), flags);
  if (rc == KV_OK) *txn = KVS_OBJ(t);
  return rc;
}
static int kvs__txn_commit(kvs_obj txn) {
  int rc = KVS_FN(txn_commit)(KVS_PTR(kv_txn, txn));
  int frc = KVS_FN(txn_free)(KVS_PTR(kv_txn, txn));
  return rc ? rc : frc;
}
static int kvs__txn_abort(kvs_obj txn) {
  int rc = KVS_FN(txn_abort)(KVS_PTR(kv_txn, txn));
  int frc = KVS_FN(txn_free)(KVS_PTR(kv_txn, txn));
  return rc ? rc : frc;
}

static int kvs__put(kvs_obj txn, const void *k, size_t kl, const void *v, size_t vl) {
  return KVS_FN(put)(KVS_PTR(kv_txn, txn), k, kl, v, vl);
}
static int kvs__get(kvs_obj txn, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  return KVS_FN(get)(KVS_PTR(kv_txn, txn), k, kl, buf, cap, len);
}
static int kvs__del(kvs_obj txn, const void *k, size_t kl) {
  return KVS_FN(del)(KVS_PTR(kv_txn, txn), k, kl);
}
static int kvs__get_batch(kvs_obj txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                          size_t cap, size_t *val_lens, size_t *found) {
  return KVS_FN(get_batch)(KVS_PTR(kv_txn, txn), n, keys, key_lens, buf, cap, val_lens, found);
}

static int kvs__env_put(kvs_obj env, const void *k, size_t kl, const void *v, size_t vl) {
  return KVS_FN(env_put)(KVS_PTR(kv_env, env), k, kl, v, vl);
}
static int kvs__env_get(kvs_obj env, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  return KVS_FN(env_get)(KVS_PTR(kv_env, env), k, kl, buf, cap, len);
}
static int kvs__env_del(kvs_obj env, const void *k, size_t kl) {
  return KVS_FN(env_del)(KVS_PTR(kv_env, env), k, kl);
}

/* The engine's cursor is zero-copy; the row copies out and keeps a record that did not fit pending,
 * so the next call returns it again (shim.h's contract). */
typedef struct kvs__cursor {
  kv_cursor *c;
  const void *k, *v;
  size_t kl, vl;
  int pending;
} kvs__cursor;

static int kvs__cursor_open(kvs_obj *cur, kvs_obj txn, const void *start, size_t start_len) {
  kvs__cursor *w = calloc(1, sizeof *w);
  if (!w) return KV_E_NO_MEMORY;
  int rc = KVS_FN(cursor_open)(&w->c, KVS_PTR(kv_txn, txn), start, start_len);
  if (rc != KV_OK) {
    free(w);
    return rc;
  }
  *cur = KVS_OBJ(w);
  return KV_OK;
}
static int kvs__cursor_next(kvs_obj cur, void *kbuf, size_t kcap, size_t *klen, void *vbuf,
                            size_t vcap, size_t *vlen) {
  kvs__cursor *w = KVS_PTR(kvs__cursor, cur);
  if (!w->pending) {
    int rc = KVS_FN(cursor_next)(w->c, &w->k, &w->kl, &w->v, &w->vl);
    if (rc != KV_OK) return rc;
  }
  *klen = w->kl;
  *vlen = w->vl;
  if (w->kl > kcap || w->vl > vcap) {
    w->pending = 1;
    return KV_E_BUFFER_TOO_SMALL;
  }
  w->pending = 0;
  memcpy(kbuf, w->k, w->kl);
  if (w->vl) memcpy(vbuf, w->v, w->vl);
  return KV_OK;
}
static int kvs__cursor_close(kvs_obj cur) {
  kvs__cursor *w = KVS_PTR(kvs__cursor, cur);
  int rc = KVS_FN(cursor_close)(w->c);
  if (rc == KV_OK) free(w);
  return rc;
}

static int kvs__scan(kvs_obj txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                     kv_scan_fn fn, void *payload, size_t *count) {
  return KVS_FN(scan)(KVS_PTR(kv_txn, txn), lo, lo_len, hi, hi_len, fn, payload, count);
}

static int kvs__init(const char **why);

#define KVS__CAT2(a, b) a##b
#define KVS__CAT(a, b) KVS__CAT2(a, b)
#define KVS__STR2(x) #x
#define KVS__STR(x) KVS__STR2(x)

#if defined(KVS_ROW_FUNCTIONS_ONLY)
KVS_ROW_OBJECT(KVS_ROW) = KVS_SHIM_ROW(KVS__STR(KVS_ROW));
#else
KVS_ROW_ATTR KVS_ROW_OBJECT(KVS_ROW) = KVS_SHIM_ROW(KVS__STR(KVS_ROW));
#endif

#endif /* FFIBENCH_POINTER_OPS_H */
