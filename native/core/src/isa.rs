//! Which SIMD tier this process uses, decided once.
//!
//! One binary runs on every x86_64 CPU (never `-C target-cpu=native`): the
//! tier is detected at run time. `RECALL_ISA=scalar|avx2|avx512` forces a
//! lower tier, which tests use to compare tiers on one machine. Asking for a
//! tier the CPU lacks falls back to the best one it has.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Portable Rust (LLVM may still auto-vectorise with baseline SSE2).
    Scalar,
    /// AVX2 + FMA + F16C + SSE4.2 (x86-64-v3).
    Avx2,
    /// AVX-512 F + BW on top of the AVX2 set.
    Avx512,
}

impl Isa {
    pub const ALL: [Isa; 3] = [Isa::Scalar, Isa::Avx2, Isa::Avx512];

    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    pub fn parse(s: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|i| i.name() == s)
    }
}

/// The best tier this CPU supports (ignores `RECALL_ISA`).
pub fn detected() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
            && is_x86_feature_detected!("sse4.2");
        if avx2 && is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") {
            return Isa::Avx512;
        }
        if avx2 {
            return Isa::Avx2;
        }
    }
    Isa::Scalar
}

/// True when this CPU can run `isa`.
pub fn supported(isa: Isa) -> bool {
    isa <= detected()
}

/// The tier in force for this process: `RECALL_ISA` (if set and supported),
/// else the detected one. Read once; later changes to the variable are ignored.
pub fn selected() -> Isa {
    static SELECTED: OnceLock<Isa> = OnceLock::new();
    *SELECTED.get_or_init(|| {
        let best = detected();
        match std::env::var("RECALL_ISA").ok().as_deref().and_then(Isa::parse) {
            Some(wanted) => wanted.min(best),
            None => best,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
        }
        assert_eq!(Isa::parse("sse9"), None);
    }

    #[test]
    fn selected_is_supported() {
        assert!(supported(selected()));
        assert!(supported(Isa::Scalar));
    }
}
