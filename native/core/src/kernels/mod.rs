//! Distance kernels over f32, f16 (IEEE half bits in `u16`) and i8 vectors,
//! one table of function pointers per ISA tier.
//!
//! **Every tier returns bit-identical results.** Index files must be
//! byte-reproducible whichever machine builds them (IVF k-means, HNSW
//! neighbour choice and stored scores all depend on these sums), so all
//! tiers add in one fixed order: 32 lanes (lane = element index mod 32), each
//! lane a separate `+=` of a separately rounded product (no FMA: the scalar
//! tier would need a software `fmaf` per term), then one fixed reduction tree
//! (`lane j + lane j+16`, then `+8`, `+4`, `+2`, `+1`). The SIMD tiers hold
//! the 32 lanes in registers (4 x ymm or 2 x zmm); the scalar tier in an
//! array, which LLVM vectorises with SSE2 because lanes are independent.
//! The exception is `panel_dots`, the k-means and IVF probe kernel, where the products
//! are the whole cost: it fuses every term on every tier (the scalar tier through
//! `f32::mul_add`, one rounding as well), so it is bit-identical too.
//!
//! Callers that score many vectors fetch the table once (`kernels()`) and
//! call through it: dispatch costs one indirect call per vector.
//!
//! `fast` holds the search-time kernels (FMA, last bits may differ between tiers), used
//! only to rank candidates; `sq8` the integer kernel of SQ8 rows (u8 codes against an
//! i16 query, exact, so every tier returns the same integer).

mod f16;
pub mod fast;
pub mod scalar;
pub mod sq8;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use f16::{f16_to_f32, f32_to_f16};

use crate::isa::{self, Isa};

/// Number of independent accumulators every tier uses.
pub const LANES: usize = 32;

/// Rows of a row panel (see `Kernels::panel_dots`): two zmm.
pub const PANEL_ROWS: usize = 32;
/// Centroids of a k-means centroid panel: with two row vectors each, 24 of the 32 zmm hold sums.
pub const PANEL_CENTROIDS: usize = 12;

/// One row panel against one centroid panel (see `Kernels::panel_dots`).
pub struct PanelJob<'a> {
    /// `dims x PANEL_ROWS`, dimension-major: element k of row r at `k * PANEL_ROWS + r`.
    pub rows: &'a [f32],
    /// `dims x PANEL_CENTROIDS`, dimension-major.
    pub centroids: &'a [f32],
    pub dims: usize,
}

/// `dots[j][r]`: centroid j of the panel against row r.
pub type PanelDots = [[f32; PANEL_ROWS]; PANEL_CENTROIDS];

/// The kernels of one tier. Both inputs must have the same length (callers
/// check; the kernels read `min(a.len(), b.len())` elements).
#[derive(Clone, Copy)]
pub struct Kernels {
    pub isa: Isa,
    pub dot_f32: fn(&[f32], &[f32]) -> f32,
    pub l2sq_f32: fn(&[f32], &[f32]) -> f32,
    pub dot_f16: fn(&[u16], &[u16]) -> f32,
    pub l2sq_f16: fn(&[u16], &[u16]) -> f32,
    pub dot_i8: fn(&[i8], &[i8]) -> i32,
    pub l2sq_i8: fn(&[i8], &[i8]) -> i32,
    /// The dot products of a row panel with a centroid panel, a small matrix product for k-means
    /// assignment and IVF probes: every dot is one chain of fused multiply-adds over the dimensions
    /// in order (one rounding per term, which every tier and `f32::mul_add` share, so the results
    /// are bit-identical). Rows are the vector lanes, so no sum is reduced across lanes.
    pub panel_dots: fn(&PanelJob, &mut PanelDots),
}

/// The table for `isa`, or `None` when this CPU cannot run it.
pub fn kernels_for(isa: Isa) -> Option<&'static Kernels> {
    if !isa::supported(isa) {
        return None;
    }
    match isa {
        Isa::Scalar => Some(&scalar::KERNELS),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Some(&x86::AVX2),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => Some(&x86::AVX512),
        #[cfg(not(target_arch = "x86_64"))]
        _ => None,
    }
}

/// The table of the tier this process selected (see [`crate::isa::selected`]).
#[inline]
pub fn kernels() -> &'static Kernels {
    kernels_for(isa::selected()).unwrap_or(&scalar::KERNELS)
}

/// The fixed reduction tree shared by all tiers (SIMD tiers do the same adds
/// in registers): pairs lane j with lane j + width/2 until one value is left.
#[inline]
pub(crate) fn reduce_lanes(l: &[f32; LANES]) -> f32 {
    let mut t = *l;
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for j in 0..width {
            t[j] += t[j + width];
        }
    }
    t[0]
}

#[cfg(test)]
mod tests;
