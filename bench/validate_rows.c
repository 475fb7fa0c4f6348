/* validate_rows.c — the rows ./scripts/bench --validate measures to prove the suite sees what it
 * claims to. Each is the direct row with at most one thing changed (validate_delay.h):
 *   direct           itself;
 *   direct_aa        nothing at all: the same row under a second name, for the A/A test (its
 *                    benchmarks run in their own processes, interleaved with direct's);
 *   direct_delay0    noop also calls kv_spin(0): about one extra call, for the sensitivity test;
 *   direct_delay256  noop also calls kv_spin(256): a known injected delay, for the known-answer test
 *                    (spin/n:256 measures the same call, in the same latency mode);
 *   direct_slowget   every get also calls kv_spin(16): a planted cost that compare must find on this
 *                    row's get benchmarks and on almost nothing else (it runs every workload).
 * The delay rows run noop only: their other workloads would repeat direct's. */
#include "workloads.h"

extern const wl_loops wl_loops_direct, wl_loops_direct_delay0, wl_loops_direct_delay256,
    wl_loops_direct_slowget;

static const wl_row rows[] = {
    {.name = "direct", .shim = &kvs_shim_direct, .loops = &wl_loops_direct},
    {.name = "direct_aa", .shim = &kvs_shim_direct, .loops = &wl_loops_direct},
    {.name = "direct_delay0", .shim = &kvs_shim_direct, .loops = &wl_loops_direct_delay0, .only = "noop"},
    {.name = "direct_delay256", .shim = &kvs_shim_direct, .loops = &wl_loops_direct_delay256, .only = "noop"},
    {.name = "direct_slowget", .shim = &kvs_shim_direct, .loops = &wl_loops_direct_slowget},
};

const wl_row *wl_validate_rows(size_t *count) {
  *count = sizeof rows / sizeof rows[0];
  return rows;
}
