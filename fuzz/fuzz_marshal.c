/* fuzz_marshal.c — libFuzzer harness for the marshal ABI's entry point, kvm_call (kv_marshal.h).
 *
 * An input is a script of requests, so the fuzzer reaches past the framing checks into operations on
 * live objects:
 *
 *   input := request | chunk*
 *   request:  an input whose first byte is KVM_VERSION is one request, sent whole (no size limit)
 *   chunk := u8 ctl, u16 len (little-endian), len bytes: one request, passed to kvm_call as is
 *            (a chunk longer than what is left is cut to it)
 *   ctl   bits 0-2  a live handle written over request bytes 2..9 (where every operation that takes
 *                   an object has it): 0 none; 1 the process's environment; 2..7 the handles this
 *                   input got back from earlier requests (TXN_BEGIN, CURSOR_OPEN, ENV_OPEN), most
 *                   recent first
 *         bits 3-5  the response capacity: 4096, 0, 3, 4, 11, 12, 14 or 65536 bytes
 *         bit  6    byte 0 set to KVM_VERSION
 *
 * Every request and response buffer is an exact-size heap copy, so ASan reports any access past
 * req_len or resp_cap, and every response is checked against kvm_call's contract (status mirrored,
 * lengths consistent); a breach aborts.
 *
 * State: one environment per process, opened lazily in a scratch folder (LMDB: never open one path
 * twice in a process), no-sync, small map; replaced by a fresh one if it fills up. Whatever an input
 * creates — cursors, transactions, environments — is released when the input ends. ENV_OPEN
 * requests are confined to the scratch folder: a path that kvm_call would open is replaced by one of
 * four names there (whose files are removed after each input), ENV_CLOSE of the process's
 * environment is not sent, and SPIN's count is cut to 16 bits (its cost is linear in it).
 *
 * ENV_SET_MAP_SIZE takes any size: one that mmap refuses is KV_E_NO_MEMORY and the old map stays
 * (this harness found the crash that used to follow such a size).
 *
 * Also built with gcc into replay_marshal (with replay.c), which runs the committed corpus as a test.
 * FUZZ_MARSHAL_TRACE=1 in the environment prints every call and its status.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "kv_handle.h"
#include "kv_marshal.h"

#include "wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAIN_MAP_SIZE ((uint64_t)8 << 20)
#define MAX_OWNED 64   /* handles an input may hold at once; more are released at once */
#define FUZZ_ENVS 4    /* names an ENV_OPEN may get: e0..e3 */

static char scratch[512]; /* the process's scratch folder */
static int trace;         /* FUZZ_MARSHAL_TRACE=1: print every call to stderr */
static kvh_handle main_env;
static unsigned main_gen; /* main<gen> is the current environment's file */

static void path_of(char *buf, size_t cap, const char *name, unsigned n, const char *suffix) {
  snprintf(buf, cap, "%s/%s%u%s", scratch, name, n, suffix);
}

static void remove_db(const char *name, unsigned n) {
  char p[600];
  path_of(p, sizeof p, name, n, "");
  unlink(p);
  path_of(p, sizeof p, name, n, "-lock");
  unlink(p);
}

static void cleanup_at_exit(void) {
  if (kvh_env_close(main_env) == KV_OK) remove_db("main", main_gen);
  for (unsigned i = 0; i < FUZZ_ENVS; i++) remove_db("e", i);
  rmdir(scratch);
}

static void open_main(void) {
  char p[600];
  path_of(p, sizeof p, "main", main_gen, "");
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = MAIN_MAP_SIZE;
  int rc = kvh_env_open(&main_env, p, &o);
  if (rc != KV_OK) {
    fprintf(stderr, "fuzz_marshal: cannot open %s: %s\n", p, kv_last_error());
    abort();
  }
}

static void init_once(void) {
  if (scratch[0]) return;
  const char *tmp = getenv("TMPDIR");
  snprintf(scratch, sizeof scratch, "%s/fuzz_marshal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(scratch)) {
    perror("fuzz_marshal: mkdtemp");
    abort();
  }
  open_main();
  atexit(cleanup_at_exit);
  const char *t = getenv("FUZZ_MARSHAL_TRACE");
  trace = t && *t == '1';
}

/* ---- One input --------------------------------------------------------------------------------- */
typedef struct run {
  kvh_handle owned[MAX_OWNED];
  size_t n_owned;
  int envs_opened, map_full, map_changed;
} run;

static void release(kvh_handle h) {
  switch (kvh_type(h)) {
  case KVH_TYPE_CURSOR: kvh_cursor_close(h); break;
  case KVH_TYPE_TXN: kvh_txn_abort(h); break;
  case KVH_TYPE_ENV: kvh_env_close(h); break;
  default: break;
  }
}

static void own(run *r, kvh_handle h) {
  if (r->n_owned < MAX_OWNED) r->owned[r->n_owned++] = h;
  else release(h);
}

/* Cursors, then transactions, then environments: each kind may hold up the next. */
static void end_run(run *r) {
  static const int order[] = {KVH_TYPE_CURSOR, KVH_TYPE_TXN, KVH_TYPE_ENV};
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < r->n_owned; i++)
      if (kvh_type(r->owned[i]) == order[k]) release(r->owned[i]);
  if (r->envs_opened)
    for (unsigned i = 0; i < FUZZ_ENVS; i++) remove_db("e", i);
  if (r->map_full) { /* start over with an empty environment */
    if (kvh_env_close(main_env) == KV_OK) remove_db("main", main_gen);
    main_gen++;
    open_main();
  } else if (r->map_changed) {
    kvh_env_set_map_size(main_env, MAIN_MAP_SIZE);
  }
}

static void breach(const char *what, int rc, size_t len, size_t cap) {
  fprintf(stderr, "fuzz_marshal: contract broken: %s (status %d, resp_len %zu, resp_cap %zu)\n",
          what, rc, len, cap);
  abort();
}

/* An ENV_OPEN whose path kvm_call would open (framed, no NUL, not too long) gets a path in the
 * scratch folder instead; the rest of the request is kept. Returns the request to send (req itself,
 * or a new allocation), or NULL when out of memory. */
static unsigned char *confine_env_open(unsigned char *req, size_t *len, run *r) {
  if (*len < KVM_HEADER_SIZE + KV__W_U32 || req[0] != KVM_VERSION || req[1] != KVM_OP_ENV_OPEN)
    return req;
  size_t plen = kv__ld32(req + 2), left = *len - KVM_HEADER_SIZE - KV__W_U32;
  if (plen > left || plen > KVM_PATH_MAX || memchr(req + 6, 0, plen)) return req;
  char p[600];
  path_of(p, sizeof p, "e", (unsigned)(plen % FUZZ_ENVS), "");
  size_t np = strlen(p), rest = left - plen, n = KVM_HEADER_SIZE + KV__W_U32 + np + rest;
  unsigned char *out = malloc(n);
  if (!out) return NULL;
  unsigned char *w = kv__st_bytes(kv__st_header(out, KVM_OP_ENV_OPEN), p, np);
  kv__st_raw(w, req + 6 + plen, rest);
  free(req);
  *len = n;
  r->envs_opened = 1;
  return out;
}

static void call_one(run *r, unsigned ctl, const uint8_t *bytes, size_t len) {
  static const size_t caps[8] = {4096, 0, 3, 4, 11, 12, 14, 65536};
  unsigned char *req = malloc(len ? len : 1);
  if (!req) return;
  if (len) memcpy(req, bytes, len);
  if ((ctl & 0x40) && len > 0) req[0] = KVM_VERSION;
  unsigned sel = ctl & 7;
  if (sel && len >= KVM_HEADER_SIZE + KV__W_U64) {
    kvh_handle h = 0;
    if (sel == 1) h = main_env;
    else if (sel - 2u < r->n_owned) h = r->owned[r->n_owned - 1 - (sel - 2u)];
    if (h) kv__st64(req + KVM_HEADER_SIZE, h);
  }
  if (!(req = confine_env_open(req, &len, r))) return;
  if (len >= KVM_HEADER_SIZE + KV__W_U64 && req[0] == KVM_VERSION && req[1] == KVM_OP_SPIN)
    memset(req + KVM_HEADER_SIZE + 2, 0, KV__W_U64 - 2); /* at most 2^16 steps: no timeouts */
  int to_main = len >= KVM_HEADER_SIZE + KV__W_U64 && req[0] == KVM_VERSION &&
                kv__ld64(req + KVM_HEADER_SIZE) == main_env;
  if (to_main && (req[1] == KVM_OP_ENV_CLOSE || req[1] == KVM_OP_RELEASE)) {
    free(req);
    return;
  }
  size_t cap = caps[(ctl >> 3) & 7], rlen = 0;
  unsigned char *resp = cap ? malloc(cap) : NULL;
  if (cap && !resp) {
    free(req);
    return;
  }
  int rc = kvm_call(len ? req : NULL, len, resp, cap, &rlen);
  unsigned op = len > 1 ? req[1] : 0u;
  if (trace)
    fprintf(stderr, "fuzz_marshal: op 0x%02x, %zu bytes, resp_cap %zu -> %s, resp_len %zu\n", op,
            len, cap, kv_err_name(rc), rlen);

  if (rc > 0 || rc < KV_E_LAST_) breach("status outside the kv codes", rc, rlen, cap);
  if (cap >= KVM_STATUS_SIZE && kv__ld32(resp) != (uint32_t)rc)
    breach("response status differs from the return value", rc, rlen, cap);
  if (rc == KV_OK && (rlen < KVM_STATUS_SIZE || rlen > cap))
    breach("success longer than the buffer", rc, rlen, cap);
  if (rc == KV_E_BUFFER_TOO_SMALL && rlen <= cap && op != KVM_OP_CURSOR_NEXT)
    breach("too small, yet asking for no more than was given", rc, rlen, cap);
  if (rc != KV_OK && rc != KV_E_BUFFER_TOO_SMALL && rlen != KVM_STATUS_SIZE)
    breach("an error longer than its status", rc, rlen, cap);

  if (rc == KV_OK && rlen == KVM_STATUS_SIZE + KV__W_U64 &&
      (op == KVM_OP_TXN_BEGIN || op == KVM_OP_CURSOR_OPEN || op == KVM_OP_ENV_OPEN))
    own(r, kv__ld64(resp + KVM_STATUS_SIZE));
  if (rc == KV_E_MAP_FULL || rc == KV_E_TXN_FULL) r->map_full = 1;
  if (to_main && op == KVM_OP_ENV_SET_MAP_SIZE && rc == KV_OK) r->map_changed = 1;
  free(resp);
  free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_once();
  run r;
  memset(&r, 0, sizeof r);
  size_t at = 0;
  if (size > 0 && data[0] == KVM_VERSION) {
    call_one(&r, 0, data, size);
    at = size;
  }
  while (size - at >= 3) {
    unsigned ctl = data[at];
    size_t len = (size_t)data[at + 1] | (size_t)data[at + 2] << 8;
    at += 3;
    if (len > size - at) len = size - at;
    call_one(&r, ctl, data + at, len);
    at += len;
  }
  end_run(&r);
  return 0;
}
