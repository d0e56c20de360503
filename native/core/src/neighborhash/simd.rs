//! AVX-512 multi-key AMAC: each ring entry is a vector of 8
//! lookups. One step loads the 8 slots (key word and value word), compares,
//! writes the finished lanes' answers at their query index, refills those
//! lanes from the key stream (expand-load, hashed 8 at a time) and advances
//! the others one chain hop; then it prefetches the 8 next slots and yields to
//! the next vector. W vectors keep W*8 lookups in flight.
//!
//! Runtime-dispatched (AVX-512F + DQ); `get_batch` uses it only where the
//! benchmark showed it winning (see `batch.rs`).

use super::{MISSING, PAYLOAD_BITS, PAYLOAD_MASK, Slot, Table};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// True when this CPU can run the AVX-512 path and the process allows AVX-512 (RECALL_ISA).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::isa::selected() == crate::isa::Isa::Avx512 && is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Same contract as `get_batch`. Panics when `available()` is false.
pub fn get_batch_avx512(t: &Table, keys: &[u64], out: &mut [u64], ring: usize) {
    assert!(out.len() == keys.len(), "output length must match the keys");
    assert!(available(), "AVX-512F/DQ not available");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU features were checked just above.
    unsafe {
        match ring.clamp(1, 32).next_power_of_two() {
            1 => ring_avx512::<1>(t, keys, out),
            2 => ring_avx512::<2>(t, keys, out),
            4 => ring_avx512::<4>(t, keys, out),
            8 => ring_avx512::<8>(t, keys, out),
            16 => ring_avx512::<16>(t, keys, out),
            _ => ring_avx512::<32>(t, keys, out),
        }
    }
}

/// splitmix64-style `mix` on 8 lanes (must equal `super::mix`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
fn mix8(k: __m512i, seed: __m512i) -> __m512i {
    let mut h = _mm512_xor_si512(k, seed);
    h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64::<30>(h)), _mm512_set1_epi64(0xbf58_476d_1ce4_e5b9u64 as i64));
    h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64::<27>(h)), _mm512_set1_epi64(0x94d0_49bb_1331_11ebu64 as i64));
    _mm512_xor_si512(h, _mm512_srli_epi64::<31>(h))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn ring_avx512<const W: usize>(t: &Table, keys: &[u64], out: &mut [u64]) {
    let n = keys.len();
    let mask = t.slots.len() - 1;
    if n < 8 * W + 8 {
        for (q, &k) in keys.iter().enumerate() {
            out[q] = t.get(k).unwrap_or(MISSING);
        }
        return;
    }
    let base = t.slots.as_ptr() as *const u8;
    let vmask = _mm512_set1_epi64(mask as i64);
    let vseed = _mm512_set1_epi64(t.seed as i64);
    let iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    let mut vkey = [_mm512_setzero_si512(); W];
    let mut vidx = [_mm512_setzero_si512(); W];
    let mut vq = [_mm512_setzero_si512(); W];
    let mut next = 0usize;
    // Each entry's 8 slot indexes, stored for their prefetches: its next step loads the slots from them.
    let mut at = [[0u64; 8]; W];
    let prefetch8 = |idx: __m512i, a: &mut [u64; 8]| {
        // SAFETY: an unaligned store into a local array of 8 u64.
        unsafe { _mm512_storeu_si512(a.as_mut_ptr().cast(), idx) };
        for &i in a.iter() {
            crate::prefetch::prefetch(base.wrapping_add((i as usize) * 16));
        }
    };
    for j in 0..W {
        // SAFETY: next + 8 <= n (n >= 8W + 8).
        vkey[j] = unsafe { _mm512_loadu_si512(keys.as_ptr().add(next).cast()) };
        vq[j] = _mm512_add_epi64(iota, _mm512_set1_epi64(next as i64));
        vidx[j] = _mm512_and_si512(mix8(vkey[j], vseed), vmask);
        prefetch8(vidx[j], &mut at[j]);
        next += 8;
    }
    let vpayload = _mm512_set1_epi64(PAYLOAD_MASK as i64);
    let vmiss = _mm512_set1_epi64(MISSING as i64);
    let even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    let odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    let mut j = 0;
    let mut lane_q = [0u64; 8];
    let mut answers = [0u64; 8];
    while next + 8 <= n {
        // Slot i (its key word, then its value word) is the 16 bytes at base + 16i. Eight 16-byte
        // loads transposed into a vector of keys and one of value words, and below eight plain
        // stores of the answers, measured 13-20% fewer ns per lookup at 2^16, 2^22 and 2^25 slots
        // than two gathers and a masked scatter (AMD Zen 5; either change alone gained nothing).
        let a = &at[j];
        // SAFETY: every index is <= mask, inside the table.
        let slot = |l: usize| unsafe { _mm_loadu_si128(base.add((a[l] as usize) * 16).cast()) };
        let pair = |l: usize| _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(slot(l)), slot(l + 1));
        let lo = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(pair(0)), pair(2));
        let hi = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(pair(4)), pair(6));
        let sk = _mm512_permutex2var_epi64(lo, even, hi);
        let sw = _mm512_permutex2var_epi64(lo, odd, hi);
        let hit = _mm512_cmpeq_epi64_mask(sk, vkey[j]);
        let delta = _mm512_srai_epi64::<{ PAYLOAD_BITS }>(sw);
        let done = hit | _mm512_cmpeq_epi64_mask(delta, _mm512_setzero_si512());
        // Every lane's answer (the payload, a miss as MISSING) is stored at its query's index; a lane
        // still running stores a provisional one that its last step overwrites. No loop over the
        // finished lanes: its exit, after 3 to 8 lanes, mispredicted on most steps and made the ring
        // 2.6x slower on a cache-resident table.
        let answer = _mm512_mask_and_epi64(vmiss, hit, sw, vpayload);
        // SAFETY: stores into local arrays of 8 u64; every lane of vq is a query index < n = out.len().
        unsafe {
            _mm512_storeu_si512(lane_q.as_mut_ptr().cast(), vq[j]);
            _mm512_storeu_si512(answers.as_mut_ptr().cast(), answer);
            let o = out.as_mut_ptr();
            for l in 0..8 {
                *o.add(lane_q[l] as usize) = answers[l];
            }
        }
        // Refill the finished lanes with the next keys, in order.
        // SAFETY: next + popcount(done) <= next + 8 <= n.
        vkey[j] = unsafe { _mm512_mask_expandloadu_epi64(vkey[j], done, keys.as_ptr().add(next).cast()) };
        vq[j] = _mm512_mask_expand_epi64(vq[j], done, _mm512_add_epi64(iota, _mm512_set1_epi64(next as i64)));
        next += done.count_ones() as usize;
        let hop = _mm512_and_si512(_mm512_add_epi64(vidx[j], delta), vmask);
        let home = _mm512_and_si512(mix8(vkey[j], vseed), vmask);
        vidx[j] = _mm512_mask_blend_epi64(done, hop, home);
        prefetch8(vidx[j], &mut at[j]);
        j = (j + 1) & (W - 1);
    }
    // Drain: finish every lane in flight one by one, then the few keys left.
    for j in 0..W {
        let mut k = [0u64; 8];
        let mut i = [0u64; 8];
        // SAFETY: stores into local arrays of 8 u64.
        unsafe {
            _mm512_storeu_si512(k.as_mut_ptr().cast(), vkey[j]);
            _mm512_storeu_si512(i.as_mut_ptr().cast(), vidx[j]);
            _mm512_storeu_si512(lane_q.as_mut_ptr().cast(), vq[j]);
        }
        for l in 0..8 {
            out[lane_q[l] as usize] = t.get_from(k[l], i[l] as usize).unwrap_or(MISSING);
        }
    }
    for q in next..n {
        out[q] = t.get(keys[q]).unwrap_or(MISSING);
    }
}

/// The random-access bounds on the AVX-512 ring (see `baseline::random_access_ring` and
/// `random_access_lines`): `ring` vectors of 8 consecutive reads in flight; a vector's 8 slots (each
/// key's home, `offsets` past it when given) are prefetched as it enters and their words gathered,
/// stored to `out`, `ring` steps later. Panics when `available()` is false.
pub fn random_access_ring_avx512(slots: &[Slot], keys: &[u64], offsets: &[u64], out: &mut [u64], seed: u64, ring: usize) {
    assert!(out.len() == keys.len(), "output length must match the keys");
    assert!(offsets.is_empty() || offsets.len() == keys.len(), "one offset per key, or none");
    assert!(available(), "AVX-512F/DQ not available");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU features were checked just above.
    unsafe {
        let off = !offsets.is_empty();
        match (ring.clamp(1, 16).next_power_of_two(), off) {
            (1, false) => bound_avx512::<1, false>(slots, keys, offsets, out, seed),
            (2, false) => bound_avx512::<2, false>(slots, keys, offsets, out, seed),
            (4, false) => bound_avx512::<4, false>(slots, keys, offsets, out, seed),
            (8, false) => bound_avx512::<8, false>(slots, keys, offsets, out, seed),
            (_, false) => bound_avx512::<16, false>(slots, keys, offsets, out, seed),
            (1, true) => bound_avx512::<1, true>(slots, keys, offsets, out, seed),
            (2, true) => bound_avx512::<2, true>(slots, keys, offsets, out, seed),
            (4, true) => bound_avx512::<4, true>(slots, keys, offsets, out, seed),
            (8, true) => bound_avx512::<8, true>(slots, keys, offsets, out, seed),
            (_, true) => bound_avx512::<16, true>(slots, keys, offsets, out, seed),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn bound_avx512<const W: usize, const OFF: bool>(slots: &[Slot], keys: &[u64], offsets: &[u64], out: &mut [u64], seed: u64) {
    let n = keys.len();
    let mask = slots.len() - 1;
    let at = |q: usize| (super::mix(keys[q], seed).wrapping_add(if OFF { offsets[q] } else { 0 }) as usize) & mask;
    let whole = n / 8;
    if whole < W {
        for (q, o) in out.iter_mut().enumerate() {
            *o = slots[at(q)].word;
        }
        return;
    }
    let base = slots.as_ptr() as *const u8;
    let vmask = _mm512_set1_epi64(mask as i64);
    let vseed = _mm512_set1_epi64(seed as i64);
    let mut off = [_mm512_setzero_si512(); W];
    let enter = |g: usize| {
        // SAFETY: g < whole, so keys[8g..8g + 8] is in bounds.
        let k = unsafe { _mm512_loadu_si512(keys.as_ptr().add(8 * g).cast()) };
        let mut h = mix8(k, vseed);
        if OFF {
            // SAFETY: offsets has the keys' length (checked by the caller).
            h = _mm512_add_epi64(h, unsafe { _mm512_loadu_si512(offsets.as_ptr().add(8 * g).cast()) });
        }
        let o = _mm512_slli_epi64::<4>(_mm512_and_si512(h, vmask));
        let mut a = [0u64; 8];
        // SAFETY: an unaligned store into a local array of 8 u64.
        unsafe { _mm512_storeu_si512(a.as_mut_ptr().cast(), o) };
        for &i in &a {
            crate::prefetch::prefetch(base.wrapping_add(i as usize));
        }
        o
    };
    for (g, o) in off.iter_mut().enumerate() {
        *o = enter(g);
    }
    // Group g enters entry g mod W and leaves it W groups later, its words stored in order.
    for g in W..whole + W {
        let j = g % W;
        // SAFETY: every offset is 16 * (index <= mask) + 8, inside the table; out[8(g - W)..+8] is in bounds.
        unsafe {
            let w = _mm512_i64gather_epi64::<1>(off[j], base.add(8).cast());
            _mm512_storeu_si512(out.as_mut_ptr().add(8 * (g - W)).cast(), w);
        }
        if g < whole {
            off[j] = enter(g);
        }
    }
    for q in 8 * whole..n {
        out[q] = slots[at(q)].word;
    }
}
