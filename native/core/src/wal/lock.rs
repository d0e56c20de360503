//! The one-writer lock of a WAL folder: an exclusive `flock` on `LOCK`. The
//! kernel drops it when the holder exits, however it exits (kill -9
//! included), so a crashed writer never leaves a stale lock; the holder's pid
//! is written into the file for the error message.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

#[cfg(target_os = "linux")]
use crate::sys;

/// Held while alive.
pub struct WalLock {
    _file: File,
}

impl WalLock {
    pub fn acquire(dir: &Path) -> Result<WalLock> {
        let path = dir.join("LOCK");
        let mut f =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| Error::io(&path, "open", e))?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor this function owns; no memory is passed.
            if unsafe { sys::flock(f.as_raw_fd(), sys::LOCK_EX | sys::LOCK_NB) } != 0 {
                let mut holder = String::new();
                let _ = f.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() { String::from("another process") } else { format!("process {holder}") };
                return Err(Error::Locked {
                    path: dir.display().to_string(),
                    message: format!("{who} is writing this WAL; one writer at a time"),
                });
            }
        }
        let _ = f.set_len(0).and_then(|_| f.seek(SeekFrom::Start(0))).and_then(|_| writeln!(f, "{}", std::process::id()));
        Ok(WalLock { _file: f })
    }
}
