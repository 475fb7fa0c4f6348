/* kvnapi.c — the Node-API addon of ffibench's Node runtime: libkv's functions in their C shapes, each
 * a thin N-API function (no workload logic: the loops are JavaScript, common.mjs), built by ./build
 * with gcc against Node's own headers (/usr/include/node), linked to libkv.so.
 *
 *   pointer API (kv.h): kv_env* and kv_txn* travel as napi_external values;
 *   handle ABI (kv_handle.h): kvh_handle travels as a BigInt (64 bits: the case BigInt is for);
 *   marshal ABI (kv_marshal.h): kvm_call on typed arrays, its status returned (mcall);
 *   buffers: any TypedArray (a Node Buffer is a Uint8Array), read with napi_get_typedarray_info;
 *   size_t out-parameters: a BigUint64Array the caller reads back.
 * No state outside the calls (NAPI_MODULE's symbol-based registration runs init once per Node
 * environment), so a worker_thread loads it too: the /threads:2 benchmarks (pair.mjs).
 * Errors: libkv's return code is returned as a number (the loops check it); a misuse of the addon
 * itself (a wrong argument type) throws. */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "kv.h"
#include "kv_handle.h"
#include "kv_marshal.h"

#define ARGS(n)                                                                                    \
  size_t argc = (n);                                                                               \
  napi_value argv[(n) ? (n) : 1];                                                                  \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < (n))               \
    return throw_(env, "wrong number of arguments");

static napi_value throw_(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value int_(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static int ptr_(napi_env env, napi_value v, void **p) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *p = NULL;
    return 1;
  }
  return napi_get_value_external(env, v, p) == napi_ok;
}

static int handle_(napi_env env, napi_value v, uint64_t *h) {
  bool lossless;
  return napi_get_value_bigint_uint64(env, v, h, &lossless) == napi_ok;
}

static int size_(napi_env env, napi_value v, size_t *n) {
  int64_t x;
  if (napi_get_value_int64(env, v, &x) != napi_ok || x < 0) return 0;
  *n = (size_t)x;
  return 1;
}

/* The memory of a TypedArray (or Buffer), or NULL for null/undefined: the typed array is asked for
 * first, so a buffer argument costs one N-API call (only what is not one is asked its type). */
static int buf_(napi_env env, napi_value v, void **data, size_t *bytes) {
  napi_typedarray_type tt;
  size_t len;
  if (napi_get_typedarray_info(env, v, &tt, &len, data, NULL, NULL) == napi_ok) {
    static const size_t width[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    *bytes = len * (tt <= napi_biguint64_array ? width[tt] : 1);
    return 1;
  }
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || (t != napi_null && t != napi_undefined)) return 0;
  *data = NULL;
  *bytes = 0;
  return 1;
}

#define BUF(i, p, need)                                                                            \
  void *p;                                                                                         \
  size_t p##_bytes;                                                                                \
  if (!buf_(env, argv[i], &p, &p##_bytes) || p##_bytes < (need)) return throw_(env, "argument " #i ": a typed array, large enough")
#define SIZE(i, n)                                                                                 \
  size_t n;                                                                                        \
  if (!size_(env, argv[i], &n)) return throw_(env, "argument " #i ": a size")
/* A buffer (argument i) and its length in bytes (argument j): the C shape (p, n). */
#define BUF_LEN(i, p, j, n)                                                                        \
  SIZE(j, n);                                                                                      \
  BUF(i, p, n)
#define PTR(i, p)                                                                                  \
  void *p;                                                                                         \
  if (!ptr_(env, argv[i], &p)) return throw_(env, "argument " #i ": an external pointer")
#define HANDLE(i, h)                                                                               \
  uint64_t h;                                                                                      \
  if (!handle_(env, argv[i], &h)) return throw_(env, "argument " #i ": a BigInt handle")

/* ---- calibration ----------------------------------------------------------------------------- */
static napi_value f_noop(napi_env env, napi_callback_info info) {
  (void)env, (void)info;
  kv_noop();
  return NULL;
}

static napi_value f_add(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t a, b;
  if (napi_get_value_int32(env, argv[0], &a) != napi_ok || napi_get_value_int32(env, argv[1], &b) != napi_ok)
    return throw_(env, "add: two numbers");
  return int_(env, kv_add(a, b));
}

static napi_value f_options_init(napi_env env, napi_callback_info info) {
  ARGS(1);
  BUF(0, opts, kv_options_size());
  return int_(env, kv_options_init(opts));
}

/* Clocks for the worker (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID): nanoseconds as a BigInt. */
static napi_value f_clock(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t id;
  struct timespec ts;
  if (napi_get_value_int32(env, argv[0], &id) != napi_ok || clock_gettime(id, &ts)) return throw_(env, "clock");
  napi_value r;
  napi_create_bigint_uint64(env, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, &r);
  return r;
}

/* ---- pointer API ----------------------------------------------------------------------------- */
static napi_value ext_(napi_env env, void *p) {
  napi_value r;
  napi_create_external(env, p, NULL, NULL, &r);
  return r;
}

/* envOpen(path: Uint8Array NUL-terminated, opts: Uint8Array) -> external, or the error code. */
static napi_value f_env_open(napi_env env, napi_callback_info info) {
  ARGS(2);
  BUF(0, path, 1);
  BUF(1, opts, kv_options_size());
  if (((char *)path)[path_bytes - 1]) return throw_(env, "envOpen: the path must end with a NUL");
  kv_env *e;
  int rc = kv_env_open(&e, path, opts);
  return rc ? int_(env, rc) : ext_(env, e);
}

/* envAddress(external) -> the kv_env* as a BigInt, and envAt(BigInt) -> an external of it: a
 * /threads:2 benchmark's threads (pair.mjs) each use, in their own Node environment, the one
 * environment the main thread opened (LMDB: one open of a file per process). */
static napi_value f_env_address(napi_env env, napi_callback_info info) {
  ARGS(1);
  PTR(0, e);
  napi_value r;
  napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)e, &r);
  return r;
}

static napi_value f_env_at(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint64_t a;
  if (!handle_(env, argv[0], &a) || !a) return throw_(env, "envAt: a BigInt address");
  return ext_(env, (void *)(uintptr_t)a);
}

static napi_value f_env_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  PTR(0, e);
  return int_(env, kv_env_close(e));
}

static napi_value f_txn_begin(napi_env env, napi_callback_info info) {
  ARGS(2);
  PTR(0, e);
  uint32_t flags;
  if (napi_get_value_uint32(env, argv[1], &flags) != napi_ok) return throw_(env, "txnBegin: flags");
  kv_txn *t;
  int rc = kv_txn_begin(&t, e, flags);
  return rc ? int_(env, rc) : ext_(env, t);
}

/* txnCommit(txn) -> code; the transaction is freed either way. */
static napi_value f_txn_commit(napi_env env, napi_callback_info info) {
  ARGS(1);
  PTR(0, t);
  int rc = kv_txn_commit(t);
  kv_txn_free(t);
  return int_(env, rc);
}

/* get, put and batch for both ABIs: TXN takes the transaction argument (PTR: a kv_txn *, HANDLE: a
 * kvh_handle), call is the ABI's own function, so each napi function holds its ABI's call. */

/* get(txn, key, klen, buf, cap, lenp) -> code */
#define KVNAPI_GET(name, TXN, call)                                                                \
  static napi_value name(napi_env env, napi_callback_info info) {                                  \
    ARGS(6);                                                                                       \
    TXN(0, t);                                                                                     \
    BUF_LEN(1, key, 2, klen);                                                                      \
    BUF_LEN(3, buf, 4, cap);                                                                       \
    BUF(5, lenp, sizeof(size_t));                                                                  \
    return int_(env, call(t, key, klen, buf, cap, lenp));                                          \
  }

/* put(txn, key, klen, val, vlen) -> code */
#define KVNAPI_PUT(name, TXN, call)                                                                \
  static napi_value name(napi_env env, napi_callback_info info) {                                  \
    ARGS(5);                                                                                       \
    TXN(0, t);                                                                                     \
    BUF_LEN(1, key, 2, klen);                                                                      \
    BUF_LEN(3, val, 4, vlen);                                                                      \
    return int_(env, call(t, key, klen, val, vlen));                                               \
  }

/* batch(txn, n, keys, keyLens, buf, cap, valLens, foundp) -> code; keys: at least a byte per key
 * (libkv reads sum(key_lens)) */
#define KVNAPI_BATCH(name, TXN, call)                                                              \
  static napi_value name(napi_env env, napi_callback_info info) {                                  \
    ARGS(8);                                                                                       \
    TXN(0, t);                                                                                     \
    SIZE(1, n);                                                                                    \
    SIZE(5, cap);                                                                                  \
    BUF(2, keys, n);                                                                               \
    BUF(3, klens, n * sizeof(size_t));                                                             \
    BUF(4, buf, cap);                                                                              \
    BUF(6, vlens, n * sizeof(size_t));                                                             \
    BUF(7, found, sizeof(size_t));                                                                 \
    return int_(env, call(t, n, keys, klens, buf, cap, vlens, found));                             \
  }

KVNAPI_GET(f_get, PTR, kv_get)
KVNAPI_PUT(f_put, PTR, kv_put)
KVNAPI_BATCH(f_batch, PTR, kv_get_batch)

/* scan(txn, lo, lolen, hi, hilen, fn, payload, countp) -> code: fn(null, keyLen, null, valLen, null)
 * is called per record (the upcall into JavaScript); a non-zero number it returns stops the scan,
 * an exception it throws stops it too (returned as 1, and left pending for JavaScript). */
struct upcall {
  napi_env env;
  napi_value fn, recv;
  int threw;
};

static int on_record(const void *key, size_t klen, const void *val, size_t vlen, void *payload) {
  (void)key, (void)val;
  struct upcall *u = payload;
  napi_env env = u->env;
  napi_value args[5], r;
  napi_get_null(env, &args[0]);
  napi_create_double(env, (double)klen, &args[1]);
  args[2] = args[0];
  napi_create_double(env, (double)vlen, &args[3]);
  args[4] = args[0];
  if (napi_call_function(env, u->recv, u->fn, 5, args, &r) != napi_ok) {
    u->threw = 1;
    return 1;
  }
  int32_t rc = 0;
  napi_get_value_int32(env, r, &rc);
  return rc;
}

static napi_value scan_(napi_env env, napi_callback_info info, int handle) {
  ARGS(8);
  BUF_LEN(1, lo, 2, lolen);
  BUF_LEN(3, hi, 4, hilen);
  BUF(7, count, sizeof(size_t));
  struct upcall u = {env, argv[5], NULL, 0};
  napi_get_undefined(env, &u.recv);
  int rc;
  if (handle) {
    HANDLE(0, t);
    rc = kvh_scan(t, lo, lolen, hi, hilen, on_record, &u, count);
  } else {
    PTR(0, t);
    rc = kv_scan(t, lo, lolen, hi, hilen, on_record, &u, count);
  }
  return u.threw ? NULL : int_(env, rc);
}

static napi_value f_scan(napi_env env, napi_callback_info info) {
  return scan_(env, info, 0);
}

/* ---- handle ABI ------------------------------------------------------------------------------ */
static napi_value big_(napi_env env, uint64_t h) {
  napi_value r;
  napi_create_bigint_uint64(env, h, &r);
  return r;
}

static napi_value h_noop(napi_env env, napi_callback_info info) {
  ARGS(1);
  HANDLE(0, e);
  return int_(env, kvh_noop(e));
}

/* hadd(env, a, b, sum: Int32Array) -> code */
static napi_value h_add(napi_env env, napi_callback_info info) {
  ARGS(4);
  HANDLE(0, e);
  int32_t a, b;
  if (napi_get_value_int32(env, argv[1], &a) != napi_ok || napi_get_value_int32(env, argv[2], &b) != napi_ok)
    return throw_(env, "hadd: two numbers");
  BUF(3, sum, sizeof(int));
  return int_(env, kvh_add(e, a, b, sum));
}

static napi_value h_env_open(napi_env env, napi_callback_info info) {
  ARGS(2);
  BUF(0, path, 1);
  BUF(1, opts, kv_options_size());
  if (((char *)path)[path_bytes - 1]) return throw_(env, "henvOpen: the path must end with a NUL");
  kvh_handle h;
  int rc = kvh_env_open(&h, path, opts);
  return rc ? int_(env, rc) : big_(env, h);
}

static napi_value h_env_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  HANDLE(0, e);
  return int_(env, kvh_env_close(e));
}

static napi_value h_txn_begin(napi_env env, napi_callback_info info) {
  ARGS(2);
  HANDLE(0, e);
  uint32_t flags;
  if (napi_get_value_uint32(env, argv[1], &flags) != napi_ok) return throw_(env, "htxnBegin: flags");
  kvh_handle t;
  int rc = kvh_txn_begin(&t, e, flags);
  return rc ? int_(env, rc) : big_(env, t);
}

static napi_value h_txn_commit(napi_env env, napi_callback_info info) {
  ARGS(1);
  HANDLE(0, t);
  return int_(env, kvh_txn_commit(t));
}

KVNAPI_GET(h_get, HANDLE, kvh_get)

KVNAPI_PUT(h_put, HANDLE, kvh_put)

KVNAPI_BATCH(h_batch, HANDLE, kvh_get_batch)

static napi_value h_scan(napi_env env, napi_callback_info info) {
  return scan_(env, info, 1);
}

/* ---- marshal ABI ----------------------------------------------------------------------------- */
/* mcall(req, reqLen, resp, respCap, lenp: BigUint64Array) -> status: kvm_call on the typed arrays'
 * memory; nothing is allocated per call (the status is a small integer). */
static napi_value m_call(napi_env env, napi_callback_info info) {
  ARGS(5);
  BUF_LEN(0, req, 1, req_len);
  BUF_LEN(2, resp, 3, resp_cap);
  BUF(4, resp_len, sizeof(size_t));
  return int_(env, kvm_call(req, req_len, resp, resp_cap, resp_len));
}

/* ---- the module ------------------------------------------------------------------------------ */
static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"noop", f_noop},       {"add", f_add},           {"optionsInit", f_options_init}, {"clock", f_clock},
      {"envOpen", f_env_open}, {"envClose", f_env_close}, {"txnBegin", f_txn_begin},   {"txnCommit", f_txn_commit},
      {"envAddress", f_env_address}, {"envAt", f_env_at},
      {"get", f_get},         {"put", f_put},           {"batch", f_batch},              {"scan", f_scan},
      {"hnoop", h_noop},      {"hadd", h_add},          {"henvOpen", h_env_open},        {"henvClose", h_env_close},
      {"htxnBegin", h_txn_begin}, {"htxnCommit", h_txn_commit}, {"hget", h_get},       {"hput", h_put},
      {"hbatch", h_batch},    {"hscan", h_scan},          {"mcall", m_call},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
