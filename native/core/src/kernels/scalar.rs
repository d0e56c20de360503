//! The portable tier. Same lane layout and reduction order as the SIMD tiers
//! (see the module docs), so results are bit-identical to theirs.

use super::{Isa, Kernels, LANES, PANEL_CENTROIDS, PANEL_ROWS, PanelBest, PanelJob, f16_to_f32, reduce_lanes};

pub const KERNELS: Kernels =
    Kernels { isa: Isa::Scalar, dot_f32, l2sq_f32, dot_f16, l2sq_f16, dot_i8, l2sq_i8, dot_2x4_fma_f32, nearest_in_panel };

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

pub fn dot_2x4_fma_f32(cs: [&[f32]; 2], rows: [&[f32]; 4]) -> [[f32; 4]; 2] {
    let n = rows.iter().chain(&cs).fold(usize::MAX, |n, r| n.min(r.len()));
    debug_assert_eq!(n % LANES, 0, "dot_2x4_fma_f32 takes padded rows");
    let mut acc = [[[0f32; LANES]; 4]; 2];
    for e in (0..n).step_by(LANES) {
        for (c, v) in cs.iter().enumerate() {
            for (r, row) in rows.iter().enumerate() {
                for j in 0..LANES {
                    acc[c][r][j] = v[e + j].mul_add(row[e + j], acc[c][r][j]);
                }
            }
        }
    }
    acc.map(|a| a.map(|l| reduce_lanes(&l)))
}

pub fn nearest_in_panel(job: &PanelJob, best: &mut PanelBest) {
    let mut dots = [[0f32; PANEL_ROWS]; PANEL_CENTROIDS];
    for k in 0..job.dims {
        let x = &job.rows[k * PANEL_ROWS..(k + 1) * PANEL_ROWS];
        let c = &job.centroids[k * PANEL_CENTROIDS..(k + 1) * PANEL_CENTROIDS];
        for (dj, &cj) in dots.iter_mut().zip(c) {
            for (d, &xr) in dj.iter_mut().zip(x) {
                *d = xr.mul_add(cj, *d);
            }
        }
    }
    for (j, dj) in dots.iter().enumerate().take(job.count) {
        for (r, &dot) in dj.iter().enumerate() {
            let d = match job.norms {
                Some(n) => n[j] - (dot + dot),
                None => 0.0 - dot,
            };
            if d < best.0[r] {
                best.0[r] = d;
                best.1[r] = job.first + j as u32;
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
