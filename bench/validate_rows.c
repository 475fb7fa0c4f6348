/* validate_rows.c — the rows ./scripts/bench --validate measures to prove the suite sees what it
 * claims to. Each is the direct row with at most one thing changed:
 *   direct           itself;
 *   direct_aa        nothing at all: the same row under a second name, for the A/A test (its
 *                    benchmarks run in their own processes, interleaved with direct's);
 *   direct_delay0    noop also calls kv_spin(0): about one extra call, for the sensitivity test;
 *   direct_delay256  noop also calls kv_spin(256): a known injected delay, for the known-answer test
 *                    (spin/n:256 measures the same call, in the same latency mode).
 * The delay rows run noop only: their other workloads would repeat direct's. Their noop calls
 * kv_spin directly (libkv.a), like the direct row. */
#include "workloads.h"

#include <pthread.h>

/* Each delay waits for the one before (as the spin workload's calls do), through carry. */
static uint64_t carry;

static void delay0_noop(kvs_obj env) {
  carry = wl_zero_after(kv_spin(carry));
  kvs_shim_direct.noop(env);
}

static void delay256_noop(kvs_obj env) {
  carry = wl_zero_after(kv_spin(256 + carry));
  kvs_shim_direct.noop(env);
}

static kvs_shim delay0, delay256;
static wl_row rows[4];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void make_rows(void) {
  delay0 = kvs_shim_direct, delay0.name = "direct_delay0", delay0.noop = delay0_noop;
  delay256 = kvs_shim_direct, delay256.name = "direct_delay256", delay256.noop = delay256_noop;
  rows[0] = (wl_row){.name = "direct", .shim = &kvs_shim_direct};
  rows[1] = (wl_row){.name = "direct_aa", .shim = &kvs_shim_direct};
  rows[2] = (wl_row){.name = delay0.name, .shim = &delay0, .only = "noop"};
  rows[3] = (wl_row){.name = delay256.name, .shim = &delay256, .only = "noop"};
}

const wl_row *wl_validate_rows(size_t *count) {
  pthread_once(&once, make_rows);
  *count = sizeof rows / sizeof rows[0];
  return rows;
}
