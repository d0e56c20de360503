//! CPU time of the calling thread (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`,
//! declared here: no crates). Benchmarks report work per CPU-second with
//! it, which, unlike wall time, does not grow when a busy machine preempts
//! the thread.

#[cfg(target_os = "linux")]
mod sys {
    #[repr(C)]
    pub struct Timespec {
        pub tv_sec: i64,
        pub tv_nsec: i64,
    }
    pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    unsafe extern "C" {
        pub fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
}

/// Seconds of CPU this thread has used (0 where the clock is unavailable).
pub fn thread_cpu_seconds() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = sys::Timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: t is a valid, writable timespec.
        if unsafe { sys::clock_gettime(sys::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9;
        }
    }
    0.0
}
