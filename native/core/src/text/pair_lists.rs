//! The pair lists read at open: PAIR_DICT (a kind byte, the count, then 24-byte records sorted
//! by (ordA, ordB)) and PAIR_POSTINGS (lists with two tf streams).

use super::PairKind;
use super::codec::BLOCK;
use super::codec::{u32_at, u64_at};
use super::postings::{Cursor, check_list};

#[derive(Clone, Copy, Debug)]
pub struct PairInfo {
    pub df: u32,
    pub max_tf: [u8; 2],
    pub min_len_code: u8,
    pub post_off: u64,
    pub post_len: u64,
}

pub struct PairLists {
    pub kind: PairKind,
    dict: Vec<u8>,
    n: usize,
    postings: Vec<u8>,
}

impl PairLists {
    /// An index without pair lists.
    pub fn off() -> PairLists {
        PairLists { kind: PairKind::Off, dict: Vec::new(), n: 0, postings: Vec::new() }
    }

    pub fn new(dict: Vec<u8>, postings: Vec<u8>) -> Result<PairLists, &'static str> {
        let kind = match dict.first() {
            Some(1) => PairKind::Cooc,
            Some(2) => PairKind::Adjacent,
            _ => return Err("pair dictionary: unknown kind"),
        };
        let n = if dict.len() >= 16 { u64_at(&dict, 8) as usize } else { usize::MAX };
        if dict.len() < 16 || (dict.len() - 16) / 24 != n || !(dict.len() - 16).is_multiple_of(24) {
            return Err("pair dictionary has the wrong size");
        }
        Ok(PairLists { kind, dict, n, postings })
    }

    /// The pair list of the terms with ordinals `a` < `b`.
    pub fn lookup(&self, a: u32, b: u32) -> Option<PairInfo> {
        if self.n == 0 {
            return None;
        }
        let key = (a as u64) << 32 | b as u64;
        let rec = |i: usize| &self.dict[16 + 24 * i..16 + 24 * (i + 1)];
        let (mut lo, mut hi) = (0usize, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if u64_at(rec(mid), 0) < key { lo = mid + 1 } else { hi = mid }
        }
        if lo == self.n || u64_at(rec(lo), 0) != key {
            return None;
        }
        let r = rec(lo);
        let off = u64_at(r, 16);
        let end = if lo + 1 < self.n { u64_at(rec(lo + 1), 16) } else { self.postings.len() as u64 };
        Some(PairInfo { df: u32_at(r, 8), max_tf: [r[12], r[13]], min_len_code: r[14], post_off: off, post_len: end - off })
    }

    pub fn cursor(&self, p: &PairInfo) -> Cursor<'_> {
        Cursor::new(&self.postings[p.post_off as usize..(p.post_off + p.post_len) as usize], p.df, 2)
    }

    /// Check every record and list against what `lookup` and the cursors rely on: keys strictly
    /// ascending, of ordinals below `num_terms`, lists back to back inside PAIR_POSTINGS, each a
    /// well-formed list of `df` >= 1 postings over `n` documents.
    pub fn check(&self, n: u32, num_terms: u64) -> Result<(), &'static str> {
        let mut scratch = [0u32; BLOCK];
        let rec = |i: usize| &self.dict[16 + 24 * i..16 + 24 * (i + 1)];
        let mut prev_key = None;
        for i in 0..self.n {
            let key = u64_at(rec(i), 0);
            let (a, b) = ((key >> 32) as u32, key as u32);
            if prev_key.is_some_and(|p| p >= key) || a as u64 >= num_terms || b as u64 >= num_terms {
                return Err("records are not ascending pairs of terms");
            }
            prev_key = Some(key);
            let off = u64_at(rec(i), 16);
            let end = if i + 1 < self.n { u64_at(rec(i + 1), 16) } else { self.postings.len() as u64 };
            if (i == 0 && off != 0) || off > end || end > self.postings.len() as u64 {
                return Err("a list is outside the section");
            }
            let p = PairInfo { df: u32_at(rec(i), 8), max_tf: [0, 0], min_len_code: 0, post_off: off, post_len: end - off };
            if p.df == 0 {
                return Err("a list is empty");
            }
            check_list(&self.postings[p.post_off as usize..(p.post_off + p.post_len) as usize], p.df, 2, n, &mut scratch)?;
        }
        Ok(())
    }

    pub fn bytes(&self) -> usize {
        self.dict.len() + self.postings.len()
    }
}
