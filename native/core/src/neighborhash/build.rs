//! The deterministic two-phase offline build with the
//! cache-line-aware, bidirectional free-slot search (7.3).

use super::*;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildStats {
    pub keys: usize,
    pub capacity: usize,
    pub load: f64,
    /// Chain tails moved out of a line to make room for a same-line member.
    pub tail_steals: usize,
    /// Times the capacity was doubled because a chain could not be extended.
    pub regrows: usize,
}

struct Builder {
    slots: Vec<Slot>,
    seed: u64,
    z: usize,
    steals: usize,
}

impl Builder {
    fn home(&self, key: u64) -> usize {
        (mix(key, self.seed) & (self.slots.len() as u64 - 1)) as usize
    }

    fn available(&self, i: usize) -> bool {
        i != self.z && self.slots[i].key == 0 && self.slots[i].word == 0
    }

    fn occupied(&self, i: usize) -> bool {
        i == self.z || self.slots[i].key != 0
    }

    /// Predecessor of slot `j` on the chain rooted at `h`.
    fn predecessor(&self, h: usize, j: usize) -> usize {
        let mut p = h;
        loop {
            let n = (p as i64 + self.slots[p].next()) as usize;
            if n == j {
                return p;
            }
            p = n;
        }
    }

    /// Free slot `j` by moving the stray tail in it next to its predecessor's
    /// neighbourhood; only when that tail costs its own lookups a line anyway.
    fn steal_tail(&mut self, j: usize) -> bool {
        if j == self.z || !self.occupied(j) || self.slots[j].next() != 0 {
            return false;
        }
        let key = self.slots[j].key;
        let h = self.home(key);
        if h == j {
            return false;
        }
        let q = self.predecessor(h, j);
        if q / SLOTS_PER_LINE == j / SLOTS_PER_LINE {
            return false;
        }
        let Some(f) = self.find_free_near(q, false) else { return false };
        let payload = self.slots[j].payload();
        self.slots[f] = Slot { key, word: payload };
        self.slots[q].set_next(f as i64 - q as i64);
        self.slots[j] = Slot::default();
        self.steals += 1;
        true
    }

    /// A free slot near `a`: first the rest of `a`'s cache line (stealing a
    /// stray tail if needed), then bands [1,2), [2,4), ... [1024,2048) to the
    /// right, then to the left. No wrap-around.
    fn find_free_near(&mut self, a: usize, line_phase: bool) -> Option<usize> {
        if line_phase {
            let base = a / SLOTS_PER_LINE * SLOTS_PER_LINE;
            for j in base..base + SLOTS_PER_LINE {
                if j != a && (self.available(j) || self.steal_tail(j)) {
                    return Some(j);
                }
            }
        }
        let cap = self.slots.len();
        for r in 0..11 {
            let (lo, hi) = (1usize << r, 1usize << (r + 1));
            for j in (a + lo)..(a + hi).min(cap) {
                if self.available(j) {
                    return Some(j);
                }
            }
            if a >= lo {
                let from = a.saturating_sub(hi - 1);
                for j in (from..=a - lo).rev() {
                    if self.available(j) {
                        return Some(j);
                    }
                }
            }
        }
        None
    }

    /// Phase A + B over keys sorted ascending; `None` when a chain cannot be
    /// extended within the delta range (the caller doubles the capacity).
    fn place(&mut self, pairs: &[(u64, u64)]) -> Option<()> {
        let mut rest = Vec::new();
        for &(k, v) in pairs {
            if k == 0 {
                self.slots[self.z] = Slot { key: 0, word: v }; // key 0 lives in Z
                continue;
            }
            let h = self.home(k);
            if h != self.z && self.available(h) {
                self.slots[h] = Slot { key: k, word: v };
            } else {
                rest.push((k, v));
            }
        }
        for (k, v) in rest {
            let h = self.home(k);
            let mut tail = h;
            while self.slots[tail].next() != 0 {
                tail = (tail as i64 + self.slots[tail].next()) as usize;
            }
            let f = self.find_free_near(tail, true)?;
            // a tail steal inside the search may have re-linked the chain: re-find the tail
            let mut tail = h;
            while self.slots[tail].next() != 0 {
                tail = (tail as i64 + self.slots[tail].next()) as usize;
            }
            let d = f as i64 - tail as i64;
            if d.abs() > MAX_DELTA {
                return None;
            }
            self.slots[f] = Slot { key: k, word: v };
            self.slots[tail].set_next(d);
        }
        Some(())
    }
}

/// Build a table from `(key, payload)` pairs (any order; keys distinct,
/// payloads < 2^52). Same pairs and seed -> byte-identical slots.
pub fn build(pairs: &[(u64, u64)], seed: u64) -> Result<(Vec<Slot>, BuildStats)> {
    let mut sorted = pairs.to_vec();
    sorted.sort_unstable_by_key(|p| p.0);
    for w in sorted.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::InvalidArgument(format!("key {} appears twice", w[0].0)));
        }
    }
    if let Some(&(k, v)) = sorted.iter().find(|p| p.1 > PAYLOAD_MASK) {
        return Err(Error::InvalidArgument(format!("payload {v} of key {k} does not fit in {PAYLOAD_BITS} bits")));
    }
    let n = sorted.len();
    let mut cap = ((n as f64 / BUILD_LOAD).ceil() as usize).next_power_of_two().max(8);
    let mut regrows = 0;
    loop {
        let mut b = Builder { slots: vec![Slot::default(); cap], seed, z: 0, steals: 0 };
        b.z = b.home(0);
        b.slots[b.z] = Slot { key: decoy(cap, seed), word: 0 };
        if b.place(&sorted).is_some() {
            let stats = BuildStats { keys: n, capacity: cap, load: n as f64 / cap as f64, tail_steals: b.steals, regrows };
            return Ok((b.slots, stats));
        }
        cap *= 2;
        regrows += 1;
    }
}
