//! Comparison points for `recall bench hash` (not used by indexes): a
//! linear-probing table with the same 16-byte slots, hash and load, and the
//! random-access bound (one independent 16-byte read per key over the same
//! memory, no compare, no chain: what no hash table can beat).

use super::{Slot, mix};

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

/// Sum of the words at each key's home slot: the random-access bound.
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
