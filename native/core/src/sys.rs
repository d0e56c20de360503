//! The libc functions and constants recall-core calls, declared here (no crates; Linux
//! values). Callers gate their use on `target_os = "linux"` and fall back elsewhere.

use std::ffi::c_void;

// mmap / madvise (hugebuf, mapped, container::backing)
pub const PROT_READ: i32 = 1;
pub const PROT_WRITE: i32 = 2;
pub const MAP_SHARED: i32 = 1;
pub const MAP_PRIVATE: i32 = 2;
pub const MAP_ANONYMOUS: i32 = 0x20;
pub const MADV_DONTNEED: i32 = 4;
pub const MADV_HUGEPAGE: i32 = 14;
pub const MAP_FAILED: *mut c_void = !0usize as *mut c_void;

// flock (wal::lock, filelock)
pub const LOCK_EX: i32 = 2;
pub const LOCK_NB: i32 = 4;
pub const EWOULDBLOCK: i32 = 11;

// clock_gettime (cputime)
#[repr(C)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

unsafe extern "C" {
    pub fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut c_void;
    pub fn munmap(addr: *mut c_void, len: usize) -> i32;
    pub fn madvise(addr: *mut c_void, len: usize, advice: i32) -> i32;
    pub fn flock(fd: i32, operation: i32) -> i32;
    pub fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}
