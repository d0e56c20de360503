//! Filtered search: the rows a query may return, as a bitset over the index's rows, built from an
//! allow-list of ids or from ranges of the integer attribute kept at build time.
//!
//! A graph search applies the filter inside the traversal: every node is walked through (so the
//! graph stays connected whatever the filter), only allowed nodes enter the result. A very
//! selective filter is answered by an exact scan of the allowed rows instead, which then costs
//! less than the walk would (see `prefer_scan`); and a walk that has computed as many distances as
//! the scan would (a filter whose rows lie away from the query) stops and scans.

/// How a filtered search runs: chosen from the filter's size, or forced (benchmarks, tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterMode {
    Auto,
    /// In the traversal (HNSW) or the probed lists (IVF).
    Index,
    /// An exact scan of the allowed rows.
    Scan,
}

impl FilterMode {
    pub fn parse(s: &str) -> Option<FilterMode> {
        match s {
            "auto" => Some(FilterMode::Auto),
            "index" => Some(FilterMode::Index),
            "scan" => Some(FilterMode::Scan),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            FilterMode::Auto => "auto",
            FilterMode::Index => "index",
            FilterMode::Scan => "scan",
        }
    }
}

/// Allowed rows of one index.
#[derive(Clone, Debug)]
pub struct RowFilter {
    bits: Vec<u64>,
    allowed: usize,
    n: usize,
}

impl RowFilter {
    pub fn from_fn(n: usize, allow: impl Fn(usize) -> bool) -> RowFilter {
        let mut bits = vec![0u64; n.div_ceil(64)];
        let mut allowed = 0;
        for r in 0..n {
            if allow(r) {
                bits[r / 64] |= 1 << (r % 64);
                allowed += 1;
            }
        }
        RowFilter { bits, allowed, n }
    }

    /// Rows whose id is in `ids` (any order, repeats and unknown ids ignored).
    pub fn from_ids(row_ids: &[u64], ids: &[u64]) -> RowFilter {
        let mut want = ids.to_vec();
        want.sort_unstable();
        want.dedup();
        RowFilter::from_fn(row_ids.len(), |r| want.binary_search(&row_ids[r]).is_ok())
    }

    /// Rows whose attribute lies in one of the closed ranges `[lo, hi]`.
    pub fn from_ranges(attrs: &[i64], ranges: &[(i64, i64)]) -> RowFilter {
        RowFilter::from_fn(attrs.len(), |r| ranges.iter().any(|&(lo, hi)| lo <= attrs[r] && attrs[r] <= hi))
    }

    /// Rows both filters allow.
    pub fn and(&self, o: &RowFilter) -> RowFilter {
        assert_eq!(self.n, o.n, "filters of different indexes");
        let bits: Vec<u64> = self.bits.iter().zip(&o.bits).map(|(a, b)| a & b).collect();
        let allowed = bits.iter().map(|w| w.count_ones() as usize).sum();
        RowFilter { bits, allowed, n: self.n }
    }

    #[inline]
    pub fn allows(&self, r: u32) -> bool {
        self.bits[r as usize / 64] >> (r % 64) & 1 == 1
    }

    pub fn allowed(&self) -> usize {
        self.allowed
    }

    pub fn rows(&self) -> usize {
        self.n
    }

    /// The allowed rows, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let b = rest.trailing_zeros();
                rest &= rest - 1;
                Some((w * 64) as u32 + b)
            })
        })
    }
}

/// Whether an exact scan of the allowed rows is cheaper than a filtered graph walk. The walk
/// computes about `ef * links` distances to gather `ef` results when everything is allowed, and
/// about `1 / selectivity` times as many when only a share is; the scan computes one per allowed
/// row, in row order (cheaper per distance than the walk's random reads, hence the factor).
pub fn prefer_scan(filter: &RowFilter, ef: usize, links: usize) -> bool {
    if filter.allowed == 0 || filter.n == 0 {
        return true;
    }
    let selectivity = filter.allowed as f64 / filter.n as f64;
    let walk = (ef.max(1) * links.max(1)) as f64 / selectivity;
    let scan = filter.allowed as f64;
    scan <= SCAN_ADVANTAGE * walk
}

/// The scan's cost per allowed row against the model's walk units: on Fashion-MNIST
/// (`bench/vector-filter.mjs`, 10% of the rows allowed at random) a walk at ef 32 took half the
/// time of the scan while the model counted 1.7 times the scan's rows, so a scanned row costs
/// about three walk units.
pub const SCAN_ADVANTAGE: f64 = 0.33;
