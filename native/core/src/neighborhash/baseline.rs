//! Comparison points for `recall bench hash` (not used by indexes): a
//! linear-probing table with the same 16-byte slots, hash and load, and the
//! random-access bound (one read of each key's home slot over the same
//! memory, no compare, no chain, through the same ring of reads in flight as
//! the batch lookup: what no hash table can beat).

use super::{Slot, mix};
use crate::prefetch::prefetch;

/// Linear probing over `cap` slots (key 0 not supported: the bench never uses it).
pub fn linear_build(pairs: &[(u64, u64)], cap: usize, seed: u64) -> Vec<Slot> {
    let mut slots = vec![Slot::default(); cap];
    let mask = cap - 1;
    for &(k, v) in pairs {
        let mut i = (mix(k, seed) as usize) & mask;
        while slots[i].key != 0 {
            i = (i + 1) & mask;
        }
        slots[i] = Slot { key: k, word: v };
    }
    slots
}

#[inline]
pub fn linear_get(slots: &[Slot], key: u64, seed: u64) -> Option<u64> {
    let mask = slots.len() - 1;
    let mut i = (mix(key, seed) as usize) & mask;
    loop {
        let s = slots[i];
        if s.key == key {
            return Some(s.word);
        }
        if s.key == 0 {
            return None;
        }
        i = (i + 1) & mask;
    }
}

/// The random-access bound of a batch lookup: each key's home slot read once
/// through a ring of `in_flight` reads, each prefetched as it enters the ring
/// (the batching and prefetch distance of `get_batch`), its word written to
/// `out[q]`. Every lookup reads at least its home cache line and writes its
/// answer, so no table's batch lookup can take less time.
///
/// Where the batch lookup runs its AVX-512 ring, so does the bound (vectors of 8
/// keys hashed together, one gather of their words): a scalar bound did more
/// work a key than that ring and measured slower than the table it bounds.
pub fn random_access_ring(slots: &[Slot], keys: &[u64], out: &mut [u64], seed: u64, in_flight: usize) {
    assert!(out.len() == keys.len(), "output length must match the keys");
    if super::simd::available() && in_flight >= 8 {
        return super::simd::random_access_ring_avx512(slots, keys, out, seed, in_flight / 8);
    }
    match in_flight.clamp(4, 128).next_power_of_two() {
        4 => bound_ring::<4>(slots, keys, out, seed),
        8 => bound_ring::<8>(slots, keys, out, seed),
        16 => bound_ring::<16>(slots, keys, out, seed),
        32 => bound_ring::<32>(slots, keys, out, seed),
        64 => bound_ring::<64>(slots, keys, out, seed),
        _ => bound_ring::<128>(slots, keys, out, seed),
    }
}

fn bound_ring<const W: usize>(slots: &[Slot], keys: &[u64], out: &mut [u64], seed: u64) {
    let n = keys.len();
    let mask = slots.len() - 1;
    let slots = &slots[..=mask];
    let base = slots.as_ptr();
    let out = &mut out[..n];
    let mut at = [0usize; W];
    let head = n.min(W);
    for (j, &k) in keys[..head].iter().enumerate() {
        at[j] = (mix(k, seed) as usize) & mask;
        prefetch(base.wrapping_add(at[j]));
    }
    // Key q enters entry q mod W as key q - W, prefetched W keys ago, leaves it.
    for q in W..n {
        let j = q & (W - 1);
        out[q - W] = slots[at[j] & mask].word;
        at[j] = (mix(keys[q], seed) as usize) & mask;
        prefetch(base.wrapping_add(at[j]));
    }
    for (q, o) in out.iter_mut().enumerate().skip(n - head) {
        *o = slots[at[q & (W - 1)] & mask].word;
    }
}

/// Sum of the words at each key's home slot, one independent read per key
/// with no prefetch (the plain loop the ring bound replaced).
pub fn random_access(slots: &[Slot], keys: &[u64], seed: u64) -> u64 {
    let mask = slots.len() - 1;
    keys.iter().fold(0u64, |acc, &k| acc ^ slots[(mix(k, seed) as usize) & mask].word)
}

/// Average cache lines per hit for linear probing (for the APCL column).
pub fn linear_apcl(slots: &[Slot], seed: u64) -> f64 {
    let mask = slots.len() - 1;
    let (mut lines, mut n) = (0usize, 0usize);
    for s in slots.iter().filter(|s| s.key != 0) {
        let mut i = (mix(s.key, seed) as usize) & mask;
        let mut line = usize::MAX;
        loop {
            if i / super::SLOTS_PER_LINE != line {
                lines += 1;
                line = i / super::SLOTS_PER_LINE;
            }
            if slots[i].key == s.key {
                break;
            }
            i = (i + 1) & mask;
        }
        n += 1;
    }
    lines as f64 / n.max(1) as f64
}
