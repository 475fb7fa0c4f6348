/* shim.h — the one interface every calling shim implements, and the table that lists them.
 *
 * Tests and benchmarks are written once against kvs_shim and run for every row of kvs_shims[]:
 *   direct  — the engine linked statically (libkv.a) and called directly;
 *   plt     — libkv.so linked at build time, called through the PLT (row lives in libkvshim_plt.so);
 *   dlopen  — libkv.so loaded at run time, called through pointers resolved once with dlsym;
 *   handle  — the integer-handle ABI of kv_handle.h;
 *   marshal — the byte-buffer ABI of kv_marshal.h.
 *
 * Objects (environment, transaction, cursor) are kvs_obj values: a pointer for the pointer shims, a
 * handle for handle and marshal. Every function returns the engine's codes (kv.h) with the engine's
 * meaning, so the same operation gives the same result through every row. Differences a row cannot
 * avoid (a stale object is KV_E_BAD_HANDLE for handle/marshal, undefined behaviour for the others)
 * are tested per ABI, not here.
 */
#ifndef FFIBENCH_SHIM_H
#define FFIBENCH_SHIM_H

#include "kv.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t kvs_obj;

typedef struct kvs_shim {
  const char *name;
  /** Prepares the row (dlopen loads and resolves here). 0, or a kv error: the row is then skipped and
   *  kv_last_error()-style detail is in *why (static or thread-local storage). Idempotent. */
  int (*init)(const char **why);

  /* Calibration. env is an open environment: rows that validate an object on each call (handle)
   * validate it here too, so their cost includes that check; the other rows ignore it. */
  void (*noop)(kvs_obj env);
  int (*add)(kvs_obj env, int a, int b);
  uint64_t (*spin)(kvs_obj env, uint64_t n);

  int (*env_open)(kvs_obj *env, const char *path, const kv_options *opts);
  int (*env_close)(kvs_obj env);

  /** txn_commit and txn_abort end the transaction and release it (for the pointer rows:
   *  kv_txn_commit/abort then kv_txn_free). */
  int (*txn_begin)(kvs_obj *txn, kvs_obj env, unsigned flags);
  int (*txn_commit)(kvs_obj txn);
  int (*txn_abort)(kvs_obj txn);

  int (*put)(kvs_obj txn, const void *key, size_t key_len, const void *val, size_t val_len);
  int (*get)(kvs_obj txn, const void *key, size_t key_len, void *buf, size_t cap, size_t *len);
  int (*del)(kvs_obj txn, const void *key, size_t key_len);
  int (*get_batch)(kvs_obj txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                   size_t cap, size_t *val_lens, size_t *found);

  int (*env_put)(kvs_obj env, const void *key, size_t key_len, const void *val, size_t val_len);
  int (*env_get)(kvs_obj env, const void *key, size_t key_len, void *buf, size_t cap, size_t *len);
  int (*env_del)(kvs_obj env, const void *key, size_t key_len);

  /** cursor_next copies the record into the caller's buffers. When either is too small it returns
   *  KV_E_BUFFER_TOO_SMALL with both lengths set and does not advance: the next call returns the same
   *  record. Returns KV_E_DONE at the end. */
  int (*cursor_open)(kvs_obj *cur, kvs_obj txn, const void *start, size_t start_len);
  int (*cursor_next)(kvs_obj cur, void *kbuf, size_t kcap, size_t *klen, void *vbuf, size_t vcap,
                     size_t *vlen);
  int (*cursor_close)(kvs_obj cur);

  int (*scan)(kvs_obj txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
              kv_scan_fn fn, void *payload, size_t *count);
} kvs_shim;

/** The initializer of a row whose functions follow the convention kvs__<field> (static, in the row's
 *  own translation unit): `const kvs_shim kvs_shim_x = KVS_SHIM_ROW("x");`. One list of fields, so a
 *  field added to kvs_shim is added here once. */
#define KVS_SHIM_ROW(row_name)                                                                     \
  {                                                                                                \
    .name = (row_name), .init = kvs__init, .noop = kvs__noop, .add = kvs__add, .spin = kvs__spin,  \
    .env_open = kvs__env_open, .env_close = kvs__env_close, .txn_begin = kvs__txn_begin,           \
    .txn_commit = kvs__txn_commit, .txn_abort = kvs__txn_abort, .put = kvs__put, .get = kvs__get,  \
    .del = kvs__del, .get_batch = kvs__get_batch, .env_put = kvs__env_put,                         \
    .env_get = kvs__env_get, .env_del = kvs__env_del, .cursor_open = kvs__cursor_open,             \
    .cursor_next = kvs__cursor_next, .cursor_close = kvs__cursor_close, .scan = kvs__scan          \
  }

/** How a row file names its row object: `KVS_ROW_OBJECT(x) = KVS_SHIM_ROW("x");` is the row
 *  kvs_shim_x. A file that includes a row's source for its functions alone — the benchmark loops of
 *  bench/, compiled in the row's own translation unit so that the row's calls inline into them —
 *  defines KVS_ROW_FUNCTIONS_ONLY first: the object is then a private copy nothing uses (which keeps
 *  every function referenced), and the real row stays the one in the shim table. */
#define KVS_ROW_OBJECT(row) KVS__ROW_OBJECT(row) /* (expands a row name given as a macro first) */
#if defined(KVS_ROW_FUNCTIONS_ONLY)
#define KVS__ROW_OBJECT(row) __attribute__((unused)) static const kvs_shim kvs__row_functions_##row
#else
#define KVS__ROW_OBJECT(row) const kvs_shim kvs_shim_##row
#endif

/** Every row, in a fixed order: the kvs_row() list of shims/CMakeLists.txt (direct, plt, dlopen,
 *  handle, marshal). Adding a row is one file defining `const kvs_shim kvs_shim_<name>` (with
 *  KVS_SHIM_ROW) and one line in that list; nothing here changes. */
extern const kvs_shim *const kvs_shims[];
extern const size_t kvs_shim_count;

/** The row named name, or NULL. */
const kvs_shim *kvs_shim_find(const char *name);

/* The rows of this table that programs refer to by name (one per translation unit, shims/<kind>/). */
extern const kvs_shim kvs_shim_direct;
extern const kvs_shim kvs_shim_plt;
extern const kvs_shim kvs_shim_dlopen;
extern const kvs_shim kvs_shim_handle;
extern const kvs_shim kvs_shim_marshal;

#ifdef __cplusplus
}
#endif
#endif /* FFIBENCH_SHIM_H */
