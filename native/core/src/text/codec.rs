//! Integer codecs of the text index: LEB128 VInts and LSB-first bit packing of
//! 128-value blocks, plus little-endian readers.

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
#[inline(always)]
pub fn get_vint(b: &[u8], pos: &mut usize) -> Option<u64> {
    // most values are below 128: one byte
    let first = *b.get(*pos)?;
    if first < 0x80 {
        *pos += 1;
        return Some(first as u64);
    }
    // two bytes (a doc gap below 16384) without the call
    if let Some(&second) = b.get(*pos + 1)
        && second < 0x80
    {
        *pos += 2;
        return Some((first & 0x7f) as u64 | (second as u64) << 7);
    }
    get_vint_long(b, pos)
}

#[inline(never)]
fn get_vint_long(b: &[u8], pos: &mut usize) -> Option<u64> {
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
    #[cfg(target_arch = "x86_64")]
    if avx2::usable(src, w) {
        // SAFETY: `usable` checked that the CPU has AVX2.
        return unsafe { avx2::unpack(src, w, None, out) };
    }
    unpack_gaps(src, w, None, out)
}

/// Unpack 128 doc gaps and turn them into doc ids in the same pass: doc_i = doc_{i-1} + gap_i + 1,
/// starting after `prev` (-1 before the first block).
pub fn unpack_docs(src: &[u8], w: u8, prev: i64, out: &mut [u32; BLOCK]) {
    #[cfg(target_arch = "x86_64")]
    if avx2::usable(src, w) {
        // SAFETY: `usable` checked that the CPU has AVX2.
        return unsafe { avx2::unpack(src, w, Some(prev), out) };
    }
    unpack_gaps(src, w, Some(prev), out)
}

/// Unpacking eight values at a time in AVX2 registers (the AVX2 tier, widths 1..=25, a block
/// with 32 readable bytes after it): two 16-byte loads per group of eight (values 0-3 from the
/// group's first byte, 4-7 from its middle byte), a byte shuffle that puts each value's 4 bytes
/// in its lane, a shift per lane and a mask; doc ids then by an in-register prefix sum. About 15
/// instructions per eight values where the scalar loop takes ~40.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::BLOCK;
    use std::arch::x86_64::*;

    const MAX_W: usize = 25;

    /// Per width: the byte shuffle (lane 0: values 0-3; lane 1: values 4-7 from byte W / 2) and
    /// the shift of each value within its 4 bytes.
    struct Table {
        shuffle: [u8; 32],
        shift: [u32; 8],
    }

    const fn table(w: usize) -> Table {
        let mut shuffle = [0x80u8; 32];
        let mut shift = [0u32; 8];
        let half = (4 * w) >> 3;
        let mut j = 0;
        while j < 8 {
            let bit = j * w;
            let (base, lane) = if j < 4 { (0, 0) } else { (half, 16) };
            let mut k = 0;
            while k < 4 {
                shuffle[lane + 4 * (j % 4) + k] = ((bit >> 3) - base + k) as u8;
                k += 1;
            }
            shift[j] = (bit & 7) as u32;
            j += 1;
        }
        Table { shuffle, shift }
    }

    static TABLES: [Table; MAX_W + 1] = {
        let mut t = [const { Table { shuffle: [0; 32], shift: [0; 8] } }; MAX_W + 1];
        let mut w = 1;
        while w <= MAX_W {
            t[w] = table(w);
            w += 1;
        }
        t
    };

    #[inline]
    pub fn usable(src: &[u8], w: u8) -> bool {
        (1..=MAX_W as u8).contains(&w) && src.len() >= 16 * w as usize + 32 && crate::isa::selected() >= crate::isa::Isa::Avx2
    }

    /// # Safety
    /// The CPU must have AVX2. `src` holds 16 * w + 32 bytes, 1 <= w <= 25.
    #[target_feature(enable = "avx2")]
    pub unsafe fn unpack(src: &[u8], w: u8, prefix: Option<i64>, out: &mut [u32; BLOCK]) {
        let w = w as usize;
        let t = &TABLES[w];
        let src = &src[..16 * w + 32];
        // SAFETY: 32 bytes each, read unaligned.
        let (shuffle, shift) = unsafe { (_mm256_loadu_si256(t.shuffle.as_ptr().cast()), _mm256_loadu_si256(t.shift.as_ptr().cast())) };
        let mask = _mm256_set1_epi32(((1u64 << w) - 1) as i32);
        let half = (4 * w) >> 3;
        let ones = _mm256_set1_epi32(1);
        let last = _mm256_set1_epi32(7);
        let mut carry = _mm256_set1_epi32(prefix.unwrap_or(0) as i32);
        for g in 0..BLOCK / 8 {
            let at = g * w;
            // SAFETY: at + half + 16 <= 15 w + w / 2 + 16 < 16 w + 32 = src.len() (both loads)
            let lo = unsafe { _mm_loadu_si128(src[at..at + 16].as_ptr().cast()) };
            let hi = unsafe { _mm_loadu_si128(src[at + half..at + half + 16].as_ptr().cast()) };
            let v = _mm256_set_m128i(hi, lo);
            let v = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(v, shuffle), shift), mask);
            let v = if prefix.is_some() {
                // doc = previous doc + gap + 1: a prefix sum over the eight lanes, then the carry
                let x = _mm256_add_epi32(v, ones);
                let x = _mm256_add_epi32(x, _mm256_slli_si256::<4>(x));
                let x = _mm256_add_epi32(x, _mm256_slli_si256::<8>(x));
                let low_total = _mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(3));
                let x = _mm256_add_epi32(x, _mm256_blend_epi32::<0xF0>(_mm256_setzero_si256(), low_total));
                let x = _mm256_add_epi32(x, carry);
                carry = _mm256_permutevar8x32_epi32(x, last);
                x
            } else {
                v
            };
            // SAFETY: out holds 128 values; g * 8 + 8 <= 128.
            unsafe { _mm256_storeu_si256(out[g * 8..g * 8 + 8].as_mut_ptr().cast(), v) };
        }
    }
}

#[inline(always)]
fn unpack_gaps(src: &[u8], w: u8, prefix: Option<i64>, out: &mut [u32; BLOCK]) {
    if w == 0 {
        match prefix {
            None => *out = [0; BLOCK],
            Some(p) => {
                for (i, v) in out.iter_mut().enumerate() {
                    *v = (p + 1 + i as i64) as u32;
                }
            }
        }
        return;
    }
    let n = 16 * w as usize;
    if src.len() >= n + 8 {
        // the common case: 8 readable bytes past the block, so every value is one unaligned load;
        // one function per width makes every offset and shift a constant
        macro_rules! widths {
            ($($k:literal)*) => {
                match w {
                    $($k => unpack_fixed::<$k>(&src[..16 * $k + 8], prefix, out),)*
                    _ => unreachable!(),
                }
            };
        }
        widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32);
        return;
    }
    unpack_tail_safe(src, w, out);
    if let Some(mut p) = prefix {
        for d in out.iter_mut() {
            p += *d as i64 + 1;
            *d = p as u32;
        }
    }
}

/// The slow path for a block that ends the section (no slack bytes after it).
fn unpack_tail_safe(src: &[u8], w: u8, out: &mut [u32; BLOCK]) {
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

/// Pack `vals` at `w` bits each (0..=64) into an LSB-first bit stream, padded to 8 bytes.
pub fn pack_stream(vals: &[u64], w: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity((vals.len() * w as usize).div_ceil(64) * 8);
    let (mut acc, mut nbits) = (0u128, 0u32);
    for &v in vals {
        acc |= (v as u128) << nbits;
        nbits += w as u32;
        while nbits >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            nbits -= 64;
        }
    }
    if nbits > 0 {
        out.extend_from_slice(&(acc as u64).to_le_bytes());
    }
    out
}

/// Unpack `n` values of `w` bits from a `pack_stream` stream; `None` if it is too short.
pub fn unpack_stream(b: &[u8], n: usize, w: u8) -> Option<Vec<u64>> {
    if b.len() < (n * w as usize).div_ceil(64) * 8 {
        return None;
    }
    let mask: u128 = if w == 64 { u64::MAX as u128 } else { (1u128 << w) - 1 };
    let mut out = Vec::with_capacity(n);
    let (mut acc, mut nbits, mut pos) = (0u128, 0u32, 0usize);
    for _ in 0..n {
        if nbits < w as u32 {
            acc |= (u64::from_le_bytes(b[pos..pos + 8].try_into().unwrap()) as u128) << nbits;
            pos += 8;
            nbits += 64;
        }
        out.push((acc & mask) as u64);
        acc >>= w;
        nbits -= w as u32;
    }
    Some(out)
}

/// Bits needed for `v` (0 for 0), 64-bit.
pub fn bits64(v: u64) -> u8 {
    (64 - v.leading_zeros()) as u8
}

#[inline(always)]
fn unpack_fixed<const W: usize>(src: &[u8], prefix: Option<i64>, out: &mut [u32; BLOCK]) {
    let src = &src[..16 * W + 8];
    match prefix {
        None => {
            for g in 0..BLOCK / 8 {
                let v = group_of_eight::<W>(src, g);
                for j in 0..8 {
                    out[g * 8 + j] = v[j] as u32;
                }
            }
        }
        Some(mut p) => {
            for g in 0..BLOCK / 8 {
                let v = group_of_eight::<W>(src, g);
                for j in 0..8 {
                    p += v[j] as i64 + 1;
                    out[g * 8 + j] = p as u32;
                }
            }
        }
    }
}

/// Values 8g..8g+8 of a block packed at W bits. Eight values take exactly W bytes, so within a
/// group every byte offset and shift is a constant (the compiler unrolls it) and one bounds
/// check covers the group.
#[inline(always)]
fn group_of_eight<const W: usize>(src: &[u8], g: usize) -> [u64; 8] {
    let mask: u64 = if W == 32 { u32::MAX as u64 } else { (1u64 << W) - 1 };
    let chunk = &src[g * W..g * W + W + 8];
    std::array::from_fn(|j| {
        let bit = j * W;
        let word = u64::from_le_bytes(chunk[bit >> 3..(bit >> 3) + 8].try_into().unwrap());
        (word >> (bit & 7)) & mask
    })
}

pub use crate::bytes::{u16_at, u32_at, u64_at};

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
        // every length (1..=10 bytes) at both edges, alone (the byte loop) and followed by other
        // bytes (the 8-byte path), which must not leak into the value
        let mut vals: Vec<u64> = (0..64).flat_map(|k| [(1u64 << k) - 1, 1u64 << k]).collect();
        vals.extend((1..200u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (i % 64)));
        for &v in &vals {
            let mut b = Vec::new();
            put_vint(&mut b, v);
            let n = b.len();
            let mut p = 0;
            assert_eq!(get_vint(&b, &mut p), Some(v), "{v} alone");
            assert_eq!(p, n);
            b.extend_from_slice(&[0xff, 0x81, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x01]);
            let mut p = 0;
            assert_eq!(get_vint(&b, &mut p), Some(v), "{v} followed by bytes");
            assert_eq!(p, n);
        }
    }

    #[test]
    fn streams_round_trip_every_width() {
        for w in 0..=64u8 {
            let vals: Vec<u64> =
                (0..77u64).map(|i| if w == 0 { 0 } else { i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - w as u32) }).collect();
            let b = pack_stream(&vals, w);
            assert_eq!(b.len() % 8, 0);
            assert_eq!(unpack_stream(&b, vals.len(), w).unwrap(), vals, "width {w}");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_unpacking_equals_the_scalar_one() {
        if !crate::isa::supported(crate::isa::Isa::Avx2) {
            return;
        }
        let mut s = 777u64;
        for w in 1..=25u8 {
            for prefix in [None, Some(-1i64), Some(123_456)] {
                let mut vals = [0u32; BLOCK];
                for v in vals.iter_mut() {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    *v = ((s >> 20) as u32) & (u32::MAX >> (32 - w as u32));
                }
                let mut b = Vec::new();
                pack(&mut b, &vals, w);
                b.extend_from_slice(&[0xa5; 32]);
                let (mut want, mut got) = ([0u32; BLOCK], [0u32; BLOCK]);
                unpack_gaps(&b, w, prefix, &mut want);
                // SAFETY: AVX2 is supported (checked above); b has 16 w + 32 bytes.
                unsafe { avx2::unpack(&b, w, prefix, &mut got) };
                assert_eq!(got, want, "width {w}, prefix {prefix:?}");
            }
        }
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
            // with slack bytes after the block (the fast path), which must not leak into values
            b.extend_from_slice(&[0xff; 8]);
            let mut out = [7u32; BLOCK];
            unpack(&b, w, &mut out);
            assert_eq!(out, vals, "width {w}, slack after the block");
        }
        // doc ids from gaps, in one pass, with and without slack bytes after the block
        for w in [0u8, 1, 5, 13, 32] {
            let mut vals = [0u32; BLOCK];
            for (i, v) in vals.iter_mut().enumerate() {
                *v = if w == 0 { 0 } else { (i as u32 * 7919) & (u32::MAX >> (32 - w as u32)) };
            }
            let mut b = Vec::new();
            pack(&mut b, &vals, w);
            let mut want = [0u32; BLOCK];
            let mut p = 99i64;
            for (i, &g) in vals.iter().enumerate() {
                p += g as i64 + 1;
                want[i] = p as u32;
            }
            let mut out = [0u32; BLOCK];
            unpack_docs(&b, w, 99, &mut out);
            assert_eq!(out, want, "width {w}, no slack");
            b.extend_from_slice(&[0xff; 8]);
            unpack_docs(&b, w, 99, &mut out);
            assert_eq!(out, want, "width {w}, slack");
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
