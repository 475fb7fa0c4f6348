"""cffi_defs.py — the engine's declarations for cffi, written once for ABI and API mode.

cffi cannot parse kv.h itself (X-macros, export macros), so the functions the benchmark calls are
declared here by hand, as kv.h, kv_handle.h and kv_marshal.h declare them. In API mode the C compiler
checks these declarations against the real headers; in ABI mode (dlopen) nothing checks them, which
is exactly the risk that mode takes.
"""
MODULE = "_kvcffi"  # the API-mode extension module built into $KV_BUILD_DIR/runtimes/python/

CDEF = """
typedef struct kv_env kv_env;
typedef struct kv_txn kv_txn;
typedef struct kv_options {
  uint32_t version; uint32_t flags; uint64_t map_size; uint32_t durability; uint32_t reserved;
} kv_options;
typedef int (*kv_scan_fn)(const void *key, size_t key_len, const void *val, size_t val_len,
                          void *payload);
const char *kv_version_string(void);
const char *kv_strerror(int err);
const char *kv_last_error(void);
int kv_options_init(kv_options *opts);
int kv_env_open(kv_env **env, const char *path, const kv_options *opts);
int kv_env_close(kv_env *env);
int kv_txn_begin(kv_txn **txn, kv_env *env, unsigned flags);
int kv_txn_commit(kv_txn *txn);
int kv_txn_abort(kv_txn *txn);
int kv_txn_free(kv_txn *txn);
int kv_put(kv_txn *txn, const void *key, size_t key_len, const void *val, size_t val_len);
int kv_get(kv_txn *txn, const void *key, size_t key_len, void *buf, size_t cap, size_t *len);
int kv_get_batch(kv_txn *txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                 size_t cap, size_t *val_lens, size_t *found);
int kv_scan(kv_txn *txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
            kv_scan_fn fn, void *payload, size_t *count);
void kv_noop(void);
int kv_add(int a, int b);

typedef uint64_t kvh_handle;
int kvh_noop(kvh_handle env);
int kvh_add(kvh_handle env, int a, int b, int *sum);
int kvh_env_open(kvh_handle *env, const char *path, const kv_options *opts);
int kvh_env_close(kvh_handle env);
int kvh_txn_begin(kvh_handle *txn, kvh_handle env, unsigned flags);
int kvh_txn_commit(kvh_handle txn);
int kvh_txn_abort(kvh_handle txn);
int kvh_put(kvh_handle txn, const void *key, size_t key_len, const void *val, size_t val_len);
int kvh_get(kvh_handle txn, const void *key, size_t key_len, void *buf, size_t cap, size_t *len);
int kvh_get_batch(kvh_handle txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                  size_t cap, size_t *val_lens, size_t *found);
int kvh_scan(kvh_handle txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
             kv_scan_fn fn, void *payload, size_t *count);

int kvm_call(const void *req, size_t req_len, void *resp, size_t resp_cap, size_t *resp_len);
"""

# API mode only: a callback compiled into the module (the cheapest upcall cffi offers).
CDEF_API = 'extern "Python" int py_scan_cb(const void *, size_t, const void *, size_t, void *);'

SOURCE = '#include "kv.h"\n#include "kv_handle.h"\n#include "kv_marshal.h"\n'


def builder():
    """The API-mode FFI builder (imported only by build.py)."""
    import cffi
    ffi = cffi.FFI()
    ffi.cdef(CDEF + CDEF_API)
    ffi.set_source(MODULE, SOURCE)
    return ffi
