/* test_marshal.c — the marshal ABI (kv_marshal.h) against its wire format (engine/doc/PROTOCOL.md)
 * and under bad input.
 *
 * Requests and expected responses are written as hex templates transcribed from PROTOCOL.md, so the
 * document and the code cannot drift apart: "01 30 $W 01000000 "x"" is version 1, op PUT, the write
 * transaction's handle, u32 1, the byte 'x'. One table lists a valid request of every operation with
 * its exact response, and the bad-input tests walk that table: every proper prefix of every request,
 * trailing bytes, other versions, every response capacity below the size needed, forged, stale and
 * mistyped handles. Each of those then sends the intact request and expects the exact response, which
 * proves that the bad ones changed nothing (a DEL still finds its key, a TXN_BEGIN is not refused as
 * a second writer, a CURSOR_NEXT still returns the first record, a close still finds its object).
 *
 * Every kvm_call goes through call(), which hands kvm_call exact-size heap copies (ASan then reports
 * any access past req_len or resp_cap; other builds check guard bytes) and checks the contract every
 * response keeps: the status is the return value and the first 4 bytes, an error is 4 bytes long,
 * KV_E_BUFFER_TOO_SMALL asks for more than it was given.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "kv_handle.h"
#include "kv_handle_debug.h"
#include "kv_marshal.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif

/* ---- Calling kvm_call under watch -------------------------------------------------------------- */
#define GUARD (ASAN ? 0u : 16u) /* bytes after the response buffer that must stay untouched */
#define GUARD_BYTE 0xa5

static int call(const void *req, size_t n, void *out, size_t cap, size_t *len_out) {
  unsigned char *rq = n ? malloc(n) : NULL, *rs = malloc(cap + GUARD ? cap + GUARD : 1);
  if ((n && !rq) || !rs) {
    t_fail(__FILE__, __LINE__, "out of memory");
    free(rq), free(rs);
    return KV_E_NO_MEMORY;
  }
  if (n) memcpy(rq, req, n);
  memset(rs, GUARD_BYTE, cap + GUARD);
  size_t len = (size_t)-1;
  int rc = kvm_call(rq, n, cap ? rs : NULL, cap, &len);
  unsigned op = n > 1 ? rq[1] : 0;
  if (rc > 0 || rc < KV_E_LAST_) t_fail(__FILE__, __LINE__, "status %d is not a kv code", rc);
  if (cap >= 4) {
    uint32_t st = (uint32_t)rs[0] | (uint32_t)rs[1] << 8 | (uint32_t)rs[2] << 16 |
                  (uint32_t)rs[3] << 24;
    if (st != (uint32_t)rc)
      t_fail(__FILE__, __LINE__, "response status 0x%08x, return value %d", (unsigned)st, rc);
  }
  if (rc == KV_OK && (len < 4 || len > cap))
    t_fail(__FILE__, __LINE__, "success of %zu bytes in a %zu-byte buffer", len, cap);
  if (rc == KV_E_BUFFER_TOO_SMALL && len <= cap && !(op == KVM_OP_CURSOR_NEXT && len >= 12))
    t_fail(__FILE__, __LINE__, "too small, asking for %zu bytes with %zu given", len, cap);
  if (rc != KV_OK && rc != KV_E_BUFFER_TOO_SMALL && len != 4)
    t_fail(__FILE__, __LINE__, "error %s with a %zu-byte response", t_errname(rc), len);
  for (size_t i = cap; i < cap + GUARD; i++)
    if (rs[i] != GUARD_BYTE) {
      t_fail(__FILE__, __LINE__, "byte %zu written past resp_cap %zu", i, cap);
      break;
    }
  if (out) memcpy(out, rs, len < cap ? len : cap);
  if (len_out) *len_out = len;
  free(rq);
  free(rs);
  return rc;
}

/* ---- Hex templates ----------------------------------------------------------------------------- */
#define MSG_MAX 4096

/* The objects a template names. $E env, $R read txn, $W write txn, $C cursor (on $R); $P is the
 * `bytes` field of a second database path; $H in an expected response is any 8 bytes (a handle). */
typedef struct fx {
  kvh_handle env, rtxn, wtxn, cur;
  char path2[512];
} fx;

typedef struct msg {
  size_t n;
  unsigned char b[MSG_MAX];
  unsigned char any[MSG_MAX]; /* 1 where an expected response accepts any byte */
} msg;

static void put_le(msg *m, uint64_t v, size_t width) {
  for (size_t i = 0; i < width && m->n < MSG_MAX; i++) m->b[m->n++] = (unsigned char)(v >> (8 * i));
}

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parses t into m: whitespace-separated tokens of hex digit pairs, "ascii", or $X. */
static void parse(msg *m, const char *t, const fx *f) {
  memset(m, 0, sizeof *m);
  while (*t) {
    if (*t == ' ') {
      t++;
    } else if (*t == '"') {
      for (t++; *t && *t != '"' && m->n < MSG_MAX; t++) m->b[m->n++] = (unsigned char)*t;
      if (*t) t++;
    } else if (*t == '$') {
      char c = t[1];
      t += 2;
      kvh_handle h = c == 'E' ? f->env : c == 'R' ? f->rtxn : c == 'W' ? f->wtxn : f->cur;
      if (c == 'H') {
        for (int i = 0; i < 8 && m->n < MSG_MAX; i++) m->any[m->n++] = 1;
      } else if (c == 'P') {
        size_t pl = strlen(f->path2);
        put_le(m, pl, 4);
        memcpy(m->b + m->n, f->path2, pl);
        m->n += pl;
      } else {
        put_le(m, h, 8);
      }
    } else {
      int hi = hexval(t[0]), lo = hexval(t[1]);
      if (hi < 0 || lo < 0) {
        t_fail(__FILE__, __LINE__, "bad template at \"%s\"", t);
        return;
      }
      m->b[m->n++] = (unsigned char)(hi << 4 | lo);
      t += 2;
    }
  }
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The response matches the expected template. */
static int matches(const msg *want, const unsigned char *got, size_t len) {
  if (len != want->n) return 0;
  for (size_t i = 0; i < len; i++)
    if (!want->any[i] && want->b[i] != got[i]) return 0;
  return 1;
}

static void dump(const char *what, const unsigned char *p, size_t n) {
  fprintf(stderr, "  %s:", what);
  for (size_t i = 0; i < n && i < 96; i++) fprintf(stderr, " %02x", p[i]);
  fprintf(stderr, n > 96 ? " ...\n" : "\n");
}

/* Sends template req and expects template resp (status included), exactly. */
#define T_CALL(f, req, resp)                                                                       \
  do {                                                                                             \
    msg q_, w_;                                                                                    \
    unsigned char g_[MSG_MAX];                                                                     \
    size_t n_;                                                                                     \
    parse(&q_, (req), (f));                                                                        \
    parse(&w_, (resp), (f));                                                                       \
    call(q_.b, q_.n, g_, sizeof g_, &n_);                                                          \
    if (!matches(&w_, g_, n_)) {                                                                   \
      dump("request ", q_.b, q_.n);                                                                \
      dump("expected", w_.b, w_.n);                                                                \
      dump("got     ", g_, n_ < sizeof g_ ? n_ : sizeof g_);                                       \
      T_FAIL_RETURN("%s -> unexpected response", (req));                                           \
    }                                                                                              \
    T_CHECK();                                                                                     \
  } while (0)

/* Sends template req and expects status err (a 4-byte response). */
#define T_STATUS(f, req, err)                                                                      \
  do {                                                                                             \
    msg q_;                                                                                        \
    size_t n_;                                                                                     \
    parse(&q_, (req), (f));                                                                        \
    T_KV(call(q_.b, q_.n, NULL, 64, &n_), (err));                                                  \
    T_EQ_INT(n_, 4);                                                                               \
    T_CHECK();                                                                                     \
  } while (0)

/* ---- Fixture ----------------------------------------------------------------------------------- */
enum { NEED_READ = 1, NEED_WRITE = 2, NEED_RESET = 4 };

/* Opens t_path("db") holding a=1, b=22, c="" and, on request, a read transaction with a cursor (reset
 * with NEED_RESET) and a write transaction. */
static void fx_open(fx *f, unsigned needs) {
  memset(f, 0, sizeof *f);
  snprintf(f->path2, sizeof f->path2, "%s", t_path("db2"));
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = 64u << 20;
  int rc = kvh_env_open(&f->env, t_path("db"), &o);
  if (!rc) rc = kvh_env_put(f->env, "a", 1, "1", 1);
  if (!rc) rc = kvh_env_put(f->env, "b", 1, "22", 2);
  if (!rc) rc = kvh_env_put(f->env, "c", 1, "", 0);
  if (!rc && (needs & NEED_READ)) rc = kvh_txn_begin(&f->rtxn, f->env, KV_TXN_READ);
  if (!rc && (needs & NEED_READ)) rc = kvh_cursor_open(&f->cur, f->rtxn, NULL, 0);
  if (!rc && (needs & NEED_RESET)) rc = kvh_txn_reset(f->rtxn);
  if (!rc && (needs & NEED_WRITE)) rc = kvh_txn_begin(&f->wtxn, f->env, KV_TXN_WRITE);
  if (rc) t_fail(__FILE__, __LINE__, "fixture: %s", t_errname(rc));
}

/* Releases what is left (objects an operation already released answer KV_E_BAD_HANDLE). The
 * environment must close: a leaked transaction would keep it open, and the next fx_open of the same
 * path would fail with KV_E_BUSY. */
static void fx_close(fx *f) {
  kvh_cursor_close(f->cur);
  kvh_txn_abort(f->rtxn);
  kvh_txn_abort(f->wtxn);
  int rc = kvh_env_close(f->env);
  if (rc != KV_OK && rc != KV_E_BAD_HANDLE)
    t_fail(__FILE__, __LINE__, "fixture close: %s", t_errname(rc));
  static const char *const files[] = {"db", "db-lock", "db2", "db2-lock"};
  for (size_t i = 0; i < T_COUNT(files); i++) remove(t_path(files[i])); /* the next one starts afresh */
}

/* Releases a handle an operation returned. */
static void release(kvh_handle h) {
  switch (kvh_type(h)) {
  case KVH_TYPE_ENV: kvh_env_close(h); break;
  case KVH_TYPE_TXN: kvh_txn_abort(h); break;
  case KVH_TYPE_CURSOR: kvh_cursor_close(h); break;
  default: break;
  }
}

static uint32_t live_handles(void) {
  kv__handle_stats s;
  kv__handle_debug_stats(&s);
  return s.live;
}

/* ---- One valid request of every operation, with its exact response (PROTOCOL.md section 5) ------ */
typedef struct op_case {
  const char *name;
  unsigned needs;
  const char *req, *resp;
  int returns; /* KVH_TYPE_* of the handle the response carries at offset 4, or 0 */
} op_case;

static const op_case ops[] = {
    {"NOOP", 0, "01 00", "00000000", 0},
    {"ADD", 0, "01 01 02000000 03000000", "00000000 05000000", 0},
    {"SPIN", 0, "01 02 0300000000000000", "00000000 f8fbe10487b403bc", 0},
    {"ENV_OPEN", 0, "01 10 $P 01000000 00000000 0000000100000000 01000000 00000000",
     "00000000 $H", KVH_TYPE_ENV},
    {"ENV_CLOSE", 0, "01 11 $E", "00000000", 0},
    {"ENV_SET_MAP_SIZE", 0, "01 12 $E 0000000200000000", "00000000", 0},
    {"ENV_PUT", 0, "01 13 $E 01000000 \"x\" 02000000 \"yz\"", "00000000", 0},
    {"ENV_GET", 0, "01 14 $E 01000000 \"b\"", "00000000 02000000 \"22\"", 0},
    {"ENV_DEL", 0, "01 15 $E 01000000 \"a\"", "00000000", 0},
    {"ENV_SYNC", 0, "01 16 $E", "00000000", 0},
    {"ENV_MAP_SIZE", 0, "01 17 $E", "00000000 0000000400000000", 0},
    {"TXN_BEGIN", 0, "01 20 $E 01000000", "00000000 $H", KVH_TYPE_TXN},
    {"TXN_COMMIT", NEED_WRITE, "01 21 $W", "00000000", 0},
    {"TXN_ABORT", NEED_READ, "01 22 $R", "00000000", 0},
    {"TXN_RESET", NEED_READ, "01 23 $R", "00000000", 0},
    {"TXN_RENEW", NEED_READ | NEED_RESET, "01 24 $R", "00000000", 0},
    {"TXN_IS_WRITE", NEED_WRITE, "01 25 $W", "00000000 01", 0},
    {"PUT", NEED_WRITE, "01 30 $W 01000000 \"x\" 02000000 \"yz\"", "00000000", 0},
    {"GET", NEED_READ, "01 31 $R 01000000 \"b\"", "00000000 02000000 \"22\"", 0},
    {"DEL", NEED_WRITE, "01 32 $W 01000000 \"a\"", "00000000", 0},
    {"GET_BATCH", NEED_READ,
     "01 33 $R 03000000 01000000 01000000 01000000 \"a\" \"z\" \"b\"",
     "00000000 03000000 02000000 01 00 01 01000000 00000000 02000000 \"1\" \"22\"", 0},
    {"SCAN", NEED_READ, "01 34 $R 00 00",
     "00000000 03000000 01000000 01000000 \"1a\" 01000000 02000000 \"22b\" 01000000 00000000 \"c\"",
     0},
    {"CURSOR_OPEN", NEED_READ, "01 40 $R 00", "00000000 $H", KVH_TYPE_CURSOR},
    {"CURSOR_NEXT", NEED_READ, "01 41 $C ffffffff ffffffff", "00000000 01000000 01000000 \"1a\"", 0},
    {"CURSOR_CLOSE", NEED_READ, "01 42 $C", "00000000", 0},
    {"RELEASE", NEED_READ, "01 50 $R", "00000000", 0},
};
#define N_OPS T_COUNT(ops)

/* Sends ops[i]'s intact request in fixture f and expects its exact response; releases what it
 * returned. Run after each kind of bad input: it fails if the bad input changed anything. */
static void expect_intact(const op_case *c, const fx *f) {
  msg q, w;
  unsigned char got[MSG_MAX];
  size_t n;
  parse(&q, c->req, f);
  parse(&w, c->resp, f);
  int rc = call(q.b, q.n, got, sizeof got, &n);
  if (!matches(&w, got, n)) {
    dump("request ", q.b, q.n);
    dump("expected", w.b, w.n);
    dump("got     ", got, n < sizeof got ? n : sizeof got);
    t_fail(__FILE__, __LINE__, "%s: %s, not the documented response", c->name, t_errname(rc));
    return;
  }
  if (c->returns) {
    kvh_handle h = le64(got + 4);
    if (kvh_type(h) != c->returns)
      t_fail(__FILE__, __LINE__, "%s returned a handle of type %d", c->name, kvh_type(h));
    release(h);
  }
}

/* ---- Happy paths, byte for byte ---------------------------------------------------------------- */
static void test_every_op_documented_bytes(void) {
  T_EQ_INT(N_OPS, 26);
  for (size_t i = 0; i < N_OPS; i++) {
    fx f;
    fx_open(&f, ops[i].needs);
    T_CHECK();
    expect_intact(&ops[i], &f);
    fx_close(&f);
    T_CHECK();
  }
}

/* The examples of PROTOCOL.md section 8, with the handles this process got. */
static void test_worked_example(void) {
  unsigned char add[] = {0x01, 0x01, 0x02, 0, 0, 0, 0x03, 0, 0, 0}, resp[16];
  size_t n;
  T_OK(call(add, sizeof add, resp, 8, &n));
  T_EQ_MEM(resp, n, "\x00\x00\x00\x00\x05\x00\x00\x00", 8);

  fx f;
  memset(&f, 0, sizeof f);
  snprintf(f.path2, sizeof f.path2, "%s", t_path("db"));
  msg q;
  parse(&q, "01 10 $P 01000000 00000000 0000100000000000 01000000 00000000", &f);
  T_EQ_INT(q.n, 30 + strlen(f.path2));
  T_OK(call(q.b, q.n, resp, 12, &n));
  T_EQ_INT(n, 12);
  f.env = le64(resp + 4);
  T_EQ_INT(kvh_type(f.env), KVH_TYPE_ENV);
  parse(&q, "01 20 $E 01000000", &f);
  T_EQ_INT(q.n, 14);
  T_OK(call(q.b, q.n, resp, 12, &n));
  f.wtxn = le64(resp + 4);
  T_EQ_INT(kvh_type(f.wtxn), KVH_TYPE_TXN);
  parse(&q, "01 30 $W 01000000 6b 02000000 7631", &f);
  T_EQ_INT(q.n, 21);
  T_CALL(&f, "01 30 $W 01000000 6b 02000000 7631", "00000000");
  parse(&q, "01 31 $W 01000000 6b", &f);
  T_KV(call(q.b, q.n, resp, 8, &n), KV_E_BUFFER_TOO_SMALL);
  T_EQ_INT(n, 10);
  T_EQ_MEM(resp, 4, "\xfb\xff\xff\xff", 4);
  T_OK(call(q.b, q.n, resp, 10, &n));
  T_EQ_MEM(resp, n, "\x00\x00\x00\x00\x02\x00\x00\x00v1", 10);
  T_CALL(&f, "01 31 3412000000000000 01000000 6b", "f0ffffff");
  T_CALL(&f, "01 21 $W", "00000000");
  T_CALL(&f, "01 31 $W 01000000 6b", "f0ffffff"); /* released by the commit */
  T_OK(kvh_env_close(f.env));
}

static void test_calibration(void) {
  fx f = {0};
  T_CALL(&f, "01 00", "00000000");
  T_CALL(&f, "01 01 ffffff7f 01000000", "00000000 00000080"); /* INT32_MAX + 1 wraps */
  T_CALL(&f, "01 01 f9ffffff 07000000", "00000000 00000000"); /* -7 + 7 */
  T_CALL(&f, "01 01 00000080 ffffffff", "00000000 ffffff7f"); /* INT32_MIN - 1 wraps */
  T_CALL(&f, "01 02 0000000000000000", "00000000 0000000000000000");
  T_CALL(&f, "01 02 0100000000000000", "00000000 7c00fd43ac6f576c");
}

static void test_env_ops(void) {
  fx f;
  fx_open(&f, 0);
  T_CHECK();
  T_CALL(&f, "01 13 $E 03000000 \"key\" 00000000", "00000000"); /* an empty value */
  T_CALL(&f, "01 14 $E 03000000 \"key\"", "00000000 00000000");
  T_CALL(&f, "01 15 $E 03000000 \"key\"", "00000000");
  T_CALL(&f, "01 15 $E 03000000 \"key\"", "fcffffff"); /* KV_E_NOT_FOUND */
  T_CALL(&f, "01 14 $E 03000000 \"key\"", "fcffffff");
  T_CALL(&f, "01 12 $E 0000000000000000", "ffffffff"); /* size 0: KV_E_INVALID */
  msg q;
  unsigned char resp[16];
  size_t n;
  parse(&q, "01 20 $E 00000000", &f); /* a reader keeps the environment open */
  T_OK(call(q.b, q.n, resp, sizeof resp, &n));
  f.rtxn = le64(resp + 4);
  T_CALL(&f, "01 11 $E", "f6ffffff"); /* KV_E_BUSY */
  T_EQ_INT(kvh_type(f.env), KVH_TYPE_ENV);
  T_CALL(&f, "01 22 $R", "00000000");
  T_CALL(&f, "01 11 $E", "00000000");
  T_CALL(&f, "01 11 $E", "f0ffffff"); /* KV_E_BAD_HANDLE: closed */
  T_CALL(&f, "01 14 $E 03000000 \"key\"", "f0ffffff");
}

static void test_env_open_arguments(void) {
  fx f;
  memset(&f, 0, sizeof f);
  snprintf(f.path2, sizeof f.path2, "%s", t_path("db"));
  /* options version 2, unknown flags, unknown durability, reserved != 0: the engine's answers */
  T_CALL(&f, "01 10 $P 02000000 00000000 0000000000000000 00000000 00000000", "f1ffffff");
  T_CALL(&f, "01 10 $P 01000000 80000000 0000000000000000 00000000 00000000", "ffffffff");
  T_CALL(&f, "01 10 $P 01000000 00000000 0000000000000000 07000000 00000000", "ffffffff");
  T_CALL(&f, "01 10 $P 01000000 00000000 0000000000000000 00000000 01000000", "ffffffff");
  /* an empty path; a path with a NUL byte (which would otherwise open a shorter path) */
  T_CALL(&f, "01 10 00000000 01000000 00000000 0000000000000000 00000000 00000000", "ffffffff");
  T_CALL(&f, "01 10 03000000 \"ab\" 00 01000000 00000000 0000000000000000 00000000 00000000",
         "ffffffff");
  /* defaults; then the same path again: KV_E_BUSY */
  T_CALL(&f, "01 10 $P 01000000 00000000 0000000000000000 01000000 00000000", "00000000 $H");
  T_CALL(&f, "01 10 $P 01000000 00000000 0000000000000000 01000000 00000000", "f6ffffff");
  /* the longest path kvm_call takes, and one byte more */
  static unsigned char req[2 + 4 + KVM_PATH_MAX + 1 + 24];
  for (size_t plen = KVM_PATH_MAX; plen <= KVM_PATH_MAX + 1; plen++) {
    size_t n = 0;
    req[n++] = 1, req[n++] = KVM_OP_ENV_OPEN;
    for (int i = 0; i < 4; i++) req[n++] = (unsigned char)(plen >> (8 * i));
    memset(req + n, 'p', plen);
    n += plen;
    memset(req + n, 0, 24);
    req[n] = 1; /* options version 1 */
    n += 24;
    size_t len;
    int rc = call(req, n, NULL, 16, &len);
    if (plen > KVM_PATH_MAX) T_KV(rc, KV_E_INVALID);
    else T_TRUE(rc != KV_E_INVALID && rc != KV_E_PROTOCOL); /* the OS decides (name too long) */
  }
}

static void test_txn_ops(void) {
  fx f;
  fx_open(&f, NEED_WRITE);
  T_CHECK();
  T_CALL(&f, "01 30 $W 01000000 \"x\" 03000000 \"abc\"", "00000000");
  T_CALL(&f, "01 31 $W 01000000 \"x\"", "00000000 03000000 \"abc\"");
  T_CALL(&f, "01 30 $W 00000000 03000000 \"abc\"", "feffffff"); /* empty key: KV_E_KEY_SIZE */
  T_CALL(&f, "01 31 $W 01000000 \"q\"", "fcffffff");             /* KV_E_NOT_FOUND */
  T_CALL(&f, "01 32 $W 01000000 \"q\"", "fcffffff");
  T_CALL(&f, "01 20 $E 01000000", "f6ffffff"); /* a second writer in this thread: KV_E_BUSY */
  T_CALL(&f, "01 20 $E 02000000", "ffffffff"); /* unknown flag: KV_E_INVALID */
  T_CALL(&f, "01 22 $W", "00000000");           /* abort: x is gone */
  T_CALL(&f, "01 22 $W", "f0ffffff");           /* and the handle with it */
  T_CALL(&f, "01 14 $E 01000000 \"x\"", "fcffffff");
  msg q;
  unsigned char resp[16];
  size_t n;
  parse(&q, "01 20 $E 00000000", &f); /* a reader: writes are KV_E_READ_ONLY */
  T_OK(call(q.b, q.n, resp, sizeof resp, &n));
  f.rtxn = le64(resp + 4);
  T_CALL(&f, "01 30 $R 01000000 \"x\" 00000000", "f9ffffff");
  T_CALL(&f, "01 32 $R 01000000 \"a\"", "f9ffffff");
  T_CALL(&f, "01 31 $R 01000000 \"a\"", "00000000 01000000 \"1\"");
  T_CALL(&f, "01 21 $R", "00000000"); /* committing a reader ends it */
  T_CALL(&f, "01 31 $R 01000000 \"a\"", "f0ffffff");
  fx_close(&f);
}

static void test_get_batch(void) {
  fx f;
  fx_open(&f, NEED_READ);
  T_CHECK();
  T_CALL(&f, "01 33 $R 00000000", "00000000 00000000 00000000"); /* no keys */
  T_CALL(&f, "01 33 $R 02000000 01000000 01000000 \"c\" \"q\"", /* an empty value, a miss */
         "00000000 02000000 01000000 01 00 00000000 00000000");
  T_CALL(&f, "01 33 $R 02000000 01000000 00000000 \"a\"", "feffffff"); /* a key of 0 bytes */
  /* too small: the size of every value found, exactly; nothing copied */
  msg q;
  unsigned char resp[64];
  size_t n;
  parse(&q, "01 33 $R 02000000 01000000 01000000 \"b\" \"b\"", &f);
  for (size_t cap = 0; cap < 12 + 10 + 4; cap++) {
    T_KV(call(q.b, q.n, resp, cap, &n), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(n, 12 + 10 + 4);
  }
  T_CALL(&f, "01 33 $R 02000000 01000000 01000000 \"b\" \"b\"",
         "00000000 02000000 02000000 0101 02000000 02000000 \"2222\"");
  /* KVM_BATCH_MAX one-byte keys are accepted, one more is not */
  size_t max = KVM_BATCH_MAX + 1, len = 2 + 8 + 4 + 5 * max, cap = 12 + 5 * max + 3 * max;
  unsigned char *req = malloc(len), *out = malloc(cap);
  T_TRUE(req && out);
  for (size_t keys = KVM_BATCH_MAX; keys <= max; keys++) {
    size_t p = 0;
    req[p++] = 1, req[p++] = KVM_OP_GET_BATCH;
    for (int i = 0; i < 8; i++) req[p++] = (unsigned char)(f.rtxn >> (8 * i));
    for (int i = 0; i < 4; i++) req[p++] = (unsigned char)(keys >> (8 * i));
    for (size_t k = 0; k < keys; k++) memcpy(req + p, "\x01\x00\x00\x00", 4), p += 4;
    for (size_t k = 0; k < keys; k++) req[p++] = (unsigned char)('a' + k % 26);
    int rc = call(req, p, out, cap, &n);
    if (keys > KVM_BATCH_MAX) {
      T_KV(rc, KV_E_INVALID);
    } else {
      size_t hits = 0; /* a, b and c of every 26 keys */
      for (size_t k = 0; k < keys; k++) hits += k % 26 < 3;
      T_OK(rc);
      T_EQ_INT(le32(out + 8), hits);
      T_EQ_INT(n, 12 + 5 * keys + 3 * (hits / 3));
    }
  }
  free(req);
  free(out);
  fx_close(&f);
}

static void test_scan(void) {
  fx f;
  fx_open(&f, NEED_READ);
  T_CHECK();
  T_CALL(&f, "01 34 $R 01 01000000 \"b\" 00", /* lo = b */
         "00000000 02000000 01000000 02000000 \"22b\" 01000000 00000000 \"c\"");
  T_CALL(&f, "01 34 $R 00 01 01000000 \"b\"", /* hi = b, exclusive */
         "00000000 01000000 01000000 01000000 \"1a\"");
  T_CALL(&f, "01 34 $R 01 01000000 \"b\" 01 01000000 \"c\"",
         "00000000 01000000 01000000 02000000 \"22b\"");
  T_CALL(&f, "01 34 $R 01 01000000 \"q\" 00", "00000000 00000000"); /* empty range */
  T_CALL(&f, "01 34 $R 01 00000000 00", "feffffff");                 /* present but empty */
  T_CALL(&f, "01 34 $R 02 01000000 \"a\" 00", "edffffff");            /* presence byte 2 */
  T_CALL(&f, "01 34 $R 00 ff 01000000 \"a\"", "edffffff");
  /* too small, at every capacity: the whole range's size */
  msg q;
  unsigned char resp[64];
  size_t n;
  parse(&q, "01 34 $R 00 00", &f);
  for (size_t cap = 0; cap < 38; cap++) {
    T_KV(call(q.b, q.n, resp, cap, &n), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(n, 38);
  }
  fx_close(&f);
}

/* CURSOR_NEXT that must not fit: KV_E_BUFFER_TOO_SMALL with the record's lengths at offsets 4 and 8
 * and *resp_len = 12 + k + v. */
static void next_too_small(const fx *f, const char *req, size_t cap, uint32_t k, uint32_t v) {
  msg q;
  unsigned char resp[64];
  size_t n;
  parse(&q, req, f);
  int rc = call(q.b, q.n, resp, cap, &n);
  if (rc != KV_E_BUFFER_TOO_SMALL || n != 12 + k + v)
    t_fail(__FILE__, __LINE__, "%s: %s, *resp_len %zu", req, t_errname(rc), n);
  else if (cap >= 12 && (le32(resp + 4) != k || le32(resp + 8) != v))
    t_fail(__FILE__, __LINE__, "%s: lengths %u and %u", req, (unsigned)le32(resp + 4),
           (unsigned)le32(resp + 8));
}

/* Sends req and returns the handle its response carries. */
static kvh_handle call_handle(const fx *f, const char *req) {
  msg q;
  unsigned char resp[16];
  size_t n;
  parse(&q, req, f);
  int rc = call(q.b, q.n, resp, sizeof resp, &n);
  if (rc != KV_OK) t_fail(__FILE__, __LINE__, "%s: %s", req, t_errname(rc));
  return rc == KV_OK ? le64(resp + 4) : 0;
}

static void test_cursor(void) {
  fx f;
  fx_open(&f, NEED_READ);
  T_CHECK();
  next_too_small(&f, "01 41 $C 00000000 00000000", 64, 1, 1); /* a peek */
  next_too_small(&f, "01 41 $C 01000000 00000000", 600, 1, 1); /* the value is over val_cap */
  next_too_small(&f, "01 41 $C 00000000 ffffffff", 600, 1, 1); /* the key is over key_cap */
  next_too_small(&f, "01 41 $C ffffffff ffffffff", 13, 1, 1); /* the response buffer is short */
  next_too_small(&f, "01 41 $C ffffffff ffffffff", 11, 1, 1); /* no room for the lengths */
  T_CHECK();
  T_CALL(&f, "01 41 $C 01000000 01000000", "00000000 01000000 01000000 \"1a\"");
  T_CALL(&f, "01 41 $C ffffffff ffffffff", "00000000 01000000 02000000 \"22b\"");
  T_CALL(&f, "01 41 $C 01000000 00000000", "00000000 01000000 00000000 \"c\""); /* empty value */
  T_CALL(&f, "01 41 $C ffffffff ffffffff", "faffffff"); /* KV_E_DONE */
  T_CALL(&f, "01 41 $C 00000000 00000000", "faffffff");
  T_CALL(&f, "01 42 $C", "00000000");
  T_CALL(&f, "01 41 $C ffffffff ffffffff", "f0ffffff"); /* closed */

  f.cur = call_handle(&f, "01 40 $R 01 02000000 \"bb\""); /* the first key >= bb: c */
  T_CALL(&f, "01 41 $C ffffffff ffffffff", "00000000 01000000 00000000 \"c\"");
  T_CALL(&f, "01 42 $C", "00000000");
  f.cur = call_handle(&f, "01 40 $R 01 01000000 \"b\"");
  T_CALL(&f, "01 41 $C ffffffff ffffffff", "00000000 01000000 02000000 \"22b\"");
  T_CALL(&f, "01 40 $R 01 00000000", "feffffff"); /* a start key of 0 bytes */
  T_CALL(&f, "01 40 $R 02 01000000 \"b\"", "edffffff"); /* presence byte 2 */
  T_CALL(&f, "01 40 $R 80 01000000 \"b\"", "edffffff");

  /* after the transaction ends, the cursor answers KV_E_CURSOR_ENDED until closed */
  T_CALL(&f, "01 22 $R", "00000000");
  T_CALL(&f, "01 41 $C ffffffff ffffffff", "eaffffff");
  T_CALL(&f, "01 42 $C", "00000000");
  fx_close(&f);
}

/* Records larger than a key's worth of slack: kvm_call's first split of the buffer fails and it
 * fetches the record again with exact capacities. Every capacity from 0 to the size needed. */
static void test_cursor_exact_fit(void) {
  fx f;
  fx_open(&f, 0);
  T_CHECK();
  static unsigned char val[3000], key[KV_KEY_MAX];
  for (size_t i = 0; i < sizeof val; i++) val[i] = (unsigned char)(i * 7);
  for (size_t i = 0; i < sizeof key; i++) key[i] = i ? (unsigned char)('A' + i % 26) : 'y';
  T_OK(kvh_env_put(f.env, key, sizeof key, val, sizeof val));
  T_OK(kvh_env_put(f.env, "z", 1, val, 700));
  T_OK(kvh_txn_begin(&f.rtxn, f.env, KV_TXN_READ));
  T_OK(kvh_cursor_open(&f.cur, f.rtxn, key, sizeof key)); /* skips a, b, c */
  msg q;
  parse(&q, "01 41 $C ffffffff ffffffff", &f);
  static unsigned char resp[4096];
  size_t n, need = 12 + sizeof key + sizeof val;
  for (size_t cap = 0; cap < need; cap++) {
    T_KV(call(q.b, q.n, resp, cap, &n), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(n, need);
    if (cap >= 12) {
      T_EQ_INT(le32(resp + 4), sizeof key);
      T_EQ_INT(le32(resp + 8), sizeof val);
    }
  }
  T_OK(call(q.b, q.n, resp, need, &n));
  T_EQ_INT(n, need);
  T_EQ_MEM(resp + 12, sizeof val, val, sizeof val);
  T_EQ_MEM(resp + 12 + sizeof val, sizeof key, key, sizeof key);
  T_OK(call(q.b, q.n, resp, 12 + 1 + 700, &n)); /* z, exactly */
  T_EQ_MEM(resp + 12 + 700, 1, "z", 1);
  T_KV(call(q.b, q.n, resp, 12, &n), KV_E_DONE);
  fx_close(&f);
}

static void test_large_value_get(void) {
  fx f;
  fx_open(&f, NEED_WRITE);
  T_CHECK();
  size_t vlen = 1u << 20, n;
  unsigned char *val = malloc(vlen), *resp = malloc(8 + vlen);
  T_TRUE(val && resp);
  for (size_t i = 0; i < vlen; i++) val[i] = (unsigned char)(i ^ (i >> 9));
  T_OK(kvh_put(f.wtxn, "big", 3, val, vlen));
  msg q;
  parse(&q, "01 31 $W 03000000 \"big\"", &f);
  static const size_t caps[] = {0, 3, 4, 7, 8, 9, 4096};
  for (size_t i = 0; i < T_COUNT(caps); i++) {
    T_KV(call(q.b, q.n, resp, caps[i], &n), KV_E_BUFFER_TOO_SMALL);
    T_EQ_INT(n, 8 + vlen);
  }
  T_KV(call(q.b, q.n, resp, 8 + vlen - 1, &n), KV_E_BUFFER_TOO_SMALL);
  T_OK(call(q.b, q.n, resp, 8 + vlen, &n));
  T_EQ_INT(le32(resp + 4), vlen);
  T_EQ_MEM(resp + 8, n - 8, val, vlen);
  free(val);
  free(resp);
  fx_close(&f);
}

/* ---- Bad input, over every operation ----------------------------------------------------------- */
static void test_every_prefix_is_malformed(void) {
  for (size_t i = 0; i < N_OPS; i++) {
    fx f;
    fx_open(&f, ops[i].needs);
    T_CHECK();
    msg q;
    parse(&q, ops[i].req, &f);
    for (size_t len = 0; len < q.n; len++) {
      size_t n;
      int rc = call(q.b, len, NULL, 64, &n);
      if (rc != KV_E_PROTOCOL)
        T_FAIL_RETURN("%s cut to %zu of %zu bytes: %s", ops[i].name, len, q.n, t_errname(rc));
      T_EQ_INT(n, 4);
    }
    expect_intact(&ops[i], &f);
    fx_close(&f);
    T_CHECK();
  }
}

static void test_trailing_bytes(void) {
  static const char *const tails[] = {"00", "ff", "00000000 00000000 00000000"};
  for (size_t i = 0; i < N_OPS; i++) {
    fx f;
    fx_open(&f, ops[i].needs);
    T_CHECK();
    for (size_t t = 0; t < T_COUNT(tails); t++) {
      char req[512];
      snprintf(req, sizeof req, "%s %s", ops[i].req, tails[t]);
      msg q;
      size_t n;
      parse(&q, req, &f);
      int rc = call(q.b, q.n, NULL, 64, &n);
      if (rc != KV_E_PROTOCOL) T_FAIL_RETURN("%s + %s: %s", ops[i].name, tails[t], t_errname(rc));
    }
    expect_intact(&ops[i], &f);
    fx_close(&f);
    T_CHECK();
  }
}

static void test_other_versions(void) {
  static const unsigned char versions[] = {0, 2, 0x7f, 0x81, 0xff};
  for (size_t i = 0; i < N_OPS; i++) {
    fx f;
    fx_open(&f, ops[i].needs);
    T_CHECK();
    msg q;
    parse(&q, ops[i].req, &f);
    for (size_t v = 0; v < sizeof versions; v++) {
      size_t n;
      q.b[0] = versions[v];
      T_KV(call(q.b, q.n, NULL, 64, &n), KV_E_VERSION);
      T_KV(call(q.b, 2, NULL, 64, &n), KV_E_VERSION); /* the header alone */
    }
    expect_intact(&ops[i], &f);
    fx_close(&f);
    T_CHECK();
  }
}

/* Every capacity below the documented response size: KV_E_BUFFER_TOO_SMALL, that size exactly, no
 * handle created, nothing done (expect_intact then gets the documented response). */
static void test_every_response_too_small(void) {
  for (size_t i = 0; i < N_OPS; i++) {
    fx f;
    fx_open(&f, ops[i].needs);
    T_CHECK();
    msg q, w;
    parse(&q, ops[i].req, &f);
    parse(&w, ops[i].resp, &f);
    uint32_t live = live_handles();
    for (size_t cap = 0; cap < w.n; cap++) {
      unsigned char resp[MSG_MAX];
      size_t n;
      int rc = call(q.b, q.n, resp, cap, &n);
      if (rc != KV_E_BUFFER_TOO_SMALL || n != w.n)
        T_FAIL_RETURN("%s with resp_cap %zu: %s, *resp_len %zu (want %zu)", ops[i].name, cap,
                      t_errname(rc), n, w.n);
    }
    T_EQ_INT(live_handles(), live);
    expect_intact(&ops[i], &f);
    fx_close(&f);
    T_CHECK();
  }
}

/* Handles that are zero, forged, mistyped or stale, in every operation that takes one. */
static void test_bad_handles(void) {
  for (size_t i = 0; i < N_OPS; i++) {
    const char *tok = strchr(ops[i].req, '$');
    if (!tok || tok[1] == 'P') continue;
    fx f;
    fx_open(&f, NEED_READ | (ops[i].needs & NEED_WRITE));
    T_CHECK();
    kvh_handle *slot = tok[1] == 'E' ? &f.env : tok[1] == 'R' ? &f.rtxn : tok[1] == 'W' ? &f.wtxn
                                                                                        : &f.cur;
    const kvh_handle good = *slot, live[] = {f.env, f.rtxn, f.wtxn, f.cur};
    const kvh_handle forged[] = {
        0, 1, UINT64_MAX, 0xdeadbeef, (uint64_t)1 << 63, 0x0000000101000001,
        good ^ ((uint64_t)1 << 32),  /* another generation */
        good & 0xffffffffu,          /* generation 0 */
        good + 1, good - 1,          /* a neighbouring slot */
        good ^ ((uint64_t)3 << 24),  /* other type bits */
        good | 0xffffff,             /* the last index */
    };
    for (size_t k = 0; k < T_COUNT(forged); k++) {
      kvh_handle h = forged[k];
      if (h && (h == live[0] || h == live[1] || h == live[2] || h == live[3])) continue; /* genuine */
      *slot = h;
      msg q;
      size_t n;
      parse(&q, ops[i].req, &f);
      int rc = call(q.b, q.n, NULL, 64, &n);
      if (rc != KV_E_BAD_HANDLE)
        T_FAIL_RETURN("%s with handle 0x%016" PRIx64 ": %s", ops[i].name, h, t_errname(rc));
    }
    /* a live handle of another type (RELEASE takes any type) */
    *slot = tok[1] == 'E' ? f.rtxn : tok[1] == 'C' ? f.rtxn : f.env;
    if (strcmp(ops[i].name, "RELEASE") != 0) {
      msg q;
      size_t n;
      parse(&q, ops[i].req, &f);
      int rc = call(q.b, q.n, NULL, 64, &n);
      if (rc != KV_E_HANDLE_TYPE) T_FAIL_RETURN("%s with a mistyped handle: %s", ops[i].name,
                                                t_errname(rc));
    }
    *slot = good;
    fx_close(&f);
    T_CHECK();
    /* stale: every object released, then the same path reopened so that slots are reused */
    fx g;
    fx_open(&g, NEED_READ | NEED_WRITE);
    T_CHECK();
    msg q;
    size_t n;
    parse(&q, ops[i].req, &f);
    int rc = call(q.b, q.n, NULL, 64, &n);
    if (rc != KV_E_BAD_HANDLE) T_FAIL_RETURN("%s with a stale handle: %s", ops[i].name,
                                             t_errname(rc));
    fx_close(&g);
    T_CHECK();
  }
}

static void test_unknown_ops(void) {
  /* the codes of PROTOCOL.md section 5, and nothing else, are operations */
  static const unsigned char documented[] = {0x00, 0x01, 0x02, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                             0x16, 0x17, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x30,
                                             0x31, 0x32, 0x33, 0x34, 0x40, 0x41, 0x42, 0x50};
  int known[256] = {0}, in_header[256] = {0};
#define IN_HEADER(name, code) in_header[code] = 1;
  KVM_OP_MAP(IN_HEADER)
#undef IN_HEADER
  for (size_t i = 0; i < sizeof documented; i++) known[documented[i]] = 1;
  for (int op = 0; op < 256; op++) {
    T_EQ_INT(in_header[op], known[op]);
    if (known[op]) continue;
    unsigned char req[2 + 8 + 8] = {1, (unsigned char)op, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    size_t n;
    T_KV(call(req, 2, NULL, 8, &n), KV_E_UNKNOWN_OP);
    T_KV(call(req, sizeof req, NULL, 8, &n), KV_E_UNKNOWN_OP);
    T_KV(call(req, 2, NULL, 0, &n), KV_E_UNKNOWN_OP); /* an error, even with no room for it */
    T_EQ_INT(n, 4);
  }
}

static void test_null_and_tiny_buffers(void) {
  unsigned char resp[8];
  size_t n = 0;
  unsigned char noop[] = {1, KVM_OP_NOOP};
  T_KV(kvm_call(NULL, 5, resp, sizeof resp, &n), KV_E_INVALID);
  T_EQ_INT(n, 4);
  T_EQ_MEM(resp, 4, "\xff\xff\xff\xff", 4);
  T_KV(kvm_call(NULL, 0, resp, sizeof resp, &n), KV_E_PROTOCOL);
  T_KV(kvm_call(noop, sizeof noop, NULL, 4, &n), KV_E_INVALID);
  T_EQ_INT(n, 4);
  T_KV(kvm_call(noop, sizeof noop, NULL, 0, &n), KV_E_BUFFER_TOO_SMALL); /* a size query */
  T_EQ_INT(n, 4);
  T_OK(kvm_call(noop, sizeof noop, resp, 4, NULL)); /* resp_len is optional */
  T_KV(kvm_call(noop, 1, resp, 4, NULL), KV_E_PROTOCOL);
  T_KV(kvm_call(NULL, 0, NULL, 0, &n), KV_E_PROTOCOL);
  T_EQ_INT(n, 4);
}

/* Declared lengths and counts larger than the request, or built to wrap 32- and 64-bit sums. */
static void test_oversized_lengths(void) {
  fx f;
  fx_open(&f, NEED_READ | NEED_WRITE);
  T_CHECK();
  static const char *const bad[] = {
      "01 30 $W ffffffff \"x\" 01000000 \"y\"",         /* key longer than everything */
      "01 30 $W 00000080 \"x\" 01000000 \"y\"",
      "01 30 $W 02000000 \"x\"",                          /* one byte short */
      "01 30 $W 01000000 \"x\" ffffffff \"y\"",
      "01 30 $W 01000000 \"x\" 02000000 \"y\"",
      "01 30 $W 01000000 \"x\" fbffffff \"y\"",           /* pos + len wraps 32 bits */
      "01 31 $R ffffffff",
      "01 13 $E 01000000 \"x\" ffffffff",
      "01 33 $R ffffffff",                                /* n keys, no lengths */
      "01 33 $R 00000040 01000000 \"a\"",                 /* n * 4 wraps 32 bits */
      "01 33 $R 02000000 01000000 \"a\"",                 /* a length missing */
      "01 33 $R 02000000 ffffffff 02000000 \"abc\"",      /* lengths past the end */
      "01 33 $R 02000000 ffffffff 01000000 \"a\"",        /* sum wraps 32 bits */
      "01 33 $R 02000000 01000000 01000000 \"a\"",        /* a key missing */
      "01 33 $R 01000000 01000000 \"ab\"",                /* a byte too many */
      "01 34 $R 01 ffffffff 00",
      "01 34 $R 01 01000000 \"a\" 01 feffffff",
      "01 40 $R 01 ffffffff \"a\"",
      "01 10 ffffffff \"db\"",
      "01 10 02000000 \"db\" 01000000",                   /* options cut short */
  };
  for (size_t i = 0; i < T_COUNT(bad); i++) {
    msg q;
    size_t n;
    parse(&q, bad[i], &f);
    int rc = call(q.b, q.n, NULL, 64, &n);
    if (rc != KV_E_PROTOCOL) T_FAIL_RETURN("%s: %s", bad[i], t_errname(rc));
  }
  /* well framed, but over the engine's limits */
  unsigned char key[KV_KEY_MAX + 1];
  memset(key, 'k', sizeof key);
  msg q;
  size_t n;
  parse(&q, "01 30 $W 00020000", &f); /* 512-byte key, then value "" */
  memcpy(q.b + q.n, key, sizeof key);
  q.n += sizeof key;
  memcpy(q.b + q.n, "\0\0\0\0", 4);
  q.n += 4;
  T_KV(call(q.b, q.n, NULL, 8, &n), KV_E_KEY_SIZE);
  q.b[10] = 0xff, q.b[11] = 0x01; /* 511 bytes: accepted; one key byte left over as trailing */
  T_KV(call(q.b, q.n, NULL, 8, &n), KV_E_PROTOCOL);
  q.n--;
  memmove(q.b + 10 + 4 + 511, q.b + 10 + 4 + 512, 4);
  T_OK(call(q.b, q.n, NULL, 8, &n));

  /* a value of KV_VALUE_MAX + 1 bytes, well framed: mapped, never touched */
  size_t vlen = KV_VALUE_MAX + 1, len = 2 + 8 + 4 + 1 + 4 + vlen;
  unsigned char *big = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  T_TRUE(big != MAP_FAILED);
  parse(&q, "01 30 $W 01000000 \"v\"", &f);
  memcpy(big, q.b, q.n);
  for (int i = 0; i < 4; i++) big[q.n + (size_t)i] = (unsigned char)(vlen >> (8 * i));
  unsigned char resp[8];
  T_KV(kvm_call(big, len, resp, sizeof resp, &n), KV_E_VALUE_SIZE);
  T_KV(kvm_call(big, len - 1, resp, sizeof resp, &n), KV_E_PROTOCOL);
  big[1] = KVM_OP_ENV_PUT;
  for (int i = 0; i < 8; i++) big[2 + i] = (unsigned char)(f.env >> (8 * i));
  kvh_txn_abort(f.wtxn); /* the one-shot needs the writer slot */
  T_KV(kvm_call(big, len, resp, sizeof resp, &n), KV_E_VALUE_SIZE);
  munmap(big, len);
  fx_close(&f);
}

/* Random bytes, and random damage to valid requests, with random capacities: call() checks the
 * response contract every time, ASan the bounds. Left out: ENV_OPEN (a random path would create
 * files) and ENV_CLOSE (of the fixture's environment); SPIN is kept short. */
static uint64_t rng(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

static void test_garbage(void) {
  fx f;
  fx_open(&f, NEED_READ | NEED_WRITE);
  T_CHECK();
  uint64_t s = 0x9e3779b97f4a7c15u;
  unsigned char req[256], resp[512];
  for (int iter = 0; iter < 200000; iter++) {
    uint64_t r = rng(&s);
    size_t len;
    if (r % 3 == 0) { /* pure noise, mostly with a plausible header */
      len = (size_t)(rng(&s) % sizeof req);
      for (size_t i = 0; i < len; i++) req[i] = (unsigned char)rng(&s);
      if (len > 0 && r % 7) req[0] = KVM_VERSION;
    } else { /* a valid request, damaged */
      const op_case *c = &ops[(r >> 8) % N_OPS];
      if (!strcmp(c->name, "ENV_OPEN") || !strcmp(c->name, "ENV_CLOSE"))
        continue;
      msg q;
      parse(&q, c->req, &f);
      len = q.n;
      memcpy(req, q.b, len);
      for (int k = (int)(r >> 20) % 4; k >= 0; k--) {
        size_t at = (size_t)(rng(&s) % (len + 1));
        switch (rng(&s) % 4) {
        case 0: if (at < len) req[at] ^= (unsigned char)(1u << (rng(&s) % 8)); break;
        case 1: if (at < len) req[at] = (unsigned char)rng(&s); break;
        case 2: len = at; break;
        default: if (len < sizeof req) req[len++] = (unsigned char)rng(&s); break;
        }
      }
    }
    if (len > 1 && req[0] == KVM_VERSION && req[1] == KVM_OP_ENV_OPEN) continue;
    if (len >= 10 && req[0] == KVM_VERSION && req[1] == KVM_OP_SPIN)
      memset(req + 5, 0, 5); /* at most 2^24 steps */
    size_t n, cap = (size_t)(rng(&s) % sizeof resp);
    int rc = call(req, len, resp, cap, &n);
    T_CHECK();
    if (rc == KV_OK && n == 12 && (req[1] == KVM_OP_TXN_BEGIN || req[1] == KVM_OP_CURSOR_OPEN))
      release(le64(resp + 4)); /* what damage happened to create */
    if (kvh_type(f.wtxn) != KVH_TYPE_TXN) kvh_txn_begin(&f.wtxn, f.env, KV_TXN_WRITE);
    if (kvh_type(f.rtxn) != KVH_TYPE_TXN) kvh_txn_begin(&f.rtxn, f.env, KV_TXN_READ);
    if (kvh_type(f.cur) != KVH_TYPE_CURSOR) kvh_cursor_open(&f.cur, f.rtxn, NULL, 0);
  }
}

/* A failure says what and where, for a binding's author. */
static void test_last_error(void) {
  fx f;
  fx_open(&f, NEED_WRITE);
  T_CHECK();
  msg q;
  size_t n;
  parse(&q, "01 30 $W 01000000 \"x\" 05000000 \"y\"", &f);
  T_KV(call(q.b, q.n, NULL, 8, &n), KV_E_PROTOCOL);
  T_TRUE(strstr(kv_last_error(), "PUT") != NULL);
  T_TRUE(strstr(kv_last_error(), "byte 19") != NULL);
  parse(&q, "02 30", &f);
  T_KV(call(q.b, q.n, NULL, 8, &n), KV_E_VERSION);
  T_TRUE(strstr(kv_last_error(), "version 2") != NULL);
  parse(&q, "01 31 $W 01000000 \"a\"", &f);
  T_KV(call(q.b, q.n, NULL, 8, &n), KV_E_BUFFER_TOO_SMALL);
  T_TRUE(strstr(kv_last_error(), "9 bytes") != NULL);
  fx_close(&f);
}

static const t_case cases[] = {
    T_CASE(test_every_op_documented_bytes),
    T_CASE(test_worked_example),
    T_CASE(test_calibration),
    T_CASE(test_env_ops),
    T_CASE(test_env_open_arguments),
    T_CASE(test_txn_ops),
    T_CASE(test_get_batch),
    T_CASE(test_scan),
    T_CASE(test_cursor),
    T_CASE(test_cursor_exact_fit),
    T_CASE(test_large_value_get),
    T_CASE(test_every_prefix_is_malformed),
    T_CASE(test_trailing_bytes),
    T_CASE(test_other_versions),
    T_CASE(test_every_response_too_small),
    T_CASE(test_bad_handles),
    T_CASE(test_unknown_ops),
    T_CASE(test_null_and_tiny_buffers),
    T_CASE(test_oversized_lengths),
    T_CASE(test_garbage),
    T_CASE(test_last_error),
};

int main(int argc, char **argv) { return t_main(argc, argv, cases, T_COUNT(cases)); }
