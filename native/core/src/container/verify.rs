//! Structure checks (done on every open) and the full byte-by-byte `verify`.
//! Problems are collected, not thrown, so `recall verify` can name every bad
//! range; they are sorted by offset, so the first is the first bad byte.

use super::*;
use crate::cancel::CancelToken;
use crate::checksum::crc32c_update;
use crate::error::{Error, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// Not a recall index at all (no magic).
    NotAnIndex,
    /// A recall container of a layout version this build cannot read.
    Unsupported,
    Corrupt,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// First bad byte and how many (0 when bytes are missing at the end).
    pub offset: u64,
    pub length: u64,
    /// "header", "footer", "section table", "section 2 (kind 17)", ...
    pub region: String,
    pub message: String,
}

impl Problem {
    fn corrupt(offset: u64, length: u64, region: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { kind: ProblemKind::Corrupt, offset, length, region: region.into(), message: message.into() }
    }

    pub fn into_error(self, path: &Path) -> Error {
        let path = path.display().to_string();
        let message = format!("{}: {}", self.region, self.message);
        match self.kind {
            ProblemKind::NotAnIndex => Error::NotAnIndex { path, message },
            ProblemKind::Unsupported => Error::UnsupportedFormat { path, message },
            ProblemKind::Corrupt => Error::Corrupt { path, offset: self.offset, length: self.length, message },
        }
    }
}

#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub file_length: u64,
    pub header: Option<Header>,
    pub sections: Vec<SectionEntry>,
    /// Sorted by offset; empty when the file is intact.
    pub problems: Vec<Problem>,
}

/// What the header, footer and table say, and what is wrong with them.
pub(super) struct Layout {
    pub len: u64,
    pub header: Option<Header>,
    pub sections: Vec<SectionEntry>,
    /// False when the table could not be located or failed its checksum.
    pub table_trusted: bool,
    pub problems: Vec<Problem>,
}

fn read_exact_at(f: &File, path: &Path, buf: &mut [u8], offset: u64) -> Result<()> {
    f.read_exact_at(buf, offset).map_err(|e| Error::io(path, "read", e))
}

pub(super) fn read_layout(f: &File, path: &Path) -> Result<Layout> {
    let len = f.metadata().map_err(|e| Error::io(path, "stat", e))?.len();
    let mut lay = Layout { len, header: None, sections: Vec::new(), table_trusted: false, problems: Vec::new() };
    let p = &mut lay.problems;

    if len < MIN_LEN {
        let mut head = vec![0u8; len.min(8) as usize];
        read_exact_at(f, path, &mut head, 0)?;
        if head.len() >= 6 && head[..6] == MAGIC[..6] {
            p.push(Problem::corrupt(
                len,
                MIN_LEN - len,
                "file",
                format!("only {len} bytes; a recall index has at least {MIN_LEN} (truncated)"),
            ));
        } else {
            p.push(Problem {
                kind: ProblemKind::NotAnIndex,
                offset: 0,
                length: len,
                region: "file".into(),
                message: format!("only {len} bytes and no recall magic: not a recall index file"),
            });
        }
        return Ok(lay);
    }

    let mut hb = [0u8; HEADER_LEN as usize];
    read_exact_at(f, path, &mut hb, 0)?;
    match Header::check(&hb) {
        None => lay.header = Some(Header::decode(&hb)),
        Some(msg) => {
            let kind = if hb[..7] != MAGIC[..7] {
                ProblemKind::NotAnIndex
            } else if hb[7] != MAGIC[7] {
                ProblemKind::Unsupported
            } else {
                ProblemKind::Corrupt
            };
            p.push(Problem { kind, offset: 0, length: HEADER_LEN, region: "header".into(), message: msg });
        }
    }

    let mut fb = [0u8; FOOTER_LEN as usize];
    read_exact_at(f, path, &mut fb, len - FOOTER_LEN)?;
    let footer = Footer::decode(&fb);
    let footer_at = len - FOOTER_LEN;

    // Where the table is, from the header if it is intact, else the footer.
    let table = match (&lay.header, footer) {
        (Some(h), _) => {
            let want = h.file_length();
            if len < want {
                p.push(Problem::corrupt(len, want - len, "file", format!("truncated: {len} bytes, the header says {want}")));
            } else if len > want {
                p.push(Problem::corrupt(want, len - want, "file", format!("{} unexpected bytes after the footer", len - want)));
            } else {
                match footer {
                    None => p.push(Problem::corrupt(footer_at, FOOTER_LEN, "footer", "footer magic missing")),
                    Some(ft)
                        if ft
                            != (Footer {
                                file_length: want,
                                table_offset: h.table_offset,
                                table_crc: h.table_crc,
                                section_count: h.section_count,
                            }) =>
                    {
                        p.push(Problem::corrupt(footer_at, FOOTER_LEN, "footer", "footer fields disagree with the header"))
                    }
                    Some(_) => {}
                }
            }
            Some((h.table_offset, h.section_count, h.table_crc))
        }
        (None, Some(ft)) if ft.file_length == len => Some((ft.table_offset, ft.section_count, ft.table_crc)),
        (None, _) => {
            if !p.iter().any(|q| q.kind == ProblemKind::NotAnIndex) {
                p.push(Problem::corrupt(footer_at, FOOTER_LEN, "footer", "footer missing or wrong length, and the header is damaged too"));
            }
            None
        }
    };

    let Some((table_offset, count, table_crc)) = table else {
        lay.problems.sort_by_key(|q| q.offset);
        return Ok(lay);
    };
    let table_len = count as u64 * ENTRY_LEN;
    if table_offset < HEADER_LEN || table_offset.checked_add(table_len).is_none_or(|end| end > len) {
        p.push(Problem::corrupt(table_offset.min(len), table_len, "section table", "section table lies outside the file"));
        lay.problems.sort_by_key(|q| q.offset);
        return Ok(lay);
    }
    let mut tb = vec![0u8; table_len as usize];
    read_exact_at(f, path, &mut tb, table_offset)?;
    let actual = crc32c_update(0, &tb);
    if actual != table_crc {
        p.push(Problem::corrupt(
            table_offset,
            table_len,
            "section table",
            format!("checksum mismatch (stored {table_crc:#010x}, computed {actual:#010x})"),
        ));
    } else {
        lay.table_trusted = true;
        let mut expect = HEADER_LEN;
        for (i, chunk) in tb.chunks_exact(ENTRY_LEN as usize).enumerate() {
            let s = SectionEntry::decode(chunk);
            let entry_at = table_offset + i as u64 * ENTRY_LEN;
            if s.offset != expect || s.offset.checked_add(s.length).is_none_or(|end| end > table_offset) {
                p.push(Problem::corrupt(
                    entry_at,
                    ENTRY_LEN,
                    "section table",
                    format!("section {i} at {}+{} breaks the layout (expected to start at {expect})", s.offset, s.length),
                ));
                lay.table_trusted = false;
                break;
            }
            expect = align_up(s.offset + s.length);
            lay.sections.push(s);
        }
        if lay.table_trusted && expect != table_offset {
            p.push(Problem::corrupt(
                expect,
                table_offset.saturating_sub(expect),
                "section table",
                "table does not follow the last section",
            ));
            lay.table_trusted = false;
        }
    }
    lay.problems.sort_by_key(|q| q.offset);
    Ok(lay)
}

pub(super) fn section_name(i: usize, s: &SectionEntry) -> String {
    format!("section {i} (kind {})", s.kind)
}

/// Check every checksum, the footer and every padding byte of `path`.
/// Corruption is reported in the result; `Err` is for I/O failures and
/// cancellation only.
pub fn verify_file(path: &Path, cancel: &CancelToken) -> Result<VerifyReport> {
    let f = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let mut lay = read_layout(&f, path)?;
    if lay.table_trusted {
        let mut buf = vec![0u8; 1 << 20];
        for (i, s) in lay.sections.iter().enumerate() {
            let mut crc = 0;
            let mut at = s.offset;
            let end = s.offset + s.length;
            while at < end {
                cancel.check()?;
                let n = (end - at).min(buf.len() as u64) as usize;
                read_exact_at(&f, path, &mut buf[..n], at)?;
                crc = crc32c_update(crc, &buf[..n]);
                at += n as u64;
            }
            if crc != s.crc {
                lay.problems.push(Problem::corrupt(
                    s.offset,
                    s.length,
                    section_name(i, s),
                    format!("checksum mismatch (stored {:#010x}, computed {crc:#010x})", s.crc),
                ));
            }
            let pad = align_up(end) - end;
            if pad > 0 {
                let mut pb = [0u8; ALIGN as usize];
                read_exact_at(&f, path, &mut pb[..pad as usize], end)?;
                if pb.iter().any(|&b| b != 0) {
                    lay.problems.push(Problem::corrupt(
                        end,
                        pad,
                        format!("padding after {}", section_name(i, s)),
                        "padding bytes must be zero",
                    ));
                }
            }
        }
        lay.problems.sort_by_key(|q| q.offset);
    }
    Ok(VerifyReport { file_length: lay.len, header: lay.header, sections: lay.sections, problems: lay.problems })
}
