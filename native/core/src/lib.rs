//! recall-core: everything in recall that does not know about Node.
//!
//! Free of FFI so it is unit-tested with plain `cargo test`, benchmarked with
//! `cargo run --release --example ...`, and reusable from another binding.
//!
//! Modules by subsystem: `isa` (CPU tier chosen once per process), `kernels`
//! (distance kernels), `checksum` (CRC-32C), `hash` (xxHash64 key routing),
//! `container` (the one file format every index kind uses), `cancel`; leaves
//! shared by them: `bytes` (little-endian reads), `fastmap`, `rand` (SplitMix64) and
//! `sys` (the libc declarations).

pub mod bytes;
pub mod cancel;
pub mod checksum;
pub mod container;
pub mod cputime;
pub mod error;
pub mod fastmap;
pub mod filelock;
pub mod fsutil;
pub mod hash;
pub mod hugebuf;
pub mod isa;
pub mod kernels;
pub mod mapped;
pub mod merge;
pub mod neighborhash;
pub mod parallel;
pub mod prefetch;
pub mod rand;
pub mod sys;
pub mod text;
pub mod vector;
pub mod wal;
pub mod x2i;

#[cfg(test)]
pub(crate) mod testutil;

pub use cancel::CancelToken;
pub use error::{Error, Result};
