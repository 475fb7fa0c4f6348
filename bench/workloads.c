/* workloads.c — the C workloads (see workloads.h). */
#define _GNU_SOURCE
#include "workloads.h"

#include "kvs_rows.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  c->s = s, c->d = &wl_d, c->env = env, c->param = param, c->cap = cap;
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
  c->s = s, c->d = &wl_d, c->env = env, c->param = param;
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

/* ---- The table --------------------------------------------------------------------------------- */
#define WL_PARAMS(a) .params = (a), .params_count = sizeof(a) / sizeof((a)[0])

/* Iterations per timed batch: enough that one batch is well over the timer's resolution, few enough
 * that the last batch's overshoot stays small. */
static const wl_param wl_spin_n[] = {{16, 128}, {256, 16}, {512, 16}}; /* 256 and 512: the 2x known answer */
static const wl_param wl_put_every[] = {{WL_PUT_EVERY, 100}};
static const wl_param wl_bytes[] = {{8, 16},      {64, 16},    {512, 16},    {4096, 16},
                                    {32768, 1},   {262144, 1}, {1048576, 1}};
static const wl_param wl_batch_n[] = {{1, 16}, {4, 16}, {16, 16}, {64, 1}, {256, 1}, {1024, 1}};

const wl_def wl_loop = {.name = "loop", .batch = 256, .loop = WL_LOOP_CONTROL, .setup = wl_setup_calib,
                        .teardown = wl_teardown_none};

const wl_def wl_defs[] = {
    {.name = "noop", .batch = 256, .threads = true, .loop = WL_LOOP_NOOP,
     .setup = wl_setup_calib, .teardown = wl_teardown_none},
    {.name = "add/mode:latency", .batch = 256, .loop = WL_LOOP_ADD_LATENCY,
     .setup = wl_setup_calib, .teardown = wl_teardown_none},
    {.name = "add/mode:throughput", .batch = 256, .loop = WL_LOOP_ADD_THROUGHPUT,
     .setup = wl_setup_calib, .teardown = wl_teardown_none},
    {.name = "spin", .param_name = "n", WL_PARAMS(wl_spin_n), .loop = WL_LOOP_SPIN,
     .setup = wl_setup_calib, .teardown = wl_teardown_none},
    {.name = "get/mode:latency", .batch = 256, .threads = true, .loop = WL_LOOP_GET_LATENCY,
     .setup = wl_setup_read, .teardown = wl_teardown},
    {.name = "get/mode:throughput", .batch = 256, .loop = WL_LOOP_GET_THROUGHPUT,
     .setup = wl_setup_read, .teardown = wl_teardown},
    {.name = "get_miss", .batch = 256, .loop = WL_LOOP_GET_MISS, .setup = wl_setup_read, .teardown = wl_teardown},
    {.name = "put", .param_name = "commit_every", WL_PARAMS(wl_put_every), .loop = WL_LOOP_PUT,
     .setup = wl_setup_put, .teardown = wl_teardown_put},
    {.name = "get", .param_name = "bytes", WL_PARAMS(wl_bytes), .loop = WL_LOOP_BYTES,
     .setup = wl_setup_bytes, .teardown = wl_teardown},
    {.name = "scan/dir:upcall", .batch = 1, .ops = WL_SCAN_RECORDS, .loop = WL_LOOP_SCAN_UPCALL,
     .setup = wl_setup_scan, .teardown = wl_teardown},
    {.name = "scan/dir:downcall", .batch = 1, .ops = WL_SCAN_RECORDS, .loop = WL_LOOP_SCAN_DOWNCALL,
     .setup = wl_setup_scan, .teardown = wl_teardown},
    {.name = "batch", .param_name = "n", WL_PARAMS(wl_batch_n), .ops_per_param = true, .loop = WL_LOOP_BATCH,
     .setup = wl_setup_batch, .teardown = wl_teardown},
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
/* The loops compiled in each row's own translation unit (bench/CMakeLists.txt, loops.h). */
#define WL__LOOPS(name) extern const wl_loops wl_loops_##name;
KVS_ROWS(WL__LOOPS)
#undef WL__LOOPS
extern const wl_loops wl_loops_fnptr, wl_loops_lmdb;

/* Every row of the shim table in its order, then the direct row reached through the table's function
 * pointer (what an indirect call adds), then the raw-LMDB baseline. */
static const wl_row wl_rows_[] = {
#define WL__ROW(row) {.name = #row, .shim = &kvs_shim_##row, .loops = &wl_loops_##row},
    KVS_ROWS(WL__ROW)
#undef WL__ROW
    {.name = "fnptr", .shim = &kvs_shim_direct, .loops = &wl_loops_fnptr},
    {.name = "lmdb", .shim = &wl_lmdb_row, .loops = &wl_loops_lmdb},
};

const wl_row *wl_rows(size_t *count) {
  *count = sizeof wl_rows_ / sizeof wl_rows_[0];
  return wl_rows_;
}

bool wl_row_runs(const wl_row *r, const wl_def *w) {
  return r->loops->run[w->loop] && (!r->only || strcmp(r->only, w->name) == 0);
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
      if (!wl_row_runs(&rows[r], w)) continue;
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
  if (!rc && r->loops->init) rc = r->loops->init(why); /* the loops' own copy of the row (dlopen) */
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
