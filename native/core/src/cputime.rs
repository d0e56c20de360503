//! CPU time of the calling thread or the whole process (`clock_gettime`,
//! declared in `crate::sys`: no crates). Benchmarks report work per CPU-second with
//! it, which, unlike wall time, does not grow when a busy machine preempts
//! the thread.

#[cfg(target_os = "linux")]
use crate::sys;

/// Seconds of CPU this thread has used (0 where the clock is unavailable).
pub fn thread_cpu_seconds() -> f64 {
    #[cfg(target_os = "linux")]
    return clock(sys::CLOCK_THREAD_CPUTIME_ID);
    #[cfg(not(target_os = "linux"))]
    0.0
}

/// Seconds of CPU all threads of this process have used (0 where unavailable).
pub fn process_cpu_seconds() -> f64 {
    #[cfg(target_os = "linux")]
    return clock(sys::CLOCK_PROCESS_CPUTIME_ID);
    #[cfg(not(target_os = "linux"))]
    0.0
}

#[cfg(target_os = "linux")]
fn clock(id: i32) -> f64 {
    let mut t = sys::Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: t is a valid, writable timespec.
    if unsafe { sys::clock_gettime(id, &mut t) } == 0 { t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9 } else { 0.0 }
}
