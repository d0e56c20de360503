//! Advisory file locks for the TypeScript side (a channel's build lock, a shard output folder's
//! lock): an exclusive, non-blocking `flock` on a lock file. The kernel drops it when the holder
//! exits however it exits (kill -9, a container restart), so a lock never outlives its owner and a
//! pid from an earlier boot, or an empty lock file, means nothing. The holder's pid and host are
//! written into the file only for the message a waiting process prints.
//!
//! `release` removes the file while still holding the lock, so a finished command leaves nothing;
//! a taker therefore checks, once it holds the lock, that the path still names the file it locked
//! (else it locked a removed file and tries again on the new one).

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[cfg(target_os = "linux")]
use crate::sys;

/// Held while alive; dropping it (or the process ending) releases the lock.
pub struct FileLock {
    file: File,
    path: PathBuf,
}

/// What trying a lock gave.
pub enum TryLock {
    Acquired(FileLock),
    /// Another process holds it; `holder` is what it wrote ("pid 12 on host-a"), possibly empty.
    Held {
        holder: String,
    },
}

impl FileLock {
    /// Take the lock on `path` (created when missing) without waiting.
    pub fn try_acquire(path: &Path) -> Result<TryLock> {
        // a file removed between our open and our flock is retried; three removals in a row do not happen
        for _ in 0..3 {
            if let Some(r) = Self::try_once(path)? {
                return Ok(r);
            }
        }
        Err(Error::Locked { path: path.display().to_string(), message: String::from("the lock file keeps being replaced") })
    }

    /// Remove the lock file, then unlock (by closing it).
    pub fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }

    fn try_once(path: &Path) -> Result<Option<TryLock>> {
        let mut f =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(|e| Error::io(path, "open", e))?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor this function owns; no memory is passed.
            if unsafe { sys::flock(f.as_raw_fd(), sys::LOCK_EX | sys::LOCK_NB) } != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(sys::EWOULDBLOCK) {
                    return Err(Error::io(path, "flock", err));
                }
                let mut holder = String::new();
                let _ = f.read_to_string(&mut holder);
                return Ok(Some(TryLock::Held { holder: holder.trim().to_string() }));
            }
            use std::os::unix::fs::MetadataExt;
            let mine = f.metadata().map_err(|e| Error::io(path, "stat", e))?;
            match std::fs::metadata(path) {
                Ok(now) if now.dev() == mine.dev() && now.ino() == mine.ino() => {}
                _ => return Ok(None), // released (and removed) by its holder after we opened it
            }
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let who = format!("pid {} on {}", std::process::id(), host.trim());
        let _ = f.set_len(0).and_then(|_| f.seek(SeekFrom::Start(0))).and_then(|_| writeln!(f, "{who}"));
        Ok(Some(TryLock::Acquired(FileLock { file: f, path: path.to_path_buf() })))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = crate::testutil::scratch("filelock");
        let path = dir.join(".lock");
        std::fs::write(&path, "").unwrap(); // an empty lock file is just a file
        let a = match FileLock::try_acquire(&path).unwrap() {
            TryLock::Acquired(l) => l,
            TryLock::Held { .. } => panic!("free lock reported held"),
        };
        match FileLock::try_acquire(&path).unwrap() {
            TryLock::Held { holder } => assert!(holder.starts_with(&format!("pid {} ", std::process::id())), "{holder}"),
            TryLock::Acquired(_) => panic!("a second holder was let in"),
        }
        a.release();
        assert!(!path.exists(), "release removes the lock file");
        assert!(matches!(FileLock::try_acquire(&path).unwrap(), TryLock::Acquired(_)));
    }
}
