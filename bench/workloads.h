/* workloads.h — the C workloads: one declarative table, run by google-benchmark (ffibench_c) and by
 * the instruction counter (ffibench_icount), listed for the driver (bench/driver) by ffibench_c.
 *
 * A workload is a loop of N iterations through one row (a shim of shims/shim.h, the raw-LMDB
 * baseline, or a validation variant), with its own setup and teardown. Its table entry says what it
 * is: its name, its parameter and values, the iterations per timed batch, the engine operations per
 * iteration, whether it also runs on two threads, and which loop it runs. The loops themselves
 * (loops.h) are compiled once per row, in the row's own translation unit, so each row's loop holds
 * that mechanism's own call site; a row runs the workloads whose loop it has. The control workload
 * `loop` is the same loop with nothing in it.
 *
 * Every workload checks what it gets back (return codes, lengths, the identity embedded in each
 * value): a wrong answer makes it return WL_WRONG_ANSWER or the kv error, and the harness fails that
 * benchmark. The data come from a data folder (dataset.h), loaded once per process with
 * wl_use_data; each row works on its own copy of the data set's database.
 */
#ifndef FFIBENCH_WORKLOADS_H
#define FFIBENCH_WORKLOADS_H

#include "dataset.h"
#include "shim.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WL_WRONG_ANSWER 1000 /* positive, so never mistaken for a kv error */

/* State of one workload in one thread. */
typedef struct wl_ctx {
  const kvs_shim *s;      /* the row's table entry: setup and teardown (not timed) go through it */
  const wl_data *d;       /* the data set's tables */
  kvs_obj env;
  kvs_obj txn;            /* the thread's transaction (read, or write for put), or 0 */
  size_t param;           /* the workload's parameter (bytes, batch size, spin n, commit interval) */
  uint64_t chain;         /* latency chain / position, carried across batches */
  uint64_t done;          /* calls made so far (for put's commit interval) */
  unsigned char *buf;     /* output buffer */
  size_t cap;
  unsigned char *keys;    /* batch: packed keys; bytes: the record's key */
  size_t key_len;         /* bytes: the record key's length */
  size_t *key_lens, *val_lens;
  uint64_t expect;        /* a precomputed answer (spin) */
} wl_ctx;

/** The loops a row can run (loops.h); a row's wl_loops has NULL for those it has no calls for. */
typedef enum wl_loop_id {
  WL_LOOP_CONTROL, WL_LOOP_NOOP, WL_LOOP_ADD_LATENCY, WL_LOOP_ADD_THROUGHPUT, WL_LOOP_SPIN,
  WL_LOOP_GET_LATENCY, WL_LOOP_GET_THROUGHPUT, WL_LOOP_GET_MISS, WL_LOOP_BYTES, WL_LOOP_PUT,
  WL_LOOP_SCAN_UPCALL, WL_LOOP_SCAN_DOWNCALL, WL_LOOP_BATCH,
  WL_LOOP_COUNT
} wl_loop_id;

typedef int (*wl_run_fn)(wl_ctx *c, uint64_t n); /* n iterations; 0 or an error */

typedef struct wl_loops {
  int (*init)(const char **why);  /* the loops' copy of the row's init (dlopen resolves there), or NULL */
  wl_run_fn run[WL_LOOP_COUNT];
} wl_loops;

/** One value of a workload's parameter, and the iterations per timed batch at that value. */
typedef struct wl_param {
  size_t value;
  uint64_t batch;
} wl_param;

typedef struct wl_def {
  const char *name;        /* the workload part of the benchmark name, tags included: "get/mode:latency" */
  const char *param_name;  /* NULL, or the parameter's name in the benchmark name ("bytes": get/bytes:N) */
  const wl_param *params;  /* params_count values (param_name != NULL) */
  size_t params_count;
  uint64_t batch;          /* iterations per timed batch when there is no parameter */
  size_t ops;              /* engine operations per iteration (scan: its records); 0 means 1 */
  bool ops_per_param;      /* the operations per iteration are the parameter's value (batch/n:N) */
  bool threads;            /* also run on two threads at once (name/threads:2) */
  wl_loop_id loop;         /* the loop it times; rows without that loop skip it */
  int (*setup)(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param);
  void (*teardown)(wl_ctx *c);
} wl_def;

/** A row of benchmarks: a shim under a name, with the loops compiled against its calls, running
 *  every workload it has a loop for, or only one. */
typedef struct wl_row {
  const char *name;  /* c/<name>/... */
  const kvs_shim *shim;
  const wl_loops *loops;
  const char *only;  /* NULL, or the one workload (wl_def.name) this row runs */
} wl_row;

/** Whether row r runs workload w. */
bool wl_row_runs(const wl_row *r, const wl_def *w);

/** The loop of benchmark b's workload on its row. */
#define WL_RUN(b) ((b)->row->loops->run[(b)->def->loop])

/** One benchmark: a row, a workload and a parameter value, with its name and what the harness needs. */
typedef struct wl_bench {
  char name[160];     /* c/<row>/<workload>[/<param>:<value>] (threads: google-benchmark adds /threads:2) */
  const wl_row *row;
  const wl_def *def;
  size_t param;
  uint64_t batch;     /* iterations per timed batch */
  size_t ops;         /* engine operations per iteration */
  int threads;        /* 1 or 2 */
} wl_bench;

/** Every workload, in report order, and the control (the shared loop with nothing in it). */
extern const wl_def wl_defs[];
extern const size_t wl_defs_count;
extern const wl_def wl_loop;

/** The rows a run measures: every shim of the shim table, then fnptr (the direct row through the
 *  table's function pointers), then the raw-LMDB baseline. */
const wl_row *wl_rows(size_t *count);
/** The rows --validate measures (validate_rows.c): direct, its A/A twin and its delay variants. */
const wl_row *wl_validate_rows(size_t *count);

/** Every benchmark of rows[0..nrows) — the control c/control/loop first, on rows[0] — in table
 *  order: a malloc'd array of *count entries (free it). A /threads:2 benchmark is its own entry. */
wl_bench *wl_benches(const wl_row *rows, size_t nrows, size_t *count);

/** Loads the data folder dir for this process's workloads (once; later calls return the first
 *  result). 0, or a kv error with the reason in *why. */
int wl_use_data(const char *dir, const char **why);

/** The data the workloads use (after wl_use_data). */
const wl_data *wl_data_get(void);

/** Makes row r ready: init, a fresh copy of the data set as scratch/<name>.kv, and an environment
 *  open on it. 0, or a kv error with a reason in *why. */
int wl_open_row(const wl_row *r, const char *scratch, kvs_obj *env, const char **why);

/** Options for opening a data set copy: no-sync (benchmarks never fsync), a map large enough. */
kv_options wl_env_options(void);

/** The raw-LMDB baseline row: env_open, env_close, txn_begin, txn_abort and get only, straight on
 *  mdb_* with the engine's flags and the same copy into the caller's buffer. */
extern const kvs_shim wl_lmdb_row;

static inline uint32_t wl_get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Zero, computed from x by an instruction the processor must wait for: it chains one call's
 * argument to the previous call's result (latency mode), which the compiler cannot fold away. */
static inline uint64_t wl_zero_after(uint64_t x) {
#if defined(__GNUC__) && defined(__x86_64__)
  __asm__("and $0, %0" : "+r"(x));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("and %0, %0, xzr" : "+r"(x));
#else
  volatile uint64_t v = x;
  x = v & 0;
#endif
  return x;
}

#ifdef __cplusplus
}
#endif
#endif /* FFIBENCH_WORKLOADS_H */
