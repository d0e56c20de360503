//! BM25 scoring: the length-normalisation tables (made at open for the stored k1 and b, or per
//! query for others), the per-field scorer a query uses, and block / list upper bounds.

/// `k1 * (1 - b + b * dl / avgdl)` for every length code (the BM25 length normalisation).
pub fn bm25_norms(table: &[u32; 256], k1: f64, b: f64, total_tokens: u64, n: u64) -> [f64; 256] {
    let avgdl = if n == 0 { 0.0 } else { total_tokens as f64 / n as f64 };
    let mut out = [0.0; 256];
    for (c, o) in out.iter_mut().enumerate() {
        let dl = table[c] as f64;
        *o = k1 * (1.0 - b + b * dl / avgdl);
    }
    out
}

/// (k1 + 1) / (1 + norm[code]): a tf = 1 posting's BM25 factor, computed as `tf (k1 + 1) / (tf + norm)`
/// is with tf = 1 (so the same value).
pub fn tf1_factors(k1: f64, norm: &[f64; 256]) -> [f64; 256] {
    let k1p1 = k1 + 1.0;
    std::array::from_fn(|code| (1.0 * k1p1) / (1.0 + norm[code]))
}

/// The BM25 idf of a term in `df` of `n` documents.
#[inline]
pub fn idf(n: f64, df: f64) -> f64 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Bounds are inflated so a bound never falls below a score computed with other rounding.
pub const BOUND_SLACK: f64 = 1.0 + 1e-9;

/// Per-field BM25 constants.
pub struct Scorer<'a> {
    pub f: Vec<FieldScorer<'a>>,
}

pub struct FieldScorer<'a> {
    pub codes: &'a [u8],
    pub norm: CodeTable<'a>,
    /// Per length code: (k1 + 1) / (1 + norm), the tf = 1 factor (most postings): the contribution
    /// is then one multiplication, with the same arithmetic as `contrib`.
    pub one: CodeTable<'a>,
    pub k1p1: f64,
    pub zero: bool,
}

/// A table per length code: the index's own, or one made for other k1 / b (boxed: a scorer is
/// made per query, and a Cow would carry and copy both 2 KB tables inline).
pub enum CodeTable<'a> {
    Index(&'a [f64; 256]),
    Own(Box<[f64; 256]>),
}

impl std::ops::Deref for CodeTable<'_> {
    type Target = [f64; 256];
    fn deref(&self) -> &[f64; 256] {
        match self {
            CodeTable::Index(t) => t,
            CodeTable::Own(t) => t,
        }
    }
}

impl Scorer<'_> {
    #[inline(always)]
    pub fn contrib(&self, f: usize, w: f64, tf: u32, doc: u32) -> f64 {
        if self.f[f].zero {
            return 0.0;
        }
        let tf = tf as f64;
        w * ((tf * self.f[f].k1p1) / (tf + self.f[f].norm[self.f[f].codes[doc as usize] as usize]))
    }

    /// `contrib` of a posting: tf = 1 through the `one` table (the same arithmetic, so the same value).
    #[inline(always)]
    pub fn contrib_fast(&self, f: usize, w: f64, tf: u32, doc: u32) -> f64 {
        if tf == 1 && !self.f[f].zero {
            return w * self.f[f].one[self.f[f].codes[doc as usize] as usize];
        }
        self.contrib(f, w, tf, doc)
    }

    /// Upper bound of a contribution with tf at most `max_tf_sat` (255: any) and length code at
    /// least `min_code`.
    pub fn bound(&self, f: usize, w: f64, max_tf_sat: u8, min_code: u8) -> f64 {
        if self.f[f].zero {
            return 0.0;
        }
        if max_tf_sat == 255 {
            return w * self.f[f].k1p1 * BOUND_SLACK;
        }
        let tf = max_tf_sat as f64;
        w * ((tf * self.f[f].k1p1) / (tf + self.f[f].norm[min_code as usize])) * BOUND_SLACK
    }
}
