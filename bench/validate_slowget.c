/* direct_slowget: every get also calls kv_spin(16), a planted cost of about 25 ns inside a get
 * (validate.json reports it as measured: +23 ns, the median over the gets of the reference run,
 * although spin/n:16 alone times 10 ns: its loop overlaps the spins, a get's dependent loads do
 * not): compare must flag this row's get benchmarks and almost nothing else. */
#define WL_DELAY_LOOPS wl_loops_direct_slowget
#define WL_DELAY_N 16
#define WL_DELAY_CALL_IS_NOOP 0
#include "validate_delay.h"
