//! The pair lists read at open: PAIR_DICT (a kind byte, the count, then 24-byte records sorted
//! by (ordA, ordB)) and PAIR_POSTINGS (lists with two tf streams).

use super::PairKind;
use super::codec::{u32_at, u64_at};
use super::postings::Cursor;

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
        let n = u64_at(&dict, 8) as usize;
        if dict.len() != 16 + 24 * n {
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

    pub fn bytes(&self) -> usize {
        self.dict.len() + self.postings.len()
    }
}
