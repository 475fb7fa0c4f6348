/* direct_delay0: noop also calls kv_spin(0), about one extra call (the sensitivity check). */
#define WL_DELAY_LOOPS wl_loops_direct_delay0
#define WL_DELAY_N 0
#define WL_DELAY_CALL_IS_NOOP 1
#include "validate_delay.h"
