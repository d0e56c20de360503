//! Batch lookup with AMAC (Kocberber et al., VLDB 2015): a
//! ring of W in-flight lookups; whenever one would touch a new cache line it
//! prefetches it and yields to the next, so W memory accesses overlap instead
//! of one dependent miss at a time. Results land at the query's own index.

use super::{MISSING, Table};
use crate::prefetch::prefetch;

/// Ring size: 32 was best or within noise of best at 2^22 and 2^25 slots (bench/hash.mjs).
pub const DEFAULT_RING: usize = 32;

/// Look up `keys[q]` for every q: `out[q]` is its payload, or `MISSING` (no
/// payload is that wide) when the key is not in the table. One array, not a
/// payload array and a hit array: the vector ring stores its answers a word per
/// lane, and a separate pass for the hit flags cost it 0.85 ns a lookup. `ring` is rounded up to a power of two >= 4; below twice that many
/// keys the plain loop is used.
///
/// Branch-light AMAC: every visit to a ring entry does the same work (compare,
/// write the provisional answer, then either start the next key or take one
/// chain hop) with selects instead of branches, and always prefetches the
/// entry's next slot. Chain hops within a line cost one extra visit, which is
/// cheaper than the mispredicted branches of the textbook state machine
/// (measured: 2x fewer ns per lookup on cache-resident tables).
///
/// On CPUs with AVX-512F/DQ (and RECALL_ISA allowing it) the multi-key
/// variant runs instead, with `AVX512_RING` vectors of 8: bench/hash.mjs
/// measured it about 2x faster than the best scalar ring at 2^22 and 2^25
/// slots (the scalar ring is bound by its instructions: 8.6 ns a lookup on a
/// cache-resident table, against 2.7 ns for the vector one).
pub fn get_batch(t: &Table, keys: &[u64], out: &mut [u64], ring: usize) {
    if super::simd::available() {
        super::simd::get_batch_avx512(t, keys, out, AVX512_RING);
    } else {
        get_batch_scalar(t, keys, out, ring)
    }
}

/// Lookups in flight in `get_batch` with `ring`: the AVX-512 ring's vectors of
/// 8 where it runs, else the scalar ring's size.
pub fn in_flight(ring: usize) -> usize {
    if super::simd::available() { AVX512_RING * 8 } else { ring.max(4).next_power_of_two().min(64) }
}

/// Vectors of 8 lookups in the AVX-512 ring (4 to 16 were within noise; 8 was best).
pub const AVX512_RING: usize = 8;

/// The scalar AMAC ring (every CPU).
pub fn get_batch_scalar(t: &Table, keys: &[u64], out: &mut [u64], ring: usize) {
    assert!(out.len() == keys.len(), "output length must match the keys");
    // A compile-time ring size lets the ring live in registers / fixed arrays
    // without bounds checks.
    match ring.max(4).next_power_of_two() {
        4 => ring_lookup::<4>(t, keys, out),
        8 => ring_lookup::<8>(t, keys, out),
        16 => ring_lookup::<16>(t, keys, out),
        32 => ring_lookup::<32>(t, keys, out),
        _ => ring_lookup::<64>(t, keys, out),
    }
}

fn ring_lookup<const W: usize>(t: &Table, keys: &[u64], out: &mut [u64]) {
    let n = keys.len();
    // Every slot index is taken `& mask`: always in bounds, so the compiler
    // drops the bounds checks (chains never wrap, I3, so masking never
    // changes a valid index).
    let mask = t.slots.len() - 1;
    let slots = &t.slots[..=mask];
    let base = slots.as_ptr();
    let get = |k: u64, mut i: usize| -> Option<u64> {
        loop {
            let s = slots[i & mask];
            if s.key == k {
                return Some(s.payload());
            }
            let d = s.next();
            if d == 0 {
                return None;
            }
            i = (i as i64 + d) as usize & mask;
        }
    };
    if n < 2 * W {
        for (q, &k) in keys.iter().enumerate() {
            out[q] = get(k, t.home(k)).unwrap_or(MISSING);
        }
        return;
    }
    let out = &mut out[..n];
    let mut query = [0usize; W];
    let mut key = [0u64; W];
    let mut at = [0usize; W];
    for j in 0..W {
        query[j] = j;
        key[j] = keys[j];
        at[j] = t.home(keys[j]);
        prefetch(base.wrapping_add(at[j]));
    }
    let mut next = W;
    let mut j = 0;
    while next < n {
        let s = slots[at[j] & mask];
        let hit = s.key == key[j];
        let d = s.next();
        let end = hit | (d == 0);
        let q = query[j];
        out[q] = if hit { s.payload() } else { MISSING };
        let nk = keys[next];
        let nh = t.home(nk);
        key[j] = if end { nk } else { key[j] };
        query[j] = if end { next } else { q };
        at[j] = if end { nh } else { (at[j] as i64 + d) as usize & mask };
        next += end as usize;
        prefetch(base.wrapping_add(at[j]));
        j = (j + 1) & (W - 1);
    }
    // drain: every ring entry holds an unfinished lookup
    for j in 0..W {
        out[query[j]] = get(key[j], at[j]).unwrap_or(MISSING);
    }
}
