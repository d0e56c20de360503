//! The SQ8 distance kernel: sum over j of code_j (u8) * q_j (i16), exact in
//! integers. The query side carries the per-dimension scales (the store's
//! codes are plain u8), so one integer dot product gives the L2 cross term or
//! the inner product: see `vector::store::Scorer::prepare`. AVX-512BW and AVX2 use
//! `vpmaddwd` (pairs of i16 products summed into i32 lanes); every tier
//! returns the same integer.

/// Bits of the quantised query: |q_j| <= 2^14 - 1, so an i32 lane (which sums
/// 2 products per 32 dimensions) stays exact up to 8,000+ dimensions.
pub const QUERY_BITS: u32 = 14;

pub fn dot_u8_i16(c: &[u8], q: &[i16]) -> i64 {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::isa::{Isa, selected};
        match selected() {
            // SAFETY: the selected tier's features are present (isa::selected never exceeds detection).
            Isa::Avx512 => return unsafe { x86::avx512(c, q) },
            Isa::Avx2 => return unsafe { x86::avx2(c, q) },
            Isa::Scalar => {}
        }
    }
    scalar(c, q)
}

pub fn scalar(c: &[u8], q: &[i16]) -> i64 {
    c.iter().zip(q).map(|(&a, &b)| a as i64 * b as i64).sum()
}

#[cfg(target_arch = "x86_64")]
pub mod x86 {
    use std::arch::x86_64::*;

    /// Lengths must be equal multiples of 32 (rows are padded to 32).
    ///
    /// # Safety
    /// The CPU must have AVX-512F and AVX-512BW (callers check the ISA first).
    #[target_feature(enable = "avx512f,avx512bw")]
    pub fn avx512(c: &[u8], q: &[i16]) -> i64 {
        let n = c.len().min(q.len()) / 32 * 32;
        let mut acc = _mm512_setzero_si512();
        let mut i = 0;
        while i < n {
            // SAFETY: i + 32 <= n elements of both.
            let (x, y) = unsafe {
                (_mm512_cvtepu8_epi16(_mm256_loadu_si256(c.as_ptr().add(i).cast())), _mm512_loadu_si512(q.as_ptr().add(i).cast()))
            };
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
            i += 32;
        }
        let mut lanes = [0i32; 16];
        // SAFETY: 16 i32 fit the array.
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), acc) };
        lanes.iter().map(|&x| x as i64).sum::<i64>() + super::scalar(&c[n..], &q[n..])
    }

    /// # Safety
    /// The CPU must have AVX2 (callers check the ISA first).
    #[target_feature(enable = "avx2")]
    pub fn avx2(c: &[u8], q: &[i16]) -> i64 {
        let n = c.len().min(q.len()) / 16 * 16;
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < n {
            // SAFETY: i + 16 <= n elements of both.
            let (x, y) =
                unsafe { (_mm256_cvtepu8_epi16(_mm_loadu_si128(c.as_ptr().add(i).cast())), _mm256_loadu_si256(q.as_ptr().add(i).cast())) };
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
            i += 16;
        }
        let mut lanes = [0i32; 8];
        // SAFETY: 8 i32 fit the array.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
        lanes.iter().map(|&x| x as i64).sum::<i64>() + super::scalar(&c[n..], &q[n..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tier_equals_scalar() {
        let mut s = 7u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            s >> 33
        };
        let lim = (1i64 << QUERY_BITS) - 1;
        for len in [0usize, 32, 64, 96, 800, 4096, 8192] {
            let c: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
            let mut q: Vec<i16> = (0..len).map(|_| ((next() as i64 % (2 * lim + 1)) - lim) as i16).collect();
            let want = scalar(&c, &q);
            assert_eq!(dot_u8_i16(&c, &q), want, "len {len}");
            #[cfg(target_arch = "x86_64")]
            {
                if crate::isa::supported(crate::isa::Isa::Avx2) {
                    assert_eq!(unsafe { x86::avx2(&c, &q) }, want, "avx2 len {len}");
                }
                if crate::isa::supported(crate::isa::Isa::Avx512) {
                    assert_eq!(unsafe { x86::avx512(&c, &q) }, want, "avx512 len {len}");
                }
            }
            // the extremes: every product at its largest magnitude
            let c2 = vec![255u8; len];
            q.iter_mut().for_each(|x| *x = -(lim as i16));
            assert_eq!(dot_u8_i16(&c2, &q), -(255 * lim * len as i64));
        }
    }
}
