//! Crash-safe file output: write to a temp name in the destination folder,
//! fsync, rename over the final name, fsync the folder. A reader sees the old
//! file or the complete new one, never a torn one; a dropped (failed or
//! cancelled) write removes its temp file.

use crate::error::{Error, Result};
use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Temp files are `.<name>.tmp-<pid>-<nonce>-<n>` beside the target, so the rename
/// never crosses file systems and a stray one is easy to recognise. The pid alone
/// is not unique on a shared volume (two pods of one Job both run as pid 1), so a
/// per-process nonce is part of the name.
pub fn temp_path_for(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}-{:08x}-{n}", std::process::id(), process_nonce()))
}

/// Random per process: the clock's nanoseconds mixed with an address the loader randomised.
fn process_nonce() -> u32 {
    static NONCE: OnceLock<u32> = OnceLock::new();
    *NONCE.get_or_init(|| {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let here = &NONCE as *const _ as u64;
        (crate::rand::splitmix(nanos ^ here.rotate_left(32) ^ std::process::id() as u64) >> 32) as u32
    })
}

pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    pub fn create(target: &Path) -> Result<Self> {
        let temp = temp_path_for(target);
        let f = File::create(&temp).map_err(|e| Error::io(&temp, "create", e))?;
        Ok(AtomicFile { target: target.to_path_buf(), temp, out: Some(BufWriter::with_capacity(1 << 20, f)) })
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    fn out(&mut self) -> &mut BufWriter<File> {
        self.out.as_mut().expect("AtomicFile used after commit")
    }

    pub fn write_all(&mut self, data: &[u8]) -> Result<()> {
        let temp = self.temp.clone();
        self.out().write_all(data).map_err(|e| Error::io(&temp, "write", e))
    }

    /// Overwrite bytes at `offset` (used to fill in a header last).
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let temp = self.temp.clone();
        let out = self.out();
        let io = |e| Error::io(&temp, "write", e);
        let end = out.stream_position().map_err(io)?;
        out.seek(SeekFrom::Start(offset)).map_err(io)?;
        out.write_all(data).map_err(io)?;
        out.seek(SeekFrom::Start(end)).map_err(io)?;
        Ok(())
    }

    /// Flush, fsync, rename into place, fsync the folder.
    pub fn commit(mut self) -> Result<()> {
        let out = self.out.take().expect("AtomicFile committed twice");
        let temp = self.temp.clone();
        let f = out.into_inner().map_err(|e| Error::io(&temp, "write", e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&temp, "fsync", e))?;
        drop(f);
        fs::rename(&temp, &self.target).map_err(|e| Error::io(&self.target, "rename into place", e))?;
        sync_dir(self.target.parent().unwrap_or(Path::new(".")));
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Make a rename durable. Best effort: some file systems refuse to open a
/// directory for fsync, and the rename itself is already atomic.
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        crate::testutil::scratch(&format!("fsutil-{name}"))
    }

    #[test]
    fn commit_replaces_and_drop_leaves_nothing() {
        let d = scratch("commit");
        let target = d.join("a.bin");
        fs::write(&target, b"old").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new content").unwrap();
        f.write_at(0, b"NEW").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"old", "not visible before commit");
        f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"NEW content");

        let mut g = AtomicFile::create(&target).unwrap();
        g.write_all(b"half").unwrap();
        drop(g);
        assert_eq!(fs::read(&target).unwrap(), b"NEW content");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1, "temp file removed");
        fs::remove_dir_all(&d).unwrap();
    }
}
