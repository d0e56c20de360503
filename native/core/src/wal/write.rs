//! Appending to a WAL. Opening takes the writer lock, finds where the newest
//! segment's good records end and cuts off a torn tail there (reported), so
//! new records never follow garbage. Records are encoded into a buffer and
//! written in large writes; segments rotate once they pass `segment_bytes`.
//! Durability (`fsync`): `Always` syncs after every record, `Batch` once per
//! `append` call (group commit) and at each rotation, `Off` leaves it to the OS.

use super::scan::{Issue, parse_segment, segments};
use super::{BODY_FIXED, DROPPED, HEADER, MAX_BODY, WalLock, segment_name};
use crate::bytes::u32_at;
use crate::checksum::crc32c;
use crate::error::{Error, Result};
use crate::fsutil::{AtomicFile, sync_dir};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    Always,
    Batch,
    Off,
}

impl Fsync {
    pub fn parse(s: &str) -> Option<Fsync> {
        match s {
            "always" => Some(Fsync::Always),
            "batch" => Some(Fsync::Batch),
            "off" => Some(Fsync::Off),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct WriterOptions {
    pub segment_bytes: u64,
    pub fsync: Fsync,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { segment_bytes: 64 << 20, fsync: Fsync::Batch }
    }
}

pub struct Writer {
    dir: PathBuf,
    _lock: WalLock,
    opts: WriterOptions,
    file: File,
    seg_path: PathBuf,
    seg_len: u64,
    next_seq: u64,
    buf: Vec<u8>,
    /// A torn tail cut off when opening.
    pub recovered: Option<Issue>,
}

/// Flush the encode buffer at this size.
const FLUSH_BYTES: usize = 1 << 20;

impl Writer {
    pub fn open(dir: &Path, opts: WriterOptions) -> Result<Writer> {
        if opts.segment_bytes == 0 {
            return Err(Error::InvalidArgument("segment size must be at least 1 byte".into()));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create", e))?;
        let lock = WalLock::acquire(dir)?;
        let segs = segments(dir)?;
        let (seg_path, next_seq, recovered) = match segs.last() {
            None => (dir.join(segment_name(1)), 1, None),
            Some((first, path)) => {
                let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
                let mut corrupt = Vec::new();
                let end = parse_segment(path, &bytes, true, first - 1, false, &mut corrupt, |_, _, _| Ok(()))?;
                if end.torn.is_some() {
                    let f = OpenOptions::new().write(true).open(path).map_err(|e| Error::io(path, "open", e))?;
                    f.set_len(end.valid_end).map_err(|e| Error::io(path, "cut the torn tail of", e))?;
                    f.sync_all().map_err(|e| Error::io(path, "fsync", e))?;
                }
                (path.clone(), end.last_seq.max(first - 1) + 1, end.torn)
            }
        };
        let file = OpenOptions::new().create(true).append(true).open(&seg_path).map_err(|e| Error::io(&seg_path, "open", e))?;
        let seg_len = file.metadata().map_err(|e| Error::io(&seg_path, "stat", e))?.len();
        if segs.is_empty() {
            sync_dir(dir);
        }
        Ok(Writer {
            dir: dir.to_path_buf(),
            _lock: lock,
            opts,
            file,
            seg_path,
            seg_len,
            next_seq,
            buf: Vec::with_capacity(FLUSH_BYTES + 4096),
            recovered,
        })
    }

    /// The seq the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.file.write_all(&self.buf).map_err(|e| Error::io(&self.seg_path, "append to", e))?;
            self.buf.clear();
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(|e| Error::io(&self.seg_path, "fsync", e))
    }

    /// Close the full segment and start the next, named after the next seq.
    fn rotate(&mut self) -> Result<()> {
        self.flush()?;
        if self.opts.fsync != Fsync::Off {
            self.sync()?;
        }
        let path = self.dir.join(segment_name(self.next_seq));
        self.file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| Error::io(&path, "create", e))?;
        self.seg_path = path;
        self.seg_len = 0;
        sync_dir(&self.dir);
        Ok(())
    }

    /// Append records `(op, payload)`; returns the seqs of the first and last (0, 0 for none).
    /// On return they are written, and durable unless the policy is `Off`.
    pub fn append<'p>(&mut self, records: impl IntoIterator<Item = (u8, &'p [u8])>) -> Result<(u64, u64)> {
        let first = self.next_seq;
        for (op, payload) in records {
            if payload.len() + BODY_FIXED > MAX_BODY {
                return Err(Error::InvalidArgument(format!("a record of {} bytes is over the WAL's 1 GiB record limit", payload.len())));
            }
            if self.seg_len >= self.opts.segment_bytes {
                self.rotate()?;
            }
            let len = (BODY_FIXED + payload.len()) as u32;
            let start = self.buf.len();
            self.buf.extend_from_slice(&len.to_le_bytes());
            self.buf.extend_from_slice(&[0; 4]);
            self.buf.extend_from_slice(&self.next_seq.to_le_bytes());
            self.buf.push(op);
            self.buf.extend_from_slice(payload);
            let crc = crc32c(&self.buf[start + HEADER..]);
            self.buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
            self.seg_len += (HEADER + len as usize) as u64;
            self.next_seq += 1;
            if self.opts.fsync == Fsync::Always {
                self.flush()?;
                self.sync()?;
            } else if self.buf.len() >= FLUSH_BYTES {
                self.flush()?;
            }
        }
        self.flush()?;
        if self.opts.fsync == Fsync::Batch && self.next_seq > first {
            self.sync()?;
        }
        Ok(if self.next_seq > first { (first, self.next_seq - 1) } else { (0, 0) })
    }
}

/// Remove the segments whose records all have seq < `before` (the newest segment always stays,
/// so seqs go on from where they were). Takes the writer lock. Returns the removed files.
pub fn truncate_before(dir: &Path, before: u64) -> Result<Vec<PathBuf>> {
    let _lock = WalLock::acquire(dir)?;
    let segs = segments(dir)?;
    let mut removed = Vec::new();
    for w in segs.windows(2) {
        if w[1].0 <= before {
            std::fs::remove_file(&w[0].1).map_err(|e| Error::io(&w[0].1, "remove", e))?;
            removed.push(w[0].1.clone());
        }
    }
    if !removed.is_empty() {
        sync_dir(dir);
    }
    Ok(removed)
}

/// Take the record `seq` out of replay: its op byte gets the `DROPPED` bit (its CRC is
/// recomputed; seqs stay continuous, the original op and payload stay readable). The segment
/// is rewritten to a temp name and renamed into place under the writer lock. Returns the
/// segment and the record's original op. A record already dropped is refused.
pub fn drop_record(dir: &Path, seq: u64) -> Result<(PathBuf, u8)> {
    let _lock = WalLock::acquire(dir)?;
    let segs = segments(dir)?;
    let Some(i) = segs.iter().rposition(|s| s.0 <= seq) else {
        return Err(Error::InvalidArgument(format!("{}: no segment holds seq {seq}", dir.display())));
    };
    let (first, path) = &segs[i];
    let mut bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
    let mut at = None;
    let mut corrupt = Vec::new();
    let mut o = 0usize;
    parse_segment(path, &bytes, i + 1 == segs.len(), first - 1, false, &mut corrupt, |s, op, p| {
        if s == seq {
            at = Some((o, op));
        }
        o += HEADER + BODY_FIXED + p.len();
        Ok(())
    })?;
    let Some((o, op)) = at else {
        return Err(Error::InvalidArgument(format!("{}: no record with seq {seq} (the WAL's records are in wal inspect)", dir.display())));
    };
    if op & DROPPED != 0 {
        return Err(Error::InvalidArgument(format!("{}: record seq {seq} is already dropped", path.display())));
    }
    let len = u32_at(&bytes, o) as usize;
    bytes[o + HEADER + 8] = op | DROPPED;
    let crc = crc32c(&bytes[o + HEADER..o + HEADER + len]);
    bytes[o + 4..o + 8].copy_from_slice(&crc.to_le_bytes());
    let mut f = AtomicFile::create(path)?;
    f.write_all(&bytes)?;
    f.commit()?;
    Ok((path.clone(), op))
}
