use super::*;
use crate::isa::Isa;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn f32(&mut self) -> f32 {
        (self.next() % 20001) as f32 / 10000.0 - 1.0
    }
}

fn tiers() -> Vec<&'static Kernels> {
    Isa::ALL.into_iter().filter_map(kernels_for).collect()
}

fn lengths() -> impl Iterator<Item = usize> {
    (0..=130).chain([255, 256, 257, 768, 1000, 1536])
}

#[test]
fn every_tier_is_bit_identical_to_scalar() {
    let mut rng = Lcg(7);
    for n in lengths() {
        let a: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let b: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let ah: Vec<u16> = a.iter().map(|&x| f32_to_f16(x)).collect();
        let bh: Vec<u16> = b.iter().map(|&x| f32_to_f16(x)).collect();
        let ai: Vec<i8> = (0..n).map(|_| rng.next() as i8).collect();
        let bi: Vec<i8> = (0..n).map(|_| rng.next() as i8).collect();
        let s = &scalar::KERNELS;
        for k in tiers() {
            let tier = k.isa;
            assert_eq!((k.dot_f32)(&a, &b).to_bits(), (s.dot_f32)(&a, &b).to_bits(), "{tier:?} dot_f32 n={n}");
            assert_eq!((k.l2sq_f32)(&a, &b).to_bits(), (s.l2sq_f32)(&a, &b).to_bits(), "{tier:?} l2sq_f32 n={n}");
            assert_eq!((k.dot_f16)(&ah, &bh).to_bits(), (s.dot_f16)(&ah, &bh).to_bits(), "{tier:?} dot_f16 n={n}");
            assert_eq!((k.l2sq_f16)(&ah, &bh).to_bits(), (s.l2sq_f16)(&ah, &bh).to_bits(), "{tier:?} l2sq_f16 n={n}");
            assert_eq!((k.dot_i8)(&ai, &bi), (s.dot_i8)(&ai, &bi), "{tier:?} dot_i8 n={n}");
            assert_eq!((k.l2sq_i8)(&ai, &bi), (s.l2sq_i8)(&ai, &bi), "{tier:?} l2sq_i8 n={n}");
        }
    }
}

#[test]
fn panel_dots_are_bit_identical_on_every_tier_and_close_to_f64() {
    use super::{PANEL_CENTROIDS as PC, PANEL_ROWS as PR, PanelJob};
    let mut rng = Lcg(23);
    for dims in [1, 32, 96, 800] {
        let rows: Vec<Vec<f32>> = (0..PR).map(|_| (0..dims).map(|_| rng.f32()).collect()).collect();
        let cents: Vec<Vec<f32>> = (0..PC).map(|_| (0..dims).map(|_| rng.f32()).collect()).collect();
        let mut rp = vec![0f32; dims * PR];
        let mut cp = vec![0f32; dims * PC];
        for k in 0..dims {
            for (r, row) in rows.iter().enumerate() {
                rp[k * PR + r] = row[k];
            }
            for (j, c) in cents.iter().enumerate() {
                cp[k * PC + j] = c[k];
            }
        }
        let job = PanelJob { rows: &rp, centroids: &cp, dims };
        let mut want = [[f32::NAN; PR]; PC];
        (scalar::KERNELS.panel_dots)(&job, &mut want);
        for (j, c) in cents.iter().enumerate() {
            for (r, row) in rows.iter().enumerate() {
                let exact: f64 = row.iter().zip(c).map(|(&a, &b)| a as f64 * b as f64).sum();
                assert!((want[j][r] as f64 - exact).abs() <= 1e-4 * exact.abs().max(1.0), "dims {dims} {j}x{r}: {} vs {exact}", want[j][r]);
            }
        }
        for k in tiers() {
            let mut got = [[f32::NAN; PR]; PC];
            (k.panel_dots)(&job, &mut got);
            assert_eq!(got.map(|a| a.map(f32::to_bits)), want.map(|a| a.map(f32::to_bits)), "{:?} panel_dots dims {dims}", k.isa);
        }
    }
}

#[test]
fn results_match_a_double_precision_reference() {
    let mut rng = Lcg(11);
    for n in lengths() {
        let a: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let b: Vec<f32> = (0..n).map(|_| rng.f32()).collect();
        let dot: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        let l2: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum();
        let ai: Vec<i8> = (0..n).map(|_| rng.next() as i8).collect();
        let bi: Vec<i8> = (0..n).map(|_| rng.next() as i8).collect();
        let dot_i: i64 = ai.iter().zip(&bi).map(|(x, y)| *x as i64 * *y as i64).sum();
        let l2_i: i64 = ai.iter().zip(&bi).map(|(x, y)| (*x as i64 - *y as i64).pow(2)).sum();
        let tol = 1e-5 * (n as f64 + 1.0);
        for k in tiers() {
            assert!(((k.dot_f32)(&a, &b) as f64 - dot).abs() < tol, "{:?} n={n}", k.isa);
            assert!(((k.l2sq_f32)(&a, &b) as f64 - l2).abs() < tol, "{:?} n={n}", k.isa);
            assert_eq!((k.dot_i8)(&ai, &bi) as i64, dot_i, "{:?} n={n}", k.isa);
            assert_eq!((k.l2sq_i8)(&ai, &bi) as i64, l2_i, "{:?} n={n}", k.isa);
        }
    }
}

#[test]
fn extreme_i8_values_do_not_overflow_the_pairwise_sums() {
    let a = vec![-128i8; 1000];
    let b = vec![127i8; 1000];
    for k in tiers() {
        assert_eq!((k.dot_i8)(&a, &a), 1000 * 128 * 128);
        assert_eq!((k.l2sq_i8)(&a, &b), 1000 * 255 * 255);
    }
}

#[test]
fn reduction_tree_order_is_fixed() {
    // 1e8 + 1 - 1e8 depends on order in f32; the tree pairs lane 0 with 16.
    let mut l = [0f32; LANES];
    l[0] = 1e8;
    l[16] = -1e8;
    l[1] = 1.0;
    assert_eq!(reduce_lanes(&l), 1.0);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn software_f16_matches_f16c_for_every_half_and_many_floats() {
    use std::arch::x86_64::*;
    if !is_x86_feature_detected!("f16c") {
        return;
    }
    #[target_feature(enable = "f16c")]
    fn hw_to_f32(h: u16) -> f32 {
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_set1_epi16(h as i16)))
    }
    #[target_feature(enable = "f16c")]
    fn hw_to_f16(x: f32) -> u16 {
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set1_ps(x), _MM_FROUND_TO_NEAREST_INT), 0) as u16
    }
    for h in 0..=u16::MAX {
        let (hw, sw) = (unsafe { hw_to_f32(h) }, f16_to_f32(h));
        assert!(hw.to_bits() == sw.to_bits() || (hw.is_nan() && sw.is_nan()), "to_f32 h={h:#06x}");
    }
    let mut rng = Lcg(3);
    let specials = [0.0f32, -0.0, 65504.0, 65520.0, 1e-8, 5.96e-8, 2.98e-8, 6.1e-5, f32::INFINITY, -1e30, 1.0 / 3.0];
    let randoms = (0..200_000).map(|_| f32::from_bits(rng.next() ^ (rng.next() << 16)));
    for x in specials.into_iter().chain(randoms).filter(|x| !x.is_nan()) {
        assert_eq!(f32_to_f16(x), unsafe { hw_to_f16(x) }, "to_f16 x={x:e} ({:#010x})", x.to_bits());
    }
    assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
}
