//! The term dictionary: DICT_INDEX (block offsets) and DICT_BLOCKS (front-coded 64-term blocks
//! with each term's TermInfo), and the lookup structures made at open: every DICT_SKIP-th entry
//! with its full key, and a hash of every term's key to its skip entry.

use super::codec::{get_vint, u16_at, u32_at, u64_at};
use super::doc_lens::DocLens;
use super::{TERMS_PER_DICT_BLOCK, tf_sat};

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

/// The dictionary sections and the lookup structures made from them at open.
pub struct TermDict {
    n_blocks: usize,
    index: Vec<u8>,
    blocks: Vec<u8>,
    /// Every DICT_SKIP-th dictionary entry with its full key, and every term's skip entry by the
    /// hash of its key (made at open): a lookup reads a hash slot and decodes at most DICT_SKIP
    /// entries instead of half a 64-term block.
    skips: DictSkips,
}

/// See `TermDict::skips`.
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

impl TermDict {
    /// The two sections, checked against the term count; `read_blocks` then makes the lookup
    /// structures.
    pub fn new(index: Vec<u8>, blocks: Vec<u8>, num_terms: u64) -> Result<TermDict, String> {
        let n_blocks = if index.len() >= 8 { u32_at(&index, 0) as usize } else { usize::MAX };
        if n_blocks == usize::MAX
            || index.len() < 8 + (n_blocks + 1) * 12
            || num_terms > u32::MAX as u64
            || (num_terms as usize).div_ceil(TERMS_PER_DICT_BLOCK) != n_blocks
        {
            return Err("dictionary index does not match the term count".into());
        }
        // block b is blocks[offset b..offset b + 1]: ascending, inside the section
        let mut at = 0;
        for b in 0..=n_blocks {
            let o = u64_at(&index, 8 + 8 * b);
            if o < at || o > blocks.len() as u64 || (b == 0 && o != 0) {
                return Err(format!("dictionary index: block {b} starts outside the blocks"));
            }
            at = o;
        }
        Ok(TermDict { n_blocks, index, blocks, skips: DictSkips::default() })
    }

    /// One pass over the dictionary at open, checking every entry (keys ascending over the whole
    /// dictionary, each of a field below `nf`; df and inlined docs within `n` documents; 64 terms a
    /// block but the last, `num_terms` in all): the lookup skips and hash, and `each` called with
    /// every term that has a postings list (df > 1), which checks that list.
    pub fn read_blocks(
        &mut self,
        lens: &DocLens,
        (n, nf, num_terms): (u32, usize, u64),
        mut each: impl FnMut(&TermInfo) -> Result<(), &'static str>,
    ) -> Result<(), String> {
        let (mut skips, mut hashes) = (DictSkips::default(), Vec::new());
        let mut key: Vec<u8> = Vec::with_capacity(64);
        for b in 0..self.n_blocks {
            let want = if b + 1 < self.n_blocks { TERMS_PER_DICT_BLOCK } else { num_terms as usize - b * TERMS_PER_DICT_BLOCK };
            self.read_block(b, want, lens, (n, nf), &mut key, &mut each, &mut skips, &mut hashes)
                .map_err(|m| format!("dictionary block {b}: {m}"))?;
        }
        skips.by_hash = DictHash::new(&hashes);
        self.skips = skips;
        Ok(())
    }

    /// Read and check dictionary block `b` (`want` terms) at open: every DICT_SKIP-th entry into
    /// `skips` (with its full key) and the terms with a list to `each`. `key` holds the previous
    /// block's last key.
    #[allow(clippy::too_many_arguments)]
    fn read_block(
        &self,
        b: usize,
        want: usize,
        lens: &DocLens,
        (n, nf): (u32, usize),
        key: &mut Vec<u8>,
        each: &mut impl FnMut(&TermInfo) -> Result<(), &'static str>,
        skips: &mut DictSkips,
        hashes: &mut Vec<(u64, u32)>,
    ) -> Result<(), &'static str> {
        let blk = self.block_bytes(b);
        if blk.len() < 10 || u16_at(blk, 8) as usize != want {
            return Err("the wrong number of terms");
        }
        let mut post = u64_at(blk, 0);
        let mut pos = 10;
        let mut prev = std::mem::take(key);
        for i in 0..want {
            // front coding: the shared prefix is of the previous key in this block
            let shared = get_vint(blk, &mut { pos }).ok_or("truncated")?;
            let most = if i == 0 { 0 } else { prev.len() as u64 };
            if shared > most {
                return Err("a key shares more than the previous key holds");
            }
            key.clear();
            key.extend_from_slice(&prev);
            let e = read_entry(blk, &mut pos, key).ok_or("truncated")?;
            if key.first().is_none_or(|&f| f as usize >= nf) {
                return Err("a key names no field");
            }
            if key.as_slice() <= prev.as_slice() && !(b == 0 && i == 0) {
                return Err("keys are not ascending");
            }
            if e.df == 0 || e.df > n {
                return Err("a document frequency is out of range");
            }
            if i % DICT_SKIP == 0 {
                skips.keys.extend_from_slice(key);
                skips.key_end.push(skips.keys.len() as u32);
                skips.at.push((b as u32, i as u16, e.start as u32, post));
            }
            hashes.push((DictHash::hash(key), (skips.at.len() - 1) as u32));
            match e.singleton {
                Some((doc, tf)) if doc >= n || tf == 0 => return Err("an inlined posting is out of range"),
                Some(_) => {}
                None => {
                    let t = Self::term_info(b, i, key, &e, post, lens).ok_or("truncated")?;
                    post = post.checked_add(e.len).ok_or("postings offsets overflow")?;
                    each(&t)?;
                }
            }
            std::mem::swap(&mut prev, key);
        }
        *key = prev;
        Ok(())
    }

    /// The TermInfo of entry `i` of dictionary block `b` (its postings at `post`).
    fn term_info(b: usize, i: usize, key: &[u8], e: &RawEntry, post: u64, lens: &DocLens) -> Option<TermInfo> {
        let (ord, field, df) = ((b * TERMS_PER_DICT_BLOCK + i) as u32, *key.first()?, e.df);
        Some(match e.singleton {
            Some((doc, tf)) => {
                let code = *lens.codes(field as usize).get(doc as usize)?;
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

    fn block_bytes(&self, b: usize) -> &[u8] {
        let s = u64_at(&self.index, 8 + 8 * b) as usize;
        let e = u64_at(&self.index, 8 + 8 * (b + 1)) as usize;
        &self.blocks[s..e]
    }

    /// Decode dictionary block `b`, calling `f(key, info)` per term until it returns Some(found):
    /// true ends with that term, false ends without one.
    fn scan_block(&self, b: usize, lens: &DocLens, mut f: impl FnMut(&[u8], TermInfo) -> Option<bool>) -> Option<TermInfo> {
        let blk = self.block_bytes(b);
        let mut post = u64_at(blk, 0);
        let mut pos = 10;
        let mut key: Vec<u8> = Vec::with_capacity(64);
        for i in 0..u16_at(blk, 8) as usize {
            let e = read_entry(blk, &mut pos, &mut key)?;
            let info = Self::term_info(b, i, &key, &e, post, lens)?;
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
    pub fn lookup(&self, key: &[u8], lens: &DocLens) -> Option<TermInfo> {
        let h = DictHash::hash(key);
        self.skips.by_hash.candidates(h).find_map(|e| self.lookup_from(key, e, lens))
    }

    /// Look up several keys at once: each step (hash slot, then dictionary entry) is prefetched
    /// for every key before any is read, so the cache misses of one overlap those of the others.
    pub fn lookup_many(&self, keys: &[&[u8]], lens: &DocLens, out: &mut [Option<TermInfo>]) {
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
                *o = self.skips.by_hash.candidates(h).find_map(|e| self.lookup_from(k, e, lens));
            }
        }
    }

    /// `lookup` from skip entry `e`: the key's group, or (a hash tag collision) another one, where
    /// the key is then not found (entries are matched only when equal).
    fn lookup_from(&self, key: &[u8], e: usize, lens: &DocLens) -> Option<TermInfo> {
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
                    let code = *lens.codes(field as usize).get(doc as usize)?;
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
    pub fn term_key(&self, ord: u32, lens: &DocLens) -> Option<Vec<u8>> {
        let mut out = None;
        self.scan_block(ord as usize / TERMS_PER_DICT_BLOCK, lens, |k, t| {
            (t.ord == ord).then(|| {
                out = Some(k.to_vec());
                true
            })
        });
        out
    }

    /// Per field (below `nf`): the `n` terms of highest df, df descending then key ascending, as
    /// (token bytes, df). One pass over every block, a bounded heap per field.
    pub fn top_by_df(&self, lens: &DocLens, nf: usize, n: usize) -> Vec<Vec<(Vec<u8>, u32)>> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        // the heap's top is the weakest kept term: lowest df, then the largest key
        let mut heaps: Vec<BinaryHeap<(Reverse<u32>, Vec<u8>)>> = (0..nf).map(|_| BinaryHeap::with_capacity(n.min(4096) + 1)).collect();
        if n > 0 {
            for b in 0..self.n_blocks {
                self.scan_block(b, lens, |k, t| {
                    let f = t.field as usize;
                    if let Some(h) = heaps.get_mut(f) {
                        let weaker = h.len() == n && h.peek().is_some_and(|(df, key)| (Reverse(t.df), &k[1..]) >= (*df, &key[..]));
                        if !weaker {
                            h.push((Reverse(t.df), k[1..].to_vec()));
                            if h.len() > n {
                                h.pop();
                            }
                        }
                    }
                    None
                });
            }
        }
        heaps
            .into_iter()
            .map(|h| {
                let mut v: Vec<(Vec<u8>, u32)> = h.into_iter().map(|(Reverse(df), k)| (k, df)).collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                v
            })
            .collect()
    }

    /// Bytes held in memory.
    pub fn bytes(&self) -> usize {
        self.index.len() + self.blocks.len() + self.skips.bytes()
    }
}

#[cfg(test)]
mod tests {
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
