//! The bytes of an opened container: the whole file mapped read-only and shared
//! (`MAP_SHARED`: every process reading the file shares the page cache, and
//! opening costs no copy), or, for comparison and for systems without `mmap`,
//! the whole file read into memory. Sections are views into it that keep it
//! alive. recall never rewrites a published file in place (temp name, then
//! rename), so a mapping never sees its file change under it.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// How a container's bytes are held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backing {
    /// Mapped read-only and shared: pages are read when first touched.
    #[default]
    Map,
    /// Read whole into memory when opened (the path before mapping; kept as the benchmark anchor).
    Read,
}

pub(super) struct FileBytes {
    ptr: *const u8,
    len: usize,
    mapped: bool,
    /// The mapped file, for copies that read it without faulting the mapping in (`Section::copy_to`).
    file: Option<File>,
    /// Owns the bytes when read (u64 words, so every 8-aligned section is aligned for u64 views).
    _owned: Vec<u64>,
}

// Read-only memory owned by this value.
unsafe impl Send for FileBytes {}
unsafe impl Sync for FileBytes {}

impl FileBytes {
    pub(super) fn open(file: &File, path: &Path, len: u64, backing: Backing) -> Result<FileBytes> {
        let len = usize::try_from(len).map_err(|_| Error::InvalidArgument(format!("{}: too large to map", path.display())))?;
        #[cfg(target_os = "linux")]
        if backing == Backing::Map && len > 0 {
            use crate::sys;
            use std::os::fd::AsRawFd;
            // SAFETY: a fresh read-only shared mapping of an open file, checked for failure.
            let p = unsafe { sys::mmap(std::ptr::null_mut(), len, sys::PROT_READ, sys::MAP_SHARED, file.as_raw_fd(), 0) };
            if p != sys::MAP_FAILED {
                // Only a file large enough to hold a section worth copying keeps a descriptor.
                let keep = if len >= 2 << 20 { file.try_clone().ok() } else { None };
                return Ok(FileBytes { ptr: p as *const u8, len, mapped: true, file: keep, _owned: Vec::new() });
            }
        }
        let mut owned = vec![0u64; len.div_ceil(8)];
        // SAFETY: the u64 buffer holds at least len bytes; u8 has no alignment needs.
        let buf = unsafe { std::slice::from_raw_parts_mut(owned.as_mut_ptr().cast::<u8>(), len) };
        std::os::unix::fs::FileExt::read_exact_at(file, buf, 0).map_err(|e| Error::io(path, "read", e))?;
        Ok(FileBytes { ptr: owned.as_ptr().cast(), len, mapped: false, file: None, _owned: owned })
    }

    pub(super) fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: ptr is valid for len bytes for the life of self (mapping or owned buffer).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub(super) fn is_mapped(&self) -> bool {
        self.mapped
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.mapped {
            // SAFETY: exactly the mapping made in `open`; no Section outlives the Arc holding self.
            unsafe { crate::sys::munmap(self.ptr as *mut std::ffi::c_void, self.len) };
        }
    }
}

/// The bytes of one section, borrowed from its container's backing (which it keeps alive).
#[derive(Clone)]
pub struct Section {
    file: Arc<FileBytes>,
    offset: usize,
    len: usize,
}

impl Section {
    pub(super) fn new(file: Arc<FileBytes>, offset: usize, len: usize) -> Section {
        debug_assert!(offset + len <= file.len);
        Section { file, offset, len }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.file.bytes()[self.offset..self.offset + self.len]
    }

    /// The section as little-endian u64 words (sections start 8-byte aligned; a tail of
    /// fewer than 8 bytes is not included).
    pub fn u64s(&self) -> &[u64] {
        self.cast::<u64>()
    }

    /// The section as a slice of plain-old-data `T` (an integer or a `repr(C)` struct of them).
    /// Panics if the section is not aligned for `T`, which the container layout rules out for
    /// `align_of::<T>() <= 8`.
    pub fn cast<T: Copy>(&self) -> &[T] {
        #[cfg(not(target_endian = "little"))]
        compile_error!("index files are little-endian; zero-copy views need a little-endian target");
        let b = self.bytes();
        let size = std::mem::size_of::<T>();
        assert!((b.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>()), "section is not aligned for its type");
        // SAFETY: aligned as checked, in bounds, and T is plain data for which any bits are valid
        // (callers cast only to integers, floats and repr(C) structs of them).
        unsafe { std::slice::from_raw_parts(b.as_ptr().cast::<T>(), b.len() / size) }
    }

    /// True when the bytes are a mapping of the file (not a copy).
    pub fn is_mapped(&self) -> bool {
        self.file.is_mapped()
    }

    /// The section's first `dst.len()` bytes into `dst`. A mapped section is read from its file
    /// (the page cache copied by the kernel): through the mapping, each 4 KiB page would fault
    /// in first and then stay counted in the process's memory as well.
    pub fn copy_to(&self, dst: &mut [u8]) {
        if let Some(f) = &self.file.file
            && std::os::unix::fs::FileExt::read_exact_at(f, dst, self.offset as u64).is_ok()
        {
            return;
        }
        dst.copy_from_slice(&self.bytes()[..dst.len()]);
    }

    /// Unmap the pages wholly inside this section from the process (they stay in the page cache
    /// and fault back in if read again): for a section copied elsewhere, so the pages earlier
    /// reads faulted in do not also count in the process's memory. Nothing happens for a read copy.
    pub fn release_pages(&self) {
        #[cfg(target_os = "linux")]
        if self.is_mapped() && self.len > 0 {
            const PAGE: usize = 4096;
            let start = self.bytes().as_ptr() as usize;
            let (lo, hi) = ((start + PAGE - 1) & !(PAGE - 1), (start + self.len) & !(PAGE - 1));
            if hi > lo {
                // SAFETY: [lo, hi) lies inside this section of a read-only shared file mapping;
                // dropping its page-table entries changes no bytes anyone reads.
                unsafe { crate::sys::madvise(lo as *mut std::ffi::c_void, hi - lo, crate::sys::MADV_DONTNEED) };
            }
        }
    }
}

impl std::ops::Deref for Section {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

impl std::fmt::Debug for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Section({} bytes at {}, {})", self.len, self.offset, if self.is_mapped() { "mapped" } else { "read" })
    }
}
