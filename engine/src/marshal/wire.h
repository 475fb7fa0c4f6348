/* wire.h — the primitives of the marshal wire format (engine/doc/PROTOCOL.md), shared by the ABI that decodes
 * requests (kv_marshal.c, inside libkv), the shim row that encodes them (row.c) and the fuzz harness.
 * Internal: not installed, everything static inline.
 *
 *   - Loads and stores are bytewise and little-endian: no alignment is assumed, no host byte order
 *     leaks into the format, and no pointer is ever cast to a wider type.
 *   - Stores (kv__st_*) write at p and return the position after what they wrote; the caller has
 *     sized the buffer beforehand, so they check nothing.
 *   - The reader (kv__rd_*) checks every read against the bytes left, never by forming a pointer
 *     past the end: a length is compared with what remains. The first failure is sticky: later
 *     reads return 0 / NULL and consume nothing, so a decoder reads every argument in order and
 *     tests once, at the end (kv__rd_end).
 */
#ifndef KV_MARSHAL_WIRE_H
#define KV_MARSHAL_WIRE_H

#include "kv_marshal.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** Sizes of the encoded types. */
#define KV__W_U8 1u
#define KV__W_U32 4u
#define KV__W_U64 8u
/** A record's head: u32 key_len, u32 val_len (the value's bytes, then the key's, follow). */
#define KV__W_RECORD_HEAD 8u

/* ---- Loads and stores ------------------------------------------------------------------------- */
static inline uint32_t kv__ld32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t kv__ld64(const unsigned char *p) {
  return (uint64_t)kv__ld32(p) | (uint64_t)kv__ld32(p + 4) << 32;
}

/** The i32 whose two's-complement bits are u, without an implementation-defined conversion. */
static inline int32_t kv__i32(uint32_t u) {
  return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

static inline unsigned char *kv__st8(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)v;
  return p + 1;
}

static inline unsigned char *kv__st32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
  return p + 4;
}

static inline unsigned char *kv__st64(unsigned char *p, uint64_t v) {
  kv__st32(p, (uint32_t)v);
  return kv__st32(p + 4, (uint32_t)(v >> 32));
}

/** Stores v as an i32 (conversion to unsigned is defined: modulo 2^32). */
static inline unsigned char *kv__st_i32(unsigned char *p, int32_t v) {
  return kv__st32(p, (uint32_t)v);
}

static inline unsigned char *kv__st_raw(unsigned char *p, const void *src, size_t n) {
  if (n) memcpy(p, src, n);
  return p + n;
}

/** The request header: version, op. */
static inline unsigned char *kv__st_header(unsigned char *p, unsigned op) {
  p = kv__st8(p, KVM_VERSION);
  return kv__st8(p, op);
}

/** `bytes`: u32 length, then the bytes. n must be <= UINT32_MAX (the caller checked). */
static inline unsigned char *kv__st_bytes(unsigned char *p, const void *src, size_t n) {
  return kv__st_raw(kv__st32(p, (uint32_t)n), src, n);
}

/** `opt bytes`: u8 0 when src is NULL; else u8 1 and `bytes`. */
static inline unsigned char *kv__st_opt_bytes(unsigned char *p, const void *src, size_t n) {
  if (!src) return kv__st8(p, 0);
  return kv__st_bytes(kv__st8(p, 1), src, n);
}

/** A record's head; the caller stores the value's bytes, then the key's. */
static inline unsigned char *kv__st_record_head(unsigned char *p, size_t klen, size_t vlen) {
  return kv__st32(kv__st32(p, (uint32_t)klen), (uint32_t)vlen);
}

/** Encoded sizes, for sizing a buffer before storing. */
static inline size_t kv__w_bytes(size_t n) { return KV__W_U32 + n; }
static inline size_t kv__w_opt_bytes(const void *src, size_t n) {
  return src ? KV__W_U8 + kv__w_bytes(n) : KV__W_U8;
}

/** *acc += n, unless that wraps: then returns -1 and leaves *acc alone. */
static inline int kv__size_add(size_t *acc, size_t n) {
  if (n > SIZE_MAX - *acc) return -1;
  *acc += n;
  return 0;
}

/* ---- Reader ----------------------------------------------------------------------------------- */
typedef struct kv__reader {
  const unsigned char *base; /* start of the message, for error offsets */
  const unsigned char *p;    /* next byte to read */
  size_t left;               /* bytes from p to the end */
  int err;                   /* 0, or KV_E_PROTOCOL once a read failed (sticky) */
} kv__reader;

static inline void kv__rd_init(kv__reader *r, const void *buf, size_t len) {
  r->base = r->p = (const unsigned char *)buf;
  r->left = len;
  r->err = 0;
}

/** Offset of the next byte (of the failing read, after a failure). */
static inline size_t kv__rd_offset(const kv__reader *r) { return (size_t)(r->p - r->base); }

/** Consumes n bytes and returns where they start, or NULL if fewer than n remain. */
static inline const unsigned char *kv__rd_take(kv__reader *r, size_t n) {
  if (r->err || n > r->left) {
    r->err = KV_E_PROTOCOL;
    return NULL;
  }
  const unsigned char *p = r->p;
  if (n) { /* never offset a NULL base: a request of length 0 may be NULL */
    r->p += n;
    r->left -= n;
  }
  return p;
}

/** count elements of size bytes each, checked without multiplying first (no wrap). */
static inline const unsigned char *kv__rd_array(kv__reader *r, size_t count, size_t size) {
  if (count > r->left / size) {
    r->err = KV_E_PROTOCOL;
    return NULL;
  }
  return kv__rd_take(r, count * size);
}

static inline unsigned kv__rd_u8(kv__reader *r) {
  const unsigned char *p = kv__rd_take(r, KV__W_U8);
  return p ? p[0] : 0u;
}

static inline uint32_t kv__rd_u32(kv__reader *r) {
  const unsigned char *p = kv__rd_take(r, KV__W_U32);
  return p ? kv__ld32(p) : 0u;
}

static inline uint64_t kv__rd_u64(kv__reader *r) {
  const unsigned char *p = kv__rd_take(r, KV__W_U64);
  return p ? kv__ld64(p) : 0u;
}

static inline int32_t kv__rd_i32(kv__reader *r) { return kv__i32(kv__rd_u32(r)); }

/** `bytes`: returns the bytes (not NULL when the read succeeds, even for length 0) and *len. */
static inline const unsigned char *kv__rd_bytes(kv__reader *r, size_t *len) {
  uint32_t n = kv__rd_u32(r);
  const unsigned char *p = kv__rd_take(r, n);
  *len = p ? n : 0;
  return p;
}

/** `opt bytes`: NULL and *len 0 when absent; a presence byte other than 0 or 1 is a failure. */
static inline const unsigned char *kv__rd_opt_bytes(kv__reader *r, size_t *len) {
  *len = 0;
  switch (kv__rd_u8(r)) {
  case 0: return NULL; /* absent, or the read failed (then r->err says so) */
  case 1: return kv__rd_bytes(r, len);
  default:
    r->p--, r->left++; /* report the presence byte's offset */
    r->err = KV_E_PROTOCOL;
    return NULL;
  }
}

/** A record: u32 key_len, u32 val_len, value, key. Returns 0 or KV_E_PROTOCOL. */
static inline int kv__rd_record(kv__reader *r, const unsigned char **key, size_t *klen,
                                const unsigned char **val, size_t *vlen) {
  uint32_t kl = kv__rd_u32(r), vl = kv__rd_u32(r);
  *val = kv__rd_take(r, vl);
  *key = kv__rd_take(r, kl);
  *klen = r->err ? 0 : kl;
  *vlen = r->err ? 0 : vl;
  return r->err;
}

/** 0 when every read succeeded and nothing is left; else KV_E_PROTOCOL. */
static inline int kv__rd_end(const kv__reader *r) {
  return r->err ? r->err : r->left ? KV_E_PROTOCOL : 0;
}

#endif /* KV_MARSHAL_WIRE_H */
