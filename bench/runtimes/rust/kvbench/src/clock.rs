//! The two clocks a run reports: CLOCK_MONOTONIC (wall) and CLOCK_THREAD_CPUTIME_ID (the calling
//! thread's CPU time), through libc's clock_gettime, declared here (no libc crate).
use std::os::raw::{c_int, c_long};

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: c_long,
}
extern "C" {
    fn clock_gettime(clk: c_int, ts: *mut Timespec) -> c_int;
}
const CLOCK_MONOTONIC: c_int = 1; // <linux/time.h>
const CLOCK_THREAD_CPUTIME_ID: c_int = 3;

#[inline(always)]
fn read(clk: c_int) -> u64 {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // Cannot fail for these two clocks on Linux.
    unsafe { clock_gettime(clk, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
/// Monotonic wall-clock time in ns.
#[inline(always)]
pub fn wall_ns() -> u64 {
    read(CLOCK_MONOTONIC)
}
/// The calling thread's CPU time in ns.
#[inline(always)]
pub fn thread_cpu_ns() -> u64 {
    read(CLOCK_THREAD_CPUTIME_ID)
}
