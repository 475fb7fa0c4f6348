/* validate_rows.c — the shim variants ./scripts/bench --validate measures to prove the suite sees
 * what it claims to. Each is the direct row with one thing changed:
 *   direct_aa        nothing at all: the same row under a second name, for the A/A test;
 *   direct_delay0    noop also calls kv_spin(0): about one extra call, for the sensitivity test;
 *   direct_delay256  noop also calls kv_spin(256): a known injected delay, for the known-answer test
 *                    (spin/n:256 measures the same call, in the same latency mode).
 * Their noop calls kv_spin directly (libkv.a), like the direct row. */
#include "workloads.h"

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

static kvs_shim variant(const char *name, void (*noop)(kvs_obj)) {
  kvs_shim s = kvs_shim_direct;
  s.name = name;
  if (noop) s.noop = noop;
  return s;
}

size_t wl_validate_rows(kvs_shim *out, size_t cap) {
  const kvs_shim rows[] = {
      variant("direct_aa", NULL),
      variant("direct_delay0", delay0_noop),
      variant("direct_delay256", delay256_noop),
  };
  size_t n = sizeof rows / sizeof rows[0];
  for (size_t i = 0; i < n && i < cap; i++) out[i] = rows[i];
  return n;
}
