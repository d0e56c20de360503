//! The portable tier. Same lane layout and reduction order as the SIMD tiers
//! (see the module docs), so results are bit-identical to theirs.

use super::{Isa, Kernels, LANES, PANEL_CENTROIDS, PANEL_ROWS, PanelDots, PanelJob, f16_to_f32, reduce_lanes};

pub const KERNELS: Kernels = Kernels { isa: Isa::Scalar, dot_f32, l2sq_f32, dot_f16, l2sq_f16, dot_i8, l2sq_i8, panel_dots };

/// Accumulate `f(a[i], b[i])` into lane `i % 32`, then reduce.
#[inline(always)]
fn lanes<T: Copy>(a: &[T], b: &[T], f: impl Fn(T, T) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [0f32; LANES];
    let mut ca = a[..n].chunks_exact(LANES);
    let mut cb = b[..n].chunks_exact(LANES);
    for (xa, xb) in (&mut ca).zip(&mut cb) {
        for j in 0..LANES {
            acc[j] += f(xa[j], xb[j]);
        }
    }
    for (j, (x, y)) in ca.remainder().iter().zip(cb.remainder()).enumerate() {
        acc[j] += f(*x, *y);
    }
    reduce_lanes(&acc)
}

pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| x * y)
}

pub fn panel_dots(job: &PanelJob, dots: &mut PanelDots) {
    *dots = [[0f32; PANEL_ROWS]; PANEL_CENTROIDS];
    for k in 0..job.dims {
        let x = &job.rows[k * PANEL_ROWS..(k + 1) * PANEL_ROWS];
        let c = &job.centroids[k * PANEL_CENTROIDS..(k + 1) * PANEL_CENTROIDS];
        for (dj, &cj) in dots.iter_mut().zip(c) {
            for (d, &xr) in dj.iter_mut().zip(x) {
                *d = xr.mul_add(cj, *d);
            }
        }
    }
}

pub fn l2sq_f32(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| {
        let d = x - y;
        d * d
    })
}

pub fn dot_f16(a: &[u16], b: &[u16]) -> f32 {
    lanes(a, b, |x, y| f16_to_f32(x) * f16_to_f32(y))
}

pub fn l2sq_f16(a: &[u16], b: &[u16]) -> f32 {
    lanes(a, b, |x, y| {
        let d = f16_to_f32(x) - f16_to_f32(y);
        d * d
    })
}

// Integer sums are exact in any order; LLVM vectorises these itself.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

pub fn l2sq_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = x as i32 - y as i32;
            d * d
        })
        .sum()
}

/// The textbook loop (one accumulator), kept only as a benchmark anchor.
pub fn naive_dot_f32(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
