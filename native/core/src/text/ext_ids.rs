//! The EXT_IDS section read at open: every document's external id (u64s bit-packed from a base,
//! or strings with offsets) and the permutation of internal ids sorted by external id.

use super::codec::{u32_at, u64_at, unpack_stream};

pub enum ExtIdStore {
    U64(Vec<u64>),
    Str { off: Vec<u64>, bytes: Vec<u8> },
}

/// The external ids of `n` documents and their sorted permutation; Err names what is wrong.
pub fn parse(ext_b: &[u8], n: u32, u64_ids: bool) -> Result<(ExtIdStore, Vec<u32>), &'static str> {
    let nn = n as usize;
    let truncated = "ext-ids section is truncated";
    let (ext, perm) = if u64_ids {
        if ext_b.len() < 16 {
            return Err(truncated);
        }
        let (base, width, sorted, pw) = (u64_at(ext_b, 0), ext_b[8], ext_b[9] == 1, ext_b[10]);
        if width > 64 || pw > 32 {
            return Err("ext-ids bit widths are out of range");
        }
        let vals = unpack_stream(&ext_b[16..], nn, width).ok_or(truncated)?;
        let vals: Vec<u64> = vals.into_iter().map(|v| v.wrapping_add(base)).collect();
        let perm: Vec<u32> = if sorted {
            (0..nn as u32).collect()
        } else {
            let at = 16 + (nn * width as usize).div_ceil(64) * 8;
            unpack_stream(ext_b.get(at..).ok_or(truncated)?, nn, pw).ok_or(truncated)?.into_iter().map(|v| v as u32).collect()
        };
        (ExtIdStore::U64(vals), perm)
    } else {
        if ext_b.len() < 8 * (nn + 1) {
            return Err(truncated);
        }
        let off: Vec<u64> = (0..=nn).map(|i| u64_at(ext_b, 8 * i)).collect();
        if off[0] != 0 || off.windows(2).any(|w| w[0] > w[1]) {
            return Err("ext-ids offsets are not ascending");
        }
        let start = 8 * (nn + 1);
        let blen = off[nn] as usize;
        let bytes = ext_b.get(start..start + blen).ok_or(truncated)?.to_vec();
        let at = (start + blen).div_ceil(4) * 4;
        if ext_b.len() < at + 4 * nn {
            return Err(truncated);
        }
        (ExtIdStore::Str { off, bytes }, (0..nn).map(|i| u32_at(ext_b, at + 4 * i)).collect())
    };
    if perm.iter().any(|&d| d as usize >= nn) {
        return Err("ext-ids permutation names a missing document");
    }
    // lookups binary-search the ids in permutation order: strictly ascending (so each doc once)
    let ascending = match &ext {
        ExtIdStore::U64(v) => perm.windows(2).all(|w| v[w[0] as usize] < v[w[1] as usize]),
        ExtIdStore::Str { off, bytes } => {
            let id = |d: u32| &bytes[off[d as usize] as usize..off[d as usize + 1] as usize];
            perm.windows(2).all(|w| id(w[0]) < id(w[1]))
        }
    };
    if !ascending {
        return Err("ext-ids permutation is not in id order");
    }
    Ok((ext, perm))
}

impl ExtIdStore {
    /// The external id of internal id `doc` as text.
    pub fn string(&self, doc: u32) -> String {
        match self {
            ExtIdStore::U64(v) => v[doc as usize].to_string(),
            ExtIdStore::Str { off, bytes } => {
                String::from_utf8_lossy(&bytes[off[doc as usize] as usize..off[doc as usize + 1] as usize]).into_owned()
            }
        }
    }

    /// Internal id of an external id (u64 ids: its decimal text), by binary search of `perm`.
    pub fn internal_id(&self, perm: &[u32], ext: &str) -> Option<u32> {
        let (mut lo, mut hi) = (0usize, perm.len());
        let cmp = |d: u32| -> std::cmp::Ordering {
            match self {
                ExtIdStore::U64(v) => match ext.parse::<u64>() {
                    Ok(x) => v[d as usize].cmp(&x),
                    Err(_) => std::cmp::Ordering::Greater,
                },
                ExtIdStore::Str { off, bytes } => bytes[off[d as usize] as usize..off[d as usize + 1] as usize].cmp(ext.as_bytes()),
            }
        };
        while lo < hi {
            let mid = (lo + hi) / 2;
            if cmp(perm[mid]) == std::cmp::Ordering::Less { lo = mid + 1 } else { hi = mid }
        }
        (lo < perm.len() && cmp(perm[lo]) == std::cmp::Ordering::Equal).then(|| perm[lo])
    }

    pub fn bytes(&self) -> usize {
        match self {
            ExtIdStore::U64(v) => v.len() * 8,
            ExtIdStore::Str { off, bytes } => off.len() * 8 + bytes.len(),
        }
    }
}
