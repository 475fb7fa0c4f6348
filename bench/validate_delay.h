/* validate_delay.h — a validation row (validate_rows.c): the direct row, its loops compiled with its
 * own calls as every row's are, with a known delay put into one call. The file that includes this
 * defines WL_DELAY_LOOPS (the wl_loops it defines), WL_DELAY_N (kv_spin's iterations per call) and
 * WL_DELAY_CALL_IS_NOOP (1: noop waits; 0: get does). Each delay waits for the one before (as the spin
 * workload's calls do), through carry, so delays add up instead of overlapping in the processor. */
#define KVS_ROW_FUNCTIONS_ONLY
#include "pointer/row.c"
#include "workloads.h"

static uint64_t wl__carry;

#define WL__DELAY() (wl__carry = wl_zero_after(kv_spin(WL_DELAY_N + wl__carry)))

static void wl__delayed_noop(kvs_obj env) {
  if (WL_DELAY_CALL_IS_NOOP) WL__DELAY();
  kvs__noop(env);
}

static int wl__delayed_get(kvs_obj txn, const void *k, size_t kl, void *buf, size_t cap, size_t *len) {
  if (!WL_DELAY_CALL_IS_NOOP) WL__DELAY();
  return kvs__get(txn, k, kl, buf, cap, len);
}

/* The loops call these instead of the row's own noop and get. */
#define kvs__noop wl__delayed_noop
#define kvs__get wl__delayed_get
#include "loops.h"
WL_LOOPS_DEFINE(WL_DELAY_LOOPS, kvs__init);
