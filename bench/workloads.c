/* workloads.c — the shared workloads (see workloads.h). */
#define _GNU_SOURCE
#include "workloads.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An empty statement the compiler must keep: the body of the control loop. */
#define WL_BARRIER() __asm__ volatile("" ::: "memory")

/* ---- Keys -------------------------------------------------------------------------------------- */
#define WL_MISS_KEYS 4096u
#define WL_PUT_KEYS 10000u

static unsigned char wl_keys[WL_KEYS][WL_KEY_LEN];      /* "key:NNNNNNNNNNNN" */
static unsigned char wl_miss[WL_MISS_KEYS][WL_KEY_LEN]; /* indices >= WL_KEYS: never present */
static unsigned char wl_putk[WL_PUT_KEYS][WL_KEY_LEN];  /* "put:NNNNNNNNNNNN" */
static uint32_t wl_next[WL_KEYS];                       /* one cycle through every key */
static uint32_t wl_order[WL_KEYS];                      /* a random permutation (throughput) */
static pthread_once_t wl_once = PTHREAD_ONCE_INIT;

static uint64_t wl_rand(uint64_t *s) { /* splitmix64: fixed seeds, the same data everywhere */
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static void wl_key(unsigned char *out, const char *prefix, uint64_t i) {
  char tmp[WL_KEY_LEN + 1];
  snprintf(tmp, sizeof tmp, "%s%012llu", prefix, (unsigned long long)(i % 1000000000000u));
  memcpy(out, tmp, WL_KEY_LEN);
}

static void wl_init_keys(void) {
  uint64_t s = 20261125;
  for (uint32_t i = 0; i < WL_KEYS; i++) {
    wl_key(wl_keys[i], "key:", i);
    wl_order[i] = i;
  }
  for (uint32_t i = 0; i < WL_MISS_KEYS; i++) wl_key(wl_miss[i], "key:", WL_KEYS + wl_rand(&s) % 1000000u);
  for (uint32_t i = 0; i < WL_PUT_KEYS; i++) wl_key(wl_putk[i], "put:", i);
  /* Sattolo's algorithm: a random permutation that is a single cycle. */
  uint32_t *perm = malloc(sizeof(uint32_t) * WL_KEYS);
  for (uint32_t i = 0; i < WL_KEYS; i++) perm[i] = i;
  for (uint32_t i = WL_KEYS - 1; i > 0; i--) {
    uint32_t j = (uint32_t)(wl_rand(&s) % i), t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
  for (uint32_t i = 0; i < WL_KEYS; i++) wl_next[i] = perm[i];
  free(perm);
  for (uint32_t i = WL_KEYS - 1; i > 0; i--) { /* Fisher-Yates for the throughput order */
    uint32_t j = (uint32_t)(wl_rand(&s) % (i + 1)), t = wl_order[i];
    wl_order[i] = wl_order[j], wl_order[j] = t;
  }
}

static void wl_keys_ready(void) { pthread_once(&wl_once, wl_init_keys); }

static uint32_t wl_get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wl_put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static void wl_value(unsigned char *v, uint32_t i) {
  for (unsigned b = 8; b < WL_VAL_LEN; b++) v[b] = (unsigned char)(i * 31u + b);
  wl_put32(v, wl_next[i]);
  wl_put32(v + 4, i);
}

const size_t wl_bytes_sizes[] = {8, 64, 512, 4096, 32768, 262144, 1048576, 0};

static size_t wl_bytes_key(unsigned char *out, size_t n) {
  return (size_t)snprintf((char *)out, 32, "bytes:%zu", n);
}

/* ---- Data set ---------------------------------------------------------------------------------- */
kv_options wl_env_options(void) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = (uint64_t)1 << 30;
  return o;
}

int wl_dataset_create(const char *path) {
  wl_keys_ready();
  char lock[4096];
  snprintf(lock, sizeof lock, "%s-lock", path);
  unlink(path);
  unlink(lock);
  kv_options o = wl_env_options();
  kv_env *env;
  kv_txn *txn;
  int rc = kv_env_open(&env, path, &o);
  if (rc) return rc;
  if ((rc = kv_txn_begin(&txn, env, KV_TXN_WRITE)) == 0) {
    unsigned char v[WL_VAL_LEN];
    for (uint32_t i = 0; i < WL_KEYS && !rc; i++) {
      wl_value(v, i);
      rc = kv_put(txn, wl_keys[i], WL_KEY_LEN, v, WL_VAL_LEN);
    }
    unsigned char *big = malloc(wl_bytes_sizes[6]);
    for (size_t i = 0; big && wl_bytes_sizes[i] && !rc; i++) {
      unsigned char k[32];
      memset(big, (int)(i + 1), wl_bytes_sizes[i]);
      rc = kv_put(txn, k, wl_bytes_key(k, wl_bytes_sizes[i]), big, wl_bytes_sizes[i]);
    }
    if (!big) rc = KV_E_NO_MEMORY;
    free(big);
    int crc = rc ? kv_txn_abort(txn) : kv_txn_commit(txn);
    kv_txn_free(txn);
    rc = rc ? rc : crc;
  }
  int close_rc = kv_env_close(env);
  return rc ? rc : close_rc;
}

int wl_copy_file(const char *src, const char *dst) {
  char lock[4096];
  snprintf(lock, sizeof lock, "%s-lock", dst);
  unlink(lock);
  int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = (in < 0 || out < 0) ? KV_E_IO : 0;
  char buf[1 << 16];
  ssize_t n;
  while (!rc && (n = read(in, buf, sizeof buf)) != 0) {
    if (n < 0 || write(out, buf, (size_t)n) != n) rc = KV_E_IO;
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return rc;
}

/* ---- Setup and teardown ------------------------------------------------------------------------ */
static int wl_setup(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param, unsigned txn_flags,
                    size_t cap) {
  wl_keys_ready();
  memset(c, 0, sizeof *c);
  c->s = s, c->env = env, c->param = param, c->cap = cap;
  if (cap && !(c->buf = malloc(cap))) return KV_E_NO_MEMORY;
  int rc = s->txn_begin(&c->txn, env, txn_flags);
  if (rc) {
    free(c->buf);
    c->buf = NULL;
  }
  return rc;
}

static int wl_setup_calib(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param) {
  wl_keys_ready();
  memset(c, 0, sizeof *c);
  c->s = s, c->env = env, c->param = param;
  c->expect = param ? kv_spin(param) : 0; /* the engine's own answer, linked directly */
  return 0;
}

static int wl_setup_read(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param) {
  return wl_setup(c, s, env, param, KV_TXN_READ, WL_VAL_LEN);
}

static int wl_setup_bytes(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param) {
  int rc = wl_setup(c, s, env, param, KV_TXN_READ, param);
  if (!rc) c->keys = malloc(32), rc = c->keys ? 0 : KV_E_NO_MEMORY;
  if (!rc) c->chain = wl_bytes_key(c->keys, param); /* chain holds the key's length here */
  return rc;
}

static int wl_setup_scan(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param) {
  return wl_setup(c, s, env, param, KV_TXN_READ, 2 * WL_VAL_LEN);
}

static int wl_setup_batch(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param) {
  int rc = wl_setup(c, s, env, param, KV_TXN_READ, param * WL_VAL_LEN);
  if (rc) return rc;
  c->keys = malloc(param * WL_KEY_LEN);
  c->key_lens = malloc(param * sizeof(size_t));
  c->val_lens = malloc(param * sizeof(size_t));
  if (!c->keys || !c->key_lens || !c->val_lens) return KV_E_NO_MEMORY;
  for (size_t i = 0; i < param; i++) c->key_lens[i] = WL_KEY_LEN;
  return 0;
}

static int wl_setup_put(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param) {
  return wl_setup(c, s, env, param, KV_TXN_WRITE, WL_VAL_LEN);
}

static void wl_teardown(wl_ctx *c) {
  if (c->txn) c->s->txn_abort(c->txn);
  free(c->buf);
  free(c->keys);
  free(c->key_lens);
  free(c->val_lens);
  memset(c, 0, sizeof *c);
}

static void wl_teardown_put(wl_ctx *c) {
  if (c->txn) c->s->txn_commit(c->txn);
  c->txn = 0;
  wl_teardown(c);
}

static void wl_teardown_none(wl_ctx *c) { (void)c; }

/* ---- The loops --------------------------------------------------------------------------------- */
static int wl_run_loop(wl_ctx *c, uint64_t n) {
  (void)c;
  for (uint64_t i = 0; i < n; i++) WL_BARRIER();
  return 0;
}

static int wl_run_noop(wl_ctx *c, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) c->s->noop(c->env);
  return 0;
}

static int wl_run_add_latency(wl_ctx *c, uint64_t n) {
  int x = (int)c->chain; /* each call takes the previous result */
  for (uint64_t i = 0; i < n; i++) x = c->s->add(c->env, x, 1);
  int want = (int)(uint32_t)(c->chain + n);
  c->chain += n;
  return x == want ? 0 : WL_WRONG_ANSWER;
}

static int wl_run_add_throughput(wl_ctx *c, uint64_t n) {
  unsigned acc = 0; /* independent calls; the results are only summed */
  for (uint64_t i = 0; i < n; i++) acc += (unsigned)c->s->add(c->env, (int)i, 1);
  unsigned want = 0;
  for (uint64_t i = 0; i < n; i++) want += (unsigned)i + 1u;
  return acc == want ? 0 : WL_WRONG_ANSWER;
}

/* Latency mode: each call starts when the one before has finished, so a spin of 2N iterations costs
 * twice a spin of N (back-to-back independent calls would overlap in the processor and break that). */
static int wl_run_spin(wl_ctx *c, uint64_t n) {
  uint64_t carry = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t r = c->s->spin(c->env, c->param + carry);
    if (r != c->expect) return WL_WRONG_ANSWER;
    carry = wl_zero_after(r);
  }
  return 0;
}

/* Gets key i and checks the record's identity; returns the value's next-key field via *next. */
static inline int wl_get_one(wl_ctx *c, uint32_t i, uint32_t *next) {
  size_t len;
  int rc = c->s->get(c->txn, wl_keys[i], WL_KEY_LEN, c->buf, c->cap, &len);
  if (rc) return rc;
  if (len != WL_VAL_LEN || wl_get32(c->buf + 4) != i) return WL_WRONG_ANSWER;
  *next = wl_get32(c->buf);
  return 0;
}

static int wl_run_get_latency(wl_ctx *c, uint64_t n) {
  uint32_t i = (uint32_t)c->chain; /* the next key comes out of the value just read */
  for (uint64_t k = 0; k < n; k++) {
    int rc = wl_get_one(c, i, &i);
    if (rc) return rc;
  }
  c->chain = i;
  return 0;
}

static int wl_run_get_throughput(wl_ctx *c, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    uint32_t next;
    int rc = wl_get_one(c, wl_order[c->chain++ % WL_KEYS], &next);
    if (rc) return rc;
  }
  return 0;
}

static int wl_run_get_miss(wl_ctx *c, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    size_t len;
    int rc = c->s->get(c->txn, wl_miss[c->chain++ % WL_MISS_KEYS], WL_KEY_LEN, c->buf, c->cap, &len);
    if (rc != KV_E_NOT_FOUND) return rc ? rc : WL_WRONG_ANSWER;
  }
  return 0;
}

static int wl_run_put(wl_ctx *c, uint64_t n) {
  unsigned char v[WL_VAL_LEN];
  memset(v, 0x5a, sizeof v);
  for (uint64_t k = 0; k < n; k++) {
    int rc = c->s->put(c->txn, wl_putk[c->done % WL_PUT_KEYS], WL_KEY_LEN, v, WL_VAL_LEN);
    if (rc) return rc;
    if (++c->done % c->param == 0) { /* commit every param puts; no-sync */
      if ((rc = c->s->txn_commit(c->txn)) != 0) return rc;
      c->txn = 0;
      if ((rc = c->s->txn_begin(&c->txn, c->env, KV_TXN_WRITE)) != 0) return rc;
    }
  }
  return 0;
}

static int wl_run_bytes(wl_ctx *c, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    size_t len;
    int rc = c->s->get(c->txn, c->keys, (size_t)c->chain, c->buf, c->cap, &len);
    if (rc) return rc;
    if (len != c->param) return WL_WRONG_ANSWER;
  }
  return 0;
}

typedef struct wl_scan_state {
  size_t n, bad;
} wl_scan_state;

static int wl_scan_cb(const void *k, size_t kl, const void *v, size_t vl, void *payload) {
  wl_scan_state *st = payload;
  (void)k, (void)v;
  st->bad += (kl != WL_KEY_LEN) | (vl != WL_VAL_LEN);
  st->n++;
  return 0;
}

static int wl_run_scan_upcall(wl_ctx *c, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    wl_scan_state st = {0, 0};
    size_t count;
    int rc = c->s->scan(c->txn, wl_keys[0], WL_KEY_LEN, wl_keys[WL_SCAN_RECORDS], WL_KEY_LEN,
                        wl_scan_cb, &st, &count);
    if (rc) return rc;
    if (st.n != WL_SCAN_RECORDS || count != WL_SCAN_RECORDS || st.bad) return WL_WRONG_ANSWER;
  }
  return 0;
}

static int wl_run_scan_downcall(wl_ctx *c, uint64_t n) {
  unsigned char *kb = c->buf, *vb = c->buf + WL_VAL_LEN;
  for (uint64_t k = 0; k < n; k++) {
    kvs_obj cur;
    int rc = c->s->cursor_open(&cur, c->txn, wl_keys[0], WL_KEY_LEN);
    if (rc) return rc;
    size_t got = 0, kl, vl;
    while (got < WL_SCAN_RECORDS && (rc = c->s->cursor_next(cur, kb, WL_VAL_LEN, &kl, vb, WL_VAL_LEN,
                                                            &vl)) == 0) {
      got += (kl == WL_KEY_LEN && vl == WL_VAL_LEN);
    }
    int crc = c->s->cursor_close(cur);
    if (rc || crc) return rc ? rc : crc;
    if (got != WL_SCAN_RECORDS) return WL_WRONG_ANSWER;
  }
  return 0;
}

static int wl_run_batch(wl_ctx *c, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    for (size_t i = 0; i < c->param; i++)
      memcpy(c->keys + i * WL_KEY_LEN, wl_keys[wl_order[(c->chain + i) % WL_KEYS]], WL_KEY_LEN);
    c->chain += c->param;
    size_t found;
    int rc = c->s->get_batch(c->txn, c->param, c->keys, c->key_lens, c->buf, c->cap, c->val_lens,
                             &found);
    if (rc) return rc;
    if (found != c->param || wl_get32(c->buf + 4) != wl_order[(c->chain - c->param) % WL_KEYS])
      return WL_WRONG_ANSWER;
  }
  return 0;
}

/* ---- The table --------------------------------------------------------------------------------- */
static const size_t wl_spin_ns[] = {16, 256, 512, 0}; /* 256 and 512: the 2x known answer */
static const size_t wl_put_every[] = {100, 0};
static const size_t wl_batch_ns[] = {1, 4, 16, 64, 256, 1024, 0};

#define WL_NEEDS(f) offsetof(kvs_shim, f)

const wl_def wl_loop = {"loop", NULL, NULL, NULL, 0, WL_NEEDS(name), wl_setup_calib, wl_run_loop,
                        wl_teardown_none, 0};

const wl_def wl_defs[] = {
    {"noop", NULL, NULL, NULL, 1, WL_NEEDS(noop), wl_setup_calib, wl_run_noop, wl_teardown_none, 0},
    {"add", "mode:latency", NULL, NULL, 0, WL_NEEDS(add), wl_setup_calib, wl_run_add_latency,
     wl_teardown_none, 0},
    {"add", "mode:throughput", NULL, NULL, 0, WL_NEEDS(add), wl_setup_calib, wl_run_add_throughput,
     wl_teardown_none, 0},
    {"spin", NULL, "n", wl_spin_ns, 0, WL_NEEDS(spin), wl_setup_calib, wl_run_spin, wl_teardown_none,
     0},
    {"get", "mode:latency", NULL, NULL, 1, WL_NEEDS(get), wl_setup_read, wl_run_get_latency,
     wl_teardown, 0},
    {"get", "mode:throughput", NULL, NULL, 0, WL_NEEDS(get), wl_setup_read, wl_run_get_throughput,
     wl_teardown, 0},
    {"get_miss", NULL, NULL, NULL, 0, WL_NEEDS(get), wl_setup_read, wl_run_get_miss, wl_teardown, 0},
    {"put", NULL, "commit_every", wl_put_every, 0, WL_NEEDS(put), wl_setup_put, wl_run_put,
     wl_teardown_put, 0},
    {"get", NULL, "bytes", wl_bytes_sizes, 0, WL_NEEDS(get), wl_setup_bytes, wl_run_bytes, wl_teardown,
     0},
    {"scan", "dir:upcall", NULL, NULL, 0, WL_NEEDS(scan), wl_setup_scan, wl_run_scan_upcall,
     wl_teardown, WL_SCAN_RECORDS},
    {"scan", "dir:downcall", NULL, NULL, 0, WL_NEEDS(cursor_next), wl_setup_scan,
     wl_run_scan_downcall, wl_teardown, WL_SCAN_RECORDS},
    {"batch", NULL, "n", wl_batch_ns, 0, WL_NEEDS(get_batch), wl_setup_batch, wl_run_batch,
     wl_teardown, WL_OPS_PARAM},
};
const size_t wl_count = sizeof wl_defs / sizeof wl_defs[0];

int wl_supported(const wl_def *w, const kvs_shim *s) {
  if (w->needs == WL_NEEDS(name)) return 1; /* the control calls nothing */
  void (*f)(void);
  memcpy(&f, (const char *)s + w->needs, sizeof f); /* every other field is a function pointer */
  return f != NULL;
}

size_t wl_ops(const wl_def *w, size_t param) {
  if (w->ops == WL_OPS_PARAM) return param ? param : 1;
  return w->ops ? w->ops : 1;
}

int wl_name(char *buf, size_t cap, const kvs_shim *s, const wl_def *w, size_t param) {
  int n = snprintf(buf, cap, "c/%s/%s", w == &wl_loop ? "control" : s->name, w->name);
  if (w->tag && n >= 0 && (size_t)n < cap) n += snprintf(buf + n, cap - (size_t)n, "/%s", w->tag);
  if (w->param_name && n >= 0 && (size_t)n < cap)
    n += snprintf(buf + n, cap - (size_t)n, "/%s:%zu", w->param_name, param);
  return n;
}

size_t wl_rows(const kvs_shim **out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < kvs_shim_count; i++, n++)
    if (n < cap) out[n] = kvs_shims[i];
  if (n < cap) out[n] = &wl_lmdb_row;
  return n + 1;
}

int wl_open_row(const kvs_shim *s, const char *dir, kvs_obj *env, const char **why) {
  char base[4096], path[4096];
  snprintf(base, sizeof base, "%s/base.kv", dir);
  snprintf(path, sizeof path, "%s/%s.kv", dir, s->name);
  if (!s->env_open || !s->txn_begin) {
    *why = "the row lacks env_open or txn_begin";
    return KV_E_INTERNAL;
  }
  int rc = s->init ? s->init(why) : 0;
  if (rc) return rc;
  if ((rc = wl_copy_file(base, path)) != 0) {
    *why = "cannot copy the data set";
    return rc;
  }
  kv_options o = wl_env_options();
  if ((rc = s->env_open(env, path, &o)) != 0) *why = kv_last_error();
  return rc;
}

uint64_t wl_batch_size(const wl_def *w, size_t param) {
  if (w->run == wl_run_bytes) return param >= 32768 ? 1 : 16;
  if (w->run == wl_run_scan_upcall || w->run == wl_run_scan_downcall) return 1;
  if (w->run == wl_run_batch) return param >= 64 ? 1 : 16;
  if (w->run == wl_run_spin) return param >= 256 ? 16 : 128;
  if (w->run == wl_run_put) return 100;
  return 256;
}
