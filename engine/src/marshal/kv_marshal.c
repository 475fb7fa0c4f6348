/* kv_marshal.c — the marshal ABI (kv_marshal.h): one entry point, requests and responses as bytes.
 * The wire format is engine/doc/PROTOCOL.md.
 *
 * kvm_call checks the 2-byte header and dispatches on the operation. Each operation's handler
 * decodes its arguments with the bounds-checked reader of wire.h, checks that the request ended
 * exactly where its arguments did, makes sure the response will fit, then calls the handle ABI
 * (kv_handle.h) — so every object named in a request is validated there, and a forged or stale
 * handle is an error status. kvm_call itself writes the status into the response.
 *
 * Response capacity: a handler whose response has a fixed size checks the capacity before doing
 * anything, so an operation that creates or ends something (TXN_BEGIN, CURSOR_OPEN, TXN_COMMIT...)
 * never runs when its response could not be delivered. A read whose response size depends on the
 * data (GET, GET_BATCH, SCAN, CURSOR_NEXT) runs, learns the size, and reports KV_E_BUFFER_TOO_SMALL
 * with the exact size needed; none of them changes anything, and CURSOR_NEXT relies on
 * kvh_cursor_next not advancing when its buffers are too small.
 *
 * The calibration operations (NOOP, ADD, SPIN) take a few compares and stores: no allocation, no
 * lock, no handle lookup. The handlers with large stack buffers are kept out of line so that
 * kvm_call's own frame stays small for them.
 */
#include "kv_marshal.h"

#include "kv_handle.h"
#include "wire.h"

#include "kv_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define KV__NOINLINE __attribute__((noinline))
#else
#define KV__NOINLINE
#endif

/* Fixed response sizes: the status, then the result. */
#define KV__R_STATUS KVM_STATUS_SIZE
#define KV__R_U8 (KVM_STATUS_SIZE + KV__W_U8)
#define KV__R_I32 (KVM_STATUS_SIZE + KV__W_U32)
#define KV__R_U64 (KVM_STATUS_SIZE + KV__W_U64)
#define KV__R_HANDLE KV__R_U64

/* Where each variable response's payload starts. */
#define KV__R_VALUE_AT (KVM_STATUS_SIZE + KV__W_U32)                    /* GET: u32 len, bytes */
#define KV__R_RECORD_AT (KVM_STATUS_SIZE + KV__W_RECORD_HEAD)           /* CURSOR_NEXT */
#define KV__R_SCAN_AT (KVM_STATUS_SIZE + KV__W_U32)                     /* SCAN: u32 count */
#define KV__R_BATCH_HEAD (KVM_STATUS_SIZE + KV__W_U32 + KV__W_U32)      /* u32 n, u32 found */

/* GET_BATCH keeps key and value lengths (size_t, for kvh_get_batch) on the stack up to this many
 * keys, on the heap beyond. */
#define KV__BATCH_STACK 32

/* One call in progress. Each handler reads its arguments with a reader of its own, a local that never
 * escapes (the error paths get values), so for the small operations it lives in registers. */
typedef struct kv__call {
  const unsigned char *args; /* the request past its header */
  size_t n;                  /* bytes of arguments */
  unsigned char *out;        /* resp */
  size_t cap;                /* resp_cap */
  size_t len;                /* the response's length: written (KV_OK) or needed (too small) */
  unsigned op;
} kv__call;

static inline kv__reader kv__args(const kv__call *c) {
  kv__reader r;
  kv__rd_init(&r, c->args, c->n);
  return r;
}

/* ---- Errors ------------------------------------------------------------------------------------ */
static const char *kv__op_name(unsigned op) {
  switch (op) {
#define KV__OP_NAME(name, code) \
  case code: return #name;
    KVM_OP_MAP(KV__OP_NAME)
#undef KV__OP_NAME
  default: return "unknown";
  }
}

/* at: offset of the failing argument in the arguments; truncated: it ran past the end (else bytes
 * follow the last argument). */
KV__COLD static int kv__malformed(const kv__call *c, size_t at, int truncated) {
  return kv__fail(KV_E_PROTOCOL, "kvm_call: %s request of %zu bytes: %s at byte %zu",
                  kv__op_name(c->op), KVM_HEADER_SIZE + c->n,
                  truncated ? "an argument is missing or runs past the end" : "trailing bytes",
                  KVM_HEADER_SIZE + at);
}

KV__COLD static int kv__too_small(const kv__call *c) {
  return kv__fail(KV_E_BUFFER_TOO_SMALL, "kvm_call: %s response needs %zu bytes, buffer has %zu",
                  kv__op_name(c->op), c->len, c->cap);
}

/* The arguments were all present and nothing follows them. */
static inline int kv__args_end(const kv__call *c, const kv__reader *r) {
  return KV__LIKELY(kv__rd_end(r) == 0) ? 0 : kv__malformed(c, kv__rd_offset(r), r->err != 0);
}

/* The response will take size bytes: 0 if they fit, else KV_E_BUFFER_TOO_SMALL. */
static inline int kv__room(kv__call *c, size_t size) {
  c->len = size;
  return KV__LIKELY(size <= c->cap) ? 0 : kv__too_small(c);
}

/* The arguments ended well and a response of size bytes fits: the check every operation with a
 * fixed-size response makes before it does anything (so a too-small buffer has no side effect). */
static inline int kv__args_fit(kv__call *c, const kv__reader *r, size_t size) {
  int rc = kv__args_end(c, r);
  return rc ? rc : kv__room(c, size);
}

/* ---- Calibration ------------------------------------------------------------------------------- */
static int kv__op_noop(kv__call *c) {
  kv__reader r = kv__args(c);
  int rc = kv__args_fit(c, &r, KV__R_STATUS);
  if (!rc) kv_noop();
  return rc;
}

static int kv__op_add(kv__call *c) {
  kv__reader r = kv__args(c);
  int32_t a = kv__rd_i32(&r), b = kv__rd_i32(&r);
  int rc = kv__args_fit(c, &r, KV__R_I32);
  if (!rc) kv__st_i32(c->out + KVM_STATUS_SIZE, kv_add(a, b));
  return rc;
}

static int kv__op_spin(kv__call *c) {
  kv__reader r = kv__args(c);
  uint64_t n = kv__rd_u64(&r);
  int rc = kv__args_fit(c, &r, KV__R_U64);
  if (!rc) kv__st64(c->out + KVM_STATUS_SIZE, kv_spin(n));
  return rc;
}

/* ---- Environment ------------------------------------------------------------------------------- */
KV__NOINLINE static int kv__op_env_open(kv__call *c) {
  kv__reader r = kv__args(c);
  size_t path_len;
  const unsigned char *path = kv__rd_bytes(&r, &path_len);
  kv_options o;
  o.version = kv__rd_u32(&r);
  o.flags = kv__rd_u32(&r);
  o.map_size = kv__rd_u64(&r);
  o.durability = kv__rd_u32(&r);
  o.reserved = kv__rd_u32(&r);
  int rc = kv__args_end(c, &r);
  if (rc) return rc;
  if (path_len > KVM_PATH_MAX)
    return kv__fail(KV_E_INVALID, "kvm_call: ENV_OPEN path of %zu bytes, the limit is %u", path_len,
                    KVM_PATH_MAX);
  const unsigned char *nul = memchr(path, 0, path_len);
  if (nul)
    return kv__fail(KV_E_INVALID, "kvm_call: ENV_OPEN path has a NUL byte at %zu",
                    (size_t)(nul - path));
  if ((rc = kv__room(c, KV__R_HANDLE)) != 0) return rc;
  char cpath[KVM_PATH_MAX + 1];
  memcpy(cpath, path, path_len);
  cpath[path_len] = '\0';
  kvh_handle env;
  rc = kvh_env_open(&env, cpath, &o);
  if (!rc) kv__st64(c->out + KVM_STATUS_SIZE, env);
  return rc;
}

static int kv__op_env_set_map_size(kv__call *c) {
  kv__reader r = kv__args(c);
  kvh_handle env = kv__rd_u64(&r);
  uint64_t size = kv__rd_u64(&r);
  int rc = kv__args_fit(c, &r, KV__R_STATUS);
  return rc ? rc : kvh_env_set_map_size(env, size);
}

/* ---- Operations shared by the one-shot (env) and transaction forms ------------------------------ */

/* u64 handle -> nothing: ENV_CLOSE, ENV_SYNC, TXN_COMMIT, TXN_ABORT, TXN_RESET, TXN_RENEW,
 * CURSOR_CLOSE, RELEASE. */
static int kv__op_handle(kv__call *c, int (*fn)(kvh_handle)) {
  kv__reader r = kv__args(c);
  kvh_handle h = kv__rd_u64(&r);
  int rc = kv__args_fit(c, &r, KV__R_STATUS);
  return rc ? rc : fn(h);
}

/* u64 env -> u64 size: ENV_MAP_SIZE. */
static int kv__op_env_map_size(kv__call *c) {
  kv__reader r = kv__args(c);
  kvh_handle env = kv__rd_u64(&r);
  int rc = kv__args_fit(c, &r, KV__R_U64);
  if (rc) return rc;
  uint64_t size;
  rc = kvh_env_map_size(env, &size);
  if (!rc) kv__st64(c->out + KVM_STATUS_SIZE, size);
  return rc;
}

/* u64 txn -> u8 write: TXN_IS_WRITE. */
static int kv__op_txn_is_write(kv__call *c) {
  kv__reader r = kv__args(c);
  kvh_handle txn = kv__rd_u64(&r);
  int rc = kv__args_fit(c, &r, KV__R_U8);
  if (rc) return rc;
  rc = kvh_txn_is_write(txn);
  if (rc < 0) return rc;
  kv__st8(c->out + KVM_STATUS_SIZE, (unsigned)rc);
  return KV_OK;
}

/* u64 handle, bytes key, bytes value -> nothing: PUT, ENV_PUT. */
static int kv__op_put(kv__call *c, int (*fn)(kvh_handle, const void *, size_t, const void *, size_t)) {
  kv__reader r = kv__args(c);
  size_t klen, vlen;
  kvh_handle h = kv__rd_u64(&r);
  const unsigned char *key = kv__rd_bytes(&r, &klen);
  const unsigned char *val = kv__rd_bytes(&r, &vlen);
  int rc = kv__args_fit(c, &r, KV__R_STATUS);
  return rc ? rc : fn(h, key, klen, val, vlen);
}

/* u64 handle, bytes key -> nothing: DEL, ENV_DEL. */
static int kv__op_del(kv__call *c, int (*fn)(kvh_handle, const void *, size_t)) {
  kv__reader r = kv__args(c);
  size_t klen;
  kvh_handle h = kv__rd_u64(&r);
  const unsigned char *key = kv__rd_bytes(&r, &klen);
  int rc = kv__args_fit(c, &r, KV__R_STATUS);
  return rc ? rc : fn(h, key, klen);
}

/* u64 handle, bytes key -> bytes value: GET, ENV_GET. The value is copied straight into the
 * response; a response too small to hold it is a length query (nothing copied). */
static int kv__op_get(kv__call *c,
                      int (*fn)(kvh_handle, const void *, size_t, void *, size_t, size_t *)) {
  kv__reader r = kv__args(c);
  size_t klen, vlen = 0;
  kvh_handle h = kv__rd_u64(&r);
  const unsigned char *key = kv__rd_bytes(&r, &klen);
  int rc = kv__args_end(c, &r);
  if (rc) return rc;
  unsigned char none; /* never NULL, even for a capacity of 0 */
  int room = c->cap >= KV__R_VALUE_AT;
  rc = fn(h, key, klen, room ? c->out + KV__R_VALUE_AT : &none,
          room ? c->cap - KV__R_VALUE_AT : 0, &vlen);
  if (rc != KV_OK && rc != KV_E_BUFFER_TOO_SMALL) return rc;
  /* vlen <= KV_VALUE_MAX, so the sum cannot wrap; it exceeds cap exactly when rc says so, or when
   * an empty value met a buffer smaller than the response's head. */
  if ((rc = kv__room(c, KV__R_VALUE_AT + vlen)) != 0) return rc;
  kv__st32(c->out + KVM_STATUS_SIZE, (uint32_t)vlen);
  return KV_OK;
}

/* ---- Transactions ------------------------------------------------------------------------------ */
static int kv__op_txn_begin(kv__call *c) {
  kv__reader r = kv__args(c);
  kvh_handle env = kv__rd_u64(&r);
  uint32_t flags = kv__rd_u32(&r);
  int rc = kv__args_fit(c, &r, KV__R_HANDLE);
  if (rc) return rc;
  kvh_handle txn;
  rc = kvh_txn_begin(&txn, env, flags);
  if (!rc) kv__st64(c->out + KVM_STATUS_SIZE, txn);
  return rc;
}

/* GET_BATCH: u64 txn, u32 n, u32 key_len[n], the keys back to back.
 *   -> u32 n, u32 found, u8 hit[n], u32 val_len[n] (0 for a miss), the found values back to back.
 * The keys are passed to kvh_get_batch where they lie in the request, and it copies the values
 * straight into the response. */
KV__NOINLINE static int kv__op_get_batch(kv__call *c) {
  kv__reader r = kv__args(c);
  kvh_handle txn = kv__rd_u64(&r);
  uint32_t n = kv__rd_u32(&r);
  const unsigned char *lens = kv__rd_array(&r, n, KV__W_U32);
  if (!lens) return kv__malformed(c, kv__rd_offset(&r), 1);
  size_t total = 0;
  for (uint32_t i = 0; i < n; i++) { /* each length against what remains: no sum can wrap */
    uint32_t kl = kv__ld32(lens + (size_t)i * KV__W_U32);
    if (kl > r.left - total) return kv__malformed(c, kv__rd_offset(&r) + total, 1);
    total += kl;
  }
  const unsigned char *keys = kv__rd_take(&r, total);
  int rc = kv__args_end(c, &r);
  if (rc) return rc;
  if (n > KVM_BATCH_MAX)
    return kv__fail(KV_E_INVALID, "kvm_call: GET_BATCH of %" PRIu32 " keys, the limit is %u", n,
                    KVM_BATCH_MAX);

  size_t stack[2 * KV__BATCH_STACK], *klens = stack;
  if (n > KV__BATCH_STACK && !(klens = malloc(2 * (size_t)n * sizeof *klens)))
    return kv__fail(KV_E_NO_MEMORY, "kvm_call: GET_BATCH of %" PRIu32 " keys", n);
  size_t *vlens = klens + n;
  for (uint32_t i = 0; i < n; i++) klens[i] = kv__ld32(lens + (size_t)i * KV__W_U32);

  size_t head = KV__R_BATCH_HEAD + (size_t)n * (KV__W_U8 + KV__W_U32), found = 0;
  unsigned char none;
  int room = c->cap >= head;
  rc = kvh_get_batch(txn, n, keys, klens, room ? c->out + head : &none, room ? c->cap - head : 0,
                     vlens, &found);
  if (rc == KV_OK || rc == KV_E_BUFFER_TOO_SMALL) {
    size_t need = head;
    for (uint32_t i = 0; i < n && rc != KV_E_NO_MEMORY; i++)
      if (vlens[i] != SIZE_MAX && kv__size_add(&need, vlens[i]) != 0)
        rc = kv__fail(KV_E_NO_MEMORY, "kvm_call: GET_BATCH response exceeds the address space");
    if (rc != KV_E_NO_MEMORY) rc = kv__room(c, need);
  }
  if (rc == KV_OK) {
    unsigned char *p = c->out + KVM_STATUS_SIZE;
    p = kv__st32(p, n);
    p = kv__st32(p, (uint32_t)found);
    for (uint32_t i = 0; i < n; i++) p = kv__st8(p, vlens[i] != SIZE_MAX);
    for (uint32_t i = 0; i < n; i++) p = kv__st32(p, vlens[i] != SIZE_MAX ? (uint32_t)vlens[i] : 0);
  }
  if (klens != stack) free(klens);
  return rc;
}

/* SCAN: records are streamed into the response by kvh_scan's callback. Once one does not fit, the
 * rest are only counted, so KV_E_BUFFER_TOO_SMALL reports the exact size of the whole range. */
typedef struct kv__scan_out {
  unsigned char *out;
  size_t cap;
  size_t need;    /* the response so far: status, count, every record seen */
  uint32_t count; /* records seen */
  int spilled;    /* a record did not fit: stop writing, keep counting */
} kv__scan_out;

#define KV__SCAN_TOO_BIG 1 /* the callback's stop value: the range cannot be described */

static int kv__scan_record(const void *key, size_t klen, const void *val, size_t vlen, void *payload) {
  kv__scan_out *s = payload;
  size_t at = s->need, rec = KV__W_RECORD_HEAD;
  if (s->count == UINT32_MAX || klen > UINT32_MAX || vlen > UINT32_MAX ||
      kv__size_add(&rec, klen) != 0 || kv__size_add(&rec, vlen) != 0 ||
      kv__size_add(&s->need, rec) != 0)
    return KV__SCAN_TOO_BIG;
  s->count++;
  if (!s->spilled && at <= s->cap && rec <= s->cap - at) {
    unsigned char *p = kv__st_record_head(s->out + at, klen, vlen);
    kv__st_raw(kv__st_raw(p, val, vlen), key, klen);
  } else {
    s->spilled = 1;
  }
  return 0;
}

KV__NOINLINE static int kv__op_scan(kv__call *c) {
  kv__reader r = kv__args(c);
  size_t lo_len, hi_len;
  kvh_handle txn = kv__rd_u64(&r);
  const unsigned char *lo = kv__rd_opt_bytes(&r, &lo_len);
  const unsigned char *hi = kv__rd_opt_bytes(&r, &hi_len);
  int rc = kv__args_end(c, &r);
  if (rc) return rc;
  kv__scan_out s = {c->out, c->cap, KV__R_SCAN_AT, 0, 0};
  rc = kvh_scan(txn, lo, lo_len, hi, hi_len, kv__scan_record, &s, NULL);
  if (rc == KV__SCAN_TOO_BIG)
    return kv__fail(KV_E_NO_MEMORY, "kvm_call: SCAN range has more records or bytes than a "
                                    "response can describe; narrow it");
  if (rc) return rc;
  if ((rc = kv__room(c, s.need)) != 0) return rc;
  kv__st32(c->out + KVM_STATUS_SIZE, s.count);
  return KV_OK;
}

/* ---- Cursors ----------------------------------------------------------------------------------- */
static int kv__op_cursor_open(kv__call *c) {
  kv__reader r = kv__args(c);
  size_t start_len;
  kvh_handle txn = kv__rd_u64(&r);
  const unsigned char *start = kv__rd_opt_bytes(&r, &start_len);
  int rc = kv__args_fit(c, &r, KV__R_HANDLE);
  if (rc) return rc;
  kvh_handle cur;
  rc = kvh_cursor_open(&cur, txn, start, start_len);
  if (!rc) kv__st64(c->out + KVM_STATUS_SIZE, cur);
  return rc;
}

/* CURSOR_NEXT: u64 cursor, u32 key_cap, u32 val_cap -> record (u32 klen, u32 vlen, value, key).
 *
 * The value comes before the key so that it can be copied straight to its place in the response:
 * its offset does not depend on the key's length. kvh_cursor_next is given the value's room in the
 * response minus room for the longest acceptable key, and a key buffer on the stack; the key is
 * copied after the value. When the record fits the response but not that conservative split (less
 * than a key's worth of slack), the cursor has not moved, and a second call with the exact lengths
 * fetches it. */
KV__NOINLINE static int kv__op_cursor_next(kv__call *c) {
  kv__reader r = kv__args(c);
  kvh_handle cur = kv__rd_u64(&r);
  uint32_t key_cap = kv__rd_u32(&r), val_cap = kv__rd_u32(&r);
  int rc = kv__args_end(c, &r);
  if (rc) return rc;
  unsigned char key[KV_KEY_MAX], none;
  size_t avail = c->cap > KV__R_RECORD_AT ? c->cap - KV__R_RECORD_AT : 0;
  size_t kcap = key_cap < KV_KEY_MAX ? key_cap : KV_KEY_MAX;
  if (kcap > avail) kcap = avail;
  size_t vcap = val_cap < avail - kcap ? val_cap : avail - kcap;
  unsigned char *vbuf = c->cap >= KV__R_RECORD_AT ? c->out + KV__R_RECORD_AT : &none;
  size_t klen = 0, vlen = 0;
  rc = kvh_cursor_next(cur, key, kcap, &klen, vbuf, vcap, &vlen);
  if (rc == KV_E_BUFFER_TOO_SMALL && klen <= key_cap && vlen <= val_cap && klen <= KV_KEY_MAX &&
      vlen <= avail && klen <= avail - vlen)
    rc = kvh_cursor_next(cur, key, klen, &klen, vbuf, vlen, &vlen);
  if (rc != KV_OK && rc != KV_E_BUFFER_TOO_SMALL) return rc;
  /* klen <= KV_KEY_MAX and vlen <= KV_VALUE_MAX: the sum cannot wrap. */
  c->len = KV__R_RECORD_AT + klen + vlen;
  if (c->cap >= KV__R_RECORD_AT) kv__st_record_head(c->out + KVM_STATUS_SIZE, klen, vlen);
  if (rc == KV_E_BUFFER_TOO_SMALL) {
    if (c->len > c->cap) return kv__too_small(c);
    return kv__fail(rc, "kvm_call: CURSOR_NEXT record has a %zu-byte key and a %zu-byte value, "
                        "over key_cap %" PRIu32 " or val_cap %" PRIu32, klen, vlen, key_cap, val_cap);
  }
  if (KV__UNLIKELY(c->len > c->cap || klen > KV_KEY_MAX)) /* kvh_cursor_next broke its word */
    return kv__fail(KV_E_INTERNAL, "kvm_call: CURSOR_NEXT record overran its buffers");
  kv__st_raw(vbuf + vlen, key, klen);
  return KV_OK;
}

/* ---- Entry point ------------------------------------------------------------------------------- */
static int kv__dispatch(kv__call *c) {
  switch (c->op) {
  case KVM_OP_NOOP: return kv__op_noop(c);
  case KVM_OP_ADD: return kv__op_add(c);
  case KVM_OP_SPIN: return kv__op_spin(c);
  case KVM_OP_ENV_OPEN: return kv__op_env_open(c);
  case KVM_OP_ENV_CLOSE: return kv__op_handle(c, kvh_env_close);
  case KVM_OP_ENV_SET_MAP_SIZE: return kv__op_env_set_map_size(c);
  case KVM_OP_ENV_PUT: return kv__op_put(c, kvh_env_put);
  case KVM_OP_ENV_GET: return kv__op_get(c, kvh_env_get);
  case KVM_OP_ENV_DEL: return kv__op_del(c, kvh_env_del);
  case KVM_OP_ENV_SYNC: return kv__op_handle(c, kvh_env_sync);
  case KVM_OP_ENV_MAP_SIZE: return kv__op_env_map_size(c);
  case KVM_OP_TXN_BEGIN: return kv__op_txn_begin(c);
  case KVM_OP_TXN_COMMIT: return kv__op_handle(c, kvh_txn_commit);
  case KVM_OP_TXN_ABORT: return kv__op_handle(c, kvh_txn_abort);
  case KVM_OP_TXN_RESET: return kv__op_handle(c, kvh_txn_reset);
  case KVM_OP_TXN_RENEW: return kv__op_handle(c, kvh_txn_renew);
  case KVM_OP_TXN_IS_WRITE: return kv__op_txn_is_write(c);
  case KVM_OP_PUT: return kv__op_put(c, kvh_put);
  case KVM_OP_GET: return kv__op_get(c, kvh_get);
  case KVM_OP_DEL: return kv__op_del(c, kvh_del);
  case KVM_OP_GET_BATCH: return kv__op_get_batch(c);
  case KVM_OP_SCAN: return kv__op_scan(c);
  case KVM_OP_CURSOR_OPEN: return kv__op_cursor_open(c);
  case KVM_OP_CURSOR_NEXT: return kv__op_cursor_next(c);
  case KVM_OP_CURSOR_CLOSE: return kv__op_handle(c, kvh_cursor_close);
  case KVM_OP_RELEASE: return kv__op_handle(c, kvh_release);
  default: return kv__fail(KV_E_UNKNOWN_OP, "kvm_call: unknown operation 0x%02x", c->op);
  }
}

/* The header, then the operation. */
static int kv__request(kv__call *c, const unsigned char *req, size_t req_len) {
  if (KV__UNLIKELY(req_len < KVM_HEADER_SIZE))
    return kv__fail(KV_E_PROTOCOL, "kvm_call: request of %zu bytes is shorter than its header",
                    req_len);
  if (KV__UNLIKELY(req[0] != KVM_VERSION))
    return kv__fail(KV_E_VERSION, "kvm_call: request version %u, this library speaks %u", req[0],
                    (unsigned)KVM_VERSION);
  c->op = req[1];
  c->args = req + KVM_HEADER_SIZE;
  c->n = req_len - KVM_HEADER_SIZE;
  return kv__dispatch(c);
}

int kvm_call(const void *req, size_t req_len, void *resp, size_t resp_cap, size_t *resp_len) {
  kv__call c;
  c.out = resp;
  c.cap = resp_cap;
  c.len = KVM_STATUS_SIZE;
  int rc, bad_req = !req && req_len;
  if (KV__UNLIKELY(bad_req || (!resp && resp_cap)))
    rc = kv__fail(KV_E_INVALID, "kvm_call: %s is NULL with a length of %zu",
                  bad_req ? "req" : "resp", bad_req ? req_len : resp_cap);
  else
    rc = kv__request(&c, req, req_len);
  if (rc != KV_OK && rc != KV_E_BUFFER_TOO_SMALL) c.len = KVM_STATUS_SIZE;
  if (resp && resp_cap >= KVM_STATUS_SIZE) kv__st_i32(resp, rc);
  if (resp_len) *resp_len = c.len;
  return rc;
}
