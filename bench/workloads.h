/* workloads.h — the workload vocabulary every harness shares, written once in C.
 *
 * A workload is a loop of N calls through one shim row, with its own setup and teardown. The
 * google-benchmark harness (ffibench_c) times the loop in batches; the instruction counter
 * (ffibench_icount) runs the same loop under callgrind. Because the loop itself is shared, the
 * control workload `loop` (the same loop with no call in it) measures exactly the overhead the
 * reports subtract.
 *
 * Every workload checks what it gets back (return codes, lengths, the identity embedded in each
 * value): a wrong answer makes it return WL_WRONG_ANSWER or the kv error, and the harness fails that
 * benchmark.
 *
 * The data set (wl_dataset_create) is one LMDB file with:
 *   - WL_KEYS records "key:NNNNNNNNNNNN" (16-byte keys) -> 64-byte values. Value bytes 0..3 hold the
 *     index of the next key in one random cycle through every key (so latency-mode `get` chases a
 *     pointer through the store, each call depending on the one before), bytes 4..7 the record's own
 *     index (checked on every get);
 *   - one record "bytes:N" of N bytes for each N in wl_bytes_sizes.
 * Each shim opens its own copy of the file (LMDB: one open per file per process).
 */
#ifndef FFIBENCH_WORKLOADS_H
#define FFIBENCH_WORKLOADS_H

#include "shim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WL_KEYS 100000u
#define WL_KEY_LEN 16u
#define WL_VAL_LEN 64u
#define WL_SCAN_RECORDS 1024u /* records per scan iteration */
#define WL_WRONG_ANSWER 1000  /* positive, so never mistaken for a kv error */
#define WL_OPS_PARAM ((size_t)-1)

/* State of one workload in one thread. */
typedef struct wl_ctx {
  const kvs_shim *s;
  kvs_obj env;
  kvs_obj txn;            /* the thread's transaction (read, or write for put), or 0 */
  size_t param;           /* the workload's parameter (bytes, batch size, spin n, commit interval) */
  uint64_t chain;         /* latency chain / position, carried across batches */
  uint64_t done;          /* calls made so far (for put's commit interval) */
  unsigned char *buf;     /* output buffer */
  size_t cap;
  unsigned char *keys;    /* batch: packed keys */
  size_t *key_lens, *val_lens;
  uint64_t expect;        /* a precomputed answer (spin) */
} wl_ctx;

typedef struct wl_def {
  const char *name;       /* the workload part of the benchmark name: get, get_miss, put, ... */
  const char *tag;        /* NULL, or a fixed "key:value" part of the name (mode:latency, dir:upcall) */
  const char *param_name; /* NULL, or the parameter's name in the benchmark name (bytes, n, ...) */
  const size_t *params;   /* the parameter values, ending with 0 (NULL when param_name is NULL) */
  int threads;            /* also run with 2 threads */
  size_t needs;           /* offsetof(kvs_shim, f) of the shim function it calls: rows without f skip it */
  int (*setup)(wl_ctx *c, const kvs_shim *s, kvs_obj env, size_t param);
  int (*run)(wl_ctx *c, uint64_t n); /* n iterations; 0 or an error */
  void (*teardown)(wl_ctx *c);
  /* Engine operations per iteration, which reports divide by: 0 means 1, WL_OPS_PARAM the
   * parameter (batch:n), another value that many (scan: WL_SCAN_RECORDS records). */
  size_t ops;
} wl_def;

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

/** Every workload, in report order; wl_count entries. */
extern const wl_def wl_defs[];
extern const size_t wl_count;

/** The control: the shared loop with nothing in it. */
extern const wl_def wl_loop;

/** Value sizes of the `bytes` curve, ending with 0. */
extern const size_t wl_bytes_sizes[];

/** Iterations per timed batch for a workload and parameter: enough that one batch takes well over
 *  the timer's resolution, few enough that overshoot stays small. */
uint64_t wl_batch_size(const wl_def *w, size_t param);

/** Whether shim s has the function workload w calls. */
int wl_supported(const wl_def *w, const kvs_shim *s);

/** Engine operations per iteration of w with parameter param (at least 1). */
size_t wl_ops(const wl_def *w, size_t param);

/** The benchmark name of w with param on row s: c/<shim>/<workload>[/<tag>][/<param>:<value>]
 *  (c/control/loop for the control). Returns snprintf's result. */
int wl_name(char *buf, size_t cap, const kvs_shim *s, const wl_def *w, size_t param);

/** Every row a harness measures: the shim table's rows, then the raw-LMDB baseline. Writes at most
 *  cap pointers and returns how many rows there are. */
size_t wl_rows(const kvs_shim **out, size_t cap);

/** Makes row s ready in dir: init, a fresh copy of dir/base.kv as dir/<name>.kv, and an open
 *  environment on it. 0, or a kv error with a reason in *why. */
int wl_open_row(const kvs_shim *s, const char *dir, kvs_obj *env, const char **why);

/** The variants of the direct row that --validate measures (see validate_rows.c): writes at most
 *  cap rows into out and returns how many there are. Delay rows differ from direct only in noop. */
size_t wl_validate_rows(kvs_shim *out, size_t cap);

/** Creates the data set file at path (removing any old one). 0 or a kv error. */
int wl_dataset_create(const char *path);

/** Copies the data set file src to dst (a fresh copy per shim). 0 or KV_E_IO. */
int wl_copy_file(const char *src, const char *dst);

/** Options for opening a data set copy: no-sync (benchmarks never fsync), a map large enough. */
kv_options wl_env_options(void);

/** The raw-LMDB baseline row: env_open, env_close, txn_begin, txn_abort and get only, straight on
 *  mdb_* with the engine's flags and the same copy into the caller's buffer. */
extern const kvs_shim wl_lmdb_row;

#ifdef __cplusplus
}
#endif
#endif /* FFIBENCH_WORKLOADS_H */
