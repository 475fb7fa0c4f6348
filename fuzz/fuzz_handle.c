/* fuzz_handle.c — libFuzzer harness for the handle ABI (kv_handle.h).
 *
 * The input is a program: a sequence of calls, each an opcode byte followed by argument bytes. Handle
 * arguments are chosen among every handle this input has seen — live ones, dead ones (committed,
 * aborted, closed) — and forged ones (input bytes, or a known handle with its index, type bits or
 * generation altered). Keys come from a fixed set of 16 (with prefixes of each other, so order and
 * "first key >= start" are exercised) plus invalid lengths; values are input bytes.
 *
 * Every result is checked against a model: the code a call must return for that handle (KV_E_BAD_HANDLE
 * for anything that is not a live handle, KV_E_HANDLE_TYPE for a live one of another type), and for
 * live handles the engine's answer according to a model of the data (committed state, each read
 * transaction's snapshot, the write transaction's view) and of each cursor's position, including the
 * pending record that kvh_cursor_next keeps when buffers are too small. A scan callback re-enters the
 * transaction it runs in (KV_E_BUSY). A mismatch aborts (a finding).
 *
 * One environment per process (LMDB: never open a path twice), opened lazily in a fresh temporary
 * folder, no-sync. Each input starts from an empty database and an otherwise empty handle table and
 * leaves them so: at its end every transaction and cursor is released, the table is checked for leaks,
 * and the database is compared with the model and emptied.
 *
 * Portable C11 + POSIX: fuzz/replay.c also runs it (built with gcc) over fuzz/corpus/handle/.
 * FUZZ_HANDLE_TRACE=1 prints each op and the model's view of each cursor move (to debug a finding).
 */
#define _POSIX_C_SOURCE 200809L
#include "kv_handle.h"

#include "kv_handle_debug.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- Failure ------------------------------------------------------------------------------------ */
static int g_step;  /* the op being run, for messages */
static int g_trace; /* FUZZ_HANDLE_TRACE=1: print each op (to debug a finding) */

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void die(const char *fmt, ...);

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz_handle: op %d: ", g_step);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (last error: %s)\n", kv_last_error());
  abort();
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void trace(const char *fmt, ...);

static void trace(const char *fmt, ...) {
  if (!g_trace) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("    ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

#define CHECK_RC(expr, want)                                                                       \
  do {                                                                                             \
    int got_ = (expr), want_ = (want);                                                             \
    if (got_ != want_) die("%s: got %s, model says %s", #expr, kv_err_name(got_), kv_err_name(want_)); \
  } while (0)

/* ---- Input -------------------------------------------------------------------------------------- */
typedef struct input {
  const uint8_t *p;
  size_t n;
} input;

static uint8_t take(input *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

/* n bytes of input into out, zeros once the input runs out (take's rule, a byte at a time). */
static void take_bytes(input *in, uint8_t *out, size_t n) {
  size_t k = n < in->n ? n : in->n;
  memcpy(out, in->p, k);
  memset(out + k, 0, n - k);
  in->p += k, in->n -= k;
}

static uint64_t take64(input *in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | take(in);
  return v;
}

/* ---- Keys and the data model -------------------------------------------------------------------- */
#define NKEYS 16
#define VMAX 48
/* In memcmp order (shorter first on a tie): the index order is the key order. */
static const char *const g_keys[NKEYS] = {"a", "aa", "aab", "ab", "b",   "ba", "bb", "bba",
                                          "c", "ca", "cab", "cb", "d", "da", "dz", "zzzz"};

typedef struct kvmodel {
  uint8_t present[NKEYS];
  uint8_t len[NKEYS];
  uint8_t val[NKEYS][VMAX];
} kvmodel;

/* A key argument: one of the 16 (the usual case), or an invalid one (length 0, or KV_KEY_MAX + 1). */
typedef struct keyarg {
  int idx; /* -1: invalid */
  const void *p;
  size_t len;
} keyarg;

static keyarg take_key(input *in) {
  static const unsigned char big[KV_KEY_MAX + 1];
  uint8_t b = take(in);
  keyarg k;
  if (b >= 250) { /* ~2%: invalid */
    k.idx = -1;
    k.p = big;
    k.len = (b & 1) ? 0 : sizeof big;
  } else {
    k.idx = b % NKEYS;
    k.p = g_keys[k.idx];
    k.len = strlen(g_keys[k.idx]);
  }
  return k;
}

/* First present key >= i (i in 0..NKEYS), or -1. */
static int first_from(const kvmodel *m, int i) {
  for (; i < NKEYS; i++)
    if (m->present[i]) return i;
  return -1;
}

/* ---- Objects the input has made ----------------------------------------------------------------- */
#define MAXTXN 24 /* transactions per input (live or dead); also bounds LMDB readers */
#define MAXCUR 48
#define MAXCOMMITS 200 /* write commits per input: keeps the map far from full */

typedef struct mtxn {
  kvh_handle h;
  int live, write, active; /* active: not reset */
  kvmodel view;            /* the snapshot (read) or the working state (write) */
} mtxn;

typedef struct mcur {
  kvh_handle h;
  int live, txn;   /* index into g_txn */
  int ended, done; /* its transaction ended (commit, abort, reset); it reported DONE */
  int started, pos, start; /* pos: last delivered key; start: start key index, -1 for the first */
  int pending, pend_key;
  /* The transaction wrote while the cursor stood on a record (see op_cursor_next): loose until it
   * delivers a record it can be re-anchored on; wild if the view emptied meanwhile. */
  int loose, wild;
} mcur;

static kvh_handle g_env;
static char g_dir[256], g_path[300];
static kvmodel g_committed;
static mtxn g_txn[MAXTXN];
static mcur g_cur[MAXCUR];
static int g_ntxn, g_ncur, g_commits;

static void cleanup_dir(void) {
  if (g_env) (void)kvh_env_close(g_env);
  char lock[320];
  snprintf(lock, sizeof lock, "%s-lock", g_path);
  remove(g_path);
  remove(lock);
  rmdir(g_dir);
}

static void open_env_once(void) {
  if (g_env) return;
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/fuzz-handle-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(g_dir)) die("mkdtemp(%s) failed", g_dir);
  snprintf(g_path, sizeof g_path, "%s/db", g_dir);
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = 32u << 20;
  int rc = kvh_env_open(&g_env, g_path, &o);
  if (rc != KV_OK) die("kvh_env_open: %s", kv_err_name(rc));
  atexit(cleanup_dir);
  const char *trace = getenv("FUZZ_HANDLE_TRACE");
  g_trace = trace && *trace == '1';
}

static int live_write_txn(void) {
  for (int i = 0; i < g_ntxn; i++)
    if (g_txn[i].live && g_txn[i].write) return i;
  return -1;
}

/* Transactions alive (kv_env_close refuses while any is) and active, i.e. not reset
 * (kv_env_set_map_size refuses while any is). */
static int live_txns(int active_only) {
  int n = 0;
  for (int i = 0; i < g_ntxn; i++) n += g_txn[i].live && (g_txn[i].active || !active_only);
  return n;
}

/* Marks every cursor of transaction t ended (its transaction committed, aborted or was reset). */
static void end_cursors(int t) {
  for (int i = 0; i < g_ncur; i++)
    if (g_cur[i].txn == t) g_cur[i].ended = 1, g_cur[i].pending = 0;
}

/* A write in transaction t changed its view: cursors standing on a record (LMDB's cursor, not a
 * pending record of the handle layer, which re-seeks by key) become loose (see op_cursor_next). */
static void after_write(int t) {
  const int empty = first_from(&g_txn[t].view, 0) < 0;
  for (int i = 0; i < g_ncur; i++) {
    mcur *c = &g_cur[i];
    if (c->txn != t || !c->live || c->ended || c->done || !c->started || c->pending) continue;
    c->loose = 1;
    c->wild |= empty;
  }
}

/* ---- Handle selection --------------------------------------------------------------------------- */

/* What a handle value names right now: its type (KVH_TYPE_*) and model index, or 0 (nothing live). */
typedef struct named {
  int type, idx;
} named;

static named lookup(kvh_handle h) {
  named n = {0, -1};
  if (h == KVH_NULL) return n;
  if (h == g_env) n.type = KVH_TYPE_ENV;
  for (int i = 0; i < g_ntxn && !n.type; i++)
    if (g_txn[i].live && g_txn[i].h == h) n.type = KVH_TYPE_TXN, n.idx = i;
  for (int i = 0; i < g_ncur && !n.type; i++)
    if (g_cur[i].live && g_cur[i].h == h) n.type = KVH_TYPE_CURSOR, n.idx = i;
  return n;
}

/* A handle argument that "wants" a type: usually a live handle of it, sometimes anything. */
static kvh_handle pick(input *in, int want) {
  uint8_t b = take(in);
  uint8_t c = take(in);
  unsigned mode = b % 16u;
  if (mode < 10) { /* of the wanted kind (live or dead) */
    if (want == KVH_TYPE_ENV) return g_env;
    if (want == KVH_TYPE_TXN && g_ntxn) return g_txn[c % g_ntxn].h;
    if (want == KVH_TYPE_CURSOR && g_ncur) return g_cur[c % g_ncur].h;
    return g_env;
  }
  if (mode < 12) { /* any known handle */
    int total = 1 + g_ntxn + g_ncur, i = c % total;
    if (i == 0) return g_env;
    if (i <= g_ntxn) return g_txn[i - 1].h;
    return g_cur[i - 1 - g_ntxn].h;
  }
  if (mode == 12) return KVH_NULL;
  if (mode == 13) return take64(in); /* raw bits */
  /* a known handle, altered */
  kvh_handle base = g_env;
  if (g_ntxn && (c & 1)) base = g_txn[(c >> 1) % g_ntxn].h;
  else if (g_ncur && (c & 2)) base = g_cur[(c >> 2) % g_ncur].h;
  switch (take(in) % 6u) {
  case 0: return base ^ ((kvh_handle)((c % 3u) + 1u) << 24);  /* type bits */
  case 1: return base + ((kvh_handle)1 << 32);                 /* generation + 1 */
  case 2: return base - ((kvh_handle)1 << 32);                 /* generation - 1 */
  case 3: return base + 1;                                     /* the next slot */
  case 4: return base | 0xffffffu;                             /* index out of range */
  default: return (base & ~(kvh_handle)0xffffffu) | KVH_CAPACITY; /* the last slot */
  }
}

/* The error a call taking type `want` must return for h, or 0 if h is a live handle of that type. */
static int handle_error(kvh_handle h, int want, named *out) {
  named n = lookup(h);
  if (out) *out = n;
  if (!n.type) return KV_E_BAD_HANDLE;
  if (n.type != want) return KV_E_HANDLE_TYPE;
  return 0;
}

/* ---- Checks ------------------------------------------------------------------------------------- */
static void check_code(int rc) {
  if (rc > 0 || rc < KV_E_LAST_) die("result %d is not a kv code", rc);
}

static void check_value(const kvmodel *m, int k, const void *buf, size_t len) {
  if (!m->present[k]) die("key %s: found, model says absent", g_keys[k]);
  if (len != m->len[k] || (len && memcmp(buf, m->val[k], len) != 0))
    die("key %s: value of %zu bytes differs from the model's %u", g_keys[k], len, m->len[k]);
}

/* ---- Operations on the environment -------------------------------------------------------------- */
static void op_calibration(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_ENV);
  int want = handle_error(h, KVH_TYPE_ENV, NULL);
  int a = (int8_t)take(in), b = (int8_t)take(in), sum = 1234;
  uint64_t n = take(in) % 64u, out = 99;
  CHECK_RC(kvh_noop(h), want);
  CHECK_RC(kvh_add(h, a, b, &sum), want);
  CHECK_RC(kvh_spin(h, n, &out), want);
  if (want == KV_OK && (sum != a + b || out != kv_spin(n))) die("kvh_add/kvh_spin: wrong result");
  if (want != KV_OK && (sum != 1234 || out != 99)) die("kvh_add/kvh_spin: wrote on failure");
}

static void op_type(input *in) {
  kvh_handle h = pick(in, (int)(take(in) % 3u) + 1);
  named n = lookup(h);
  CHECK_RC(kvh_type(h), n.type ? n.type : KV_E_BAD_HANDLE);
}

static void op_env_put(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_ENV);
  keyarg k = take_key(in);
  uint8_t v[VMAX];
  size_t vl = take(in) % (VMAX + 1u);
  take_bytes(in, v, vl);
  int want = handle_error(h, KVH_TYPE_ENV, NULL);
  if (!want && k.idx < 0) want = KV_E_KEY_SIZE;
  if (!want && live_write_txn() >= 0) want = KV_E_BUSY; /* this thread holds the write lock */
  if (!want && g_commits >= MAXCOMMITS) return;
  CHECK_RC(kvh_env_put(h, k.p, k.len, v, vl), want);
  if (want == KV_OK) {
    g_commits++;
    g_committed.present[k.idx] = 1;
    g_committed.len[k.idx] = (uint8_t)vl;
    memcpy(g_committed.val[k.idx], v, vl);
  }
}

static void op_env_del(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_ENV);
  keyarg k = take_key(in);
  int want = handle_error(h, KVH_TYPE_ENV, NULL);
  if (!want && k.idx < 0) want = KV_E_KEY_SIZE;
  if (!want && live_write_txn() >= 0) want = KV_E_BUSY;
  if (!want && g_commits >= MAXCOMMITS) return;
  if (!want && !g_committed.present[k.idx]) want = KV_E_NOT_FOUND;
  CHECK_RC(kvh_env_del(h, k.p, k.len), want);
  if (want == KV_OK) g_commits++, g_committed.present[k.idx] = 0;
}

static void op_env_get(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_ENV);
  keyarg k = take_key(in);
  size_t cap = take(in) % (VMAX + 2u), len = 7777;
  uint8_t buf[VMAX + 1];
  int want = handle_error(h, KVH_TYPE_ENV, NULL);
  if (!want && k.idx < 0) want = KV_E_KEY_SIZE;
  if (!want && !g_committed.present[k.idx]) want = KV_E_NOT_FOUND;
  if (!want && g_committed.len[k.idx] > cap) want = KV_E_BUFFER_TOO_SMALL;
  CHECK_RC(kvh_env_get(h, k.p, k.len, cap ? buf : NULL, cap, &len), want);
  if (want == KV_OK) check_value(&g_committed, k.idx, buf, len);
  if (want == KV_E_BUFFER_TOO_SMALL && len != g_committed.len[k.idx]) die("kvh_env_get: length");
  if (want != KV_OK && want != KV_E_BUFFER_TOO_SMALL && len != 7777) die("kvh_env_get: wrote len");
}

static void op_env_misc(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_ENV);
  int want = handle_error(h, KVH_TYPE_ENV, NULL);
  uint8_t b = take(in);
  if (b & 1) { /* set_map_size: the same size (the map stays small), or 0 */
    uint64_t size = (b & 2) ? 0 : (uint64_t)32 << 20;
    if (!want && size == 0) want = KV_E_INVALID;
    if (!want && live_txns(1) > 0) want = KV_E_BUSY;
    CHECK_RC(kvh_env_set_map_size(h, size), want);
  } else { /* close: never the environment itself unless it must refuse */
    if (!want && live_txns(0) == 0) return;
    if (!want) want = KV_E_BUSY;
    CHECK_RC(kvh_env_close(h), want);
  }
}

/* ---- Transactions ------------------------------------------------------------------------------- */
static void op_txn_begin(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_ENV), t = 4242;
  unsigned flags = take(in) & 1u;
  if (g_ntxn == MAXTXN) return;
  int want = handle_error(h, KVH_TYPE_ENV, NULL);
  if (!want && flags == KV_TXN_WRITE && live_write_txn() >= 0) want = KV_E_BUSY;
  if (!want && flags == KV_TXN_WRITE && g_commits >= MAXCOMMITS) return;
  CHECK_RC(kvh_txn_begin(&t, h, flags), want);
  if (want != KV_OK) {
    if (t != 4242) die("kvh_txn_begin wrote its handle on failure");
    return;
  }
  if (lookup(t).type) die("kvh_txn_begin returned a handle already live");
  mtxn *m = &g_txn[g_ntxn++];
  m->h = t;
  m->live = m->active = 1;
  m->write = flags == KV_TXN_WRITE;
  m->view = g_committed;
  if (m->write) g_commits++;
}

static void op_txn_end(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_TXN);
  unsigned kind = take(in) % 4u; /* commit, abort, reset, renew */
  named n;
  int want = handle_error(h, KVH_TYPE_TXN, &n);
  mtxn *m = want ? NULL : &g_txn[n.idx];
  if (m) {
    if (kind <= 1) want = m->active ? KV_OK : KV_E_TXN_ENDED;
    else if (m->write) want = KV_E_INVALID;
    else if (kind == 2) want = m->active ? KV_OK : KV_E_TXN_ENDED;
    else want = m->active ? KV_E_BUSY : KV_OK;
  }
  switch (kind) {
  case 0: CHECK_RC(kvh_txn_commit(h), want); break;
  case 1: CHECK_RC(kvh_txn_abort(h), want); break;
  case 2: CHECK_RC(kvh_txn_reset(h), want); break;
  default: CHECK_RC(kvh_txn_renew(h), want); break;
  }
  if (!m) return;
  if (kind <= 1) { /* released, whatever the result */
    if (kind == 0 && m->write && want == KV_OK) g_committed = m->view;
    m->live = 0;
    end_cursors(n.idx);
    CHECK_RC(kvh_type(h), KV_E_BAD_HANDLE);
  } else if (want == KV_OK && kind == 2) {
    m->active = 0;
    end_cursors(n.idx);
  } else if (want == KV_OK) {
    m->active = 1;
    m->view = g_committed;
  }
}

/* The error every data call on transaction handle h returns before looking at its arguments, or 0. */
static int txn_error(kvh_handle h, mtxn **out, int *idx) {
  named n;
  int want = handle_error(h, KVH_TYPE_TXN, &n);
  *out = NULL;
  if (want) return want;
  *out = &g_txn[n.idx];
  if (idx) *idx = n.idx;
  return (*out)->active ? 0 : KV_E_TXN_ENDED;
}

static void op_put_del(input *in, int del) {
  kvh_handle h = pick(in, KVH_TYPE_TXN);
  keyarg k = take_key(in);
  uint8_t v[VMAX] = {0};
  size_t vl = del ? 0 : take(in) % (VMAX + 1u);
  take_bytes(in, v, vl);
  mtxn *m;
  int t = -1;
  int want = txn_error(h, &m, &t);
  if (!want && k.idx < 0) want = KV_E_KEY_SIZE;
  if (!want && !m->write) want = KV_E_READ_ONLY;
  if (!want && del && !m->view.present[k.idx]) want = KV_E_NOT_FOUND;
  trace("%s key %d in txn %d (vl %zu): model %s", del ? "del" : "put", k.idx, t, vl,
        kv_err_name(want));
  if (del) CHECK_RC(kvh_del(h, k.p, k.len), want);
  else CHECK_RC(kvh_put(h, k.p, k.len, v, vl), want);
  if (want != KV_OK) return;
  m->view.present[k.idx] = (uint8_t)!del;
  m->view.len[k.idx] = (uint8_t)vl;
  memcpy(m->view.val[k.idx], v, vl);
  after_write(t);
}

static void op_get(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_TXN);
  keyarg k = take_key(in);
  size_t cap = take(in) % (VMAX + 2u), len = 7777;
  uint8_t buf[VMAX + 1];
  mtxn *m;
  int want = txn_error(h, &m, NULL);
  if (!want && k.idx < 0) want = KV_E_KEY_SIZE;
  if (!want && !m->view.present[k.idx]) want = KV_E_NOT_FOUND;
  if (!want && m->view.len[k.idx] > cap) want = KV_E_BUFFER_TOO_SMALL;
  CHECK_RC(kvh_get(h, k.p, k.len, cap ? buf : NULL, cap, &len), want);
  if (want == KV_OK) check_value(&m->view, k.idx, buf, len);
  if (want == KV_E_BUFFER_TOO_SMALL && len != m->view.len[k.idx]) die("kvh_get: length");
}

static void op_get_batch(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_TXN);
  size_t n = take(in) % 5u, cap = take(in) % (4u * VMAX + 1u);
  char keys[4 * 8];
  size_t klens[4], vlens[4] = {0, 0, 0, 0}, found = 7777, used = 0, need = 0, hits = 0;
  int idx[4];
  uint8_t buf[4 * VMAX];
  for (size_t i = 0; i < n; i++) {
    idx[i] = take(in) % NKEYS;
    klens[i] = strlen(g_keys[idx[i]]);
    memcpy(keys + used, g_keys[idx[i]], klens[i]);
    used += klens[i];
  }
  mtxn *m;
  int want = txn_error(h, &m, NULL);
  if (!want) {
    for (size_t i = 0; i < n; i++)
      if (m->view.present[idx[i]]) hits++, need += m->view.len[idx[i]];
    if (need > cap) want = KV_E_BUFFER_TOO_SMALL;
  }
  CHECK_RC(kvh_get_batch(h, n, n ? keys : NULL, n ? klens : NULL, cap ? buf : NULL, cap,
                         n ? vlens : NULL, &found),
           want);
  if (want != KV_OK && want != KV_E_BUFFER_TOO_SMALL) return;
  if (found != hits) die("kvh_get_batch: found %zu, model %zu", found, hits);
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    if (!m->view.present[idx[i]]) {
      if (vlens[i] != SIZE_MAX) die("kvh_get_batch: a miss reported %zu bytes", vlens[i]);
      continue;
    }
    if (vlens[i] != m->view.len[idx[i]]) die("kvh_get_batch: length of %s", g_keys[idx[i]]);
    if (want == KV_OK) check_value(&m->view, idx[i], buf + off, vlens[i]);
    off += vlens[i];
  }
}

/* The scan callback checks each record against the expected sequence and, on the first one, that
 * the transaction it runs in refuses re-entry. */
typedef struct scan_ctx {
  const kvmodel *m;
  kvh_handle txn, cur; /* cur: a live cursor of txn, or 0 */
  int next, hi;        /* next expected key index is first_from(m, next); stop before hi */
  size_t calls, stop_at;
} scan_ctx;

static int scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  scan_ctx *c = payload;
  int want = first_from(c->m, c->next);
  if (want < 0 || want >= c->hi) die("scan: a record beyond the model's range");
  if (kl != strlen(g_keys[want]) || memcmp(k, g_keys[want], kl) != 0)
    die("scan: got a key of %zu bytes, model says %s", kl, g_keys[want]);
  check_value(c->m, want, v, vl);
  c->next = want + 1;
  if (c->calls++ == 0) {
    uint8_t buf[VMAX];
    size_t len;
    CHECK_RC(kvh_get(c->txn, k, kl, buf, sizeof buf, &len), KV_E_BUSY);
    CHECK_RC(kvh_txn_commit(c->txn), KV_E_BUSY);
    CHECK_RC(kvh_noop(g_env), KV_OK);
    if (c->cur) CHECK_RC(kvh_cursor_next(c->cur, buf, sizeof buf, &len, buf, sizeof buf, &len), KV_E_BUSY);
  }
  return c->calls == c->stop_at ? 7 : 0;
}

static void op_scan(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_TXN);
  uint8_t lo = take(in), hi = take(in), stop = take(in);
  int lo_i = lo < 128 ? -1 : lo % NKEYS, hi_i = hi < 128 ? -1 : hi % NKEYS;
  mtxn *m;
  int t = -1;
  int want = txn_error(h, &m, &t);
  scan_ctx c = {m ? &m->view : NULL, h, 0, lo_i < 0 ? 0 : lo_i, hi_i < 0 ? NKEYS : hi_i, 0, stop % 8u};
  size_t expect = 0, count = 7777;
  if (!want) {
    for (int i = c.next; i < c.hi; i++) expect += m->view.present[i];
    if (c.stop_at && c.stop_at <= expect) expect = c.stop_at, want = 7;
    for (int i = 0; i < g_ncur; i++)
      if (g_cur[i].live && g_cur[i].txn == t) c.cur = g_cur[i].h;
  }
  const char *lk = lo_i < 0 ? NULL : g_keys[lo_i], *hk = hi_i < 0 ? NULL : g_keys[hi_i];
  int rc = kvh_scan(h, lk, lk ? strlen(lk) : 0, hk, hk ? strlen(hk) : 0, scan_cb, &c, &count);
  if (rc != 7) check_code(rc);
  if (rc != want) die("kvh_scan: got %d (%s), model says %d", rc, kv_err_name(rc), want);
  if (want == KV_OK || want == 7) {
    if (count != expect || c.calls != expect) die("kvh_scan: %zu records, model %zu", count, expect);
  } else if (count != 7777) {
    die("kvh_scan wrote count on failure");
  }
}

/* ---- Cursors ------------------------------------------------------------------------------------ */
static void op_cursor_open(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_TXN), cur = 4242;
  uint8_t s = take(in);
  int start = s < 96 ? -1 : s % NKEYS;
  if (g_ncur == MAXCUR) return;
  mtxn *m;
  int t = -1;
  int want = txn_error(h, &m, &t);
  const char *sk = start < 0 ? NULL : g_keys[start];
  CHECK_RC(kvh_cursor_open(&cur, h, sk, sk ? strlen(sk) : 0), want);
  if (want != KV_OK) {
    if (cur != 4242) die("kvh_cursor_open wrote its handle on failure");
    return;
  }
  if (lookup(cur).type) die("kvh_cursor_open returned a handle already live");
  mcur *c = &g_cur[g_ncur++];
  memset(c, 0, sizeof *c);
  c->h = cur;
  c->live = 1;
  c->txn = t;
  c->start = start;
  c->pos = -1;
}

static void op_cursor_next(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_CURSOR);
  uint8_t kb = take(in), vb = take(in);
  size_t kcap = kb >= 200 ? 8u : kb % 6u, vcap = vb % (VMAX + 2u), klen = 7777, vlen = 8888;
  char kbuf[8];
  uint8_t vbuf[VMAX + 1];
  void *kp = kcap ? kbuf : NULL, *vp = vcap ? (void *)vbuf : NULL;
  const int bad_buf = kb == 199; /* a NULL key buffer with a capacity of 1 */
  if (bad_buf) kp = NULL;
  const int nulls = (vb & 0xc0) == 0xc0; /* now and then: no length pointers */
  named n;
  int want = handle_error(h, KVH_TYPE_CURSOR, &n);
  mcur *c = want ? NULL : &g_cur[n.idx];
  const kvmodel *view = c ? &g_txn[c->txn].view : NULL;
  int target = -1;
  if (c) {
    if (bad_buf) want = KV_E_INVALID;
    else if (c->ended) want = KV_E_CURSOR_ENDED;
    else if (c->done) want = KV_E_DONE;
    else {
      if (c->pending) target = first_from(view, c->pend_key); /* re-seek if writes intervened */
      else if (!c->started) target = first_from(view, c->start < 0 ? 0 : c->start);
      else target = first_from(view, c->pos + 1);
      if (target < 0) want = KV_E_DONE;
      else if (strlen(g_keys[target]) > kcap || view->len[target] > vcap)
        want = KV_E_BUFFER_TOO_SMALL;
    }
  }
  int rc = kvh_cursor_next(h, kp, kcap, nulls ? NULL : &klen, vp, vcap, nulls ? NULL : &vlen);
  if (c)
    trace("cursor %d (txn %d): pending %d/%d started %d pos %d start %d loose %d/%d -> target %d, "
          "caps %zu/%zu: %s", n.idx, c->txn, c->pending, c->pend_key, c->started, c->pos, c->start,
          c->loose, c->wild, target, kcap, vcap, kv_err_name(rc));
  if (c && c->loose && !bad_buf && !c->ended && !c->done) {
    /* Writes in the transaction moved the data under the engine's cursor, and LMDB's notion of
     * "next" after them is its own: a cursor whose record was deleted goes on from the record that
     * followed it at the time (keys inserted in between are skipped, and it may reach the end early),
     * and a cursor whose database emptied forgets its position and starts over from the first key.
     * So accept any record of the view after the last one (any at all if the view emptied), or the
     * end, until a delivered record re-anchors the model. */
    check_code(rc);
    if (rc == KV_E_DONE) {
      c->done = 1;
    } else if (rc == KV_OK && !nulls) {
      int got = -1;
      for (int i = 0; i < NKEYS; i++)
        if (klen == strlen(g_keys[i]) && memcmp(kbuf, g_keys[i], klen) == 0) got = i;
      if (got < 0) die("kvh_cursor_next: a key the model never wrote");
      check_value(view, got, vbuf, vlen);
      if (!c->wild && got <= c->pos) die("kvh_cursor_next went back from %s to %s", g_keys[c->pos],
                                         g_keys[got]);
      c->pos = got, c->started = 1, c->loose = c->wild = 0;
    } else if (rc != KV_OK && rc != KV_E_BUFFER_TOO_SMALL) {
      die("kvh_cursor_next: %s on a loose cursor", kv_err_name(rc));
    }
    return;
  }
  if (rc != want) die("kvh_cursor_next: got %s, model says %s", kv_err_name(rc), kv_err_name(want));
  if (!c) return;
  if (want == KV_E_DONE) c->done = 1;
  if (want == KV_E_BUFFER_TOO_SMALL) {
    if (!nulls && (klen != strlen(g_keys[target]) || vlen != view->len[target]))
      die("kvh_cursor_next: lengths %zu/%zu, model %zu/%u", klen, vlen, strlen(g_keys[target]),
          view->len[target]);
    c->pending = 1;
    c->pend_key = target;
  } else if (want == KV_OK) {
    if (!nulls && (klen != strlen(g_keys[target]) || memcmp(kbuf, g_keys[target], klen) != 0))
      die("kvh_cursor_next: key differs from the model's %s", g_keys[target]);
    if (!nulls) check_value(view, target, vbuf, vlen);
    c->pending = 0;
    c->started = 1;
    c->pos = target;
  } else if (!nulls && (klen != 7777 || vlen != 8888)) {
    die("kvh_cursor_next wrote lengths on %s", kv_err_name(rc));
  }
}

static void op_cursor_close(input *in) {
  kvh_handle h = pick(in, KVH_TYPE_CURSOR);
  named n;
  int want = handle_error(h, KVH_TYPE_CURSOR, &n);
  CHECK_RC(kvh_cursor_close(h), want);
  if (want == KV_OK) g_cur[n.idx].live = 0;
}

/* ---- One input ---------------------------------------------------------------------------------- */
/* Empties the database, first checking that it holds exactly the committed model. */
static void wipe_and_verify(void) {
  kvh_handle t, c;
  CHECK_RC(kvh_txn_begin(&t, g_env, KV_TXN_WRITE), KV_OK);
  CHECK_RC(kvh_cursor_open(&c, t, NULL, 0), KV_OK);
  char k[KV_KEY_MAX];
  uint8_t v[VMAX];
  size_t kl, vl;
  int seen[NKEYS] = {0}, rc;
  while ((rc = kvh_cursor_next(c, k, sizeof k, &kl, v, sizeof v, &vl)) == KV_OK) {
    int got = -1;
    for (int i = 0; i < NKEYS; i++)
      if (kl == strlen(g_keys[i]) && memcmp(k, g_keys[i], kl) == 0) got = i;
    if (got < 0) die("the database holds a key the model never wrote");
    check_value(&g_committed, got, v, vl);
    seen[got] = 1;
  }
  CHECK_RC(rc, KV_E_DONE);
  CHECK_RC(kvh_cursor_close(c), KV_OK);
  for (int i = 0; i < NKEYS; i++) {
    if (g_committed.present[i] && !seen[i]) die("committed key %s is missing", g_keys[i]);
    if (seen[i]) CHECK_RC(kvh_del(t, g_keys[i], strlen(g_keys[i])), KV_OK);
  }
  CHECK_RC(kvh_txn_commit(t), KV_OK);
  memset(&g_committed, 0, sizeof g_committed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  open_env_once();
  input in = {data, size};
  kv__handle_stats st;
  kv__handle_debug_stats(&st);
  if (st.live != 1) die("%u handles live at the start of an input", st.live);
  g_ntxn = g_ncur = g_commits = 0;
  memset(&g_committed, 0, sizeof g_committed);

  static const char *const names[17] = {
      "calibration", "type",    "env_put",   "env_del",   "env_get",    "env_misc",
      "txn_begin",   "txn_end", "put",       "del",       "get",        "get_batch",
      "scan",        "cursor_open", "cursor_next", "cursor_next", "cursor_close"};
  for (g_step = 0; in.n > 0; g_step++) {
    unsigned op = take(&in) % 17u;
    if (g_trace) fprintf(stderr, "op %d: %s\n", g_step, names[op]);
    switch (op) {
    case 0: op_calibration(&in); break;
    case 1: op_type(&in); break;
    case 2: op_env_put(&in); break;
    case 3: op_env_del(&in); break;
    case 4: op_env_get(&in); break;
    case 5: op_env_misc(&in); break;
    case 6: op_txn_begin(&in); break;
    case 7: op_txn_end(&in); break;
    case 8: op_put_del(&in, 0); break;
    case 9: op_put_del(&in, 1); break;
    case 10: op_get(&in); break;
    case 11: op_get_batch(&in); break;
    case 12: op_scan(&in); break;
    case 13: op_cursor_open(&in); break;
    case 14:
    case 15: op_cursor_next(&in); break;
    default: op_cursor_close(&in); break;
    }
  }

  /* Release everything, in an order the input chose (its first byte): transactions first, so their
   * cursors outlive them, or cursors first. */
  int txns_first = size > 0 && (data[0] & 1);
  for (int pass = 0; pass < 2; pass++) {
    if ((pass == 0) == (txns_first != 0)) {
      for (int i = 0; i < g_ntxn; i++)
        if (g_txn[i].live) {
          CHECK_RC(kvh_txn_abort(g_txn[i].h), g_txn[i].active ? KV_OK : KV_E_TXN_ENDED);
          g_txn[i].live = 0;
        }
    } else {
      for (int i = 0; i < g_ncur; i++)
        if (g_cur[i].live) {
          CHECK_RC(kvh_cursor_close(g_cur[i].h), KV_OK);
          g_cur[i].live = 0;
        }
    }
  }
  for (int i = 0; i < g_ntxn; i++) CHECK_RC(kvh_type(g_txn[i].h), KV_E_BAD_HANDLE);
  for (int i = 0; i < g_ncur; i++) CHECK_RC(kvh_type(g_cur[i].h), KV_E_BAD_HANDLE);
  kv__handle_debug_stats(&st);
  if (st.live != 1) die("%u handles live after cleanup (leak)", st.live);
  wipe_and_verify();
  return 0;
}
