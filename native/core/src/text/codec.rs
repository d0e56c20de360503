//! Integer codecs of the text index: LEB128 VInts and LSB-first bit packing of
//! 128-value blocks (spec `inverted.md` §2.6), plus little-endian readers.

pub const BLOCK: usize = 128;

#[inline]
pub fn put_vint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Decode a VInt at `*pos`; `None` on a truncated or over-long value.
#[inline]
pub fn get_vint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let byte = *b.get(*pos)?;
        *pos += 1;
        if shift > 63 {
            return None;
        }
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

/// Bits needed for `v` (0 for 0).
#[inline]
pub fn bits(v: u32) -> u8 {
    (32 - v.leading_zeros()) as u8
}

/// Append `vals` (128 values) packed at `w` bits each: `16 * w` bytes.
pub fn pack(out: &mut Vec<u8>, vals: &[u32; BLOCK], w: u8) {
    if w == 0 {
        return;
    }
    let start = out.len();
    out.resize(start + 16 * w as usize, 0);
    let dst = &mut out[start..];
    let mut acc: u64 = 0;
    let mut nbits = 0u32;
    let mut o = 0;
    for &v in vals {
        acc |= (v as u64) << nbits;
        nbits += w as u32;
        while nbits >= 8 {
            dst[o] = acc as u8;
            o += 1;
            acc >>= 8;
            nbits -= 8;
        }
    }
    debug_assert_eq!(nbits, 0);
}

/// Unpack 128 values of width `w` from `src` (at least `16 * w` bytes).
#[inline]
pub fn unpack(src: &[u8], w: u8, out: &mut [u32; BLOCK]) {
    if w == 0 {
        *out = [0; BLOCK];
        return;
    }
    let w = w as u32;
    let mask: u64 = if w == 32 { u32::MAX as u64 } else { (1u64 << w) - 1 };
    let n = 16 * w as usize;
    let src = &src[..n];
    // Read 8 bytes at the value's first byte; a value spans at most 5 bytes past its bit offset.
    let mut bitpos = 0u32;
    for v in out.iter_mut() {
        let byte = (bitpos >> 3) as usize;
        let shift = bitpos & 7;
        let word = if byte + 8 <= n {
            u64::from_le_bytes(src[byte..byte + 8].try_into().unwrap())
        } else {
            let mut tmp = [0u8; 8];
            tmp[..n - byte].copy_from_slice(&src[byte..]);
            u64::from_le_bytes(tmp)
        };
        *v = ((word >> shift) & mask) as u32;
        bitpos += w;
    }
}

#[inline]
pub fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
#[inline]
pub fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
}
#[inline]
pub fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vint_round_trips() {
        let vals = [0u64, 1, 127, 128, 300, 16383, 16384, u32::MAX as u64, u64::MAX];
        let mut b = Vec::new();
        for &v in &vals {
            put_vint(&mut b, v);
        }
        let mut p = 0;
        for &v in &vals {
            assert_eq!(get_vint(&b, &mut p), Some(v));
        }
        assert_eq!(p, b.len());
        assert_eq!(get_vint(&[0x80], &mut 0), None);
    }

    #[test]
    fn packing_round_trips_every_width() {
        let mut s = 12345u64;
        for w in 0..=32u8 {
            let mut vals = [0u32; BLOCK];
            for v in vals.iter_mut() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *v = if w == 0 { 0 } else { ((s >> 20) as u32) & (u32::MAX >> (32 - w as u32)) };
            }
            let mut b = Vec::new();
            pack(&mut b, &vals, w);
            assert_eq!(b.len(), 16 * w as usize);
            let mut out = [7u32; BLOCK];
            unpack(&b, w, &mut out);
            assert_eq!(out, vals, "width {w}");
        }
        // LSB first: values 1,0,1,... at width 1 are bits of byte 0 from bit 0.
        let mut vals = [0u32; BLOCK];
        vals[0] = 1;
        vals[2] = 1;
        let mut b = Vec::new();
        pack(&mut b, &vals, 1);
        assert_eq!(b[0], 0b101);
    }
}
