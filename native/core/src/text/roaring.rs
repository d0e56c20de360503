//! Roaring bitmaps in the portable serialization (the layout CRoaring, the Java
//! library and the `roaring` npm package share), without run containers:
//! cookie 12346, container count, (key, cardinality - 1) per container, u32
//! offsets, then sorted u16 arrays (<= 4096 values) or 8 KiB bitmaps.
//! Used for TOMBSTONES (deleted internal ids).

const COOKIE_NO_RUN: u32 = 12346;
const ARRAY_MAX: usize = 4096;

pub fn serialize(sorted: &[u32]) -> Vec<u8> {
    let mut groups: Vec<(u16, &[u32])> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let key = (sorted[i] >> 16) as u16;
        let mut j = i;
        while j < sorted.len() && (sorted[j] >> 16) as u16 == key {
            j += 1;
        }
        groups.push((key, &sorted[i..j]));
        i = j;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&COOKIE_NO_RUN.to_le_bytes());
    out.extend_from_slice(&(groups.len() as u32).to_le_bytes());
    for (key, vals) in &groups {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&((vals.len() - 1) as u16).to_le_bytes());
    }
    let mut pos = out.len() + 4 * groups.len();
    for (_, vals) in &groups {
        out.extend_from_slice(&(pos as u32).to_le_bytes());
        pos += if vals.len() <= ARRAY_MAX { 2 * vals.len() } else { 8192 };
    }
    for (_, vals) in &groups {
        if vals.len() <= ARRAY_MAX {
            for v in *vals {
                out.extend_from_slice(&(*v as u16).to_le_bytes());
            }
        } else {
            let mut words = [0u64; 1024];
            for v in *vals {
                let low = (*v & 0xffff) as usize;
                words[low >> 6] |= 1 << (low & 63);
            }
            for w in words {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
    }
    out
}

/// The values, ascending; `None` if the bytes are not a run-free portable Roaring bitmap.
pub fn deserialize(b: &[u8]) -> Option<Vec<u32>> {
    let u16_at = |i: usize| b.get(i..i + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |i: usize| b.get(i..i + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap()));
    if u32_at(0)? != COOKIE_NO_RUN {
        return None;
    }
    let n = u32_at(4)? as usize;
    let mut out = Vec::new();
    for c in 0..n {
        let key = u16_at(8 + 4 * c)? as u32;
        let card = u16_at(10 + 4 * c)? as usize + 1;
        let off = u32_at(8 + 4 * n + 4 * c)? as usize;
        if card <= ARRAY_MAX {
            for k in 0..card {
                out.push(key << 16 | u16_at(off + 2 * k)? as u32);
            }
        } else {
            for w in 0..1024 {
                let word = u64::from_le_bytes(b.get(off + 8 * w..off + 8 * w + 8)?.try_into().unwrap());
                for bit in 0..64 {
                    if word >> bit & 1 == 1 {
                        out.push(key << 16 | (w * 64 + bit) as u32);
                    }
                }
            }
        }
    }
    if out.windows(2).any(|w| w[0] >= w[1]) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_arrays_and_bitmaps() {
        let mut v: Vec<u32> = vec![0, 1, 65535, 65536, 1 << 30];
        v.extend((200_000..210_000).step_by(2)); // 5000 values in one container: a bitmap
        v.sort_unstable();
        v.dedup();
        let b = serialize(&v);
        assert_eq!(deserialize(&b), Some(v));
        assert_eq!(deserialize(&serialize(&[])), Some(vec![]));
        assert_eq!(deserialize(&[1, 2, 3]), None);
    }

    #[test]
    fn matches_the_portable_layout() {
        // {1, 2, 65536}: cookie, 2 containers, (0, 1), (1, 0), offsets 24 and 28, then values.
        let b = serialize(&[1, 2, 65536]);
        let want: Vec<u8> = [
            &12346u32.to_le_bytes()[..],
            &2u32.to_le_bytes(),
            &[0, 0, 1, 0, 1, 0, 0, 0],
            &24u32.to_le_bytes(),
            &28u32.to_le_bytes(),
            &[1, 0, 2, 0, 0, 0],
        ]
        .concat();
        assert_eq!(b, want);
    }
}
