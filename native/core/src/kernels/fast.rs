//! Search-time kernels: f32 query against f32 or f16 rows, with FMA and four
//! independent accumulators. Used only to rank candidates at query time, so
//! unlike the build kernels (`crate::kernels`, bit-identical on every tier)
//! their last bits may differ between tiers; graphs and centroids never
//! depend on them. Rows are padded to a multiple of 32 elements.

use crate::isa::{Isa, selected};

#[derive(Clone, Copy)]
pub struct Fast {
    pub l2_f32: fn(&[f32], &[f32]) -> f32,
    pub dot_f32: fn(&[f32], &[f32]) -> f32,
    pub l2_f16: fn(&[f32], &[u16]) -> f32,
    pub dot_f16: fn(&[f32], &[u16]) -> f32,
    /// `[i][j]` = `l2_f32(a[i], b[j])`, bit for bit, with each loaded vector used twice: two
    /// queries against two rows (a batch scan's rows and queries both sit in cache).
    pub l2_f32_2x2: Pair2x2,
    /// `[i][j]` = `dot_f32(a[i], b[j])`, bit for bit.
    pub dot_f32_2x2: Pair2x2,
    /// `l2_f32(a, b)` bit for bit when that is below `bound`; otherwise some value at or above
    /// `bound` (the sum may stop early: its partial sums can only grow).
    pub l2_f32_below: fn(&[f32], &[f32], f32) -> f32,
}

pub type Pair2x2 = fn([&[f32]; 2], [&[f32]; 2]) -> [[f32; 2]; 2];

/// Four calls of a one-pair kernel: the 2x2 entry of tiers without a blocked one.
fn by_pairs(one: fn(&[f32], &[f32]) -> f32, a: [&[f32]; 2], b: [&[f32]; 2]) -> [[f32; 2]; 2] {
    [[one(a[0], b[0]), one(a[0], b[1])], [one(a[1], b[0]), one(a[1], b[1])]]
}

/// The table of this process's tier.
pub fn fast() -> Fast {
    match selected() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY (every entry): the selected tier's features are present.
        Isa::Avx512 => Fast {
            l2_f32: |a, b| unsafe { x86::f32_512::<true>(a, b) },
            dot_f32: |a, b| unsafe { x86::f32_512::<false>(a, b) },
            l2_f16: |a, b| unsafe { x86::f16_512::<true>(a, b) },
            dot_f16: |a, b| unsafe { x86::f16_512::<false>(a, b) },
            l2_f32_2x2: |a, b| unsafe { x86::f32_512_2x2::<true>(a, b) },
            dot_f32_2x2: |a, b| unsafe { x86::f32_512_2x2::<false>(a, b) },
            l2_f32_below: |a, b, bound| unsafe { x86::l2_f32_512_below(a, b, bound) },
        },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Fast {
            l2_f32: |a, b| unsafe { x86::f32_256::<true>(a, b) },
            dot_f32: |a, b| unsafe { x86::f32_256::<false>(a, b) },
            l2_f16: |a, b| unsafe { x86::f16_256::<true>(a, b) },
            dot_f16: |a, b| unsafe { x86::f16_256::<false>(a, b) },
            l2_f32_2x2: |a, b| by_pairs(|x, y| unsafe { x86::f32_256::<true>(x, y) }, a, b),
            dot_f32_2x2: |a, b| by_pairs(|x, y| unsafe { x86::f32_256::<false>(x, y) }, a, b),
            l2_f32_below: |a, b, _| unsafe { x86::f32_256::<true>(a, b) },
        },
        _ => Fast {
            l2_f32: scalar::l2_f32,
            dot_f32: scalar::dot_f32,
            l2_f16: scalar::l2_f16,
            dot_f16: scalar::dot_f16,
            l2_f32_2x2: |a, b| by_pairs(scalar::l2_f32, a, b),
            dot_f32_2x2: |a, b| by_pairs(scalar::dot_f32, a, b),
            l2_f32_below: |a, b, _| scalar::l2_f32(a, b),
        },
    }
}

pub mod scalar {
    use crate::kernels::f16_to_f32;
    pub fn l2_f32(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }
    pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }
    pub fn l2_f16(a: &[f32], b: &[u16]) -> f32 {
        a.iter().zip(b).map(|(x, &y)| (x - f16_to_f32(y)) * (x - f16_to_f32(y))).sum()
    }
    pub fn dot_f16(a: &[f32], b: &[u16]) -> f32 {
        a.iter().zip(b).map(|(x, &y)| x * f16_to_f32(y)).sum()
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn step512<const L2: bool>(acc: __m512, x: __m512, y: __m512) -> __m512 {
        if L2 {
            let d = _mm512_sub_ps(x, y);
            _mm512_fmadd_ps(d, d, acc)
        } else {
            _mm512_fmadd_ps(x, y, acc)
        }
    }

    #[target_feature(enable = "avx512f")]
    pub fn f32_512<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        f32_512_until::<L2, false>(a, b, f32::INFINITY)
    }

    /// `f32_512::<true>` that looks at its partial sum after every 256 elements and stops once it
    /// reaches `bound`. Every step adds a square (never negative) to an accumulator, and the
    /// partial sum goes through the same reduction as the final one, so a partial sum at or above
    /// `bound` means the full distance is too; below it, the result is `f32_512`'s, bit for bit.
    #[target_feature(enable = "avx512f")]
    pub fn l2_f32_512_below(a: &[f32], b: &[f32], bound: f32) -> f32 {
        f32_512_until::<true, true>(a, b, bound)
    }

    /// Four accumulators over blocks of 64, then blocks of 16 into the first, one reduction;
    /// with `STOP`, the partial sum is compared with `bound` every 256 elements.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn f32_512_until<const L2: bool, const STOP: bool>(a: &[f32], b: &[f32], bound: f32) -> f32 {
        let n = a.len().min(b.len()) / 16 * 16;
        let mut acc = [_mm512_setzero_ps(); 4];
        let sum = |acc: &[__m512; 4]| _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
        let mut i = 0;
        while i + 64 <= n {
            for (k, acc_k) in acc.iter_mut().enumerate() {
                // SAFETY: i + 64 <= n.
                let (x, y) = unsafe { (_mm512_loadu_ps(a.as_ptr().add(i + 16 * k)), _mm512_loadu_ps(b.as_ptr().add(i + 16 * k))) };
                *acc_k = step512::<L2>(*acc_k, x, y);
            }
            i += 64;
            if STOP && i % 256 == 0 && i < n {
                let partial = sum(&acc);
                if partial >= bound {
                    return partial;
                }
            }
        }
        while i < n {
            // SAFETY: i + 16 <= n.
            let (x, y) = unsafe { (_mm512_loadu_ps(a.as_ptr().add(i)), _mm512_loadu_ps(b.as_ptr().add(i))) };
            acc[0] = step512::<L2>(acc[0], x, y);
            i += 16;
        }
        sum(&acc) + if L2 { super::scalar::l2_f32(&a[n..], &b[n..]) } else { super::scalar::dot_f32(&a[n..], &b[n..]) }
    }

    /// `f32_512` for two queries against two rows at once, each pair with the same four
    /// accumulators, steps and reductions as `f32_512`, so every result has its bits.
    #[target_feature(enable = "avx512f")]
    pub fn f32_512_2x2<const L2: bool>(a: [&[f32]; 2], b: [&[f32]; 2]) -> [[f32; 2]; 2] {
        let n = a[0].len() / 16 * 16;
        if a.iter().chain(&b).any(|v| v.len() != a[0].len()) {
            return super::by_pairs(|x, y| f32_512::<L2>(x, y), a, b);
        }
        // acc[k][p]: accumulator k of pair p = (query p / 2, row p % 2).
        let mut acc = [[_mm512_setzero_ps(); 4]; 4];
        let steps = |acc: &mut [__m512; 4], x0, x1, y0, y1| {
            acc[0] = step512::<L2>(acc[0], x0, y0);
            acc[1] = step512::<L2>(acc[1], x0, y1);
            acc[2] = step512::<L2>(acc[2], x1, y0);
            acc[3] = step512::<L2>(acc[3], x1, y1);
        };
        let mut i = 0;
        while i + 64 <= n {
            for (k, acc_k) in acc.iter_mut().enumerate() {
                // SAFETY: i + 64 <= n and all four slices are n or longer.
                let (x0, x1, y0, y1) = unsafe {
                    let o = i + 16 * k;
                    (
                        _mm512_loadu_ps(a[0].as_ptr().add(o)),
                        _mm512_loadu_ps(a[1].as_ptr().add(o)),
                        _mm512_loadu_ps(b[0].as_ptr().add(o)),
                        _mm512_loadu_ps(b[1].as_ptr().add(o)),
                    )
                };
                steps(acc_k, x0, x1, y0, y1);
            }
            i += 64;
        }
        while i < n {
            // SAFETY: i + 16 <= n.
            let (x0, x1, y0, y1) = unsafe {
                (
                    _mm512_loadu_ps(a[0].as_ptr().add(i)),
                    _mm512_loadu_ps(a[1].as_ptr().add(i)),
                    _mm512_loadu_ps(b[0].as_ptr().add(i)),
                    _mm512_loadu_ps(b[1].as_ptr().add(i)),
                )
            };
            steps(&mut acc[0], x0, x1, y0, y1);
            i += 16;
        }
        let mut out = [[0f32; 2]; 2];
        for (p, o) in out.iter_mut().flatten().enumerate() {
            let s = _mm512_add_ps(_mm512_add_ps(acc[0][p], acc[1][p]), _mm512_add_ps(acc[2][p], acc[3][p]));
            let (x, y) = (&a[p / 2][n..], &b[p % 2][n..]);
            *o = _mm512_reduce_add_ps(s) + if L2 { super::scalar::l2_f32(x, y) } else { super::scalar::dot_f32(x, y) };
        }
        out
    }

    #[target_feature(enable = "avx512f")]
    pub fn f16_512<const L2: bool>(a: &[f32], b: &[u16]) -> f32 {
        let n = a.len().min(b.len()) / 16 * 16;
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        while i + 64 <= n {
            for (k, acc_k) in acc.iter_mut().enumerate() {
                // SAFETY: i + 64 <= n.
                let (x, y) = unsafe {
                    (_mm512_loadu_ps(a.as_ptr().add(i + 16 * k)), _mm512_cvtph_ps(_mm256_loadu_si256(b.as_ptr().add(i + 16 * k).cast())))
                };
                *acc_k = step512::<L2>(*acc_k, x, y);
            }
            i += 64;
        }
        while i < n {
            // SAFETY: i + 16 <= n.
            let (x, y) = unsafe { (_mm512_loadu_ps(a.as_ptr().add(i)), _mm512_cvtph_ps(_mm256_loadu_si256(b.as_ptr().add(i).cast()))) };
            acc[0] = step512::<L2>(acc[0], x, y);
            i += 16;
        }
        let s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        _mm512_reduce_add_ps(s) + if L2 { super::scalar::l2_f16(&a[n..], &b[n..]) } else { super::scalar::dot_f16(&a[n..], &b[n..]) }
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn step256<const L2: bool>(acc: __m256, x: __m256, y: __m256) -> __m256 {
        if L2 {
            let d = _mm256_sub_ps(x, y);
            _mm256_fmadd_ps(d, d, acc)
        } else {
            _mm256_fmadd_ps(x, y, acc)
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn hsum256(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn f32_256<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len()) / 8 * 8;
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i + 32 <= n {
            for (k, acc_k) in acc.iter_mut().enumerate() {
                // SAFETY: i + 32 <= n.
                let (x, y) = unsafe { (_mm256_loadu_ps(a.as_ptr().add(i + 8 * k)), _mm256_loadu_ps(b.as_ptr().add(i + 8 * k))) };
                *acc_k = step256::<L2>(*acc_k, x, y);
            }
            i += 32;
        }
        while i < n {
            // SAFETY: i + 8 <= n.
            let (x, y) = unsafe { (_mm256_loadu_ps(a.as_ptr().add(i)), _mm256_loadu_ps(b.as_ptr().add(i))) };
            acc[0] = step256::<L2>(acc[0], x, y);
            i += 8;
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        hsum256(s) + if L2 { super::scalar::l2_f32(&a[n..], &b[n..]) } else { super::scalar::dot_f32(&a[n..], &b[n..]) }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn f16_256<const L2: bool>(a: &[f32], b: &[u16]) -> f32 {
        let n = a.len().min(b.len()) / 8 * 8;
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i + 32 <= n {
            for (k, acc_k) in acc.iter_mut().enumerate() {
                // SAFETY: i + 32 <= n.
                let (x, y) = unsafe {
                    (_mm256_loadu_ps(a.as_ptr().add(i + 8 * k)), _mm256_cvtph_ps(_mm_loadu_si128(b.as_ptr().add(i + 8 * k).cast())))
                };
                *acc_k = step256::<L2>(*acc_k, x, y);
            }
            i += 32;
        }
        while i < n {
            // SAFETY: i + 8 <= n.
            let (x, y) = unsafe { (_mm256_loadu_ps(a.as_ptr().add(i)), _mm256_cvtph_ps(_mm_loadu_si128(b.as_ptr().add(i).cast()))) };
            acc[0] = step256::<L2>(acc[0], x, y);
            i += 8;
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        hsum256(s) + if L2 { super::scalar::l2_f16(&a[n..], &b[n..]) } else { super::scalar::dot_f16(&a[n..], &b[n..]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::f32_to_f16;

    #[test]
    fn every_tier_equals_scalar_within_float_tolerance() {
        let mut s = 3u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        for len in [0usize, 8, 16, 32, 48, 64, 96, 800, 1536] {
            let a: Vec<f32> = (0..len).map(|_| next()).collect();
            let b: Vec<f32> = (0..len).map(|_| next()).collect();
            let h: Vec<u16> = b.iter().map(|&x| f32_to_f16(x)).collect();
            let want = [scalar::l2_f32(&a, &b), scalar::dot_f32(&a, &b), scalar::l2_f16(&a, &h), scalar::dot_f16(&a, &h)];
            let f = fast();
            let mut tiers = vec![[(f.l2_f32)(&a, &b), (f.dot_f32)(&a, &b), (f.l2_f16)(&a, &h), (f.dot_f16)(&a, &h)]];
            #[cfg(target_arch = "x86_64")]
            {
                use crate::isa::{Isa, supported};
                // SAFETY: each tier runs only where the CPU has it.
                if supported(Isa::Avx2) {
                    tiers.push(unsafe {
                        [
                            x86::f32_256::<true>(&a, &b),
                            x86::f32_256::<false>(&a, &b),
                            x86::f16_256::<true>(&a, &h),
                            x86::f16_256::<false>(&a, &h),
                        ]
                    });
                }
                if supported(Isa::Avx512) {
                    tiers.push(unsafe {
                        [
                            x86::f32_512::<true>(&a, &b),
                            x86::f32_512::<false>(&a, &b),
                            x86::f16_512::<true>(&a, &h),
                            x86::f16_512::<false>(&a, &h),
                        ]
                    });
                }
            }
            if len >= 16 {
                let c: Vec<f32> = (0..len).map(|_| next()).collect();
                let d: Vec<f32> = (0..len).map(|_| next()).collect();
                let (q, r) = ([&a[..], &c[..]], [&b[..], &d[..]]);
                for (pair, one) in [(f.l2_f32_2x2, f.l2_f32), (f.dot_f32_2x2, f.dot_f32)] {
                    let got = pair(q, r);
                    for i in 0..2 {
                        for j in 0..2 {
                            assert_eq!(got[i][j].to_bits(), one(q[i], r[j]).to_bits(), "2x2 [{i}][{j}] at length {len}");
                        }
                    }
                }
                // below a bound: the exact distance, or a value at or above the bound
                let full = (f.l2_f32)(&a, &b);
                for bound in [0.0, full * 0.25, full * 0.5, full, full * 1.0001, f32::INFINITY] {
                    let got = (f.l2_f32_below)(&a, &b, bound);
                    if full < bound {
                        assert_eq!(got.to_bits(), full.to_bits(), "below {bound} at length {len}");
                    } else {
                        assert!(got >= bound, "{got} should reach the bound {bound} at length {len}");
                    }
                }
                // rows of unequal length go pair by pair
                let short = &d[..len - 8];
                assert_eq!((f.l2_f32_2x2)(q, [&b[..], short])[1][1].to_bits(), (f.l2_f32)(&c, short).to_bits());
            }
            for got in tiers {
                for (g, w) in got.iter().zip(want) {
                    assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "len {len}: {g} vs {w}");
                }
            }
        }
    }
}
