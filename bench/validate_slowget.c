/* direct_slowget: every get also calls kv_spin(16), a planted cost of about 20-25 ns (spin/n:16
 * measures the same call): compare must flag this row's get benchmarks and almost nothing else. */
#define WL_DELAY_LOOPS wl_loops_direct_slowget
#define WL_DELAY_N 16
#define WL_DELAY_CALL_IS_NOOP 0
#include "validate_delay.h"
