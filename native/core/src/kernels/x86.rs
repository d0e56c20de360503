//! AVX2 and AVX-512 tiers. Same lane layout and reduction order as
//! `scalar.rs` (see the module docs): lanes 0..32 live in 4 ymm / 2 zmm
//! accumulators, products are rounded before they are added (no FMA), and
//! the last partial chunk is copied into a zero-padded buffer and run as one
//! more full chunk (adding +0.0 to a lane never changes it).

use super::{Isa, Kernels, LANES, PANEL_CENTROIDS as PC, PANEL_ROWS as PR, PanelDots, PanelJob};
use std::arch::x86_64::*;

// SAFETY of every `unsafe` call in these tables: `kernels_for` hands a table
// out only after `isa::supported` confirmed the CPU has its features.
pub const AVX2: Kernels = Kernels {
    isa: Isa::Avx2,
    dot_f32: |a, b| unsafe { avx2_f32::<DOT>(a, b) },
    l2sq_f32: |a, b| unsafe { avx2_f32::<L2>(a, b) },
    dot_f16: |a, b| unsafe { avx2_f16::<DOT>(a, b) },
    l2sq_f16: |a, b| unsafe { avx2_f16::<L2>(a, b) },
    dot_i8: |a, b| unsafe { avx2_i8::<DOT>(a, b) },
    l2sq_i8: |a, b| unsafe { avx2_i8::<L2>(a, b) },
    panel_dots: |job, dots| unsafe { avx2_panel_dots(job, dots) },
};

pub const AVX512: Kernels = Kernels {
    isa: Isa::Avx512,
    dot_f32: |a, b| unsafe { avx512_f32::<DOT>(a, b) },
    l2sq_f32: |a, b| unsafe { avx512_f32::<L2>(a, b) },
    dot_f16: |a, b| unsafe { avx512_f16::<DOT>(a, b) },
    l2sq_f16: |a, b| unsafe { avx512_f16::<L2>(a, b) },
    dot_i8: |a, b| unsafe { avx512_i8::<DOT>(a, b) },
    l2sq_i8: |a, b| unsafe { avx512_i8::<L2>(a, b) },
    panel_dots: |job, dots| unsafe { avx512_panel_dots(job, dots) },
};

const DOT: u8 = 0;
const L2: u8 = 1;

/// Copy the last `< 32` elements into zero-padded chunks.
#[inline(always)]
fn tail_chunk<T: Copy + Default>(a: &[T], b: &[T], from: usize, n: usize) -> ([T; LANES], [T; LANES]) {
    let (mut ta, mut tb) = ([T::default(); LANES], [T::default(); LANES]);
    ta[..n - from].copy_from_slice(&a[from..n]);
    tb[..n - from].copy_from_slice(&b[from..n]);
    (ta, tb)
}

// ------------------------------------------------------------------ AVX2

#[target_feature(enable = "avx2")]
#[inline]
fn term256<const OP: u8>(x: __m256, y: __m256) -> __m256 {
    if OP == DOT {
        _mm256_mul_ps(x, y)
    } else {
        let d = _mm256_sub_ps(x, y);
        _mm256_mul_ps(d, d)
    }
}

/// Lanes 0..8, 8..16, 16..24, 24..32 -> one sum, in the scalar tree's order.
#[target_feature(enable = "avx2")]
#[inline]
fn reduce256(acc: [__m256; 4]) -> f32 {
    let lo = _mm256_add_ps(acc[0], acc[2]); // lanes j + j+16, j < 8
    let hi = _mm256_add_ps(acc[1], acc[3]); // lanes j + j+16, 8 <= j < 16
    let t8 = _mm256_add_ps(lo, hi); // j + j+8
    let t4 = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1)); // j + j+4
    let t2 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4)); // j + j+2
    let t1 = _mm_add_ss(t2, _mm_shuffle_ps(t2, t2, 1)); // 0 + 1
    _mm_cvtss_f32(t1)
}

/// One 32-element chunk at `pa`/`pb` into the four accumulators.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn chunk256_f32<const OP: u8>(acc: &mut [__m256; 4], pa: *const f32, pb: *const f32) {
    for (k, acc_k) in acc.iter_mut().enumerate() {
        // SAFETY: the caller guarantees 32 readable elements at pa and pb.
        let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(8 * k)), _mm256_loadu_ps(pb.add(8 * k))) };
        *acc_k = _mm256_add_ps(*acc_k, term256::<OP>(x, y));
    }
}

#[target_feature(enable = "avx2")]
fn avx2_f32<const OP: u8>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + LANES <= n {
        // SAFETY: i + 32 <= n.
        unsafe { chunk256_f32::<OP>(&mut acc, a.as_ptr().add(i), b.as_ptr().add(i)) };
        i += LANES;
    }
    if i < n {
        let (ta, tb) = tail_chunk(a, b, i, n);
        // SAFETY: the padded chunks hold 32 elements.
        unsafe { chunk256_f32::<OP>(&mut acc, ta.as_ptr(), tb.as_ptr()) };
    }
    reduce256(acc)
}

#[target_feature(enable = "avx2,f16c")]
#[inline]
unsafe fn chunk256_f16<const OP: u8>(acc: &mut [__m256; 4], pa: *const u16, pb: *const u16) {
    for (k, acc_k) in acc.iter_mut().enumerate() {
        // SAFETY: the caller guarantees 32 readable halves at pa and pb.
        let (x, y) =
            unsafe { (_mm256_cvtph_ps(_mm_loadu_si128(pa.add(8 * k).cast())), _mm256_cvtph_ps(_mm_loadu_si128(pb.add(8 * k).cast()))) };
        *acc_k = _mm256_add_ps(*acc_k, term256::<OP>(x, y));
    }
}

#[target_feature(enable = "avx2,f16c")]
fn avx2_f16<const OP: u8>(a: &[u16], b: &[u16]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + LANES <= n {
        // SAFETY: i + 32 <= n.
        unsafe { chunk256_f16::<OP>(&mut acc, a.as_ptr().add(i), b.as_ptr().add(i)) };
        i += LANES;
    }
    if i < n {
        let (ta, tb) = tail_chunk(a, b, i, n);
        // SAFETY: the padded chunks hold 32 halves.
        unsafe { chunk256_f16::<OP>(&mut acc, ta.as_ptr(), tb.as_ptr()) };
    }
    reduce256(acc)
}

#[target_feature(enable = "avx2")]
#[inline]
fn hsum256_i32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
    _mm_cvtsi128_si32(s)
}

#[target_feature(enable = "avx2")]
fn avx2_i8<const OP: u8>(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let mut acc = _mm256_setzero_si256();
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: reads [i, i+16) with i + 16 <= n. Sign-extend 16 x i8 to
        // i16, then multiply pairs and add into 8 x i32 (|sum| < 2^17).
        let (x, y) = unsafe {
            (
                _mm256_cvtepi8_epi16(_mm_loadu_si128(a.as_ptr().add(i).cast())),
                _mm256_cvtepi8_epi16(_mm_loadu_si128(b.as_ptr().add(i).cast())),
            )
        };
        let (p, q) = if OP == DOT { (x, y) } else { (_mm256_sub_epi16(x, y), _mm256_sub_epi16(x, y)) };
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, q));
        i += 16;
    }
    let rest = if OP == DOT { super::scalar::dot_i8(&a[i..n], &b[i..n]) } else { super::scalar::l2sq_i8(&a[i..n], &b[i..n]) };
    hsum256_i32(acc) + rest
}

// --------------------------------------------------------------- AVX-512

#[target_feature(enable = "avx512f")]
#[inline]
fn term512<const OP: u8>(x: __m512, y: __m512) -> __m512 {
    if OP == DOT {
        _mm512_mul_ps(x, y)
    } else {
        let d = _mm512_sub_ps(x, y);
        _mm512_mul_ps(d, d)
    }
}

/// Lanes 0..16 and 16..32 -> one sum, in the scalar tree's order.
#[target_feature(enable = "avx512f,avx2")]
#[inline]
fn reduce512(acc: [__m512; 2]) -> f32 {
    let t16 = _mm512_add_ps(acc[0], acc[1]); // j + j+16
    let lo = _mm512_castps512_ps256(t16);
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t16), 1));
    let t8 = _mm256_add_ps(lo, hi); // j + j+8
    let t4 = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1));
    let t2 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4));
    let t1 = _mm_add_ss(t2, _mm_shuffle_ps(t2, t2, 1));
    _mm_cvtss_f32(t1)
}

#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn chunk512_f32<const OP: u8>(acc: &mut [__m512; 2], pa: *const f32, pb: *const f32) {
    for (k, acc_k) in acc.iter_mut().enumerate() {
        // SAFETY: the caller guarantees 32 readable elements at pa and pb.
        let (x, y) = unsafe { (_mm512_loadu_ps(pa.add(16 * k)), _mm512_loadu_ps(pb.add(16 * k))) };
        *acc_k = _mm512_add_ps(*acc_k, term512::<OP>(x, y));
    }
}

#[target_feature(enable = "avx512f,avx2")]
fn avx512_f32<const OP: u8>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [_mm512_setzero_ps(); 2];
    let mut i = 0;
    while i + LANES <= n {
        // SAFETY: i + 32 <= n.
        unsafe { chunk512_f32::<OP>(&mut acc, a.as_ptr().add(i), b.as_ptr().add(i)) };
        i += LANES;
    }
    if i < n {
        let (ta, tb) = tail_chunk(a, b, i, n);
        // SAFETY: the padded chunks hold 32 elements.
        unsafe { chunk512_f32::<OP>(&mut acc, ta.as_ptr(), tb.as_ptr()) };
    }
    reduce512(acc)
}

#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn chunk512_f16<const OP: u8>(acc: &mut [__m512; 2], pa: *const u16, pb: *const u16) {
    for (k, acc_k) in acc.iter_mut().enumerate() {
        // SAFETY: the caller guarantees 32 readable halves at pa and pb.
        let (x, y) = unsafe {
            (_mm512_cvtph_ps(_mm256_loadu_si256(pa.add(16 * k).cast())), _mm512_cvtph_ps(_mm256_loadu_si256(pb.add(16 * k).cast())))
        };
        *acc_k = _mm512_add_ps(*acc_k, term512::<OP>(x, y));
    }
}

#[target_feature(enable = "avx512f,avx2")]
fn avx512_f16<const OP: u8>(a: &[u16], b: &[u16]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [_mm512_setzero_ps(); 2];
    let mut i = 0;
    while i + LANES <= n {
        // SAFETY: i + 32 <= n.
        unsafe { chunk512_f16::<OP>(&mut acc, a.as_ptr().add(i), b.as_ptr().add(i)) };
        i += LANES;
    }
    if i < n {
        let (ta, tb) = tail_chunk(a, b, i, n);
        // SAFETY: the padded chunks hold 32 halves.
        unsafe { chunk512_f16::<OP>(&mut acc, ta.as_ptr(), tb.as_ptr()) };
    }
    reduce512(acc)
}

#[target_feature(enable = "avx512f,avx512bw")]
fn avx512_i8<const OP: u8>(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let mut acc = _mm512_setzero_si512();
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: reads [i, i+32) with i + 32 <= n.
        let (x, y) = unsafe {
            (
                _mm512_cvtepi8_epi16(_mm256_loadu_si256(a.as_ptr().add(i).cast())),
                _mm512_cvtepi8_epi16(_mm256_loadu_si256(b.as_ptr().add(i).cast())),
            )
        };
        let (p, q) = if OP == DOT { (x, y) } else { (_mm512_sub_epi16(x, y), _mm512_sub_epi16(x, y)) };
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p, q));
        i += 32;
    }
    let rest = if OP == DOT { super::scalar::dot_i8(&a[i..n], &b[i..n]) } else { super::scalar::l2sq_i8(&a[i..n], &b[i..n]) };
    _mm512_reduce_add_epi32(acc) + rest
}

/// `panel_dots` on AVX-512: the 32 rows in two zmm, 12 centroids broadcast, 24 sums.
#[target_feature(enable = "avx512f")]
fn avx512_panel_dots(job: &PanelJob, dots: &mut PanelDots) {
    assert!(job.rows.len() >= job.dims * PR && job.centroids.len() >= job.dims * PC, "panels hold dims x 32 rows and dims x 12 centroids");
    let (rp, cp) = (job.rows.as_ptr(), job.centroids.as_ptr());
    // acc[j][h]: centroid j against rows 16h..16h + 16
    let mut acc = [[_mm512_setzero_ps(); 2]; PC];
    for k in 0..job.dims {
        // SAFETY: k < dims, and the panels hold dims x 32 and dims x 12 floats (asserted).
        let x = unsafe { [_mm512_loadu_ps(rp.add(k * PR)), _mm512_loadu_ps(rp.add(k * PR + 16))] };
        for (j, a) in acc.iter_mut().enumerate() {
            let c = _mm512_set1_ps(unsafe { *cp.add(k * PC + j) });
            for (ah, &xh) in a.iter_mut().zip(&x) {
                *ah = _mm512_fmadd_ps(xh, c, *ah);
            }
        }
    }
    for (out, a) in dots.iter_mut().zip(&acc) {
        for (h, &ah) in a.iter().enumerate() {
            // SAFETY: 16 floats at 16h of an array of 32.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(16 * h), ah) };
        }
    }
}

/// `panel_dots` on AVX2: four passes of 8 rows (one ymm) by the 12 centroids.
#[target_feature(enable = "avx2,fma")]
fn avx2_panel_dots(job: &PanelJob, dots: &mut PanelDots) {
    assert!(job.rows.len() >= job.dims * PR && job.centroids.len() >= job.dims * PC, "panels hold dims x 32 rows and dims x 12 centroids");
    let (rp, cp) = (job.rows.as_ptr(), job.centroids.as_ptr());
    for h in 0..PR / 8 {
        let mut acc = [_mm256_setzero_ps(); PC];
        for k in 0..job.dims {
            // SAFETY: k < dims, and the panels hold dims x 32 and dims x 12 floats (asserted).
            let x = unsafe { _mm256_loadu_ps(rp.add(k * PR + 8 * h)) };
            for (j, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(x, _mm256_set1_ps(unsafe { *cp.add(k * PC + j) }), *a);
            }
        }
        for (out, &a) in dots.iter_mut().zip(&acc) {
            // SAFETY: 8 floats at 8h of an array of 32.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(8 * h), a) };
        }
    }
}
