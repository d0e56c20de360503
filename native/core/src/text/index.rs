//! Reading a text index: sections loaded (checksums checked), term lookup via
//! the dictionary index + one front-coded block, posting cursors with lazy tf
//! decoding and skip-table `advance`.

use super::analyzer::{Analyzer, Segmentation};
use super::codec::{BLOCK, get_vint, u16_at, u32_at, u64_at, unpack, unpack_docs};
use super::*;
use crate::container::{Container, kind};
use crate::error::{Error, Result};
use std::path::Path;

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    pub total_tokens: u64,
    pub docs_with: u32,
    pub k1: f64,
    pub b: f64,
    pub weight: f64,
}

pub enum ExtIdStore {
    U64(Vec<u64>),
    Str { off: Vec<u64>, bytes: Vec<u8> },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TermInfo {
    pub ord: u32,
    pub field: u8,
    pub df: u32,
    pub total_tf: u64,
    pub max_tf_sat: u8,
    pub min_len_code: u8,
    /// df == 1: (doc, tf) inlined in the dictionary.
    pub singleton: Option<(u32, u32)>,
    pub post_off: u64,
    pub post_len: u64,
}

#[derive(Clone, Copy, Debug)]
pub struct PairInfo {
    pub df: u32,
    pub max_tf: [u8; 2],
    pub min_len_code: u8,
    pub post_off: u64,
    pub post_len: u64,
}

pub struct TextIndex {
    pub path: String,
    pub n: u32,
    pub flags: u32,
    pub num_terms: u64,
    pub fields: Vec<FieldInfo>,
    pub analyzer: Analyzer,
    pub analyzer_desc: String,
    n_blocks: usize,
    dict_index: Vec<u8>,
    dict_blocks: Vec<u8>,
    postings: Vec<u8>,
    pub len_table: [u32; 256],
    /// DOC_LENS codes, field-major (`F * N`).
    codes: Vec<u8>,
    forward: Option<Vec<u8>>,
    pub pair_kind: PairKind,
    pair_dict: Vec<u8>,
    n_pairs: usize,
    pair_postings: Vec<u8>,
    pub ext: ExtIdStore,
    perm: Vec<u32>,
    /// Per field: k1 * (1 - b + b * table[code] / avgdl) for the stored k1 and b (queries that
    /// keep the defaults use these instead of recomputing 256 values).
    pub norms: Vec<[f64; 256]>,
    /// Per field: the tf = 1 factor (k1 + 1) / (1 + norm) by length code, for the stored k1 and b.
    pub ones: Vec<[f64; 256]>,
    /// Deleted internal ids as a bitset (TOMBSTONES).
    deleted: Option<Vec<u64>>,
    pub deleted_count: u64,
    /// Doc bitsets of the dense terms, made at open (see `dense_bits`).
    dense: crate::fastmap::FastMap<u32, DenseBits>,
    /// Every DICT_SKIP-th dictionary entry with its full key, and every term's skip entry by the
    /// hash of its key (made at open): a lookup reads a hash slot and decodes at most DICT_SKIP
    /// entries instead of half a 64-term block.
    skips: DictSkips,
}

/// A dense term's documents as a bitset, with the count of set bits before every word: the position
/// of a doc in the list, and so its tf, is found without decoding a block.
pub struct DenseBits {
    bits: Vec<u64>,
    ranks: Vec<u32>,
    /// The tf of every posting in list order, saturated at 255: a doc's tf is tf8[rank].
    tf8: Vec<u8>,
}

impl DenseBits {
    #[inline(always)]
    pub fn has(&self, d: u32) -> bool {
        self.bits[d as usize / 64] >> (d % 64) & 1 == 1
    }
    /// Docs of the list below `d`.
    #[inline]
    pub fn rank(&self, d: u32) -> usize {
        let w = d as usize / 64;
        self.ranks[w] as usize + (self.bits[w] & ((1u64 << (d % 64)) - 1)).count_ones() as usize
    }
    /// tf of doc `d` (which the list holds); None when it is 255 or more (read it from the list).
    #[inline]
    pub fn tf(&self, d: u32) -> Option<u32> {
        let t = self.tf8[self.rank(d)];
        (t != u8::MAX).then_some(t as u32)
    }
    fn bytes(&self) -> usize {
        self.bits.len() * 8 + self.ranks.len() * 4 + self.tf8.len()
    }
}

/// See `TextIndex::skips`.
#[derive(Default)]
struct DictSkips {
    keys: Vec<u8>,
    /// keys[key_end[i - 1]..key_end[i]] is entry i's key.
    key_end: Vec<u32>,
    /// (dictionary block, entry index in it, byte position of the entry, postings offset there).
    at: Vec<(u32, u16, u32, u64)>,
    /// Every term's skip entry by the hash of its key: a lookup reads one slot (rarely two) and
    /// then decodes at most DICT_SKIP entries; a binary search of the skips chained ~15 reads,
    /// each a likely cache miss on a cold index.
    by_hash: DictHash,
}

/// Open addressing with linear probing; a slot is (the key hash's high 32 bits) << 32 | (skip
/// entry + 1), 0 when empty. Keys are not stored: a tag match is confirmed by decoding the entry.
#[derive(Default)]
struct DictHash {
    slots: Vec<u64>,
}

impl DictHash {
    fn hash(key: &[u8]) -> u64 {
        use std::hash::Hasher;
        let mut h = crate::fastmap::FoldHasher::default();
        h.write(key);
        h.finish()
    }

    /// From (key hash, skip entry) of every term; at most 2/3 full.
    fn new(terms: &[(u64, u32)]) -> DictHash {
        let n = (terms.len() * 3 / 2 + 1).next_power_of_two();
        let mut slots = vec![0u64; n];
        for &(h, e) in terms {
            let mut i = h as usize & (n - 1);
            while slots[i] != 0 {
                i = (i + 1) & (n - 1);
            }
            slots[i] = (h >> 32) << 32 | (e as u64 + 1);
        }
        DictHash { slots }
    }

    /// The skip entries whose terms' hashes share `h`'s tag, in probe order (the first is the
    /// key's own unless two tags collide).
    #[inline]
    fn candidates(&self, h: u64) -> impl Iterator<Item = usize> + '_ {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = h as usize & mask;
        std::iter::from_fn(move || {
            loop {
                let s = *self.slots.get(i)?;
                if s == 0 {
                    return None;
                }
                i = (i + 1) & mask;
                if s >> 32 == h >> 32 {
                    return Some((s as u32 - 1) as usize);
                }
            }
        })
    }

    fn prefetch(&self, h: u64) {
        if let Some(s) = self.slots.get(h as usize & self.slots.len().wrapping_sub(1)) {
            crate::prefetch::prefetch(s);
        }
    }
}

impl DictSkips {
    fn key(&self, i: usize) -> &[u8] {
        let s = if i == 0 { 0 } else { self.key_end[i - 1] as usize };
        &self.keys[s..self.key_end[i] as usize]
    }
    fn bytes(&self) -> usize {
        self.keys.len() + self.key_end.len() * 4 + self.at.len() * 24 + self.by_hash.slots.len() * 8
    }
}

const DICT_SKIP: usize = 8;

/// Dense terms (df >= max(DENSE_MIN_DF, n / 256)) get a bitset of their documents, with per-word
/// ranks and a byte of tf per posting, when the index is opened, the most frequent first, up to
/// DENSE_BUDGET bytes: a conjunction or a MaxScore probe then tests a bit where it would otherwise
/// move a cursor through blocks (most probes of a long list miss), and reads the tf of a doc that
/// has the term at its rank. Made at open, not on first use, so no query pays for one and none
/// takes a lock: for the 273k-entry dictionary corpus, 319 terms, 20 MB and about 170 M
/// instructions (the dictionary pass included).
const DENSE_MIN_DF: u32 = 2048;
const DENSE_BUDGET: usize = 64 << 20;

fn corrupt(path: &str, what: impl Into<String>) -> Error {
    Error::Corrupt { path: path.to_string(), offset: 0, length: 0, message: what.into() }
}

impl TextIndex {
    pub fn open(path: &Path) -> Result<TextIndex> {
        let c = Container::open_kind(path, kind::INVERTED, MAJOR)?;
        let p = path.display().to_string();
        let need =
            |k: u32| -> Result<Vec<u8>> { c.read_section(k)?.ok_or_else(|| corrupt(&p, format!("no {} section", section_label(k)))) };
        let fl = need(SECTION_FIELDS)?;
        let bad = |m: &str| corrupt(&p, format!("fields section: {m}"));
        if fl.len() < 28 {
            return Err(bad("too short"));
        }
        let n = u32_at(&fl, 0);
        let flags = u32_at(&fl, 4);
        let num_terms = u64_at(&fl, 8);
        if u16_at(&fl, 16) as usize != BLOCK || u16_at(&fl, 18) as usize != TERMS_PER_DICT_BLOCK {
            return Err(bad("unsupported block sizes"));
        }
        let nf = u16_at(&fl, 20) as usize;
        let seg = match fl[22] {
            0 => Segmentation::Standard,
            1 => Segmentation::Segmented,
            x => return Err(bad(&format!("unknown segmentation {x}"))),
        };
        let max_tok = u32_at(&fl, 24) as usize;
        let mut pos = 28;
        let mut fields = Vec::with_capacity(nf);
        for _ in 0..nf {
            let get = |pos: usize, len: usize| fl.get(pos..pos + len).ok_or_else(|| bad("truncated field entry"));
            let nl = u16_at(get(pos, 2)?, 0) as usize;
            let name = String::from_utf8_lossy(get(pos + 2, nl)?).into_owned();
            pos += 2 + nl;
            let e = get(pos, 36)?;
            let f64_at = |i: usize| f64::from_le_bytes(e[i..i + 8].try_into().unwrap());
            fields.push(FieldInfo {
                name,
                total_tokens: u64_at(e, 0),
                docs_with: u32_at(e, 8),
                k1: f64_at(12),
                b: f64_at(20),
                weight: f64_at(28),
            });
            pos += 36;
        }
        let al = u32_at(fl.get(pos..pos + 4).ok_or_else(|| bad("no analyzer"))?, 0) as usize;
        let analyzer_desc = String::from_utf8_lossy(fl.get(pos + 4..pos + 4 + al).ok_or_else(|| bad("truncated analyzer"))?).into_owned();

        let dict_index = need(SECTION_DICT_INDEX)?;
        let n_blocks = u32_at(&dict_index, 0) as usize;
        if dict_index.len() < 8 + (n_blocks + 1) * 12 || (num_terms as usize).div_ceil(TERMS_PER_DICT_BLOCK) != n_blocks {
            return Err(corrupt(&p, "dictionary index does not match the term count"));
        }
        let lens = need(SECTION_DOC_LENS)?;
        if lens.len() != 1024 + nf * n as usize {
            return Err(corrupt(&p, "doc-lens section has the wrong size"));
        }
        let mut len_table = [0u32; 256];
        for (i, v) in len_table.iter_mut().enumerate() {
            *v = u32_at(&lens, 4 * i);
        }
        let codes = lens[1024..].to_vec();
        let (pair_kind, pair_dict, pair_postings, n_pairs) = if flags & FLAG_PAIRS != 0 {
            let d = need(SECTION_PAIR_DICT)?;
            let k = match d.first() {
                Some(1) => PairKind::Cooc,
                Some(2) => PairKind::Adjacent,
                _ => return Err(corrupt(&p, "pair dictionary: unknown kind")),
            };
            let np = u64_at(&d, 8) as usize;
            if d.len() != 16 + 24 * np {
                return Err(corrupt(&p, "pair dictionary has the wrong size"));
            }
            (k, d, need(SECTION_PAIR_POSTINGS)?, np)
        } else {
            (PairKind::Off, Vec::new(), Vec::new(), 0)
        };
        let ext_b = need(SECTION_EXT_IDS)?;
        let nn = n as usize;
        let bad_ids = || corrupt(&p, "ext-ids section is truncated");
        let (ext, perm) = if flags & FLAG_EXT_ID_U64 != 0 {
            if ext_b.len() < 16 {
                return Err(bad_ids());
            }
            let (base, width, sorted, pw) = (u64_at(&ext_b, 0), ext_b[8], ext_b[9] == 1, ext_b[10]);
            let vals = super::codec::unpack_stream(&ext_b[16..], nn, width).ok_or_else(bad_ids)?;
            let vals: Vec<u64> = vals.into_iter().map(|v| v.wrapping_add(base)).collect();
            let perm: Vec<u32> = if sorted {
                (0..nn as u32).collect()
            } else {
                let at = 16 + (nn * width as usize).div_ceil(64) * 8;
                super::codec::unpack_stream(ext_b.get(at..).ok_or_else(bad_ids)?, nn, pw)
                    .ok_or_else(bad_ids)?
                    .into_iter()
                    .map(|v| v as u32)
                    .collect()
            };
            (ExtIdStore::U64(vals), perm)
        } else {
            if ext_b.len() < 8 * (nn + 1) {
                return Err(bad_ids());
            }
            let off: Vec<u64> = (0..=nn).map(|i| u64_at(&ext_b, 8 * i)).collect();
            let start = 8 * (nn + 1);
            let blen = off[nn] as usize;
            let bytes = ext_b.get(start..start + blen).ok_or_else(bad_ids)?.to_vec();
            let at = (start + blen).div_ceil(4) * 4;
            if ext_b.len() < at + 4 * nn {
                return Err(bad_ids());
            }
            (ExtIdStore::Str { off, bytes }, (0..nn).map(|i| u32_at(&ext_b, at + 4 * i)).collect())
        };
        if perm.iter().any(|&d| d as usize >= nn) {
            return Err(corrupt(&p, "ext-ids permutation names a missing document"));
        }
        let (deleted, deleted_count) = if flags & FLAG_TOMBSTONES != 0 {
            let vals = super::roaring::deserialize(&need(SECTION_TOMBSTONES)?)
                .ok_or_else(|| corrupt(&p, "tombstones are not a Roaring bitmap"))?;
            let mut bits = vec![0u64; nn.div_ceil(64)];
            for &d in &vals {
                if d as usize >= nn {
                    return Err(corrupt(&p, format!("tombstone {d} is not a document")));
                }
                bits[d as usize / 64] |= 1 << (d % 64);
            }
            (Some(bits), vals.len() as u64)
        } else {
            (None, 0)
        };
        let norms: Vec<[f64; 256]> = fields.iter().map(|f| bm25_norms(&len_table, f.k1, f.b, f.total_tokens, n as u64)).collect();
        let ones = fields.iter().zip(&norms).map(|(f, nm)| tf1_factors(f.k1, nm)).collect();
        let mut idx = TextIndex {
            norms,
            ones,
            path: p.clone(),
            n,
            flags,
            num_terms,
            fields,
            analyzer: Analyzer::new(seg, max_tok),
            analyzer_desc,
            n_blocks,
            dict_index,
            dict_blocks: need(SECTION_DICT_BLOCKS)?,
            postings: need(SECTION_POSTINGS)?,
            len_table,
            codes,
            forward: if flags & FLAG_FORWARD != 0 { Some(need(SECTION_FORWARD)?) } else { None },
            pair_kind,
            pair_dict,
            n_pairs,
            pair_postings,
            ext,
            perm,
            deleted,
            deleted_count,
            dense: Default::default(),
            skips: Default::default(),
        };
        // one pass over the dictionary: the lookup skips and the dense terms
        let (mut dense_terms, mut skips, mut hashes) = (Vec::new(), DictSkips::default(), Vec::new());
        for b in 0..idx.n_blocks {
            idx.read_dict_block(b, &mut dense_terms, &mut skips, &mut hashes)
                .ok_or_else(|| corrupt(&p, format!("dictionary block {b} is truncated")))?;
        }
        skips.by_hash = DictHash::new(&hashes);
        idx.skips = skips;
        idx.dense = idx.make_dense_bits(dense_terms);
        Ok(idx)
    }

    fn dense_key(t: &TermInfo) -> u32 {
        t.ord | (t.field as u32) << 31 // ordinals are per index; the field keeps per-field terms apart
    }

    fn is_dense(&self, t: &TermInfo) -> bool {
        t.df >= DENSE_MIN_DF.max(self.n / 256) && t.singleton.is_none()
    }

    /// The bitsets of the dense terms, most frequent first, within the budget.
    fn make_dense_bits(&self, mut terms: Vec<TermInfo>) -> crate::fastmap::FastMap<u32, DenseBits> {
        terms.sort_by_key(|t| std::cmp::Reverse(t.df));
        let words = (self.n as usize).div_ceil(64);
        let mut out = crate::fastmap::FastMap::default();
        let mut budget = DENSE_BUDGET;
        for t in terms.iter().take_while(|t| {
            let need = 12 * words + t.df as usize;
            budget = budget.saturating_sub(need);
            budget > 0
        }) {
            let mut bits = vec![0u64; words];
            let mut tf8 = Vec::with_capacity(t.df as usize);
            let mut c = self.term_cursor(t);
            while c.doc != NO_MORE {
                c.ensure_block();
                let (docs, tfs) = c.rest();
                for &d in docs {
                    bits[d as usize / 64] |= 1 << (d % 64);
                }
                tf8.extend(tfs.iter().map(|&tf| tf.min(255) as u8));
                c.skip_block();
            }
            let mut acc = 0u32;
            let ranks = bits
                .iter()
                .map(|w| {
                    let r = acc;
                    acc += w.count_ones();
                    r
                })
                .collect();
            out.insert(Self::dense_key(t), DenseBits { bits, ranks, tf8 });
        }
        out
    }

    /// Read dictionary block `b` at open: every DICT_SKIP-th entry into `skips` (with its full key)
    /// and the dense terms into `dense` (singletons are skipped without their length-code lookup).
    fn read_dict_block(&self, b: usize, dense: &mut Vec<TermInfo>, skips: &mut DictSkips, hashes: &mut Vec<(u64, u32)>) -> Option<()> {
        let blk = self.block_bytes(b);
        let mut post = u64_at(blk, 0);
        let mut pos = 10;
        let mut key: Vec<u8> = Vec::with_capacity(64);
        for i in 0..u16_at(blk, 8) as usize {
            let e = read_entry(blk, &mut pos, &mut key)?;
            if i % DICT_SKIP == 0 {
                skips.keys.extend_from_slice(&key);
                skips.key_end.push(skips.keys.len() as u32);
                skips.at.push((b as u32, i as u16, e.start as u32, post));
            }
            hashes.push((DictHash::hash(&key), (skips.at.len() - 1) as u32));
            if e.df > 1 {
                let t = self.term_info(b, i, &key, &e, post)?;
                post += e.len;
                if self.is_dense(&t) {
                    dense.push(t);
                }
            }
        }
        Some(())
    }

    /// The TermInfo of entry `i` of dictionary block `b` (its postings at `post`).
    fn term_info(&self, b: usize, i: usize, key: &[u8], e: &RawEntry, post: u64) -> Option<TermInfo> {
        let (ord, field, df) = ((b * TERMS_PER_DICT_BLOCK + i) as u32, *key.first()?, e.df);
        Some(match e.singleton {
            Some((doc, tf)) => {
                let code = *self.codes(field as usize).get(doc as usize)?;
                TermInfo {
                    ord,
                    field,
                    df,
                    total_tf: tf as u64,
                    max_tf_sat: tf_sat(tf),
                    min_len_code: code,
                    singleton: Some((doc, tf)),
                    post_off: 0,
                    post_len: 0,
                }
            }
            None => TermInfo {
                ord,
                field,
                df,
                total_tf: e.extra + df as u64,
                max_tf_sat: e.mt,
                min_len_code: e.ml,
                singleton: None,
                post_off: post,
                post_len: e.len,
            },
        })
    }

    /// The doc bitset of a dense term; None for other terms (and dense ones past the budget).
    #[inline]
    pub fn dense_bits(&self, t: &TermInfo) -> Option<&DenseBits> {
        if !self.is_dense(t) {
            return None;
        }
        self.dense.get(&Self::dense_key(t))
    }

    /// Where doc `d` (which holds dense term `t`) sits in `t`'s list, by its rank in the bitset:
    /// (the skip entry of its block, the list's blocks, its index in the block); None in the VInt tail.
    #[inline]
    fn dense_place(&self, t: &TermInfo, bits: &DenseBits, d: u32) -> Option<(&[u8], &[u8], usize)> {
        let r = bits.rank(d);
        let n_full = t.df as usize / BLOCK;
        if r / BLOCK >= n_full {
            return None;
        }
        let list = &self.postings[t.post_off as usize..(t.post_off + t.post_len) as usize];
        Some((&list[r / BLOCK * SKIP_ENTRY..], &list[n_full * SKIP_ENTRY..], r % BLOCK))
    }

    /// tf of dense term `t` in doc `d` (which holds it), read from its packed block without decoding
    /// the block; None in the list's VInt tail.
    #[inline]
    pub fn dense_tf(&self, t: &TermInfo, bits: &DenseBits, d: u32) -> Option<u32> {
        let (e, blocks, i) = self.dense_place(t, bits, d)?;
        let tf_at = u32_at(e, 4) as usize + 16 * e[8] as usize;
        Some(packed_at(blocks, tf_at, e[9] as u32, i) + 1)
    }

    /// DOC_LENS codes of one field.
    pub fn codes(&self, field: usize) -> &[u8] {
        let n = self.n as usize;
        &self.codes[field * n..(field + 1) * n]
    }

    #[inline]
    pub fn is_deleted(&self, doc: u32) -> bool {
        self.deleted.as_ref().is_some_and(|b| b[doc as usize / 64] >> (doc % 64) & 1 == 1)
    }
    pub fn has_deletes(&self) -> bool {
        self.deleted.is_some()
    }

    fn block_bytes(&self, b: usize) -> &[u8] {
        let s = u64_at(&self.dict_index, 8 + 8 * b) as usize;
        let e = u64_at(&self.dict_index, 8 + 8 * (b + 1)) as usize;
        &self.dict_blocks[s..e]
    }

    /// Decode dictionary block `b`, calling `f(key, info)` per term until it returns Some(found):
    /// true ends with that term, false ends without one.
    fn scan_block(&self, b: usize, mut f: impl FnMut(&[u8], TermInfo) -> Option<bool>) -> Option<TermInfo> {
        let blk = self.block_bytes(b);
        let mut post = u64_at(blk, 0);
        let mut pos = 10;
        let mut key: Vec<u8> = Vec::with_capacity(64);
        for i in 0..u16_at(blk, 8) as usize {
            let e = read_entry(blk, &mut pos, &mut key)?;
            let info = self.term_info(b, i, &key, &e, post)?;
            post += e.len;
            match f(&key, info) {
                Some(true) => return Some(info),
                Some(false) => return None,
                None => {}
            }
        }
        None
    }

    /// Look up a term key (field byte + token bytes): its skip entry by hash (`DictHash`), then
    /// one pass over at most DICT_SKIP entries of the block that never rebuilds a key. With `m` = the prefix the previous
    /// key shares with the target (previous < target), an entry sharing more than `m` with its
    /// predecessor is still below the target, one sharing less is above it (not found), and only
    /// an entry sharing exactly `m` needs its suffix compared.
    pub fn lookup(&self, key: &[u8]) -> Option<TermInfo> {
        let h = DictHash::hash(key);
        self.skips.by_hash.candidates(h).find_map(|e| self.lookup_from(key, e))
    }

    /// Look up several keys at once: each step (hash slot, then dictionary entry) is prefetched
    /// for every key before any is read, so the cache misses of one overlap those of the others.
    pub fn lookup_many(&self, keys: &[&[u8]], out: &mut [Option<TermInfo>]) {
        let mut hs = [0u64; 16];
        for (ks, os) in keys.chunks(16).zip(out.chunks_mut(16)) {
            let hs = &mut hs[..ks.len()];
            for (h, k) in hs.iter_mut().zip(ks) {
                *h = DictHash::hash(k);
                self.skips.by_hash.prefetch(*h);
            }
            for &h in hs.iter() {
                if let Some(e) = self.skips.by_hash.candidates(h).next() {
                    let (b, _, pos, _) = self.skips.at[e];
                    crate::prefetch::prefetch(self.block_bytes(b as usize)[pos as usize..].as_ptr());
                    crate::prefetch::prefetch(self.skips.key(e).as_ptr());
                }
            }
            for ((k, o), &h) in ks.iter().zip(os.iter_mut()).zip(hs.iter()) {
                *o = self.skips.by_hash.candidates(h).find_map(|e| self.lookup_from(k, e));
            }
        }
    }

    /// Prefetch the start of a term's postings (its skip data and first block).
    pub fn prefetch_postings(&self, t: &TermInfo) {
        if t.singleton.is_none() {
            let p = &self.postings[t.post_off as usize..];
            crate::prefetch::prefetch(p.as_ptr());
            if t.post_len > 64 {
                crate::prefetch::prefetch(p[64..].as_ptr());
            }
        }
    }

    /// `lookup` from skip entry `e`: the key's group, or (a hash tag collision) another one, where
    /// the key is then not found (entries are matched only when equal).
    fn lookup_from(&self, key: &[u8], e: usize) -> Option<TermInfo> {
        let sk = &self.skips;
        let lo = e + 1;
        let (b, i0, pos0, post0) = sk.at[lo - 1];
        let first = sk.key(lo - 1);
        let (b, i0) = (b as usize, i0 as usize);
        let blk = self.block_bytes(b);
        let mut post = post0;
        let count = u16_at(blk, 8) as usize;
        let mut pos = pos0 as usize;
        // what the first entry shares with the key (it is at or below it)
        let mut m = first.iter().zip(key).take_while(|(a, b)| a == b).count();
        for i in i0..count {
            let shared = get_vint(blk, &mut pos)? as usize;
            let sl = get_vint(blk, &mut pos)? as usize;
            let suffix = blk.get(pos..pos + sl)?;
            pos += sl;
            // Ordering of this entry against the target (the first entry was compared in full).
            let found = if i == i0 {
                first == key
            } else if shared > m {
                false
            } else if shared < m {
                return None;
            } else {
                let rest = &key[shared.min(key.len())..];
                let c = rest.iter().zip(suffix).take_while(|(a, b)| a == b).count();
                match suffix.cmp(rest) {
                    std::cmp::Ordering::Equal => true,
                    std::cmp::Ordering::Greater => return None,
                    std::cmp::Ordering::Less => {
                        m = shared + c;
                        false
                    }
                }
            };
            let df = get_vint(blk, &mut pos)? as u32;
            if df == 1 {
                let doc = get_vint(blk, &mut pos)? as u32;
                let tf = get_vint(blk, &mut pos)? as u32;
                if found {
                    let field = key[0];
                    let code = *self.codes(field as usize).get(doc as usize)?;
                    let ord = (b * TERMS_PER_DICT_BLOCK + i) as u32;
                    return Some(TermInfo {
                        ord,
                        field,
                        df,
                        total_tf: tf as u64,
                        max_tf_sat: tf_sat(tf),
                        min_len_code: code,
                        singleton: Some((doc, tf)),
                        post_off: 0,
                        post_len: 0,
                    });
                }
            } else {
                let len = get_vint(blk, &mut pos)?;
                let extra = get_vint(blk, &mut pos)?;
                let (mt, ml) = (*blk.get(pos)?, *blk.get(pos + 1)?);
                pos += 2;
                if found {
                    let ord = (b * TERMS_PER_DICT_BLOCK + i) as u32;
                    return Some(TermInfo {
                        ord,
                        field: key[0],
                        df,
                        total_tf: extra + df as u64,
                        max_tf_sat: mt,
                        min_len_code: ml,
                        singleton: None,
                        post_off: post,
                        post_len: len,
                    });
                }
                post += len;
            }
        }
        None
    }

    /// The key of an ordinal.
    pub fn term_key(&self, ord: u32) -> Option<Vec<u8>> {
        let mut out = None;
        self.scan_block(ord as usize / TERMS_PER_DICT_BLOCK, |k, t| {
            (t.ord == ord).then(|| {
                out = Some(k.to_vec());
                true
            })
        });
        out
    }

    pub fn lookup_pair(&self, a: u32, b: u32) -> Option<PairInfo> {
        if self.n_pairs == 0 {
            return None;
        }
        let key = (a as u64) << 32 | b as u64;
        let rec = |i: usize| &self.pair_dict[16 + 24 * i..16 + 24 * (i + 1)];
        let (mut lo, mut hi) = (0usize, self.n_pairs);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if u64_at(rec(mid), 0) < key { lo = mid + 1 } else { hi = mid }
        }
        if lo == self.n_pairs || u64_at(rec(lo), 0) != key {
            return None;
        }
        let r = rec(lo);
        let off = u64_at(r, 16);
        let end = if lo + 1 < self.n_pairs { u64_at(rec(lo + 1), 16) } else { self.pair_postings.len() as u64 };
        Some(PairInfo { df: u32_at(r, 8), max_tf: [r[12], r[13]], min_len_code: r[14], post_off: off, post_len: end - off })
    }

    pub fn term_cursor(&self, t: &TermInfo) -> Cursor<'_> {
        match t.singleton {
            Some((doc, tf)) => Cursor::singleton(doc, tf),
            None => Cursor::new(&self.postings[t.post_off as usize..(t.post_off + t.post_len) as usize], t.df, 1),
        }
    }

    /// `term_cursor` without its first block decoded: a conjunction's follower starts at the
    /// leader's first doc (`Cursor::start_at`), or never moves if its bitset answers for it.
    pub fn term_cursor_unloaded(&self, t: &TermInfo) -> Cursor<'_> {
        match t.singleton {
            Some((doc, tf)) => Cursor::singleton(doc, tf),
            None => Cursor::unloaded(&self.postings[t.post_off as usize..(t.post_off + t.post_len) as usize], t.df, 1),
        }
    }

    pub fn pair_cursor(&self, p: &PairInfo) -> Cursor<'_> {
        Cursor::new(&self.pair_postings[p.post_off as usize..(p.post_off + p.post_len) as usize], p.df, 2)
    }

    pub fn ext_id_string(&self, doc: u32) -> String {
        match &self.ext {
            ExtIdStore::U64(v) => v[doc as usize].to_string(),
            ExtIdStore::Str { off, bytes } => {
                String::from_utf8_lossy(&bytes[off[doc as usize] as usize..off[doc as usize + 1] as usize]).into_owned()
            }
        }
    }

    /// Internal id of an external id (u64 ids: its decimal text).
    pub fn internal_id(&self, ext: &str) -> Option<u32> {
        let (mut lo, mut hi) = (0usize, self.perm.len());
        let cmp = |d: u32| -> std::cmp::Ordering {
            match &self.ext {
                ExtIdStore::U64(v) => match ext.parse::<u64>() {
                    Ok(x) => v[d as usize].cmp(&x),
                    Err(_) => std::cmp::Ordering::Greater,
                },
                ExtIdStore::Str { off, bytes } => bytes[off[d as usize] as usize..off[d as usize + 1] as usize].cmp(ext.as_bytes()),
            }
        };
        while lo < hi {
            let mid = (lo + hi) / 2;
            if cmp(self.perm[mid]) == std::cmp::Ordering::Less { lo = mid + 1 } else { hi = mid }
        }
        (lo < self.perm.len() && cmp(self.perm[lo]) == std::cmp::Ordering::Equal).then(|| self.perm[lo])
    }

    /// Forward list of a doc: (ord, tf), ords increasing.
    pub fn forward(&self, doc: u32) -> Option<Vec<(u32, u32)>> {
        let f = self.forward.as_ref()?;
        let groups = (self.n as usize).div_ceil(BLOCK);
        let g = doc as usize / BLOCK;
        let body = 8 * (groups + 1);
        let mut pos = body + u64_at(f, 8 * g) as usize;
        for _ in 0..doc as usize % BLOCK {
            let k = get_vint(f, &mut pos)?;
            for _ in 0..2 * k {
                get_vint(f, &mut pos)?;
            }
        }
        let k = get_vint(f, &mut pos)? as usize;
        let mut out = Vec::with_capacity(k);
        let mut ord = 0u32;
        for _ in 0..k {
            ord += get_vint(f, &mut pos)? as u32;
            out.push((ord, get_vint(f, &mut pos)? as u32));
        }
        Some(out)
    }

    /// Bytes of the index held in memory.
    pub fn memory_bytes(&self) -> u64 {
        (self.dict_index.len()
            + self.dict_blocks.len()
            + self.postings.len()
            + self.codes.len()
            + self.forward.as_ref().map_or(0, |f| f.len())
            + self.pair_dict.len()
            + self.pair_postings.len()
            + self.perm.len() * 4
            + self.dense.values().map(|b| b.bytes()).sum::<usize>()
            + self.skips.bytes()
            + match &self.ext {
                ExtIdStore::U64(v) => v.len() * 8,
                ExtIdStore::Str { off, bytes } => off.len() * 8 + bytes.len(),
            }) as u64
    }
}

/// `k1 * (1 - b + b * dl / avgdl)` for every length code (the BM25 length normalisation).
/// (k1 + 1) / (1 + norm[code]): a tf = 1 posting's BM25 factor, computed as `tf (k1 + 1) / (tf + norm)`
/// is with tf = 1 (so the same value).
pub fn tf1_factors(k1: f64, norm: &[f64; 256]) -> [f64; 256] {
    let k1p1 = k1 + 1.0;
    std::array::from_fn(|code| (1.0 * k1p1) / (1.0 + norm[code]))
}

pub fn bm25_norms(table: &[u32; 256], k1: f64, b: f64, total_tokens: u64, n: u64) -> [f64; 256] {
    let avgdl = if n == 0 { 0.0 } else { total_tokens as f64 / n as f64 };
    let mut out = [0.0; 256];
    for (c, o) in out.iter_mut().enumerate() {
        let dl = table[c] as f64;
        *o = k1 * (1.0 - b + b * dl / avgdl);
    }
    out
}

/// A posting-list cursor (terms: one tf stream; pairs: two).
pub struct Cursor<'a> {
    ntf: usize,
    df: u32,
    n_full: usize,
    skip: &'a [u8],
    entry: usize,
    blocks: &'a [u8],
    tail_off: usize,
    /// Current block (n_full = the tail).
    pub bi: usize,
    /// The decoded block, on the heap so a cursor moves cheaply; back to `SPARE_BUFS` on drop.
    buf: std::mem::ManuallyDrop<Box<CursorBuf>>,
    len: usize,
    pos: usize,
    tf_ready: bool,
    tf_at: usize,
    pub doc: u32,
}

struct CursorBuf {
    /// The block's docs, then PAD entries of u32::MAX (and u32::MAX past a short tail's docs):
    /// a conjunction compares groups of 8 without a bounds check (`Cursor::intersect`).
    docs: [u32; BLOCK + PAD],
    tfs: [[u32; BLOCK]; 2],
}

thread_local! {
    /// Block buffers of dropped cursors, for the next cursors on this thread: a query makes a
    /// cursor per term, and a fresh zeroed 1.5 KB allocation each time was a tenth of a light
    /// query's cost. Every read of a buffer is below `len` or in the padding, so what a previous
    /// cursor left in it is never seen.
    #[allow(clippy::vec_box)] // the boxes are reused as they are: no 1.5 KB move in or out
    static SPARE_BUFS: std::cell::RefCell<Vec<Box<CursorBuf>>> = const { std::cell::RefCell::new(Vec::new()) };
}

const SPARE_BUFS_MAX: usize = 64;

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        // SAFETY: `buf` is taken once, here, and the cursor is not used afterwards.
        let buf = unsafe { std::mem::ManuallyDrop::take(&mut self.buf) };
        let _ = SPARE_BUFS.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < SPARE_BUFS_MAX {
                s.push(buf);
            }
        });
    }
}

impl CursorBuf {
    /// A spare buffer of this thread, or a new one.
    fn take() -> std::mem::ManuallyDrop<Box<CursorBuf>> {
        std::mem::ManuallyDrop::new(SPARE_BUFS.try_with(|s| s.borrow_mut().pop()).ok().flatten().unwrap_or_else(CursorBuf::new))
    }

    fn new() -> Box<CursorBuf> {
        // SAFETY: all-zero bytes are a valid CursorBuf (arrays of u32). Zeroed allocation, not a
        // 1.5 KB value built on the stack and copied.
        let mut b = unsafe { Box::<CursorBuf>::new_zeroed().assume_init() };
        b.docs[BLOCK..].fill(u32::MAX);
        b
    }
}

const PAD: usize = 8;

/// One dictionary entry as stored (see `read_entry`).
struct RawEntry {
    /// Byte position of the entry in its block.
    start: usize,
    df: u32,
    /// df == 1: (doc, tf) inlined.
    singleton: Option<(u32, u32)>,
    /// Postings bytes (0 for a singleton), sum of (tf - 1), max tf (saturated), min length code.
    len: u64,
    extra: u64,
    mt: u8,
    ml: u8,
}

/// Read the dictionary entry at `*pos` of a block, rebuilding its key in `key` (front coding).
#[inline(always)]
fn read_entry(blk: &[u8], pos: &mut usize, key: &mut Vec<u8>) -> Option<RawEntry> {
    let start = *pos;
    let shared = get_vint(blk, pos)? as usize;
    let sl = get_vint(blk, pos)? as usize;
    key.truncate(shared);
    key.extend_from_slice(blk.get(*pos..*pos + sl)?);
    *pos += sl;
    let df = get_vint(blk, pos)? as u32;
    if df == 1 {
        let doc = get_vint(blk, pos)? as u32;
        let tf = get_vint(blk, pos)? as u32;
        return Some(RawEntry { start, df, singleton: Some((doc, tf)), len: 0, extra: 0, mt: 0, ml: 0 });
    }
    let len = get_vint(blk, pos)?;
    let extra = get_vint(blk, pos)?;
    let (mt, ml) = (*blk.get(*pos)?, *blk.get(*pos + 1)?);
    *pos += 2;
    Some(RawEntry { start, df, singleton: None, len, extra, mt, ml })
}

/// Value `i` of a packed run of `w`-bit values starting at byte `at`.
#[inline(always)]
fn packed_at(b: &[u8], at: usize, w: u32, i: usize) -> u32 {
    if w == 0 {
        return 0;
    }
    let bit = i * w as usize;
    let byte = at + (bit >> 3);
    let word = if byte + 8 <= b.len() {
        u64::from_le_bytes(b[byte..byte + 8].try_into().unwrap())
    } else {
        let mut tmp = [0u8; 8];
        for (k, t) in tmp.iter_mut().enumerate().take(b.len() - byte) {
            *t = b[byte + k];
        }
        u64::from_le_bytes(tmp)
    } >> (bit & 7);
    let mask = if w == 32 { u32::MAX as u64 } else { (1u64 << w) - 1 };
    (word & mask) as u32
}

impl<'a> Cursor<'a> {
    fn new(list: &'a [u8], df: u32, ntf: usize) -> Cursor<'a> {
        let mut c = Cursor::unloaded(list, df, ntf);
        c.load(0);
        c
    }

    /// A cursor before its first block is decoded (`is_unloaded`): only its skip data may be read
    /// until `start_at`.
    fn unloaded(list: &'a [u8], df: u32, ntf: usize) -> Cursor<'a> {
        let n_full = df as usize / BLOCK;
        let entry = if ntf == 1 { SKIP_ENTRY } else { PAIR_SKIP_ENTRY };
        let skip = &list[..n_full * entry];
        let blocks = &list[n_full * entry..];
        let tail_off = if n_full == 0 {
            0
        } else {
            let e = &skip[(n_full - 1) * entry..];
            let widths: usize = if ntf == 1 { e[8] as usize + e[9] as usize } else { e[8] as usize + e[9] as usize + e[10] as usize };
            u32_at(e, 4) as usize + 16 * widths
        };
        Cursor {
            ntf,
            df,
            n_full,
            skip,
            entry,
            blocks,
            tail_off,
            bi: 0,
            buf: CursorBuf::take(),
            len: 0,
            pos: 0,
            tf_ready: false,
            tf_at: 0,
            doc: 0,
        }
    }

    pub fn is_unloaded(&self) -> bool {
        self.len == 0 && self.doc != NO_MORE
    }

    /// First move of an unloaded cursor: decode the block that can hold `target` (not block 0)
    /// and stop at its first doc >= target.
    pub fn start_at(&mut self, target: u32) -> u32 {
        let b = if self.n_full == 0 || self.last_doc(0) >= target { 0 } else { self.block_for(target) };
        self.load(b);
        if self.doc == NO_MORE {
            return NO_MORE;
        }
        self.seek_in_block(target);
        self.settle()
    }

    fn singleton(doc: u32, tf: u32) -> Cursor<'static> {
        let mut c = Cursor {
            ntf: 1,
            df: 1,
            n_full: 0,
            skip: &[],
            entry: SKIP_ENTRY,
            blocks: &[],
            tail_off: 0,
            bi: 0,
            buf: CursorBuf::take(),
            len: 1,
            pos: 0,
            tf_ready: true,
            tf_at: 0,
            doc,
        };
        c.buf.docs[0] = doc;
        c.buf.docs[1..BLOCK].fill(u32::MAX);
        c.buf.tfs[0][0] = tf;
        c
    }

    pub fn df(&self) -> u32 {
        self.df
    }
    pub fn n_full(&self) -> usize {
        self.n_full
    }

    #[inline]
    fn last_doc(&self, b: usize) -> u32 {
        u32_at(self.skip, b * self.entry)
    }

    /// (max tf per stream, min len code) of full block `b`.
    #[inline]
    pub fn block_bound(&self, b: usize) -> ([u8; 2], u8) {
        let e = &self.skip[b * self.entry..];
        if self.ntf == 1 { ([e[10], 0], e[11]) } else { ([e[11], e[12]], e[13]) }
    }

    /// Bound data of the block that holds `target` or would (no decoding): (max tf per stream,
    /// min len code, the block's last doc); `None` in the tail (use the list's bound).
    #[inline]
    pub fn bound_at(&self, target: u32) -> Option<([u8; 2], u8, u32)> {
        let lo = if self.bi < self.n_full && self.last_doc(self.bi) >= target { self.bi } else { self.block_for(target) };
        (lo < self.n_full).then(|| {
            let (mt, ml) = self.block_bound(lo);
            (mt, ml, self.last_doc(lo))
        })
    }

    /// The first full block after the current one whose last doc >= target (`n_full`: the tail).
    /// Galloping from the current block: successive probes of one query land close together, so
    /// the first steps stay in the cache lines already read.
    #[inline]
    fn block_for(&self, target: u32) -> usize {
        self.block_from(self.bi + 1, target)
    }

    /// The first full block from `lo` on whose last doc >= target (`n_full`: the tail).
    #[inline]
    fn block_from(&self, mut lo: usize, target: u32) -> usize {
        let mut step = 1;
        let mut hi = lo;
        while hi < self.n_full && self.last_doc(hi) < target {
            lo = hi + 1;
            hi += step;
            step *= 2;
        }
        let mut hi = hi.min(self.n_full);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.last_doc(mid) < target { lo = mid + 1 } else { hi = mid }
        }
        lo
    }

    /// Last doc of the current block (the tail: NO_MORE - 1).
    #[inline]
    pub fn block_last(&self) -> u32 {
        if self.bi < self.n_full { self.last_doc(self.bi) } else { NO_MORE - 1 }
    }

    fn load(&mut self, b: usize) {
        self.bi = b;
        self.pos = 0;
        let prev_last: i64 = if b == 0 { -1 } else { self.last_doc(b - 1) as i64 };
        if b < self.n_full {
            let e = &self.skip[b * self.entry..(b + 1) * self.entry];
            let off = u32_at(e, 4) as usize;
            let w = e[8];
            // whole-block decoding: a plain unpack and prefix sum beats value-by-value
            // extraction even when a probe needs only part of the block
            unpack_docs(&self.blocks[off..], w, prev_last, self.buf.docs.first_chunk_mut().unwrap());
            self.len = BLOCK;
            self.tf_ready = false;
            self.tf_at = off + 16 * w as usize;
            self.doc = self.buf.docs[0];
            return;
        }
        // the VInt tail
        let count = self.df as usize - self.n_full * BLOCK;
        let mut pos = self.tail_off;
        let mut p = prev_last;
        for k in 0..count {
            let v = get_vint(self.blocks, &mut pos).unwrap_or(0);
            if self.ntf == 1 {
                p += (v >> 1) as i64 + 1;
                self.buf.tfs[0][k] = if v & 1 == 1 { 1 } else { get_vint(self.blocks, &mut pos).unwrap_or(0) as u32 + 1 };
            } else {
                p += v as i64 + 1;
                self.buf.tfs[0][k] = get_vint(self.blocks, &mut pos).unwrap_or(0) as u32 + 1;
                self.buf.tfs[1][k] = get_vint(self.blocks, &mut pos).unwrap_or(0) as u32 + 1;
            }
            self.buf.docs[k] = p as u32;
        }
        self.buf.docs[count..BLOCK].fill(u32::MAX);
        self.len = count;
        self.tf_ready = true;
        self.doc = if count == 0 { NO_MORE } else { self.buf.docs[0] };
    }

    /// Move `pos` to the first doc >= target in the current block (or to `len`).
    /// Targets of one query rise slowly, so a short linear look comes first.
    #[inline]
    fn seek_in_block(&mut self, target: u32) {
        let docs = &self.buf.docs[..self.len];
        let mut p = self.pos;
        let end = (p + 8).min(docs.len());
        while p < end && docs[p] < target {
            p += 1;
        }
        if p == end {
            p += docs[p..].partition_point(|&d| d < target);
        }
        self.pos = p;
    }

    #[inline(always)]
    #[allow(clippy::should_implement_trait)] // a cursor returning a sentinel doc id, not an Iterator
    pub fn next(&mut self) -> u32 {
        self.pos += 1;
        self.settle()
    }

    /// After `pos` moved: the doc there, or the next block's first, or the end.
    #[inline(always)]
    fn settle(&mut self) -> u32 {
        if self.pos < self.len {
            self.doc = self.buf.docs[self.pos];
        } else if self.bi < self.n_full {
            self.load(self.bi + 1);
        } else {
            self.doc = NO_MORE;
        }
        self.doc
    }

    /// First doc >= target.
    #[inline]
    pub fn advance(&mut self, target: u32) -> u32 {
        if self.doc >= target {
            return self.doc;
        }
        if self.bi < self.n_full && target > self.last_doc(self.bi) {
            let lo = self.block_for(target);
            self.load(lo);
            if self.doc == NO_MORE {
                return NO_MORE;
            }
        }
        self.seek_in_block(target);
        self.settle()
    }

    /// Move `j` postings forward inside the current block (`j` < what `rest` holds).
    #[inline]
    pub fn step(&mut self, j: usize) {
        self.pos += j;
        self.doc = self.buf.docs[self.pos];
    }

    /// Move to the first doc of block `b` (`n_full`: the tail).
    pub fn goto_block(&mut self, b: usize) {
        self.load(b.min(self.n_full));
    }

    /// Move to the first doc of the block after the current one (block-max skipping).
    pub fn skip_block(&mut self) -> u32 {
        if self.bi < self.n_full {
            self.load(self.bi + 1);
        } else {
            self.pos = self.len;
            self.doc = NO_MORE;
        }
        self.doc
    }

    #[inline]
    fn decode_tfs(&mut self) {
        let e = &self.skip[self.bi * self.entry..];
        let mut at = self.tf_at;
        for s in 0..self.ntf {
            let w = e[9 + s];
            unpack(&self.blocks[at..], w, &mut self.buf.tfs[s]);
            for t in self.buf.tfs[s].iter_mut() {
                *t += 1;
            }
            at += 16 * w as usize;
        }
        self.tf_ready = true;
    }

    /// tf of stream `s` (0, or 1 for a pair's second term) at the current doc: from the
    /// decoded block, or read out of the packed block alone (an AND needs few tfs per block).
    #[inline]
    pub fn tf(&mut self, s: usize) -> u32 {
        if self.tf_ready {
            return self.buf.tfs[s][self.pos];
        }
        let e = &self.skip[self.bi * self.entry..];
        let mut at = self.tf_at;
        for k in 0..s {
            at += 16 * e[9 + k] as usize;
        }
        packed_at(self.blocks, at, e[9 + s] as u32, self.pos) + 1
    }

    /// tf of stream 0 at the current doc without changing the cursor's state (no block decode).
    #[inline]
    pub fn tf_peek(&self) -> u32 {
        if self.tf_ready {
            return self.buf.tfs[0][self.pos];
        }
        let e = &self.skip[self.bi * self.entry..];
        packed_at(self.blocks, self.tf_at, e[9] as u32, self.pos) + 1
    }

    /// Position of the cursor in its block.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// tf of stream 0 at position `p` of the current block (the cursor does not move).
    #[inline]
    pub fn tf_at(&self, p: usize) -> u32 {
        if self.tf_ready {
            return self.buf.tfs[0][p];
        }
        let e = &self.skip[self.bi * self.entry..];
        packed_at(self.blocks, self.tf_at, e[9] as u32, p) + 1
    }

    /// tfs of stream 0 at the positions `pos + at[m]` of the current block (the cursor does not
    /// move): read one by one out of the packed block for a few, else the block is decoded.
    pub fn tfs_at(&mut self, at: &[u8], out: &mut [u32]) {
        if !self.tf_ready && at.len() >= 8 {
            self.decode_tfs();
        }
        let p0 = self.pos;
        if self.tf_ready {
            for (o, &j) in out.iter_mut().zip(at) {
                *o = self.buf.tfs[0][p0 + j as usize];
            }
        } else {
            for (o, &j) in out.iter_mut().zip(at) {
                *o = self.tf_at(p0 + j as usize);
            }
        }
    }

    /// One step of a conjunction: keep those of the ascending candidates `docs[..n]` that this list
    /// holds (compacting `sel`, their indexes into `tfs`, alongside) and write each kept one's tf
    /// to `tfs[sel]`; returns how many were kept. Blocks without a candidate are skipped through
    /// the skip data (the blocks that few candidates fall in are prefetched together first); in a
    /// block, a few candidates are binary-searched, many are placed by counting the postings
    /// below each eight at a time (about one step per candidate, not one per candidate and
    /// posting as a merge takes, and no branch on the data but a rare skip of eight). Afterwards the cursor
    /// lies past the last candidate, or at the end of the block it merged last (`doc` is then
    /// stale but below every later target, which `advance` handles).
    #[inline(always)]
    pub fn intersect(&mut self, docs: &mut [u32; BLOCK], sel: &mut [u8; BLOCK], n: usize, tfs: &mut [u32; BLOCK]) -> usize {
        if n <= 16 {
            self.prefetch_blocks(&docs[..n]);
        }
        let mut at = [0u8; BLOCK];
        let (mut j, mut k) = (0, 0);
        while j < n {
            let d = if self.is_unloaded() { self.start_at(docs[j]) } else { self.advance(docs[j]) };
            if d == NO_MORE {
                break;
            }
            let (len, mut p, k0) = (self.len, self.pos, k);
            // the candidates this block can hold; the next one after them moves to another block
            let jend = j + docs[j..n].partition_point(|&d| d <= self.buf.docs[len - 1]);
            if (jend - j) * 8 < len - p {
                // few candidates for many postings: look each one up
                while j < jend {
                    let a = docs[j];
                    p += self.buf.docs[p..len].partition_point(|&d| d < a);
                    if self.buf.docs[p] == a {
                        (docs[k], sel[k], at[k]) = (a, sel[j], p as u8);
                        k += 1;
                    }
                    j += 1;
                }
            } else {
                // for each candidate, whole groups of 8 postings below it are passed, then the
                // postings below it in the next group are counted (branch-free, vectorized): about
                // one step per candidate instead of one per candidate and posting. Every candidate
                // is <= the block's last doc, and the padding is u32::MAX, so p stays below len.
                let block = &self.buf.docs;
                while j < jend {
                    let a = docs[j];
                    while block[(p + 7).min(BLOCK + PAD - 1)] < a {
                        p += 8;
                    }
                    let g: &[u32; 8] = block[p.min(BLOCK)..].first_chunk().unwrap();
                    p += g.iter().map(|&d| (d < a) as usize).sum::<usize>();
                    let hit = block[p.min(BLOCK - 1)] == a;
                    (docs[k & (BLOCK - 1)], sel[k & (BLOCK - 1)], at[k & (BLOCK - 1)]) = (a, sel[j], p as u8);
                    k += hit as usize;
                    j += 1;
                }
            }
            for m in k0..k {
                tfs[sel[m] as usize] = self.tf_at(at[m] as usize);
            }
            self.pos = p;
            if p < len {
                self.doc = self.buf.docs[p];
            }
        }
        k
    }

    /// Prefetch the blocks that would hold the ascending `targets` (from the current block on):
    /// a few candidates spread over several blocks then wait for their cache misses together
    /// instead of one after another.
    fn prefetch_blocks(&self, targets: &[u32]) {
        let (mut b, mut last) = (if self.is_unloaded() { 0 } else { self.bi }, usize::MAX);
        for &t in targets {
            if b < self.n_full && self.last_doc(b) < t {
                b = self.block_from(b + 1, t);
            }
            if b != last {
                last = b;
                let (off, bytes) = if b < self.n_full {
                    let e = &self.skip[b * self.entry..];
                    (u32_at(e, 4) as usize, 16 * e[8] as usize)
                } else {
                    (self.tail_off, 128)
                };
                for o in (off..(off + bytes).min(self.blocks.len())).step_by(64) {
                    crate::prefetch::prefetch(&self.blocks[o]);
                }
            }
        }
    }

    /// The rest of the current block's docs from the cursor (always decoded; tfs are not needed).
    #[inline]
    pub fn rest_docs(&self) -> &[u32] {
        &self.buf.docs[self.pos..self.len]
    }

    /// Decode the current block's tfs too (a scan reads them all).
    #[inline]
    pub fn ensure_block(&mut self) {
        if !self.tf_ready {
            self.decode_tfs();
        }
    }

    /// The rest of the current block from the cursor with both tf streams of a pair list; call
    /// `ensure_block` first.
    #[inline]
    pub fn rest2(&self) -> (&[u32], &[u32], &[u32]) {
        (&self.buf.docs[self.pos..self.len], &self.buf.tfs[0][self.pos..self.len], &self.buf.tfs[1][self.pos..self.len])
    }

    /// The rest of the current block from the cursor: (docs, tfs of stream 0); call `ensure_block` first.
    #[inline]
    pub fn rest(&self) -> (&[u32], &[u32]) {
        (&self.buf.docs[self.pos..self.len], &self.buf.tfs[0][self.pos..self.len])
    }
}

#[cfg(test)]
impl<'a> Cursor<'a> {
    pub fn new_for_test(list: &'a [u8], df: u32) -> Cursor<'a> {
        Cursor::new(list, df, 1)
    }
    pub fn unloaded_for_test(list: &'a [u8], df: u32) -> Cursor<'a> {
        Cursor::unloaded(list, df, 1)
    }
    pub fn singleton_for_test(doc: u32, tf: u32) -> Cursor<'static> {
        Cursor::singleton(doc, tf)
    }
    /// Fill this thread's spare block buffers with zeros (stale docs below every candidate).
    pub fn poison_spare_bufs_for_test() {
        SPARE_BUFS.with(|s| {
            let mut s = s.borrow_mut();
            s.extend((0..8).map(|_| CursorBuf::new()));
            for b in s.iter_mut() {
                b.docs[..BLOCK].fill(0);
            }
        });
    }
}

#[cfg(test)]
mod dict_hash_tests {
    use super::DictHash;

    #[test]
    fn every_term_with_the_tag_is_a_candidate_in_probe_order() {
        // two terms with one hash (their groups 3 and 7), one with the same start slot but another
        // tag, and one elsewhere: a lookup is offered 3 then 7, and nothing for an absent tag
        let h = 0xabcd_1234_0000_0005u64;
        let other_tag = 0x1111_1111_0000_0005u64;
        let t = DictHash::new(&[(h, 3), (other_tag, 5), (h, 7), (0x2222_2222_0000_0009, 1)]);
        assert_eq!(t.candidates(h).collect::<Vec<_>>(), [3, 7]);
        assert_eq!(t.candidates(other_tag).collect::<Vec<_>>(), [5]);
        assert_eq!(t.candidates(0x3333_3333_0000_0005).count(), 0);
        assert_eq!(DictHash::default().candidates(h).count(), 0);
    }
}
