//! A read-only, file-backed mapping of a byte range (Linux `mmap`, declared in
//! `hugebuf`; a plain read elsewhere): pages are read when first touched, so
//! a large section that is only sampled (the f32 rows a vector query
//! re-ranks) costs memory only for the rows actually used.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::Path;

pub struct Mapped {
    ptr: *const u8,
    len: usize,
    /// The whole mapping (start, length); (0, 0) for the fallback.
    map: (usize, usize),
    _fallback: Vec<u8>,
}

// Read-only memory owned by this value.
unsafe impl Send for Mapped {}
unsafe impl Sync for Mapped {}

impl Mapped {
    /// Map `len` bytes of `path` from `offset`.
    pub fn map(path: &Path, offset: u64, len: usize) -> Result<Mapped> {
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        #[cfg(target_os = "linux")]
        {
            use crate::sys;
            use std::os::fd::AsRawFd;
            const PAGE: u64 = 4096;
            let start = offset / PAGE * PAGE;
            let mapped = (offset - start) as usize + len;
            if len > 0 {
                // SAFETY: a fresh read-only private mapping of an open file; checked for failure.
                let p =
                    unsafe { sys::mmap(std::ptr::null_mut(), mapped, sys::PROT_READ, sys::MAP_PRIVATE, file.as_raw_fd(), start as i64) };
                if p != sys::MAP_FAILED {
                    let ptr = (p as usize + (offset - start) as usize) as *const u8;
                    return Ok(Mapped { ptr, len, map: (p as usize, mapped), _fallback: Vec::new() });
                }
            }
        }
        let mut buf = vec![0u8; len];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut buf, offset).map_err(|e| Error::io(path, "read", e))?;
        Ok(Mapped { ptr: buf.as_ptr(), len, map: (0, 0), _fallback: buf })
    }

    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: ptr is valid for len bytes for the life of self (mapping or fallback buffer).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The bytes as f32 (the range must start 4-byte aligned, as container sections do).
    pub fn f32s(&self) -> &[f32] {
        let b = self.bytes();
        assert!((b.as_ptr() as usize).is_multiple_of(4) || b.is_empty(), "f32 section is not 4-byte aligned");
        // SAFETY: aligned as checked, any bit pattern is a valid f32.
        unsafe { std::slice::from_raw_parts(b.as_ptr().cast::<f32>(), b.len() / 4) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.map.1 > 0 {
            // SAFETY: the mapping made in `map`, unmapped once.
            unsafe { crate::sys::munmap(self.map.0 as *mut std::ffi::c_void, self.map.1) };
        }
    }
}
