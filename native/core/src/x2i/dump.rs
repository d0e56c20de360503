//! x2i dumps: replay the WAL's x2i records into "changes" (last writer wins per
//! key), then write one shard of a new version, either a major dump (base,
//! deltas and changes merged into one complete file) or a delta (only the
//! changed keys, deletes as tombstones).
//!
//! Keys are routed to shards as `recall shard` and `recall query x2i` route
//! them: xxHash64 of the key's 8 little-endian bytes, seed 0, modulo the shard count.

use super::{BuildOptions, Lists, X2iIndex, X2iStats, normalize_list, write};
use crate::container::HeaderFields;
use crate::error::{Error, Result};
use crate::fastmap::FastMap;
use crate::hash::xxh64_u64;
use crate::wal::{self, Channel, ScanOptions, ScanReport, decode_op, payload};
use std::path::Path;

/// A key's last state: a list in the arena, or deleted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    Upsert { start: usize, len: usize },
    Delete,
}

/// What a run of WAL records does to x2i keys, last writer wins.
#[derive(Default)]
pub struct Changes {
    pub by_key: FastMap<u64, Change>,
    /// Lists of upserts; an overwritten upsert leaves its list here unused.
    pub items: Vec<u64>,
    pub scores: Vec<f32>,
    /// x2i records applied (others are skipped).
    pub records: u64,
    pub upserts: u64,
    pub deletes: u64,
    /// Wall time of the replay (scan, checks, last writer wins).
    pub seconds: f64,
}

impl Changes {
    pub fn apply(&mut self, seq: u64, op: u8, p: &[u8]) -> Result<()> {
        let Some((Channel::X2i, delete)) = decode_op(op) else { return Ok(()) };
        let bad = |e: Error| Error::InvalidArgument(format!("WAL record seq {seq}: {e}"));
        self.records += 1;
        if delete {
            self.deletes += 1;
            self.by_key.insert(payload::key(p).map_err(bad)?, Change::Delete);
        } else {
            self.upserts += 1;
            let start = self.items.len();
            let key = payload::read_x2i_upsert_into(p, &mut self.items, &mut self.scores).map_err(bad)?;
            self.by_key.insert(key, Change::Upsert { start, len: self.items.len() - start });
        }
        Ok(())
    }

    pub fn list(&self, start: usize, len: usize) -> (&[u64], &[f32]) {
        (&self.items[start..start + len], &self.scores[start..start + len])
    }
}

/// The last state of every key a replay touched, keys ascending, lists normalised as the
/// index stores them (`normalize_list`); a deleted key has count 0.
#[derive(Debug, Default, PartialEq)]
pub struct ReplayLists {
    pub keys: Vec<u64>,
    pub deleted: Vec<u8>,
    pub counts: Vec<u32>,
    pub items: Vec<u64>,
    pub scores: Vec<f32>,
}

/// `changes` as sorted, normalised lists. `Err((key, i))`: score `i` of `key`'s list is NaN.
pub fn replay_lists(changes: &Changes, opts: &BuildOptions) -> std::result::Result<ReplayLists, (u64, usize)> {
    let mut entries: Vec<(&u64, &Change)> = changes.by_key.iter().collect();
    entries.sort_unstable_by_key(|e| *e.0);
    let mut out = ReplayLists::default();
    let mut list = Vec::new();
    for (&key, ch) in entries {
        out.keys.push(key);
        match *ch {
            Change::Delete => {
                out.deleted.push(1u8);
                out.counts.push(0u32);
            }
            Change::Upsert { start, len } => {
                let (i, s) = changes.list(start, len);
                normalize_list(i, s, opts, &mut list).map_err(|i| (key, i))?;
                out.deleted.push(0);
                out.counts.push(list.len() as u32);
                out.items.extend(list.iter().map(|p| p.0));
                out.scores.extend(list.iter().map(|p| p.1));
            }
        }
    }
    Ok(out)
}

/// Replay the x2i records of a WAL in a seq range.
pub fn replay(wal_dir: &Path, opts: &ScanOptions) -> Result<(Changes, ScanReport)> {
    let t0 = std::time::Instant::now();
    let mut ch = Changes::default();
    let r = wal::scan(wal_dir, opts, |seq, op, p| ch.apply(seq, op, p))?;
    ch.seconds = t0.elapsed().as_secs_f64();
    Ok((ch, r))
}

pub fn shard_of(key: u64, shard_count: u32) -> u32 {
    if shard_count <= 1 { 0 } else { (xxh64_u64(key, 0) % shard_count as u64) as u32 }
}

/// Columnar lists being assembled, one key at a time.
#[derive(Default)]
struct Collect {
    keys: Vec<u64>,
    offsets: Vec<u64>,
    items: Vec<u64>,
    scores: Vec<f32>,
    deleted: Vec<u64>,
}

impl Collect {
    fn push(&mut self, key: u64, items: &[u64], scores: &[f32]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.keys.push(key);
        self.items.extend_from_slice(items);
        self.scores.extend_from_slice(scores);
        self.offsets.push(self.items.len() as u64);
    }

    /// Reorder by key, so the same state always gives the same bytes.
    fn sorted(self) -> Collect {
        let mut order: Vec<u32> = (0..self.keys.len() as u32).collect();
        order.sort_unstable_by_key(|&r| self.keys[r as usize]);
        let mut out = Collect { offsets: vec![0], deleted: self.deleted, ..Default::default() };
        out.items.reserve(self.items.len());
        out.scores.reserve(self.scores.len());
        for r in order {
            let (s, e) = (self.offsets[r as usize] as usize, self.offsets[r as usize + 1] as usize);
            out.push(self.keys[r as usize], &self.items[s..e], &self.scores[s..e]);
        }
        out.deleted.sort_unstable();
        out
    }

    fn write(self, path: &Path, fields: HeaderFields, params_json: &str, opts: &BuildOptions) -> Result<X2iStats> {
        let c = self.sorted();
        let lists = Lists { keys: &c.keys, offsets: &c.offsets, items: &c.items, scores: &c.scores, deleted: &c.deleted };
        write(path, fields, params_json, &lists, opts)
    }
}

pub struct ShardDump<'a> {
    pub shard: u32,
    pub shard_count: u32,
    /// The version's layers, oldest first: the base, then its deltas.
    pub layers: &'a [X2iIndex],
    pub changes: &'a Changes,
    /// Seed, top-k and min-score of the base build, applied to upserted lists too.
    pub opts: BuildOptions,
}

/// One key's items and scores.
type ItemList = (Vec<u64>, Vec<f32>);

/// A major dump of one shard: every live key of the layers and the changes, in one file.
pub fn write_major(d: &ShardDump, path: &Path, fields: HeaderFields, params_json: &str) -> Result<X2iStats> {
    // the newest state of every key the deltas or the changes touch
    let mut over: FastMap<u64, Option<ItemList>> = FastMap::default();
    let mut out = Collect::default();
    for (&key, ch) in &d.changes.by_key {
        if shard_of(key, d.shard_count) == d.shard {
            match *ch {
                Change::Upsert { start, len } => {
                    let (i, s) = d.changes.list(start, len);
                    out.push(key, i, s);
                }
                Change::Delete => {}
            }
            over.insert(key, None);
        }
    }
    let Some((base, deltas)) = d.layers.split_first() else { return Err(Error::InvalidArgument("a dump needs the base layer".into())) };
    for delta in deltas.iter().rev() {
        delta.for_each(|key, list| {
            if over.contains_key(&key) {
                return;
            }
            over.insert(key, None);
            if let Some((i, s)) = list {
                out.push(key, i, s);
            }
        })?;
    }
    base.for_each(|key, list| {
        if let (false, Some((i, s))) = (over.contains_key(&key), list) {
            out.push(key, i, s);
        }
    })?;
    out.write(path, fields, params_json, &d.opts)
}

/// A delta of one shard: the changed keys only, deletes as tombstones.
pub fn write_delta(d: &ShardDump, path: &Path, fields: HeaderFields, params_json: &str) -> Result<X2iStats> {
    let mut out = Collect::default();
    for (&key, ch) in &d.changes.by_key {
        if shard_of(key, d.shard_count) != d.shard {
            continue;
        }
        match *ch {
            Change::Upsert { start, len } => {
                let (i, s) = d.changes.list(start, len);
                out.push(key, i, s);
            }
            Change::Delete => out.deleted.push(key),
        }
    }
    out.write(path, fields, params_json, &d.opts)
}
