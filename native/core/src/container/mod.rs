//! The one file container every recall index kind uses.
//! All integers little-endian.
//!
//! ```text
//! [header 64 B][section 1]..[section S][section table S x 32 B][footer 32 B]
//! ```
//! Header: magic `RCLIDX\0\x01` (the last byte is the container layout
//! version), u16 file kind, u16 format major, u16 format minor (of that kind),
//! u16 header length (64), u32 flags, u32 section count, u64 section table
//! offset, u64 build id, u32 index version, u32 shard, u32 shard count,
//! u32 CRC-32C of the table, u32 reserved (0), u32 CRC-32C of bytes 0..60.
//! Sections start 8-byte aligned, back to back in table order, zero padded;
//! the table follows the last one (aligned). Table entry: u32 kind,
//! u32 version, u64 offset, u64 length, u32 CRC-32C, u32 reserved (0).
//! Footer: u64 file length, u64 table offset, u32 table CRC-32C, u32 section
//! count, magic `RCLIDEND`; every field repeats what the header implies, so a
//! truncated or appended file is caught on open and a damaged footer is told
//! apart from a damaged table.
//!
//! With that strict layout every byte of a file is covered by a checksum or a
//! rule (padding must be zero), so `verify` finds any flipped byte.
//! Section kind 1 is PARAMS (canonical JSON: hash id and seed, tokenizer,
//! metric, ...) in every kind: a reader never guesses parameters.

mod backing;
mod read;
pub mod verify;
mod write;

pub use backing::{Backing, Section};
pub use read::Container;
pub use verify::{Problem, VerifyReport, verify_file};
pub use write::{ContainerWriter, write_container};

pub const MAGIC: [u8; 8] = *b"RCLIDX\0\x01";
pub const FOOTER_MAGIC: [u8; 8] = *b"RCLIDEND";
pub const HEADER_LEN: u64 = 64;
pub const ENTRY_LEN: u64 = 32;
pub const FOOTER_LEN: u64 = 32;
pub const ALIGN: u64 = 8;
/// The smallest valid file: header, empty table, footer.
pub const MIN_LEN: u64 = HEADER_LEN + FOOTER_LEN;

/// Section kinds below 16 are shared by every file kind.
pub const SECTION_PARAMS: u32 = 1;

/// File kinds (header offset 8).
pub mod kind {
    pub const INVERTED: u16 = 1;
    pub const X2I: u16 = 2;
    pub const VECTOR: u16 = 3;
    /// Format fixtures and tests.
    pub const SAMPLE: u16 = 15;
}

/// Mapped sections up to this size get every structural check of their reader at open; larger
/// ones are checked where a query reads them (paging in a whole large file at open would undo the
/// mapping), and `recall verify` checks everything.
pub const CHECK_AT_OPEN_BYTES: usize = 64 << 20;

/// What a writer chooses; the rest of the header is derived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderFields {
    pub kind: u16,
    pub major: u16,
    pub minor: u16,
    pub flags: u32,
    pub build_id: u64,
    pub version: u32,
    pub shard: u32,
    pub shard_count: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub fields: HeaderFields,
    pub section_count: u32,
    pub table_offset: u64,
    pub table_crc: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionEntry {
    pub kind: u32,
    pub version: u32,
    pub offset: u64,
    pub length: u64,
    pub crc: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    pub file_length: u64,
    pub table_offset: u64,
    pub table_crc: u32,
    pub section_count: u32,
}

pub(crate) fn align_up(x: u64) -> u64 {
    x.div_ceil(ALIGN) * ALIGN
}

use crate::bytes::{u16_at, u32_at, u64_at};

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let f = &self.fields;
        let mut b = [0u8; HEADER_LEN as usize];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&f.kind.to_le_bytes());
        b[10..12].copy_from_slice(&f.major.to_le_bytes());
        b[12..14].copy_from_slice(&f.minor.to_le_bytes());
        b[14..16].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        b[16..20].copy_from_slice(&f.flags.to_le_bytes());
        b[20..24].copy_from_slice(&self.section_count.to_le_bytes());
        b[24..32].copy_from_slice(&self.table_offset.to_le_bytes());
        b[32..40].copy_from_slice(&f.build_id.to_le_bytes());
        b[40..44].copy_from_slice(&f.version.to_le_bytes());
        b[44..48].copy_from_slice(&f.shard.to_le_bytes());
        b[48..52].copy_from_slice(&f.shard_count.to_le_bytes());
        b[52..56].copy_from_slice(&self.table_crc.to_le_bytes());
        let crc = crate::checksum::crc32c(&b[0..60]);
        b[60..64].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decode without judging; `check` says what is wrong.
    pub fn decode(b: &[u8; HEADER_LEN as usize]) -> Header {
        Header {
            fields: HeaderFields {
                kind: u16_at(b, 8),
                major: u16_at(b, 10),
                minor: u16_at(b, 12),
                flags: u32_at(b, 16),
                build_id: u64_at(b, 32),
                version: u32_at(b, 40),
                shard: u32_at(b, 44),
                shard_count: u32_at(b, 48),
            },
            section_count: u32_at(b, 20),
            table_offset: u64_at(b, 24),
            table_crc: u32_at(b, 52),
        }
    }

    /// The first thing wrong with raw header bytes, if any.
    pub fn check(b: &[u8; HEADER_LEN as usize]) -> Option<String> {
        if b[0..7] != MAGIC[0..7] {
            return Some("bad magic (not a recall index file)".into());
        }
        if b[7] != MAGIC[7] {
            return Some(format!("container layout version {} is not supported (this build reads {})", b[7], MAGIC[7]));
        }
        let stored = u32_at(b, 60);
        let actual = crate::checksum::crc32c(&b[0..60]);
        if stored != actual {
            return Some(format!("header checksum mismatch (stored {stored:#010x}, computed {actual:#010x})"));
        }
        if u16_at(b, 14) as u64 != HEADER_LEN || u32_at(b, 56) != 0 {
            return Some("header length or reserved field is not what this version writes".into());
        }
        None
    }

    /// The file length this header implies.
    pub fn file_length(&self) -> u64 {
        self.table_offset + self.section_count as u64 * ENTRY_LEN + FOOTER_LEN
    }
}

impl SectionEntry {
    pub fn encode(&self) -> [u8; ENTRY_LEN as usize] {
        let mut b = [0u8; ENTRY_LEN as usize];
        b[0..4].copy_from_slice(&self.kind.to_le_bytes());
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..16].copy_from_slice(&self.offset.to_le_bytes());
        b[16..24].copy_from_slice(&self.length.to_le_bytes());
        b[24..28].copy_from_slice(&self.crc.to_le_bytes());
        b
    }
    pub fn decode(b: &[u8]) -> SectionEntry {
        SectionEntry { kind: u32_at(b, 0), version: u32_at(b, 4), offset: u64_at(b, 8), length: u64_at(b, 16), crc: u32_at(b, 24) }
    }
}

impl Footer {
    pub fn encode(&self) -> [u8; FOOTER_LEN as usize] {
        let mut b = [0u8; FOOTER_LEN as usize];
        b[0..8].copy_from_slice(&self.file_length.to_le_bytes());
        b[8..16].copy_from_slice(&self.table_offset.to_le_bytes());
        b[16..20].copy_from_slice(&self.table_crc.to_le_bytes());
        b[20..24].copy_from_slice(&self.section_count.to_le_bytes());
        b[24..32].copy_from_slice(&FOOTER_MAGIC);
        b
    }
    pub fn decode(b: &[u8; FOOTER_LEN as usize]) -> Option<Footer> {
        if b[24..32] != FOOTER_MAGIC {
            return None;
        }
        Some(Footer { file_length: u64_at(b, 0), table_offset: u64_at(b, 8), table_crc: u32_at(b, 16), section_count: u32_at(b, 20) })
    }
}

#[cfg(test)]
mod tests;
