//! The routing hash: **xxHash64 with seed 0** over a key's canonical bytes
//! (int64 / uint64: 8 bytes little-endian; strings: their UTF-8 bytes), and
//! `shard = hash % shard_count`. Sharding and query-time routing both use
//! it, and it is a published algorithm, so serving code in any language can
//! recompute where a key lives. Changing it changes every shard: never do
//! that silently (the manifest records `hash: "xxh64"` and the seed).

use crate::error::{Error, Result};

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

#[inline(always)]
fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1)
}

#[inline(always)]
fn merge(acc: u64, v: u64) -> u64 {
    (acc ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

#[inline(always)]
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

use crate::bytes::u64_at;

/// The u32 at `i`, widened (XXH64 mixes 4-byte lanes as u64).
#[inline(always)]
fn u32_at(d: &[u8], i: usize) -> u64 {
    crate::bytes::u32_at(d, i) as u64
}

/// XXH64 of `data` (the reference algorithm, xxhash.h `XXH64`).
pub fn xxh64(data: &[u8], seed: u64) -> u64 {
    let len = data.len();
    let mut i = 0;
    let mut h = if len >= 32 {
        let mut v = [seed.wrapping_add(P1).wrapping_add(P2), seed.wrapping_add(P2), seed, seed.wrapping_sub(P1)];
        while i + 32 <= len {
            for (k, vk) in v.iter_mut().enumerate() {
                *vk = round(*vk, u64_at(data, i + 8 * k));
            }
            i += 32;
        }
        let h = v[0].rotate_left(1).wrapping_add(v[1].rotate_left(7)).wrapping_add(v[2].rotate_left(12)).wrapping_add(v[3].rotate_left(18));
        v.iter().fold(h, |h, &vk| merge(h, vk))
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(len as u64);
    while i + 8 <= len {
        h = (h ^ round(0, u64_at(data, i))).rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= len {
        h = (h ^ u32_at(data, i).wrapping_mul(P1)).rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    for &b in &data[i..] {
        h = (h ^ (b as u64).wrapping_mul(P5)).rotate_left(11).wrapping_mul(P1);
    }
    avalanche(h)
}

/// XXH64 of an integer key's 8 little-endian bytes (same value as
/// `xxh64(&key.to_le_bytes(), seed)`, without the byte loop).
#[inline]
pub fn xxh64_u64(key: u64, seed: u64) -> u64 {
    let h = seed.wrapping_add(P5).wrapping_add(8);
    avalanche((h ^ round(0, key)).rotate_left(27).wrapping_mul(P1).wrapping_add(P4))
}

/// Hash a batch of int64 keys (their two's-complement bytes).
pub fn hash_i64(keys: &[i64], seed: u64, out: &mut [u64]) -> Result<()> {
    same_len(keys.len(), out.len())?;
    for (o, &k) in out.iter_mut().zip(keys) {
        *o = xxh64_u64(k as u64, seed);
    }
    Ok(())
}

/// Offsets of an Arrow string column (`Utf8`: i32, `LargeUtf8`: i64).
pub trait Offset: Copy {
    fn to_usize(self) -> Option<usize>;
}
impl Offset for i32 {
    fn to_usize(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
}
impl Offset for i64 {
    fn to_usize(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
}

/// Hash every string of an Arrow-layout string column: row `r` is
/// `data[offsets[r]..offsets[r+1]]`. `out` gets one hash per row.
pub fn hash_strings<O: Offset>(offsets: &[O], data: &[u8], seed: u64, out: &mut [u64]) -> Result<()> {
    if offsets.is_empty() {
        return if out.is_empty() { Ok(()) } else { same_len(0, out.len()) };
    }
    same_len(offsets.len() - 1, out.len())?;
    for (r, o) in out.iter_mut().enumerate() {
        let (s, e) = (offsets[r].to_usize(), offsets[r + 1].to_usize());
        match (s, e) {
            (Some(s), Some(e)) if s <= e && e <= data.len() => *o = xxh64(&data[s..e], seed),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "string column offsets are invalid at row {r}: {:?}..{:?} with {} data bytes",
                    s,
                    e,
                    data.len()
                )));
            }
        }
    }
    Ok(())
}

/// `recall shard`'s routing of one vector of rows: row `r`'s key hash (`None`: a null key) picks
/// its shard, `hash % shard_count`, which goes to `out[r]` and counts once more in `counts`.
/// Returns how many rows had a null key (their `out` entries are left as they are).
pub fn route_rows(
    rows: usize,
    mut key_hash: impl FnMut(usize) -> Option<u64>,
    shard_count: u32,
    out: &mut [u16],
    counts: &mut [u64],
) -> Result<u64> {
    if shard_count == 0 || shard_count > 1 << 16 || counts.len() < shard_count as usize || out.len() < rows {
        return Err(Error::InvalidArgument(format!(
            "routing {rows} rows into {shard_count} shards needs 1-65536 shards, {shard_count} counts and {rows} outputs"
        )));
    }
    let mut nulls = 0;
    for (r, o) in out[..rows].iter_mut().enumerate() {
        match key_hash(r) {
            Some(h) => {
                let s = (h % shard_count as u64) as usize;
                *o = s as u16;
                counts[s] += 1;
            }
            None => nulls += 1,
        }
    }
    Ok(nulls)
}

/// `hash % shard_count` for a batch.
pub fn shards_of(hashes: &[u64], shard_count: u32, out: &mut [u32]) -> Result<()> {
    if shard_count == 0 {
        return Err(Error::InvalidArgument("shard count must be at least 1".into()));
    }
    same_len(hashes.len(), out.len())?;
    for (o, &h) in out.iter_mut().zip(hashes) {
        *o = (h % shard_count as u64) as u32;
    }
    Ok(())
}

fn same_len(expected: usize, got: usize) -> Result<()> {
    if expected == got { Ok(()) } else { Err(Error::LengthMismatch { what: "output", expected, got }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_vectors() {
        // From the xxHash repository's sanity checks and its README.
        assert_eq!(xxh64(b"", 0), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a", 0), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxh64(b"abc", 0), 0x44BC_2CF5_AD77_0999);
        assert_eq!(xxh64(b"Nobody inspects the spammish repetition", 0), 0xFBCE_A83C_8A37_8BF1);
    }

    #[test]
    fn integer_fast_path_equals_the_byte_path() {
        for k in [0u64, 1, u64::MAX, i64::MAX as u64, 0x0123_4567_89ab_cdef] {
            for seed in [0, 1, 0xdead_beef] {
                assert_eq!(xxh64_u64(k, seed), xxh64(&k.to_le_bytes(), seed));
            }
        }
    }

    #[test]
    fn string_column_rows_and_bad_offsets() {
        let data = b"applebananacherry";
        let offsets: [i32; 4] = [0, 5, 11, 17];
        let mut out = [0u64; 3];
        hash_strings(&offsets, data, 0, &mut out).unwrap();
        assert_eq!(out, [xxh64(b"apple", 0), xxh64(b"banana", 0), xxh64(b"cherry", 0)]);
        let bad: [i64; 3] = [0, 20, 17];
        let err = hash_strings(&bad, data, 0, &mut [0u64; 2]).unwrap_err();
        assert!(err.to_string().contains("row 0"), "{err}");
        assert!(shards_of(&out, 0, &mut [0; 3]).is_err());
    }

    #[test]
    fn route_rows_sends_each_row_to_its_hash_shard_and_counts_nulls_apart() {
        let keys: Vec<Option<u64>> = (0..1000u64).map(|k| if k % 7 == 3 { None } else { Some(k * 0x9e37) }).collect();
        let mut out = vec![u16::MAX; keys.len()];
        let mut counts = vec![0u64; 5];
        let nulls = route_rows(keys.len(), |r| keys[r].map(|k| xxh64_u64(k, 0)), 5, &mut out, &mut counts).unwrap();
        assert_eq!(nulls, keys.iter().filter(|k| k.is_none()).count() as u64);
        let mut want = [0u64; 5];
        for (r, k) in keys.iter().enumerate() {
            match k {
                Some(k) => {
                    let s = (xxh64(&k.to_le_bytes(), 0) % 5) as usize;
                    assert_eq!(out[r] as usize, s, "row {r}");
                    want[s] += 1;
                }
                None => assert_eq!(out[r], u16::MAX, "a null key's output is left alone"),
            }
        }
        assert_eq!(counts, want);
        assert!(want.iter().all(|&c| c > 100), "every shard gets rows: {want:?}");
        assert!(route_rows(3, |_| Some(1), 0, &mut [0; 3], &mut [0; 1]).is_err());
        assert!(route_rows(3, |_| Some(1), 4, &mut [0; 3], &mut [0; 3]).is_err(), "counts shorter than the shards");
    }
}
