//! Reading a WAL: segments in order, every record checked (length, CRC-32C,
//! rising seq). A bad record at the very end of the last segment is a torn
//! tail (a write that did not finish): reported, never trusted, not an error.
//! A bad record anywhere else is corruption: the scan stops with the segment
//! and offset, unless `skip_corrupt`, which skips it (when its length lets the
//! scan find the next record; else the rest of that segment) and counts it.

use super::{BODY_FIXED, HEADER, MAX_BODY, SEGMENT_EXT, u32_at, u64_at};
use crate::checksum::crc32c;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Visit records with seq > after ...
    pub after: u64,
    /// ... and seq <= upto.
    pub upto: u64,
    pub skip_corrupt: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { after: 0, upto: u64::MAX, skip_corrupt: false }
    }
}

/// A damaged byte range: which segment, where, how long, what.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub segment: PathBuf,
    pub offset: u64,
    pub bytes: u64,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct ScanReport {
    pub segments: u32,
    /// Records visited (in the seq range).
    pub visited: u64,
    /// Valid records read (segments wholly before `after` are not read).
    pub read: u64,
    /// Last valid seq in the log (0: none).
    pub last_seq: u64,
    pub torn: Option<Issue>,
    pub corrupt: Vec<Issue>,
}

/// Segment files of `dir` by first seq.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, "list", e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| Error::io(dir, "list", e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(&format!(".{SEGMENT_EXT}"))
            && stem.len() == 20
            && stem.bytes().all(|b| b.is_ascii_digit())
        {
            out.push((stem.parse::<u64>().unwrap_or(0), e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// What parsing one segment found.
pub(super) struct SegmentEnd {
    /// Offset after the last good record.
    pub valid_end: u64,
    pub last_seq: u64,
    pub torn: Option<Issue>,
}

/// Parse one segment's bytes. `last`: this is the newest segment (its end may be torn).
pub(super) fn parse_segment(
    path: &Path,
    b: &[u8],
    last: bool,
    mut prev_seq: u64,
    skip_corrupt: bool,
    corrupt: &mut Vec<Issue>,
    mut visit: impl FnMut(u64, u8, &[u8]) -> Result<()>,
) -> Result<SegmentEnd> {
    let mut o = 0usize;
    let mut valid_end = 0u64;
    let issue =
        |o: usize, bytes: usize, message: String| Issue { segment: path.to_path_buf(), offset: o as u64, bytes: bytes as u64, message };
    while o < b.len() {
        // what is wrong with the record at o, and where the next one starts if that is known
        let (problem, next): (String, Option<usize>) = if b.len() - o < HEADER + BODY_FIXED {
            (format!("a partial record of {} bytes", b.len() - o), None)
        } else {
            let len = u32_at(b, o) as usize;
            if !(BODY_FIXED..=MAX_BODY).contains(&len) {
                (format!("an impossible record length {len}"), None)
            } else if o + HEADER + len > b.len() {
                (format!("a record of {len} bytes that runs past the end of the segment"), None)
            } else {
                let body = &b[o + HEADER..o + HEADER + len];
                let seq = u64_at(body, 0);
                if crc32c(body) != u32_at(b, o + 4) {
                    (String::from("a checksum mismatch"), Some(o + HEADER + len))
                } else if seq <= prev_seq {
                    (format!("seq {seq} after seq {prev_seq} (seqs must rise)"), Some(o + HEADER + len))
                } else {
                    visit(seq, body[8], &body[BODY_FIXED..])?;
                    prev_seq = seq;
                    o += HEADER + len;
                    valid_end = o as u64;
                    continue;
                }
            }
        };
        // at the end of the newest segment, a record that did not finish is a torn write
        let at_end = next.is_none_or(|n| n == b.len());
        if last && at_end {
            let t = issue(o, b.len() - o, format!("torn tail: {problem} (a write that did not finish); ignored"));
            return Ok(SegmentEnd { valid_end, last_seq: prev_seq, torn: Some(t) });
        }
        let what = format!("corrupt record at offset {o}: {problem}");
        if !skip_corrupt {
            return Err(Error::Corrupt {
                path: path.display().to_string(),
                offset: o as u64,
                length: (next.unwrap_or(b.len()) - o) as u64,
                message: format!("{what}; replay stopped"),
            });
        }
        let n = next.unwrap_or(b.len());
        corrupt.push(issue(o, n - o, what));
        o = n;
    }
    Ok(SegmentEnd { valid_end, last_seq: prev_seq, torn: None })
}

/// Visit every record with `after < seq <= upto`, in seq order.
pub fn scan(dir: &Path, opts: &ScanOptions, mut visit: impl FnMut(u64, u8, &[u8]) -> Result<()>) -> Result<ScanReport> {
    let segs = segments(dir)?;
    let mut r = ScanReport { segments: segs.len() as u32, ..Default::default() };
    let mut prev = 0u64;
    for (i, (first, path)) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        // a segment whose successor starts at or before after + 1 holds nothing to visit
        if !last && segs[i + 1].0 <= opts.after.saturating_add(1) {
            prev = segs[i + 1].0 - 1;
            r.last_seq = prev;
            continue;
        }
        if *first > opts.upto {
            break;
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
        let (after, upto) = (opts.after, opts.upto);
        let mut read = 0u64;
        let mut visited = 0u64;
        let end = parse_segment(path, &bytes, last, prev.max(first.saturating_sub(1)), opts.skip_corrupt, &mut r.corrupt, |seq, op, p| {
            read += 1;
            if seq > after && seq <= upto {
                visited += 1;
                visit(seq, op, p)?;
            }
            Ok(())
        })?;
        r.read += read;
        r.visited += visited;
        prev = end.last_seq;
        r.last_seq = prev;
        r.torn = end.torn;
    }
    Ok(r)
}
