//! Batch lookup with AMAC (Kocberber et al., VLDB 2015; spec section 9): a
//! ring of W in-flight lookups; whenever one would touch a new cache line it
//! prefetches it and yields to the next, so W memory accesses overlap instead
//! of one dependent miss at a time. Results land at the query's own index.

use super::{SLOTS_PER_LINE, Slot, Table};

/// Ring size; 16-32 covered DRAM latency best on our machines (spec, bench hash).
pub const DEFAULT_RING: usize = 16;

#[inline(always)]
fn prefetch(p: *const Slot) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch is a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[derive(Clone, Copy)]
struct State {
    query: usize,
    key: u64,
    slot: usize,
    live: bool,
}

/// Look up `keys[q]` for every q; `out[q] = payload`, `found[q] = 1` on a hit
/// (`out[q] = 0`, `found[q] = 0` on a miss). `ring` is rounded up to a power
/// of two >= 4; below that many keys the plain loop is used.
pub fn get_batch(t: &Table, keys: &[u64], out: &mut [u64], found: &mut [u8], ring: usize) {
    assert!(out.len() == keys.len() && found.len() == keys.len(), "output lengths must match the keys");
    let w = ring.max(4).next_power_of_two();
    // Every index below is taken `& mask`: always in bounds, so the compiler
    // drops the bounds checks from the hot loop (chains never wrap, I3, so
    // masking never changes a valid index).
    let mask = t.slots.len() - 1;
    let slots = &t.slots[..=mask];
    let base = slots.as_ptr();
    if keys.len() < w {
        for (q, &k) in keys.iter().enumerate() {
            let r = t.get(k);
            out[q] = r.unwrap_or(0);
            found[q] = r.is_some() as u8;
        }
        return;
    }
    let (out, found) = (&mut out[..keys.len()], &mut found[..keys.len()]);
    let mut states = vec![State { query: 0, key: 0, slot: 0, live: false }; w];
    for (q, s) in states.iter_mut().enumerate() {
        *s = State { query: q, key: keys[q], slot: t.home(keys[q]), live: true };
        prefetch(base.wrapping_add(s.slot));
    }
    let mut next = w;
    let mut live = w;
    let mut cursor = 0;
    while live > 0 {
        let s = &mut states[cursor];
        cursor = (cursor + 1) & (w - 1);
        if !s.live {
            continue;
        }
        // Advance this lookup until it finishes or needs a new cache line.
        let done = loop {
            let slot = slots[s.slot & mask];
            if slot.key == s.key {
                out[s.query] = slot.payload();
                found[s.query] = 1;
                break true;
            }
            let d = slot.next();
            if d == 0 {
                out[s.query] = 0;
                found[s.query] = 0;
                break true;
            }
            let from = s.slot;
            s.slot = (s.slot as i64 + d) as usize & mask;
            if s.slot / SLOTS_PER_LINE != from / SLOTS_PER_LINE {
                prefetch(base.wrapping_add(s.slot));
                break false; // yield: the line is on its way
            }
        };
        if done {
            if next < keys.len() {
                let k = keys[next];
                *s = State { query: next, key: k, slot: t.home(k), live: true };
                prefetch(base.wrapping_add(s.slot));
                next += 1;
                if next + 8 < keys.len() {
                    prefetch(keys.as_ptr().wrapping_add(next + 8).cast()); // stream the input
                }
            } else {
                s.live = false;
                live -= 1;
            }
        }
    }
}

