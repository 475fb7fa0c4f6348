/* row.c — the marshal row of the shim table: every operation is encoded as a kvm_call request,
 * called, and its response decoded, so the row pays what a runtime marshaling non-blittable
 * arguments pays: building the request (copying keys and values into it), one call through the
 * byte interface, parsing the response and copying results out of it.
 *
 * Requests and responses live on the stack up to KVS__INLINE bytes each; a larger request is
 * allocated, and a response that does not fit (KV_E_BUFFER_TOO_SMALL, with the size needed) is
 * retried once in a buffer of that size — twice or more only if the data grew in between (a
 * one-shot ENV_GET racing a writer). Responses are decoded with the same bounds-checked reader
 * kvm_call uses for requests; one that does not parse is KV_E_INTERNAL.
 *
 * What a request cannot carry is refused here with the engine's own code: a NULL buffer with a
 * length (KV_E_INVALID), a length beyond the wire's u32 (KV_E_KEY_SIZE, KV_E_VALUE_SIZE), a batch
 * over KVM_BATCH_MAX keys (KV_E_INVALID). Everything else is left to the engine, so the row returns
 * what the other rows return.
 */
#include "shim.h"

#include "kv_marshal.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define KVS__INLINE 4096 /* bytes of request, and of response, kept on the stack */

typedef struct kvs__msg {
  unsigned char *req, *resp;
  size_t req_len, resp_cap, resp_len;
  unsigned char req_stack[KVS__INLINE], resp_stack[KVS__INLINE];
} kvs__msg;

/* Prepares m for a request of len bytes and returns where to encode it, or NULL (no memory; m can
 * still be ended). */
static unsigned char *kvs__msg_start(kvs__msg *m, size_t len) {
  m->req_len = len;
  m->req = len <= sizeof m->req_stack ? m->req_stack : malloc(len);
  m->resp = m->resp_stack;
  m->resp_cap = sizeof m->resp_stack;
  m->resp_len = 0;
  return m->req;
}

static void kvs__msg_end(kvs__msg *m) {
  if (m->req != m->req_stack) free(m->req);
  if (m->resp != m->resp_stack) free(m->resp);
}

/* Replaces the response buffer with one of need bytes (its contents are not kept). */
static int kvs__msg_grow(kvs__msg *m, size_t need) {
  unsigned char *p = malloc(need);
  if (!p) return KV_E_NO_MEMORY;
  if (m->resp != m->resp_stack) free(m->resp);
  m->resp = p;
  m->resp_cap = need;
  return KV_OK;
}

static int kvs__call_once(kvs__msg *m) {
  return kvm_call(m->req, m->req_len, m->resp, m->resp_cap, &m->resp_len);
}

/* Calls, growing the response buffer to what kvm_call asks for until the response fits. */
static int kvs__call(kvs__msg *m) {
  int rc;
  while ((rc = kvs__call_once(m)) == KV_E_BUFFER_TOO_SMALL && m->resp_len > m->resp_cap)
    if (kvs__msg_grow(m, m->resp_len) != KV_OK) return KV_E_NO_MEMORY;
  return rc;
}

/* A reader over a successful response's results (what follows the status). */
static kv__reader kvs__results(const kvs__msg *m) {
  kv__reader r;
  kv__rd_init(&r, m->resp + KVM_STATUS_SIZE, m->resp_len - KVM_STATUS_SIZE);
  return r;
}

/* Decodes a response made of one handle into *out. */
static int kvs__handle_result(const kvs__msg *m, kvs_obj *out) {
  kv__reader r = kvs__results(m);
  kvs_obj h = kv__rd_u64(&r);
  if (kv__rd_end(&r) != 0) return KV_E_INTERNAL;
  *out = h;
  return KV_OK;
}

/* A capacity as a CURSOR_NEXT cap: anything beyond u32 is "any" (no key or value is that long). */
static uint32_t kvs__cap32(size_t cap) { return cap < KVM_CAP_ANY ? (uint32_t)cap : KVM_CAP_ANY; }

/* ---- Calibration: fixed-size messages, on the stack, no reader ----------------------------------- */
static void kvs__noop(kvs_obj env) {
  (void)env;
  unsigned char req[KVM_HEADER_SIZE], resp[KVM_STATUS_SIZE];
  size_t n;
  kv__st_header(req, KVM_OP_NOOP);
  (void)kvm_call(req, sizeof req, resp, sizeof resp, &n);
}

static int kvs__add(kvs_obj env, int a, int b) {
  (void)env;
  unsigned char req[KVM_HEADER_SIZE + 2 * KV__W_U32], resp[KVM_STATUS_SIZE + KV__W_U32];
  size_t n;
  kv__st_i32(kv__st_i32(kv__st_header(req, KVM_OP_ADD), a), b);
  int rc = kvm_call(req, sizeof req, resp, sizeof resp, &n);
  return rc == KV_OK ? kv__i32(kv__ld32(resp + KVM_STATUS_SIZE)) : rc;
}

static uint64_t kvs__spin(kvs_obj env, uint64_t n) {
  (void)env;
  unsigned char req[KVM_HEADER_SIZE + KV__W_U64], resp[KVM_STATUS_SIZE + KV__W_U64];
  size_t len;
  kv__st64(kv__st_header(req, KVM_OP_SPIN), n);
  int rc = kvm_call(req, sizeof req, resp, sizeof resp, &len);
  return rc == KV_OK ? kv__ld64(resp + KVM_STATUS_SIZE) : 0;
}

/* ---- Environment ----------------------------------------------------------------------------- */
static int kvs__env_open(kvs_obj *env, const char *path, const kv_options *opts) {
  if (!env || !path) return KV_E_INVALID;
  const kv_options def = KV_OPTIONS_INIT;
  const kv_options *o = opts ? opts : &def; /* the defaults, spelled out: the same as NULL */
  size_t plen = strlen(path);
  if (plen > UINT32_MAX) return KV_E_INVALID;
  size_t len = KVM_HEADER_SIZE + 4 * KV__W_U32 + KV__W_U64;
  if (kv__size_add(&len, kv__w_bytes(plen))) return KV_E_NO_MEMORY;
  kvs__msg m;
  int rc = KV_E_NO_MEMORY;
  unsigned char *p = kvs__msg_start(&m, len);
  if (p) {
    p = kv__st_bytes(kv__st_header(p, KVM_OP_ENV_OPEN), path, plen);
    p = kv__st32(kv__st32(p, o->version), o->flags);
    kv__st32(kv__st32(kv__st64(p, o->map_size), o->durability), o->reserved);
    if ((rc = kvs__call(&m)) == KV_OK) rc = kvs__handle_result(&m, env);
  }
  kvs__msg_end(&m);
  return rc;
}

/* u64 handle -> nothing: ENV_CLOSE, TXN_COMMIT, TXN_ABORT, CURSOR_CLOSE. */
static int kvs__release(unsigned op, kvs_obj h) {
  unsigned char req[KVM_HEADER_SIZE + KV__W_U64], resp[KVM_STATUS_SIZE];
  size_t n;
  kv__st64(kv__st_header(req, op), h);
  return kvm_call(req, sizeof req, resp, sizeof resp, &n);
}

static int kvs__env_close(kvs_obj env) { return kvs__release(KVM_OP_ENV_CLOSE, env); }

/* ---- Reads and writes, shared by the transaction and one-shot forms ----------------------------- */
static int kvs__write(unsigned op, kvs_obj h, const void *key, size_t klen, const void *val,
                      size_t vlen) {
  if ((!key && klen) || (!val && vlen)) return KV_E_INVALID;
  if (klen > UINT32_MAX) return KV_E_KEY_SIZE;
  if (vlen > KV_VALUE_MAX) return KV_E_VALUE_SIZE; /* and so within u32 */
  size_t len = KVM_HEADER_SIZE + KV__W_U64;
  if (kv__size_add(&len, kv__w_bytes(klen)) || kv__size_add(&len, kv__w_bytes(vlen)))
    return KV_E_NO_MEMORY;
  kvs__msg m;
  int rc = KV_E_NO_MEMORY;
  unsigned char *p = kvs__msg_start(&m, len);
  if (p) {
    p = kv__st64(kv__st_header(p, op), h);
    kv__st_bytes(kv__st_bytes(p, key, klen), val, vlen);
    rc = kvs__call(&m);
  }
  kvs__msg_end(&m);
  return rc;
}

/* Sends `op, handle, key` (DEL, ENV_DEL, GET, ENV_GET) through m; the caller ends m whatever the
 * result, after reading the response if it wants it. */
static int kvs__call_key(kvs__msg *m, unsigned op, kvs_obj h, const void *key, size_t klen) {
  size_t len = KVM_HEADER_SIZE + KV__W_U64;
  int rc = (!key && klen)                            ? KV_E_INVALID
           : klen > UINT32_MAX                       ? KV_E_KEY_SIZE
           : kv__size_add(&len, kv__w_bytes(klen)) ? KV_E_NO_MEMORY
                                                     : KV_OK;
  unsigned char *p = kvs__msg_start(m, rc ? 0 : len); /* checked first: nothing allocated for a bad key */
  if (rc) return rc;
  if (!p) return KV_E_NO_MEMORY;
  kv__st_bytes(kv__st64(kv__st_header(p, op), h), key, klen);
  return kvs__call(m);
}

static int kvs__remove(unsigned op, kvs_obj h, const void *key, size_t klen) {
  kvs__msg m;
  int rc = kvs__call_key(&m, op, h, key, klen);
  kvs__msg_end(&m);
  return rc;
}

/* GET / ENV_GET: the response carries the value; it is copied out if buf can hold it, and *len is
 * set either way (kv_get's contract). */
static int kvs__read(unsigned op, kvs_obj h, const void *key, size_t klen, void *buf, size_t cap,
                     size_t *len) {
  if (!buf && cap) return KV_E_INVALID;
  kvs__msg m;
  int rc = kvs__call_key(&m, op, h, key, klen);
  if (rc == KV_OK) {
    kv__reader r = kvs__results(&m);
    size_t vlen;
    const unsigned char *val = kv__rd_bytes(&r, &vlen);
    if (kv__rd_end(&r) != 0) {
      rc = KV_E_INTERNAL;
    } else {
      if (len) *len = vlen;
      if (vlen > cap) rc = KV_E_BUFFER_TOO_SMALL;
      else kv__st_raw(buf, val, vlen);
    }
  }
  kvs__msg_end(&m);
  return rc;
}

static int kvs__env_put(kvs_obj env, const void *k, size_t kl, const void *v, size_t vl) {
  return kvs__write(KVM_OP_ENV_PUT, env, k, kl, v, vl);
}
static int kvs__env_get(kvs_obj env, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  return kvs__read(KVM_OP_ENV_GET, env, k, kl, buf, cap, len);
}
static int kvs__env_del(kvs_obj env, const void *k, size_t kl) {
  return kvs__remove(KVM_OP_ENV_DEL, env, k, kl);
}

/* ---- Transactions ------------------------------------------------------------------------------ */
static int kvs__txn_begin(kvs_obj *txn, kvs_obj env, unsigned flags) {
  if (!txn) return KV_E_INVALID;
  unsigned char req[KVM_HEADER_SIZE + KV__W_U64 + KV__W_U32], resp[KVM_STATUS_SIZE + KV__W_U64];
  size_t n;
  kv__st32(kv__st64(kv__st_header(req, KVM_OP_TXN_BEGIN), env), flags);
  int rc = kvm_call(req, sizeof req, resp, sizeof resp, &n);
  if (rc == KV_OK) *txn = kv__ld64(resp + KVM_STATUS_SIZE);
  return rc;
}
static int kvs__txn_commit(kvs_obj txn) { return kvs__release(KVM_OP_TXN_COMMIT, txn); }
static int kvs__txn_abort(kvs_obj txn) { return kvs__release(KVM_OP_TXN_ABORT, txn); }

static int kvs__put(kvs_obj txn, const void *k, size_t kl, const void *v, size_t vl) {
  return kvs__write(KVM_OP_PUT, txn, k, kl, v, vl);
}
static int kvs__get(kvs_obj txn, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  return kvs__read(KVM_OP_GET, txn, k, kl, buf, cap, len);
}
static int kvs__del(kvs_obj txn, const void *k, size_t kl) {
  return kvs__remove(KVM_OP_DEL, txn, k, kl);
}

/* GET_BATCH: decodes hit flags and lengths into val_lens (SIZE_MAX for a miss), then copies the
 * values into buf if it can hold them all (kv_get_batch's contract: otherwise nothing is copied). */
static int kvs__batch_results(const kvs__msg *m, size_t n, void *buf, size_t cap, size_t *val_lens,
                              size_t *found) {
  kv__reader r = kvs__results(m);
  uint32_t rn = kv__rd_u32(&r), hits = kv__rd_u32(&r);
  const unsigned char *hit = kv__rd_array(&r, n, KV__W_U8);
  const unsigned char *lens = kv__rd_array(&r, n, KV__W_U32);
  if (r.err || rn != n) return KV_E_INTERNAL;
  size_t need = 0;
  for (size_t i = 0; i < n; i++) {
    size_t vl = kv__ld32(lens + i * KV__W_U32);
    val_lens[i] = hit[i] ? vl : SIZE_MAX;
    if (hit[i] && kv__size_add(&need, vl)) return KV_E_INTERNAL;
  }
  const unsigned char *vals = kv__rd_take(&r, need);
  if (kv__rd_end(&r) != 0) return KV_E_INTERNAL;
  if (found) *found = hits;
  if (need > cap) return KV_E_BUFFER_TOO_SMALL;
  kv__st_raw(buf, vals, need);
  return KV_OK;
}

static int kvs__get_batch(kvs_obj txn, size_t n, const void *keys, const size_t *key_lens, void *buf,
                          size_t cap, size_t *val_lens, size_t *found) {
  if ((n && (!keys || !key_lens || !val_lens)) || (!buf && cap) || n > KVM_BATCH_MAX)
    return KV_E_INVALID;
  size_t len = KVM_HEADER_SIZE + KV__W_U64 + KV__W_U32 + n * KV__W_U32, total = 0;
  for (size_t i = 0; i < n; i++) {
    if (key_lens[i] > UINT32_MAX) return KV_E_KEY_SIZE;
    if (kv__size_add(&total, key_lens[i])) return KV_E_NO_MEMORY;
  }
  if (kv__size_add(&len, total)) return KV_E_NO_MEMORY;
  kvs__msg m;
  int rc = KV_E_NO_MEMORY;
  unsigned char *p = kvs__msg_start(&m, len);
  if (p) {
    p = kv__st32(kv__st64(kv__st_header(p, KVM_OP_GET_BATCH), txn), (uint32_t)n);
    for (size_t i = 0; i < n; i++) p = kv__st32(p, (uint32_t)key_lens[i]);
    kv__st_raw(p, keys, total);
    rc = kvs__call(&m);
  }
  if (rc == KV_OK) rc = kvs__batch_results(&m, n, buf, cap, val_lens, found);
  kvs__msg_end(&m);
  return rc;
}

/* SCAN: the response streams every record of the range; the callback is called for each, in order,
 * and may stop the walk (its value is returned, as kv_scan does). */
static int kvs__scan_results(const kvs__msg *m, kv_scan_fn fn, void *payload, size_t *count) {
  kv__reader r = kvs__results(m);
  uint32_t n = kv__rd_u32(&r);
  size_t called = 0;
  int rc = KV_OK;
  for (uint32_t i = 0; i < n && rc == KV_OK; i++) {
    const unsigned char *key, *val;
    size_t klen, vlen;
    if (kv__rd_record(&r, &key, &klen, &val, &vlen) != 0) return KV_E_INTERNAL;
    called++;
    rc = fn(key, klen, val, vlen, payload);
  }
  if (rc == KV_OK && kv__rd_end(&r) != 0) return KV_E_INTERNAL;
  if (count) *count = called;
  return rc;
}

static int kvs__scan(kvs_obj txn, const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                     kv_scan_fn fn, void *payload, size_t *count) {
  if (!fn || (!lo && lo_len) || (!hi && hi_len)) return KV_E_INVALID;
  if (lo_len > UINT32_MAX || hi_len > UINT32_MAX) return KV_E_KEY_SIZE;
  size_t len = KVM_HEADER_SIZE + KV__W_U64;
  if (kv__size_add(&len, kv__w_opt_bytes(lo, lo_len)) ||
      kv__size_add(&len, kv__w_opt_bytes(hi, hi_len)))
    return KV_E_NO_MEMORY;
  kvs__msg m;
  int rc = KV_E_NO_MEMORY;
  unsigned char *p = kvs__msg_start(&m, len);
  if (p) {
    p = kv__st64(kv__st_header(p, KVM_OP_SCAN), txn);
    kv__st_opt_bytes(kv__st_opt_bytes(p, lo, lo_len), hi, hi_len);
    rc = kvs__call(&m);
  }
  if (rc == KV_OK) rc = kvs__scan_results(&m, fn, payload, count);
  kvs__msg_end(&m);
  return rc;
}

/* ---- Cursors ----------------------------------------------------------------------------------- */
static int kvs__cursor_open(kvs_obj *cur, kvs_obj txn, const void *start, size_t start_len) {
  if (!cur || (!start && start_len)) return KV_E_INVALID;
  if (start_len > UINT32_MAX) return KV_E_KEY_SIZE;
  size_t len = KVM_HEADER_SIZE + KV__W_U64;
  if (kv__size_add(&len, kv__w_opt_bytes(start, start_len))) return KV_E_NO_MEMORY;
  kvs__msg m;
  int rc = KV_E_NO_MEMORY;
  unsigned char *p = kvs__msg_start(&m, len);
  if (p) {
    kv__st_opt_bytes(kv__st64(kv__st_header(p, KVM_OP_CURSOR_OPEN), txn), start, start_len);
    if ((rc = kvs__call(&m)) == KV_OK) rc = kvs__handle_result(&m, cur);
  }
  kvs__msg_end(&m);
  return rc;
}

/* CURSOR_NEXT carries the caller's capacities, so a record longer than either buffer comes back as
 * KV_E_BUFFER_TOO_SMALL with its lengths and the cursor stays; only a response too small for a
 * record that the caller can take makes the row grow its buffer and ask again. */
static int kvs__cursor_next(kvs_obj cur, void *kbuf, size_t kcap, size_t *klen, void *vbuf,
                            size_t vcap, size_t *vlen) {
  if ((!kbuf && kcap) || (!vbuf && vcap)) return KV_E_INVALID;
  kvs__msg m;
  unsigned char *p = kvs__msg_start(&m, KVM_HEADER_SIZE + KV__W_U64 + 2 * KV__W_U32);
  p = kv__st64(kv__st_header(p, KVM_OP_CURSOR_NEXT), cur);
  kv__st32(kv__st32(p, kvs__cap32(kcap)), kvs__cap32(vcap));
  int rc;
  while ((rc = kvs__call_once(&m)) == KV_E_BUFFER_TOO_SMALL) {
    /* The response holds the record's lengths (resp_cap >= 12 always here). */
    size_t kl = kv__ld32(m.resp + KVM_STATUS_SIZE), vl = kv__ld32(m.resp + KVM_STATUS_SIZE + 4);
    if (klen) *klen = kl;
    if (vlen) *vlen = vl;
    if (kl > kcap || vl > vcap || m.resp_len <= m.resp_cap) break;
    if (kvs__msg_grow(&m, m.resp_len) != KV_OK) {
      rc = KV_E_NO_MEMORY;
      break;
    }
  }
  if (rc == KV_OK) {
    kv__reader r = kvs__results(&m);
    const unsigned char *key, *val;
    size_t kl, vl;
    if (kv__rd_record(&r, &key, &kl, &val, &vl) != 0 || kv__rd_end(&r) != 0 || kl > kcap ||
        vl > vcap) {
      rc = KV_E_INTERNAL;
    } else {
      kv__st_raw(kbuf, key, kl);
      kv__st_raw(vbuf, val, vl);
      if (klen) *klen = kl;
      if (vlen) *vlen = vl;
    }
  }
  kvs__msg_end(&m);
  return rc;
}

static int kvs__cursor_close(kvs_obj cur) { return kvs__release(KVM_OP_CURSOR_CLOSE, cur); }

/* ---- The row ----------------------------------------------------------------------------------- */
static int kvs__init(const char **why) {
  unsigned char req[KVM_HEADER_SIZE], resp[KVM_STATUS_SIZE];
  size_t n = 0;
  kv__st_header(req, KVM_OP_NOOP);
  int rc = kvm_call(req, sizeof req, resp, sizeof resp, &n);
  if (rc != KV_OK || n != KVM_STATUS_SIZE) {
    if (why) *why = "kvm_call refused a NOOP request: the library speaks another wire version";
    return rc != KV_OK ? rc : KV_E_INTERNAL;
  }
  return KV_OK;
}

KVS_ROW_OBJECT(marshal) = KVS_SHIM_ROW("marshal");
