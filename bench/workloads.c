/* workloads.c — the C workloads (see workloads.h). */
#define _GNU_SOURCE
#include "workloads.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An empty statement the compiler must keep: the body of the control loop. */
#define WL_BARRIER() __asm__ volatile("" ::: "memory")

/* ---- Data -------------------------------------------------------------------------------------- */
static wl_data wl_d;
static pthread_once_t wl_data_once = PTHREAD_ONCE_INIT;
static const char *wl_data_dir;
static int wl_data_rc;
static const char *wl_data_why;

static void wl_load(void) { wl_data_rc = wl_data_load(wl_data_dir, &wl_d, &wl_data_why); }

int wl_use_data(const char *dir, const char **why) {
  wl_data_dir = dir;
  pthread_once(&wl_data_once, wl_load);
  if (wl_data_rc) *why = wl_data_why;
  return wl_data_rc;
}

const wl_data *wl_data_get(void) { return &wl_d; }

static uint32_t wl_get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

kv_options wl_env_options(void) {
  kv_options o = KV_OPTIONS_INIT;
  o.durability = KV_DURABLE_NOSYNC;
  o.map_size = (uint64_t)1 << 30;
  return o;
}

/* ---- Setup and teardown ------------------------------------------------------------------------ */
static int wl_setup(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param, unsigned txn_flags,
                    size_t cap) {
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
  if (!rc) c->key_len = wl_bytes_key(c->keys, param);
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
  int rc = c->s->get(c->txn, wl_d.keys[i], WL_KEY_LEN, c->buf, c->cap, &len);
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
    int rc = wl_get_one(c, wl_d.order[c->chain++ % WL_KEYS], &next);
    if (rc) return rc;
  }
  return 0;
}

static int wl_run_get_miss(wl_ctx *c, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    size_t len;
    int rc = c->s->get(c->txn, wl_d.miss[c->chain++ % WL_MISS_KEYS], WL_KEY_LEN, c->buf, c->cap, &len);
    if (rc != KV_E_NOT_FOUND) return rc ? rc : WL_WRONG_ANSWER;
  }
  return 0;
}

static int wl_run_put(wl_ctx *c, uint64_t n) {
  unsigned char v[WL_VAL_LEN];
  memset(v, 0x5a, sizeof v);
  for (uint64_t k = 0; k < n; k++) {
    int rc = c->s->put(c->txn, wl_d.put_keys[c->done % WL_PUT_KEYS], WL_KEY_LEN, v, WL_VAL_LEN);
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
    int rc = c->s->get(c->txn, c->keys, c->key_len, c->buf, c->cap, &len);
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
    int rc = c->s->scan(c->txn, wl_d.keys[0], WL_KEY_LEN, wl_d.keys[WL_SCAN_RECORDS], WL_KEY_LEN,
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
    int rc = c->s->cursor_open(&cur, c->txn, wl_d.keys[0], WL_KEY_LEN);
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
      memcpy(c->keys + i * WL_KEY_LEN, wl_d.keys[wl_d.order[(c->chain + i) % WL_KEYS]], WL_KEY_LEN);
    c->chain += c->param;
    size_t found;
    int rc = c->s->get_batch(c->txn, c->param, c->keys, c->key_lens, c->buf, c->cap, c->val_lens,
                             &found);
    if (rc) return rc;
    if (found != c->param || wl_get32(c->buf + 4) != wl_d.order[(c->chain - c->param) % WL_KEYS])
      return WL_WRONG_ANSWER;
  }
  return 0;
}

/* ---- The table --------------------------------------------------------------------------------- */
/* Which rows can run a loop: those that have the function it calls. */
#define WL_HAS(f) \
  static bool wl_has_##f(const kvs_shim *s) { return s->f != NULL; }
WL_HAS(noop)
WL_HAS(add)
WL_HAS(spin)
WL_HAS(get)
WL_HAS(put)
WL_HAS(scan)
WL_HAS(cursor_next)
WL_HAS(get_batch)
#undef WL_HAS

static bool wl_has_nothing(const kvs_shim *s) {
  (void)s;
  return true;
}

#define WL_PARAMS(a) .params = (a), .params_count = sizeof(a) / sizeof((a)[0])

/* Iterations per timed batch: enough that one batch is well over the timer's resolution, few enough
 * that the last batch's overshoot stays small. */
static const wl_param wl_spin_n[] = {{16, 128}, {256, 16}, {512, 16}}; /* 256 and 512: the 2x known answer */
static const wl_param wl_put_every[] = {{WL_PUT_EVERY, 100}};
static const wl_param wl_bytes[] = {{8, 16},      {64, 16},    {512, 16},    {4096, 16},
                                    {32768, 1},   {262144, 1}, {1048576, 1}};
static const wl_param wl_batch_n[] = {{1, 16}, {4, 16}, {16, 16}, {64, 1}, {256, 1}, {1024, 1}};

const wl_def wl_loop = {.name = "loop", .batch = 256, .supported = wl_has_nothing,
                        .setup = wl_setup_calib, .run = wl_run_loop, .teardown = wl_teardown_none};

const wl_def wl_defs[] = {
    {.name = "noop", .batch = 256, .threads = true, .supported = wl_has_noop,
     .setup = wl_setup_calib, .run = wl_run_noop, .teardown = wl_teardown_none},
    {.name = "add/mode:latency", .batch = 256, .supported = wl_has_add,
     .setup = wl_setup_calib, .run = wl_run_add_latency, .teardown = wl_teardown_none},
    {.name = "add/mode:throughput", .batch = 256, .supported = wl_has_add,
     .setup = wl_setup_calib, .run = wl_run_add_throughput, .teardown = wl_teardown_none},
    {.name = "spin", .param_name = "n", WL_PARAMS(wl_spin_n), .supported = wl_has_spin,
     .setup = wl_setup_calib, .run = wl_run_spin, .teardown = wl_teardown_none},
    {.name = "get/mode:latency", .batch = 256, .threads = true, .supported = wl_has_get,
     .setup = wl_setup_read, .run = wl_run_get_latency, .teardown = wl_teardown},
    {.name = "get/mode:throughput", .batch = 256, .supported = wl_has_get,
     .setup = wl_setup_read, .run = wl_run_get_throughput, .teardown = wl_teardown},
    {.name = "get_miss", .batch = 256, .supported = wl_has_get,
     .setup = wl_setup_read, .run = wl_run_get_miss, .teardown = wl_teardown},
    {.name = "put", .param_name = "commit_every", WL_PARAMS(wl_put_every), .supported = wl_has_put,
     .setup = wl_setup_put, .run = wl_run_put, .teardown = wl_teardown_put},
    {.name = "get", .param_name = "bytes", WL_PARAMS(wl_bytes), .supported = wl_has_get,
     .setup = wl_setup_bytes, .run = wl_run_bytes, .teardown = wl_teardown},
    {.name = "scan/dir:upcall", .batch = 1, .ops = WL_SCAN_RECORDS, .supported = wl_has_scan,
     .setup = wl_setup_scan, .run = wl_run_scan_upcall, .teardown = wl_teardown},
    {.name = "scan/dir:downcall", .batch = 1, .ops = WL_SCAN_RECORDS, .supported = wl_has_cursor_next,
     .setup = wl_setup_scan, .run = wl_run_scan_downcall, .teardown = wl_teardown},
    {.name = "batch", .param_name = "n", WL_PARAMS(wl_batch_n), .ops_per_param = true,
     .supported = wl_has_get_batch, .setup = wl_setup_batch, .run = wl_run_batch, .teardown = wl_teardown},
};
const size_t wl_defs_count = sizeof wl_defs / sizeof wl_defs[0];

void wl_write_workloads(FILE *f) {
  for (size_t i = 0; i < wl_defs_count; i++) {
    const wl_def *w = &wl_defs[i];
    fprintf(f, "workload\t%s\t%s\t", w->name, w->param_name ? w->param_name : "-");
    for (size_t k = 0; w->param_name && k < w->params_count; k++)
      fprintf(f, "%s%zu", k ? "," : "", w->params[k].value);
    if (!w->param_name) fprintf(f, "-");
    if (w->ops_per_param) fprintf(f, "\t%s\n", w->param_name);
    else fprintf(f, "\t%zu\n", w->ops ? w->ops : 1);
  }
}

/* ---- Rows and benchmarks ----------------------------------------------------------------------- */
static wl_row *wl_rows_; /* the shim table's rows, then the raw-LMDB baseline; built once */
static size_t wl_rows_count;
static pthread_once_t wl_rows_once = PTHREAD_ONCE_INIT;

static void wl_make_rows(void) {
  if (!(wl_rows_ = calloc(kvs_shim_count + 1, sizeof *wl_rows_))) return;
  for (size_t i = 0; i < kvs_shim_count; i++)
    wl_rows_[wl_rows_count++] = (wl_row){.name = kvs_shims[i]->name, .shim = kvs_shims[i]};
  wl_rows_[wl_rows_count++] = (wl_row){.name = wl_lmdb_row.name, .shim = &wl_lmdb_row};
}

const wl_row *wl_rows(size_t *count) {
  pthread_once(&wl_rows_once, wl_make_rows);
  *count = wl_rows_count; /* 0 when out of memory */
  return wl_rows_;
}

static int wl_add_bench(wl_bench *b, const wl_row *r, const wl_def *w, const wl_param *p, int threads) {
  size_t param = p ? p->value : 0;
  int n = snprintf(b->name, sizeof b->name, "c/%s/%s", w == &wl_loop ? "control" : r->name, w->name);
  if (w->param_name && n >= 0 && (size_t)n < sizeof b->name)
    n += snprintf(b->name + n, sizeof b->name - (size_t)n, "/%s:%zu", w->param_name, param);
  b->row = r, b->def = w, b->param = param, b->threads = threads;
  b->batch = p ? p->batch : w->batch;
  b->ops = w->ops_per_param ? param : w->ops ? w->ops : 1;
  return n > 0 && (size_t)n < sizeof b->name;
}

wl_bench *wl_benches(const wl_row *rows, size_t nrows, size_t *count) {
  size_t cap = 1;
  for (size_t r = 0; r < nrows; r++)
    for (size_t i = 0; i < wl_defs_count; i++)
      cap += (wl_defs[i].param_name ? wl_defs[i].params_count : 1) * (wl_defs[i].threads ? 2 : 1);
  wl_bench *out = calloc(cap, sizeof *out);
  size_t n = 0;
  if (!out || !nrows || !wl_add_bench(&out[n++], &rows[0], &wl_loop, NULL, 1)) {
    free(out);
    *count = 0;
    return NULL;
  }
  for (size_t r = 0; r < nrows; r++) {
    for (size_t i = 0; i < wl_defs_count; i++) {
      const wl_def *w = &wl_defs[i];
      if (!w->supported(rows[r].shim) || (rows[r].only && strcmp(rows[r].only, w->name) != 0)) continue;
      size_t np = w->param_name ? w->params_count : 1;
      for (size_t k = 0; k < np; k++)
        for (int t = 1; t <= (w->threads ? 2 : 1); t++)
          if (!wl_add_bench(&out[n++], &rows[r], w, w->param_name ? &w->params[k] : NULL, t)) n--;
    }
  }
  *count = n;
  return out;
}

int wl_open_row(const wl_row *r, const char *scratch, kvs_obj *env, const char **why) {
  const kvs_shim *s = r->shim;
  if (!s->env_open || !s->txn_begin) {
    *why = "the row lacks env_open or txn_begin";
    return KV_E_INTERNAL;
  }
  int rc = s->init ? s->init(why) : 0;
  if (rc) return rc;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.kv", scratch, r->name);
  if ((rc = wl_copy_base(wl_data_dir, path)) != 0) {
    *why = "cannot copy the data set's base.kv";
    return rc;
  }
  kv_options o = wl_env_options();
  if ((rc = s->env_open(env, path, &o)) != 0) *why = kv_last_error();
  return rc;
}
