//! Comparison points for `recall bench hash` (not used by indexes): a
//! linear-probing table with the same 16-byte slots, hash and load, and the
//! random-access bounds: reads over the same memory, no compare, no chain,
//! through the same ring of reads in flight as the batch lookup. One reads each
//! key's home slot; the other reads every line the table's lookup of the key
//! reads (`lines_read`), so it reads as many lines as the table does and no
//! table can beat it.

use super::{SLOTS_PER_LINE, Slot, Table, mix};
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
    random_access_reads(slots, keys, &[], out, seed, in_flight)
}

/// The lines each lookup of `keys` in `t` reads, in order, as the key and the offset of the first
/// slot read in the line from the key's home slot: `(keys, offsets)`, one entry per line (a chain
/// that leaves a line and comes back reads it again). A miss reads its chain to the end.
pub fn lines_read(t: &Table, keys: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let mut line_keys = Vec::with_capacity(keys.len() + keys.len() / 4);
    let mut offsets = Vec::with_capacity(line_keys.capacity());
    for &k in keys {
        let home = t.home(k);
        let (mut i, mut line) = (home, usize::MAX);
        loop {
            if i / SLOTS_PER_LINE != line {
                line = i / SLOTS_PER_LINE;
                line_keys.push(k);
                offsets.push(i.wrapping_sub(home) as u64);
            }
            let s = t.slots[i];
            if s.key == k || s.next() == 0 {
                break;
            }
            i = (i as i64 + s.next()) as usize;
        }
    }
    (line_keys, offsets)
}

/// The random-access bound of the same lines as the table reads: entry `r` reads the slot
/// `home(keys[r]) + offsets[r]` (the plan of `lines_read`) through a ring of `in_flight` reads, as
/// `random_access_ring` does, its word written to `out[r]`. Each read hashes its key, as a lookup
/// hashes its key; none waits on another, while a table's next line waits on the slot before it.
pub fn random_access_lines(slots: &[Slot], keys: &[u64], offsets: &[u64], out: &mut [u64], seed: u64, in_flight: usize) {
    assert!(offsets.len() == keys.len(), "one offset per key");
    random_access_reads(slots, keys, offsets, out, seed, in_flight)
}

fn random_access_reads(slots: &[Slot], keys: &[u64], offsets: &[u64], out: &mut [u64], seed: u64, in_flight: usize) {
    assert!(out.len() == keys.len(), "output length must match the keys");
    if super::simd::available() && in_flight >= 8 {
        return super::simd::random_access_ring_avx512(slots, keys, offsets, out, seed, in_flight / 8);
    }
    match in_flight.clamp(4, 128).next_power_of_two() {
        4 => bound_ring::<4>(slots, keys, offsets, out, seed),
        8 => bound_ring::<8>(slots, keys, offsets, out, seed),
        16 => bound_ring::<16>(slots, keys, offsets, out, seed),
        32 => bound_ring::<32>(slots, keys, offsets, out, seed),
        64 => bound_ring::<64>(slots, keys, offsets, out, seed),
        _ => bound_ring::<128>(slots, keys, offsets, out, seed),
    }
}

/// `offsets` empty: each key's home slot; else `offsets[q]` slots past it.
fn bound_ring<const W: usize>(slots: &[Slot], keys: &[u64], offsets: &[u64], out: &mut [u64], seed: u64) {
    let n = keys.len();
    let mask = slots.len() - 1;
    let slots = &slots[..=mask];
    let base = slots.as_ptr();
    let out = &mut out[..n];
    let at_of = |q: usize| (mix(keys[q], seed).wrapping_add(offsets.get(q).copied().unwrap_or(0)) as usize) & mask;
    let mut at = [0usize; W];
    let head = n.min(W);
    for (j, a) in at.iter_mut().enumerate().take(head) {
        *a = at_of(j);
        prefetch(base.wrapping_add(*a));
    }
    // Key q enters entry q mod W as key q - W, prefetched W keys ago, leaves it.
    for q in W..n {
        let j = q & (W - 1);
        out[q - W] = slots[at[j] & mask].word;
        at[j] = at_of(q);
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
