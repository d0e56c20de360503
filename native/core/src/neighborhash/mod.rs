//! NeighborHash (Zhang et al., CIKM 2024):
//! an immutable u64 -> u52 table for the x2i key index. Coalesced hashing
//! with the chain links inside the slots (a 12-bit signed slot delta in the
//! top of the value word), so a slot is 16 bytes and 4 share a cache line;
//! every chain starts at its own home slot; overflow members go to a free
//! slot in the predecessor's cache line when one exists (or can be freed by
//! moving a stray tail), else to the nearest free slot alternating right and
//! left in power-of-two bands. A hit touches ~1.13 cache lines at load 0.79.
//!
//! Built offline in two phases: heads first, then chain
//! members in ascending key order, so the same keys always give the same
//! bytes and no lodger relocation is ever needed.

pub mod baseline;
mod batch;
mod build;
pub mod simd;
mod verify;

pub use batch::{DEFAULT_RING, get_batch, get_batch_scalar, in_flight};
pub use build::{BuildStats, build};
pub use verify::{Apcl, apcl, verify};

/// Slots per 64-byte cache line.
pub const SLOTS_PER_LINE: usize = 4;
pub const PAYLOAD_BITS: u32 = 52;
pub const PAYLOAD_MASK: u64 = (1 << PAYLOAD_BITS) - 1;
/// A batch lookup's answer for a key not in the table (payloads have 52 bits).
pub const MISSING: u64 = u64::MAX;
/// Largest usable link delta (the most negative i12 is reserved).
pub const MAX_DELTA: i64 = 2047;
/// Default build load factor bound: `cap = next_pow2(n / 0.8)`.
pub const BUILD_LOAD: f64 = 0.8;
/// Hash identifier recorded in index files (changing the mixer is a format change).
pub const HASH_ID: &str = "nh-mix64-v1";

/// One 16-byte slot: the key, and the link delta (top 12 bits, signed) over
/// the 52-bit payload. The all-zero slot is empty.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    pub key: u64,
    pub word: u64,
}

impl Slot {
    #[inline(always)]
    pub fn next(&self) -> i64 {
        (self.word as i64) >> PAYLOAD_BITS
    }
    #[inline(always)]
    pub fn payload(&self) -> u64 {
        self.word & PAYLOAD_MASK
    }
    #[inline(always)]
    pub(crate) fn set_next(&mut self, d: i64) {
        debug_assert!((-MAX_DELTA..=MAX_DELTA).contains(&d));
        self.word = ((d as u64) << PAYLOAD_BITS) | self.payload();
    }
}

/// Home slot of `key`: a splitmix64-style finaliser (odd multipliers, so
/// sequential and structured ids spread well; upstream's even multiplier is
/// fine only for random keys), seeded, masked to the capacity.
#[inline(always)]
pub fn mix(key: u64, seed: u64) -> u64 {
    let mut h = key ^ seed;
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A read-only view of a built table (slots in any 16-byte-aligned memory:
/// a Vec after a build, or a section of a loaded index file).
#[derive(Clone, Copy)]
pub struct Table<'a> {
    pub slots: &'a [Slot],
    pub seed: u64,
}

impl<'a> Table<'a> {
    pub fn new(slots: &'a [Slot], seed: u64) -> Table<'a> {
        debug_assert!(slots.len().is_power_of_two());
        Table { slots, seed }
    }

    #[inline(always)]
    pub fn home(&self, key: u64) -> usize {
        (mix(key, self.seed) & (self.slots.len() as u64 - 1)) as usize
    }

    /// The payload stored for `key`.
    #[inline]
    pub fn get(&self, key: u64) -> Option<u64> {
        self.get_from(key, self.home(key))
    }

    /// Go on looking for `key` from slot `i` of its chain (the home slot, or
    /// where a batch lookup stopped).
    #[inline]
    pub fn get_from(&self, key: u64, mut i: usize) -> Option<u64> {
        loop {
            let s = self.slots[i];
            if s.key == key {
                return Some(s.payload());
            }
            let d = s.next();
            if d == 0 {
                return None;
            }
            i = (i as i64 + d) as usize;
        }
    }
}

/// The reserved slot Z = home(0) holds key 0 when it is stored, else a decoy
/// key whose own home is elsewhere, so a lookup of 0 never matches an empty
/// slot and the hot loop needs no emptiness test.
pub fn decoy(cap: usize, seed: u64) -> u64 {
    let mask = cap as u64 - 1;
    let z = mix(0, seed) & mask;
    (1u64..).find(|&d| mix(d, seed) & mask != z).expect("some key homes elsewhere")
}

#[cfg(test)]
mod tests;

/// Slots in huge-page-advised, 2 MiB-aligned memory (see `hugebuf`): what
/// loaded indexes and benchmarks look up in.
pub struct SlotBuf {
    buf: crate::hugebuf::HugeBuf,
    len: usize,
}

impl SlotBuf {
    /// Copy slots from little-endian bytes (16 per slot), as stored in a file.
    pub fn from_le_bytes(bytes: &[u8]) -> SlotBuf {
        let len = bytes.len() / 16;
        let mut buf = crate::hugebuf::HugeBuf::zeroed(len * 16);
        buf.copy_from_slice(&bytes[..len * 16]);
        SlotBuf { buf, len }
    }

    pub fn from_slots(slots: &[Slot]) -> SlotBuf {
        let mut buf = crate::hugebuf::HugeBuf::zeroed(slots.len() * 16);
        for (chunk, s) in buf.chunks_exact_mut(16).zip(slots) {
            chunk[..8].copy_from_slice(&s.key.to_le_bytes());
            chunk[8..].copy_from_slice(&s.word.to_le_bytes());
        }
        SlotBuf { buf, len: slots.len() }
    }

    pub fn as_slice(&self) -> &[Slot] {
        // SAFETY: HugeBuf memory is at least 16-byte aligned and holds len * 16
        // initialised bytes; Slot is repr(C) { u64, u64 } (every bit pattern
        // valid), stored little-endian, which is the layout on the targets we
        // build for (x86_64, aarch64).
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<Slot>(), self.len) }
    }
}
