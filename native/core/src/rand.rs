//! SplitMix64 (Steele, Lea and Flood, 2014), the seeded mixer behind every sampled or
//! randomised choice (HNSW levels, IVF training, Swing's user sample): deterministic per seed.

/// One SplitMix64 step of `z`.
#[inline]
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
