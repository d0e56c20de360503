//! The write-ahead log: incremental
//! upserts and deletes, appended in order and replayed into dumps.
//!
//! A WAL is a folder of segment files `<first seq, 20 digits>.wal`, each a run
//! of records `[u32 length][u32 crc32c][u64 seq][u8 op][payload]`, little-endian;
//! `length` counts seq + op + payload and the CRC-32C covers those same bytes.
//! Sequence numbers start at 1 and rise by one across segments, so a dump can
//! record the last one it applied and a replay is idempotent. One writer at a
//! time (an `flock` on `LOCK`); readers need no lock: they stop at the first
//! record that is not complete, which is what a writer that is still running
//! (or died mid-write) leaves at the end.

mod lock;
mod scan;
mod write;

#[cfg(test)]
mod tests;

pub use lock::WalLock;
pub use scan::{Issue, ScanOptions, ScanReport, scan, segments};
pub use write::{Fsync, Writer, WriterOptions, drop_record, truncate_before};

use crate::error::{Error, Result};

/// Bytes before the record body: length and CRC.
pub const HEADER: usize = 8;
/// seq + op.
pub const BODY_FIXED: usize = 9;
/// A record body larger than this is taken as damage, not data (a 1 GiB list is not an update).
pub const MAX_BODY: usize = 1 << 30;
pub const SEGMENT_EXT: &str = "wal";

/// The segment file that starts with `seq`.
pub fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.{SEGMENT_EXT}")
}

/// What a record does: an upsert or a delete, per channel. The op byte is
/// `1 + 2 * channel + (1 for a delete)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    X2i = 0,
    Vector = 1,
    Inverted = 2,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "x2i" => Some(Channel::X2i),
            "vector" => Some(Channel::Vector),
            "inverted" => Some(Channel::Inverted),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Channel::X2i => "x2i",
            Channel::Vector => "vector",
            Channel::Inverted => "inverted",
        }
    }
    pub fn op(self, delete: bool) -> u8 {
        1 + 2 * self as u8 + delete as u8
    }
}

/// The op bit of a dropped record: an operator took it out of replay (`drop_record`); the
/// original op and payload stay for the record, and every reader skips it.
pub const DROPPED: u8 = 0x80;

/// (channel, is delete) of an op byte; None for an unknown or dropped op.
pub fn decode_op(op: u8) -> Option<(Channel, bool)> {
    if op & DROPPED != 0 {
        return None;
    }
    let c = match op.checked_sub(1)? / 2 {
        0 => Channel::X2i,
        1 => Channel::Vector,
        2 => Channel::Inverted,
        _ => return None,
    };
    Some((c, op.is_multiple_of(2)))
}

fn bad_payload(what: &str) -> Error {
    Error::InvalidArgument(format!("WAL record payload: {what}"))
}

use crate::bytes::{u32_at, u64_at};

/// Payload codecs. x2i upsert: `i64 key, u32 n, n × u64 item, n × f32 score`;
/// vector upsert: `u64 id, u32 dim, dim × f32`; inverted upsert: `u32 id bytes,
/// id (UTF-8), fields as JSON`; a delete is the key / id alone (inverted: the id's bytes).
pub mod payload {
    use super::*;

    pub fn x2i_upsert(key: u64, items: &[u64], scores: &[f32], out: &mut Vec<u8>) {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&(items.len() as u32).to_le_bytes());
        out.reserve(items.len() * 12);
        for i in items {
            out.extend_from_slice(&i.to_le_bytes());
        }
        for s in scores {
            out.extend_from_slice(&s.to_le_bytes());
        }
    }

    /// An x2i upsert followed by a tag: `u32 m, m bytes` (a stream writes its source position
    /// there, so a replay after a crash recognises the records it already appended).
    pub fn x2i_upsert_tagged(key: u64, items: &[u64], scores: &[f32], tag: &[u8], out: &mut Vec<u8>) {
        x2i_upsert(key, items, scores, out);
        if !tag.is_empty() {
            out.extend_from_slice(&(tag.len() as u32).to_le_bytes());
            out.extend_from_slice(tag);
        }
    }

    /// The tag of an x2i upsert (empty when it has none).
    pub fn x2i_upsert_tag(p: &[u8]) -> Result<&[u8]> {
        if p.len() < 12 {
            return Err(bad_payload("x2i upsert shorter than its header"));
        }
        let at = 12 + u32_at(p, 8) as usize * 12;
        if p.len() == at {
            return Ok(&[]);
        }
        if p.len() < at + 4 || p.len() != at + 4 + u32_at(p, at) as usize {
            return Err(bad_payload("x2i upsert length disagrees with its item count"));
        }
        Ok(&p[at + 4..])
    }

    /// The key of an x2i or vector record (upsert or delete).
    pub fn key(p: &[u8]) -> Result<u64> {
        if p.len() < 8 {
            return Err(bad_payload("shorter than its 8-byte key"));
        }
        Ok(u64_at(p, 0))
    }

    /// The key of an x2i upsert; its items and scores are appended to `items` / `scores`.
    pub fn read_x2i_upsert_into(p: &[u8], items: &mut Vec<u64>, scores: &mut Vec<f32>) -> Result<u64> {
        if p.len() < 12 {
            return Err(bad_payload("x2i upsert shorter than its header"));
        }
        let n = u32_at(p, 8) as usize;
        x2i_upsert_tag(p)?;
        let at = 12 + 8 * n;
        items.extend(p[12..at].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())));
        scores.extend(p[at..at + 4 * n].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())));
        Ok(u64_at(p, 0))
    }
}
