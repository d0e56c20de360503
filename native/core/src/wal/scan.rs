//! Reading a WAL: segments in order, every record checked (length, CRC-32C,
//! seqs rising by one within and across segments). A torn tail is only a
//! record at the very end of the newest segment that runs past the end of the
//! file (or a tail of zeros), with no valid record after it: a write that did
//! not finish; reported, never trusted, not an error. Anything else is
//! corruption: a record that fits but fails its CRC, damaged bytes followed by
//! valid records, a seq that jumps, a missing segment. The scan stops there
//! with the segment and offset, unless `skip_corrupt`, which skips the damaged
//! bytes up to the next valid record (found by scanning forward), names the
//! seqs lost, and counts it.

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
    /// The seq the oldest segment starts at (0: no segment); records before it were truncated.
    pub first_seq: u64,
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
    /// The segment ends in skipped damage: the index of its issue in `corrupt`.
    pub skipped: Option<usize>,
}

/// The smallest record: header, seq and op.
const MIN_RECORD: usize = HEADER + BODY_FIXED;

/// The record at `o` when it is whole and valid (length sane, fits, CRC matches): its seq and end.
fn record_at(b: &[u8], o: usize) -> Option<(u64, usize)> {
    if b.len() - o < MIN_RECORD {
        return None;
    }
    let len = u32_at(b, o) as usize;
    if !(BODY_FIXED..=MAX_BODY).contains(&len) || o + HEADER + len > b.len() {
        return None;
    }
    let body = &b[o + HEADER..o + HEADER + len];
    (crc32c(body) == u32_at(b, o + 4)).then(|| (u64_at(body, 0), o + HEADER + len))
}

/// The first valid record after damage at `bad`: a whole record with a matching CRC whose seq
/// follows `prev_seq` by no more than the records the damaged bytes could have held (so random
/// bytes that happen to checksum are not taken for one).
fn resync(b: &[u8], bad: usize, prev_seq: u64) -> Option<usize> {
    let mut p = bad + 1;
    while p + MIN_RECORD <= b.len() {
        let len = u32_at(b, p) as usize;
        if (BODY_FIXED..=MAX_BODY).contains(&len) && p + HEADER + len <= b.len() {
            let seq = u64_at(b, p + HEADER);
            let most = prev_seq.saturating_add(1 + ((p - bad) / MIN_RECORD) as u64);
            if seq > prev_seq && seq <= most && record_at(b, p).is_some() {
                return Some(p);
            }
        }
        p += 1;
    }
    None
}

/// Parse one segment's bytes. `last`: this is the newest segment (its end may be torn).
/// Seqs rise by one from `prev_seq + 1`; a jump is a gap (records lost).
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
    // damage skipped since the last good record: its issue (seqs lost are named once known)
    let mut skipped: Option<usize> = None;
    while o < b.len() {
        if let Some((seq, end)) = record_at(b, o)
            && (seq == prev_seq + 1 || (skipped.is_some() && seq > prev_seq))
        {
            if let Some(i) = skipped.take()
                && seq > prev_seq + 1
            {
                corrupt[i].message.push_str(&format!(" (seqs {}..{} lost)", prev_seq + 1, seq - 1));
            }
            let body = &b[o + HEADER..end];
            visit(seq, body[8], &body[BODY_FIXED..])?;
            prev_seq = seq;
            o = end;
            valid_end = o as u64;
            continue;
        }
        // what is wrong with the record at o
        let problem = match record_at(b, o) {
            Some((seq, _)) if seq <= prev_seq => format!("seq {seq} after seq {prev_seq} (seqs must rise)"),
            Some((seq, _)) => format!("seq {seq} after seq {prev_seq}: seqs {}..{} are missing", prev_seq + 1, seq - 1),
            None if b.len() - o < MIN_RECORD => format!("a partial record of {} bytes", b.len() - o),
            None => {
                let len = u32_at(b, o) as usize;
                if !(BODY_FIXED..=MAX_BODY).contains(&len) {
                    format!("an impossible record length {len}")
                } else if o + HEADER + len > b.len() {
                    format!("a record of {len} bytes that runs past the end of the segment")
                } else {
                    String::from("a checksum mismatch")
                }
            }
        };
        let next = resync(b, o, prev_seq);
        // A torn tail: the newest segment ends in a record that did not finish and nothing valid
        // follows it. Such a record runs past the end (its length field is whole before any body
        // byte is), or the file was extended with zeros. When the bytes to the end checksum as
        // the record's body, the record is whole and only its length field is damaged: corruption.
        let partial = b.len() - o < MIN_RECORD;
        let runs_past = partial || {
            let len = u32_at(b, o) as usize;
            (BODY_FIXED..=MAX_BODY).contains(&len) && o + HEADER + len > b.len() && crc32c(&b[o + HEADER..]) != u32_at(b, o + 4)
        };
        let zeros = b[o..].iter().all(|&x| x == 0);
        if last && next.is_none() && (runs_past || zeros) && skipped.is_none() {
            let t = issue(o, b.len() - o, format!("torn tail: {problem} (a write that did not finish); ignored"));
            return Ok(SegmentEnd { valid_end, last_seq: prev_seq, torn: Some(t), skipped: None });
        }
        let end = next.unwrap_or(b.len());
        let after = match next {
            Some(n) => format!("; a valid record follows at offset {n}"),
            None if last => String::from("; not a torn tail: the record is whole, or damaged bytes follow it"),
            None => String::from("; in an older segment (only the newest can end in an unfinished write)"),
        };
        let what = format!("corrupt record at offset {o}: {problem}{after}");
        if !skip_corrupt {
            return Err(Error::Corrupt {
                path: path.display().to_string(),
                offset: o as u64,
                length: (end - o) as u64,
                message: format!("{what}; replay stopped"),
            });
        }
        if skipped.is_none() {
            corrupt.push(issue(o, end - o, what));
            skipped = Some(corrupt.len() - 1);
        } else if let Some(i) = skipped {
            corrupt[i].bytes = (end as u64) - corrupt[i].offset;
        }
        o = end;
    }
    Ok(SegmentEnd { valid_end, last_seq: prev_seq, torn: None, skipped })
}

/// A gap between segments: records `from..=to` are in no segment (a segment was deleted or lost).
fn gap(path: &Path, from: u64, to: u64) -> Error {
    Error::Corrupt {
        path: path.display().to_string(),
        offset: 0,
        length: 0,
        message: format!("seqs {from}..{to} are missing before this segment (a segment file was deleted or lost); replay stopped"),
    }
}

/// Visit every record with `after < seq <= upto`, in seq order. Seqs must continue from one
/// segment to the next: a missing range is corruption (named), as is damage inside a segment.
pub fn scan(dir: &Path, opts: &ScanOptions, mut visit: impl FnMut(u64, u8, &[u8]) -> Result<()>) -> Result<ScanReport> {
    let segs = segments(dir)?;
    let mut r = ScanReport { segments: segs.len() as u32, first_seq: segs.first().map_or(0, |s| s.0), ..Default::default() };
    let mut prev = 0u64;
    // the previous segment was read (so `prev` is its last seq), and ended in skipped damage
    let mut read_prev = false;
    let mut skipped_prev: Option<usize> = None;
    for (i, (first, path)) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if read_prev && *first != prev + 1 {
            if let Some(k) = skipped_prev.filter(|_| *first > prev + 1) {
                r.corrupt[k].message.push_str(&format!(" (seqs {}..{} lost)", prev + 1, first - 1));
            } else {
                let e = if *first > prev + 1 {
                    gap(path, prev + 1, first - 1)
                } else {
                    Error::Corrupt {
                        path: path.display().to_string(),
                        offset: 0,
                        length: 0,
                        message: format!("this segment is named for seq {first}, but the one before it ends at seq {prev}; replay stopped"),
                    }
                };
                if !opts.skip_corrupt {
                    return Err(e);
                }
                if let Error::Corrupt { message, .. } = e {
                    r.corrupt.push(Issue { segment: path.clone(), offset: 0, bytes: 0, message: message.replace("; replay stopped", "") });
                }
            }
        }
        // a segment whose successor starts at or before after + 1 holds nothing to visit
        if !last && segs[i + 1].0 <= opts.after.saturating_add(1) {
            prev = segs[i + 1].0 - 1;
            r.last_seq = prev;
            read_prev = false;
            continue;
        }
        if *first > opts.upto {
            break;
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
        let (after, upto) = (opts.after, opts.upto);
        let mut read = 0u64;
        let mut visited = 0u64;
        let end = parse_segment(path, &bytes, last, first.saturating_sub(1), opts.skip_corrupt, &mut r.corrupt, |seq, op, p| {
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
        read_prev = true;
        skipped_prev = end.skipped;
    }
    Ok(r)
}
