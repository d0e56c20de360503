//! Mark more documents of a text index deleted, by external id, without
//! rebuilding it: every section is copied byte for byte except TOMBSTONES,
//! which becomes the union of the old and the new deletions (a major dump of
//! the text channel hides the documents the WAL replaced or deleted this
//! way; statistics stay those of the file, as for every tombstone).

use super::reader::TextIndex;
use super::{FLAG_TOMBSTONES, SECTION_FIELDS, SECTION_TOMBSTONES, roaring};
use crate::container::{self, Container, HeaderFields};
use crate::error::Result;
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Retombstoned {
    /// Deleted documents in the new file.
    pub tombstones: u64,
    /// Of the ids given, those newly deleted, and those the file does not hold.
    pub added: u64,
    pub unknown: u64,
    pub file_bytes: u64,
}

/// Write `dst`: `src` with the documents whose external ids (as text; u64 ids in decimal) are
/// in `ext_ids` deleted too, under `version` / `shard` / `shard_count` header fields.
pub fn add_tombstones(src: &Path, dst: &Path, version: u32, shard: u32, shard_count: u32, ext_ids: &[String]) -> Result<Retombstoned> {
    let idx = TextIndex::open(src)?;
    let c = Container::open(src)?;
    let mut dead: Vec<u32> = (0..idx.n).filter(|&d| idx.is_deleted(d)).collect();
    let before = dead.len();
    let mut r = Retombstoned::default();
    for e in ext_ids {
        match idx.internal_id(e) {
            Some(d) => dead.push(d),
            None => r.unknown += 1,
        }
    }
    dead.sort_unstable();
    dead.dedup();
    r.added = (dead.len() - before) as u64;
    r.tombstones = dead.len() as u64;
    let mut sections: Vec<(u32, u32, Vec<u8>)> = Vec::new();
    for s in c.sections.iter().filter(|s| s.kind != SECTION_TOMBSTONES) {
        let mut b = c.read_section(s.kind)?.unwrap_or_default();
        if s.kind == SECTION_FIELDS && b.len() >= 8 && !dead.is_empty() {
            // the FIELDS section's flags word says whether TOMBSTONES exists
            let flags = u32::from_le_bytes(b[4..8].try_into().unwrap()) | FLAG_TOMBSTONES;
            b[4..8].copy_from_slice(&flags.to_le_bytes());
        }
        sections.push((s.kind, s.version, b));
    }
    let mut fields: HeaderFields = c.header.fields.clone();
    if !dead.is_empty() {
        sections.push((SECTION_TOMBSTONES, 1, roaring::serialize(&dead)));
        fields.flags |= FLAG_TOMBSTONES;
    }
    fields.version = version;
    fields.shard = shard;
    fields.shard_count = shard_count;
    let refs: Vec<(u32, u32, &[u8])> = sections.iter().map(|(k, v, b)| (*k, *v, b.as_slice())).collect();
    r.file_bytes = container::write_container(dst, fields, &refs)?;
    Ok(r)
}
