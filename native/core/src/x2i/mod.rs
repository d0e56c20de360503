//! The x2i index file: key -> ranked list of (item, score), keys found
//! through a NeighborHash. One container (kind X2I) with sections:
//! PARAMS (canonical JSON, for people and TS), HASHMETA (what a reader needs:
//! seed, capacity, counts), SLOTS (the NeighborHash, 16 bytes a slot) and
//! LISTS (u64 words: per key a header word `len | reserved << 32`, then `len`
//! item ids, then `len` f32 scores two to a word; score desc, item asc).
//! A slot's 52-bit payload is the word offset of its key's list. Bit 32 of a
//! header word marks a tombstone (a delta dump's deleted key: no list; the
//! key is gone, whatever older layers hold).

pub mod cf;
pub mod dump;
pub mod seedsum;
pub mod stream;

use crate::container::{self, Backing, Container, HeaderFields, Section, kind};
use crate::error::{Error, Result};
use crate::neighborhash::{self, PAYLOAD_MASK, Slot, SlotBuf, Table};
use std::path::Path;

pub const MAJOR: u16 = 1;
pub const MINOR: u16 = 0;
pub const SECTION_HASHMETA: u32 = 16;
pub const SECTION_SLOTS: u32 = 17;
pub const SECTION_LISTS: u32 = 18;

/// Lists in columnar form: key `r` owns `items/scores[offsets[r]..offsets[r+1]]`.
pub struct Lists<'a> {
    pub keys: &'a [u64],
    pub offsets: &'a [u64],
    pub items: &'a [u64],
    pub scores: &'a [f32],
    /// Keys written as tombstones (delta dumps), after the lists.
    pub deleted: &'a [u64],
}

/// Header-word bit of a tombstone.
pub const TOMBSTONE: u64 = 1 << 32;

#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    pub seed: u64,
    /// Keep at most this many items per key (after sorting); 0 = all.
    pub top_k: usize,
    /// Drop items scoring below this.
    pub min_score: Option<f32>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct X2iStats {
    pub keys: u64,
    pub edges: u64,
    pub max_len: u32,
    pub capacity: u64,
    pub load: f64,
    pub file_bytes: u64,
    /// Tombstones among `keys`.
    pub deleted: u64,
}

fn bad(row: usize, msg: String) -> Error {
    Error::InvalidArgument(format!("row {row}: {msg}"))
}

/// (key, word offset) pairs, the words, and two counts of the packed lists.
type Packed = (Vec<(u64, u64)>, Vec<u64>, u64, u32);

/// Validate, sort and pack the lists; returns (key, word offset) pairs and the words.
fn pack(l: &Lists, opts: &BuildOptions) -> Result<Packed> {
    if l.offsets.len() != l.keys.len() + 1
        || l.items.len() != l.scores.len()
        || l.offsets.last().copied().unwrap_or(0) as usize != l.items.len()
    {
        return Err(Error::InvalidArgument(
            "lists: offsets must have keys + 1 entries ending at the item count, and items and scores equal lengths".into(),
        ));
    }
    let mut words: Vec<u64> = Vec::with_capacity(l.keys.len() * 2 + l.items.len() * 3 / 2);
    let mut pairs = Vec::with_capacity(l.keys.len());
    let (mut edges, mut max_len) = (0u64, 0u32);
    let mut list: Vec<(u64, f32)> = Vec::new();
    for (r, &key) in l.keys.iter().enumerate() {
        let (s, e) = (l.offsets[r] as usize, l.offsets[r + 1] as usize);
        if s > e || e > l.items.len() {
            return Err(bad(r, format!("list bounds {s}..{e} are invalid")));
        }
        normalize_list(&l.items[s..e], &l.scores[s..e], opts, &mut list).map_err(|i| bad(r, format!("score {i} of key {key} is NaN")))?;
        let len = u32::try_from(list.len()).map_err(|_| bad(r, "list longer than 2^32".into()))?;
        let at = words.len() as u64;
        if at > PAYLOAD_MASK {
            return Err(Error::InvalidArgument("lists exceed 2^52 words; shard the input".into()));
        }
        pairs.push((key, at));
        words.push(len as u64);
        words.extend(list.iter().map(|p| p.0));
        for pair in list.chunks(2) {
            let lo = pair[0].1.to_bits() as u64;
            let hi = pair.get(1).map_or(0, |p| p.1.to_bits() as u64);
            words.push(lo | hi << 32);
        }
        edges += len as u64;
        max_len = max_len.max(len);
    }
    for &key in l.deleted {
        pairs.push((key, words.len() as u64));
        words.push(TOMBSTONE);
    }
    Ok((pairs, words, edges, max_len))
}

/// A list as the index stores it: min-score filter, score desc then item asc, a repeated item
/// keeps its best score, top-k. `Err(i)`: score `i` is NaN.
pub fn normalize_list(items: &[u64], scores: &[f32], opts: &BuildOptions, list: &mut Vec<(u64, f32)>) -> std::result::Result<(), usize> {
    list.clear();
    for (i, (&item, &score)) in items.iter().zip(scores).enumerate() {
        if score.is_nan() {
            return Err(i);
        }
        if opts.min_score.is_none_or(|m| score >= m) {
            list.push((item, score));
        }
    }
    list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if list.len() <= 32 {
        // short lists (most): a scan of the kept prefix instead of a hash set
        let mut kept = 0;
        for i in 0..list.len() {
            if !list[..kept].iter().any(|p| p.0 == list[i].0) {
                list[kept] = list[i];
                kept += 1;
            }
        }
        list.truncate(kept);
    } else {
        let mut seen = std::collections::HashSet::with_capacity(list.len());
        list.retain(|p| seen.insert(p.0));
    }
    if opts.top_k > 0 {
        list.truncate(opts.top_k);
    }
    Ok(())
}

fn le_bytes(words: impl Iterator<Item = u64>, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 8);
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// Write an x2i file at `path` (temp name, fsync, rename).
pub fn write(path: &Path, mut fields: HeaderFields, params_json: &str, lists: &Lists, opts: &BuildOptions) -> Result<X2iStats> {
    let (pairs, words, edges, max_len) = pack(lists, opts)?;
    let (slots, stats) = neighborhash::build(&pairs, opts.seed).map_err(|e| match e {
        Error::InvalidArgument(m) => {
            let row = m
                .strip_prefix("key ")
                .and_then(|x| x.split(' ').next())
                .and_then(|k| k.parse::<u64>().ok())
                .and_then(|k| lists.keys.iter().position(|&x| x == k));
            Error::InvalidArgument(match row {
                Some(r) => format!("row {r}: {m}"),
                None => m,
            })
        }
        other => other,
    })?;
    let meta = [opts.seed, slots.len() as u64, pairs.len() as u64, edges, max_len as u64];
    fields.kind = kind::X2I;
    fields.major = MAJOR;
    fields.minor = MINOR;
    let slot_bytes = le_bytes(slots.iter().flat_map(|s| [s.key, s.word]), slots.len() * 2);
    let file_bytes = container::write_container(
        path,
        fields,
        &[
            (container::SECTION_PARAMS, 1, params_json.as_bytes()),
            (SECTION_HASHMETA, 1, &le_bytes(meta.into_iter(), meta.len())),
            (SECTION_SLOTS, 1, &slot_bytes),
            (SECTION_LISTS, 1, &le_bytes(words.iter().copied(), words.len())),
        ],
    )?;
    Ok(X2iStats {
        keys: pairs.len() as u64,
        edges,
        max_len,
        capacity: stats.capacity as u64,
        load: stats.load,
        file_bytes,
        deleted: lists.deleted.len() as u64,
    })
}

/// An opened x2i file. Mapped (the default): slots and lists are views of the
/// file, so opening reads only the header, table and hash meta, and a lookup
/// pages in the slots and lists it touches. Read: the sections are copied into
/// memory, the slots into 2 MiB-aligned, huge-page-advised memory (fewer TLB
/// misses for long batch lookups) and every payload is checked once.
pub struct X2iIndex {
    slots: SlotStore,
    lists: Words,
    pub seed: u64,
    pub keys: u64,
    pub edges: u64,
    pub max_len: u32,
    pub header: container::Header,
    path: String,
}

enum SlotStore {
    Copied(SlotBuf),
    Mapped(Section),
}

enum Words {
    Copied(Vec<u64>),
    Mapped(Section),
}

/// Results of a batch lookup, flattened in query order.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    /// 0 missing, 1 found, 2 a tombstone (deleted in this layer).
    pub found: Vec<u8>,
    /// Items returned per query (0 for a miss).
    pub counts: Vec<u32>,
    pub items: Vec<u64>,
    pub scores: Vec<f32>,
}

fn words_of(bytes: &[u8]) -> Vec<u64> {
    bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}

impl X2iIndex {
    pub fn open(path: &Path) -> Result<X2iIndex> {
        X2iIndex::open_with(path, Backing::Map)
    }

    pub fn open_with(path: &Path, backing: Backing) -> Result<X2iIndex> {
        X2iIndex::open_limited(path, backing, container::CHECK_AT_OPEN_BYTES)
    }

    /// `check_at_open_bytes`: mapped files up to this size (slots + lists) get every structural check at open.
    pub(crate) fn open_limited(path: &Path, backing: Backing, check_at_open_bytes: usize) -> Result<X2iIndex> {
        let c = Container::open_kind_with(path, kind::X2I, MAJOR, backing)?;
        let p = path.display().to_string();
        let missing = |what: &str| Error::Corrupt { path: p.clone(), offset: 0, length: 0, message: format!("no {what} section") };
        let meta = words_of(&c.section(SECTION_HASHMETA)?.ok_or_else(|| missing("hash meta"))?);
        let (slots, lists) = match backing {
            Backing::Map => {
                // a small file's sections are checksum-checked at open (a flipped byte is refused, not
                // answered); a large one's are left to `recall verify`, as paging it all in would undo the mapping
                let big = c.sections.iter().filter(|s| s.kind == SECTION_SLOTS || s.kind == SECTION_LISTS).map(|s| s.length).sum::<u64>()
                    > check_at_open_bytes as u64;
                let view = |kind: u32| if big { Ok(c.section_unchecked(kind)) } else { c.section(kind) };
                (
                    SlotStore::Mapped(view(SECTION_SLOTS)?.ok_or_else(|| missing("slots"))?),
                    Words::Mapped(view(SECTION_LISTS)?.ok_or_else(|| missing("lists"))?),
                )
            }
            Backing::Read => (
                SlotStore::Copied(SlotBuf::from_le_bytes(&c.read_section(SECTION_SLOTS)?.ok_or_else(|| missing("slots"))?)),
                Words::Copied(words_of(&c.read_section(SECTION_LISTS)?.ok_or_else(|| missing("lists"))?)),
            ),
        };
        let capacity = match &slots {
            SlotStore::Copied(b) => b.as_slice().len(),
            SlotStore::Mapped(s) => s.len() / 16,
        };
        if meta.len() < 5 || meta[1] as usize != capacity || !capacity.is_power_of_two() || capacity < 8 {
            return Err(Error::Corrupt { path: p, offset: 0, length: 0, message: "hash meta disagrees with the slots section".into() });
        }
        let idx = X2iIndex {
            slots,
            lists,
            seed: meta[0],
            keys: meta[2],
            edges: meta[3],
            max_len: meta[4] as u32,
            header: c.header.clone(),
            path: p.clone(),
        };
        // Checksums prove the bytes are the ones written, not that the writer was right (or that no
        // one re-sealed an edit): every invariant lookups rely on is checked once, here, so a damaged
        // file is refused instead of panicking, looping or answering wrongly. A large mapped file
        // would be paged in whole by that: there each lookup checks the list it reads (`list_at`)
        // and `recall verify` checks everything.
        let mapped_bytes = idx.slot_slice().len() * 16 + idx.lists().len() * 8;
        if (backing == Backing::Read || mapped_bytes <= check_at_open_bytes)
            && let Err(m) = idx.verify()
        {
            let at = c.sections.iter().find(|s| s.kind == SECTION_SLOTS).map_or((0, 0), |s| (s.offset, s.length));
            return Err(Error::Corrupt { path: p, offset: at.0, length: at.1, message: format!("x2i structure: {m}") });
        }
        Ok(idx)
    }

    fn lists(&self) -> &[u64] {
        match &self.lists {
            Words::Copied(v) => v,
            Words::Mapped(s) => s.u64s(),
        }
    }

    /// Key `key`'s list at word `w`: (header word, length), or a corruption error when it does not
    /// lie inside the lists section.
    fn list_at(&self, key: u64, w: usize) -> Result<(u64, usize)> {
        let lists = self.lists();
        let head = *lists.get(w).ok_or_else(|| self.outside(key))?;
        if head & TOMBSTONE != 0 {
            return Ok((head, 0));
        }
        let len = (head & 0xffff_ffff) as usize;
        if w + 1 + len + len.div_ceil(2) > lists.len() {
            return Err(self.outside(key));
        }
        Ok((head, len))
    }

    fn outside(&self, key: u64) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            offset: 0,
            length: 0,
            message: format!("key {key} points outside the lists (run `recall verify` on the file)"),
        }
    }

    fn slot_slice(&self) -> &[Slot] {
        match &self.slots {
            SlotStore::Copied(b) => b.as_slice(),
            SlotStore::Mapped(s) => s.cast::<Slot>(),
        }
    }

    pub fn table(&self) -> Table<'_> {
        Table::new(self.slot_slice(), self.seed)
    }

    /// Look up many keys (AMAC batch), returning up to `top` items each (0 = all).
    pub fn lookup(&self, keys: &[u64], top: usize, ring: usize) -> Result<Found> {
        let t = self.table();
        let mut at = vec![0u64; keys.len()];
        neighborhash::get_batch(&t, keys, &mut at, ring);
        let lists = self.lists();
        let found = at.iter().map(|&w| (w != neighborhash::MISSING) as u8).collect();
        let mut out = Found { found, counts: vec![0; keys.len()], ..Default::default() };
        // first the heads (counts, tombstones), then one exact allocation: no regrowth copies
        let mut total = 0usize;
        #[allow(clippy::needless_range_loop)] // q indexes three parallel arrays (found, at, counts)
        for q in 0..keys.len() {
            if out.found[q] == 0 || lists.is_empty() {
                continue;
            }
            let (head, len) = self.list_at(keys[q], at[q] as usize)?;
            if head & TOMBSTONE != 0 {
                out.found[q] = 2;
                continue;
            }
            let n = if top > 0 { len.min(top) } else { len };
            out.counts[q] = n as u32;
            total += n;
        }
        out.items.reserve_exact(total);
        out.scores.reserve_exact(total);
        for (&n, &w) in out.counts.iter().zip(&at) {
            let (n, w) = (n as usize, w as usize);
            if n == 0 {
                continue;
            }
            let len = (lists[w] & 0xffff_ffff) as usize;
            out.items.extend_from_slice(&lists[w + 1..w + 1 + n]);
            let scores = &lists[w + 1 + len..];
            out.scores.extend((0..n).map(|i| f32::from_bits((scores[i / 2] >> (32 * (i % 2))) as u32)));
        }
        Ok(out)
    }

    /// Where each key's list lies: `(word, length)`, `None` for a missing key or a tombstone.
    pub fn find_lists(&self, keys: &[u64], ring: usize) -> Result<Vec<Option<(usize, usize)>>> {
        let t = self.table();
        let mut at = vec![0u64; keys.len()];
        neighborhash::get_batch(&t, keys, &mut at, ring);
        let empty = self.lists().is_empty();
        let mut out = Vec::with_capacity(keys.len());
        for q in 0..keys.len() {
            if at[q] == neighborhash::MISSING || empty {
                out.push(None);
                continue;
            }
            let (head, len) = self.list_at(keys[q], at[q] as usize)?;
            out.push(if head & TOMBSTONE != 0 { None } else { Some((at[q] as usize, len)) });
        }
        Ok(out)
    }

    /// The first `n` items of the list at `w` (from `find_lists`) with their scores, in order.
    pub fn visit_list(&self, w: usize, n: usize, mut f: impl FnMut(u64, f32)) {
        let lists = self.lists();
        let len = (lists[w] & 0xffff_ffff) as usize;
        let items = &lists[w + 1..w + 1 + n];
        let scores = &lists[w + 1 + len..];
        for (i, &item) in items.iter().enumerate() {
            f(item, f32::from_bits((scores[i / 2] >> (32 * (i % 2))) as u32));
        }
    }

    /// Every stored key in slot order: `f(key, items, scores)`, `None` for a tombstone.
    pub fn for_each(&self, mut f: impl FnMut(u64, Option<(&[u64], &[f32])>)) -> Result<()> {
        let slots = self.slot_slice();
        let lists = self.lists();
        if slots.is_empty() || lists.is_empty() {
            return Ok(());
        }
        // the reserved slot of key 0 holds a decoy unless key 0 is stored
        let z = self.table().home(0);
        let mut scores = Vec::new();
        for (i, s) in slots.iter().enumerate() {
            if (i == z && s.key != 0) || (i != z && s.key == 0 && s.word == 0) {
                continue;
            }
            let w = s.payload() as usize;
            let (head, len) = self.list_at(s.key, w)?;
            if head & TOMBSTONE != 0 {
                f(s.key, None);
                continue;
            }
            let packed = &lists[w + 1 + len..];
            scores.clear();
            scores.extend((0..len).map(|i| f32::from_bits((packed[i / 2] >> (32 * (i % 2))) as u32)));
            f(s.key, Some((&lists[w + 1..w + 1 + len], &scores)));
        }
        Ok(())
    }

    /// NeighborHash invariants (I1-I4: chains end, stay in the table and hold every key once) plus
    /// the lists: every key's list lies inside the lists section, the lists tile it exactly (no
    /// two keys share words, no word is unowned), header words have no unknown bits, scores are
    /// numbers in descending order, and the counts in the hash meta agree.
    pub fn verify(&self) -> std::result::Result<(), String> {
        let t = self.table();
        neighborhash::verify(&t, usize::try_from(self.keys).map_err(|_| "key count out of range")?)?;
        let slots = self.slot_slice();
        let z = t.home(0);
        let mut spans: Vec<(usize, usize, u64)> = Vec::with_capacity(self.keys as usize);
        let (mut edges, mut max_len) = (0u64, 0u32);
        for (i, s) in slots.iter().enumerate() {
            // free slots, and the reserved slot's decoy, own no list
            if (i == z && s.key != 0) || (i != z && s.key == 0 && s.word == 0) {
                continue;
            }
            let w = s.payload() as usize;
            let head = *self
                .lists()
                .get(w)
                .ok_or_else(|| format!("key {}: list at word {w} is outside the lists ({} words)", s.key, self.lists().len()))?;
            if head == TOMBSTONE {
                spans.push((w, 1, s.key));
                continue;
            }
            if head >> 32 != 0 {
                return Err(format!("key {}: list header word {head:#x} has unknown bits", s.key));
            }
            let len = head as usize;
            let span = 1 + len + len.div_ceil(2);
            if w + span > self.lists().len() {
                return Err(format!("key {}: list of {len} runs past the lists section", s.key));
            }
            let packed = &self.lists()[w + 1 + len..w + span];
            let score = |i: usize| f32::from_bits((packed[i / 2] >> (32 * (i % 2))) as u32);
            for i in 0..len {
                let x = score(i);
                if x.is_nan() {
                    return Err(format!("key {}: score {i} is NaN", s.key));
                }
                if i > 0 && score(i - 1).total_cmp(&x).is_lt() {
                    return Err(format!("key {}: scores are not in descending order at {i}", s.key));
                }
            }
            if len % 2 == 1 && packed[len / 2] >> 32 != 0 {
                return Err(format!("key {}: padding after the last score is not zero", s.key));
            }
            spans.push((w, span, s.key));
            edges += len as u64;
            max_len = max_len.max(len as u32);
        }
        spans.sort_unstable();
        let mut at = 0usize;
        for &(w, span, key) in &spans {
            if w != at {
                return Err(format!("key {key}: list at word {w}, expected word {at} (lists overlap or leave a gap)"));
            }
            at += span;
        }
        if at != self.lists().len() {
            return Err(format!("the lists section holds {} words, the keys' lists {at}", self.lists().len()));
        }
        if edges != self.edges || max_len != self.max_len {
            return Err(format!(
                "hash meta says {} edges (longest {}), the lists hold {edges} (longest {max_len})",
                self.edges, self.max_len
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
