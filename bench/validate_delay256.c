/* direct_delay256: noop also calls kv_spin(256), a known delay (spin/n:256 measures the same call). */
#define WL_DELAY_LOOPS wl_loops_direct_delay256
#define WL_DELAY_N 256
#define WL_DELAY_CALL_IS_NOOP 1
#include "validate_delay.h"
