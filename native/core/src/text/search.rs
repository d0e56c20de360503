//! Query evaluation: term lookup and the pair planner turn the
//! normalised tree into document-at-a-time iterators; a lone term scans with
//! block-max skipping, a top-level OR runs MaxScore, everything else is an
//! exhaustive leapfrog. Scores are BM25 summed in f64 in ascending (term ordinal,
//! leaf position) order, so the TypeScript oracle reproduces them bit for bit.

use super::codec::BLOCK;
use super::index::{Cursor, DenseBits, PairInfo, TermInfo, TextIndex, bm25_norms, tf1_factors};
use super::query::{Norm, QueryError, normalize};
use super::{NO_MORE, PairKind};
use crate::fastmap::FastMap;

#[derive(Clone, Debug)]
pub struct SearchParams {
    pub k: usize,
    pub default_or: bool,
    pub use_pairs: bool,
    pub match_all_pure_not: bool,
    pub k1: Option<f64>,
    pub b: Option<f64>,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams { k: 10, default_or: false, use_pairs: true, match_all_pure_not: false, k1: None, b: None }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hits {
    pub docs: Vec<u32>,
    pub scores: Vec<f64>,
    pub total: u64,
    /// false: `total` is a lower bound (pruning skipped documents).
    pub total_exact: bool,
    /// Pair lists the planner used.
    pub pairs_used: u32,
}

/// Per-field BM25 constants.
struct Scorer<'a> {
    f: Vec<FieldScorer<'a>>,
}

struct FieldScorer<'a> {
    codes: &'a [u8],
    norm: CodeTable<'a>,
    /// Per length code: (k1 + 1) / (1 + norm), the tf = 1 factor (most postings): the contribution
    /// is then one multiplication, with the same arithmetic as `contrib`.
    one: CodeTable<'a>,
    k1p1: f64,
    zero: bool,
}

/// A table per length code: the index's own, or one made for other k1 / b (boxed: a scorer is
/// made per query, and a Cow would carry and copy both 2 KB tables inline).
enum CodeTable<'a> {
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

pub use super::format::PAIR_MAX_FRACTION;

/// Blocks of the shortest term an OR reads to seed its threshold.
const SEED_BLOCKS: usize = 4;

/// Bounds are inflated so a bound never falls below a score computed with other rounding.
const BOUND_SLACK: f64 = 1.0 + 1e-9;

impl Scorer<'_> {
    #[inline(always)]
    fn contrib(&self, f: usize, w: f64, tf: u32, doc: u32) -> f64 {
        if self.f[f].zero {
            return 0.0;
        }
        let tf = tf as f64;
        w * ((tf * self.f[f].k1p1) / (tf + self.f[f].norm[self.f[f].codes[doc as usize] as usize]))
    }

    /// `contrib` of a posting: tf = 1 through the `one` table (the same arithmetic, so the same value).
    #[inline(always)]
    fn contrib_fast(&self, f: usize, w: f64, tf: u32, doc: u32) -> f64 {
        if tf == 1 && !self.f[f].zero {
            return w * self.f[f].one[self.f[f].codes[doc as usize] as usize];
        }
        self.contrib(f, w, tf, doc)
    }

    fn bound(&self, f: usize, w: f64, max_tf_sat: u8, min_code: u8) -> f64 {
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

#[derive(Clone, Copy)]
struct Leaf {
    slot: usize,
    w: f64,
    f: usize,
}

enum Node<'a> {
    Term { c: Cursor<'a>, leaf: Leaf, ub: f64, info: TermInfo },
    Pair { c: Cursor<'a>, la: Leaf, lb: Leaf, ub: f64 },
    And { pos: Vec<Node<'a>>, neg: Vec<Node<'a>>, doc: u32, ub: f64 },
    Or { kids: Vec<Node<'a>>, doc: u32, ub: f64 },
    All { doc: u32, n: u32 },
}

impl<'a> Node<'a> {
    #[inline]
    fn doc(&self) -> u32 {
        match self {
            Node::Term { c, .. } | Node::Pair { c, .. } => c.doc,
            Node::And { doc, .. } | Node::Or { doc, .. } | Node::All { doc, .. } => *doc,
        }
    }

    fn ub(&self) -> f64 {
        match self {
            Node::Term { ub, .. } | Node::Pair { ub, .. } | Node::And { ub, .. } | Node::Or { ub, .. } => *ub,
            Node::All { .. } => 0.0,
        }
    }

    fn cost(&self) -> u64 {
        match self {
            Node::Term { c, .. } | Node::Pair { c, .. } => c.df() as u64,
            Node::And { pos, .. } => pos.iter().map(|p| p.cost()).min().unwrap_or(0),
            Node::Or { kids, .. } => kids.iter().map(|k| k.cost()).sum(),
            Node::All { n, .. } => *n as u64,
        }
    }

    fn next(&mut self) -> u32 {
        match self {
            Node::Term { c, .. } | Node::Pair { c, .. } => c.next(),
            Node::And { pos, .. } => {
                let d = pos[0].next();
                self.align(d)
            }
            Node::Or { kids, doc, .. } => {
                let cur = *doc;
                let mut m = NO_MORE;
                for k in kids.iter_mut() {
                    if k.doc() == cur {
                        k.next();
                    }
                    m = m.min(k.doc());
                }
                *doc = m;
                m
            }
            Node::All { doc, n } => {
                *doc = if *doc + 1 >= *n { NO_MORE } else { *doc + 1 };
                *doc
            }
        }
    }

    fn advance(&mut self, t: u32) -> u32 {
        if self.doc() >= t {
            return self.doc();
        }
        match self {
            Node::Term { c, .. } | Node::Pair { c, .. } => c.advance(t),
            Node::And { pos, .. } => {
                let d = pos[0].advance(t);
                self.align(d)
            }
            Node::Or { kids, doc, .. } => {
                let mut m = NO_MORE;
                for k in kids.iter_mut() {
                    if k.doc() < t {
                        k.advance(t);
                    }
                    m = m.min(k.doc());
                }
                *doc = m;
                m
            }
            Node::All { doc, n } => {
                *doc = if t >= *n { NO_MORE } else { t };
                *doc
            }
        }
    }

    /// And: leapfrog from candidate `d` (the leader is on it) to the next doc all positives share and no negative has.
    fn align(&mut self, mut d: u32) -> u32 {
        let Node::And { pos, neg, doc, .. } = self else { unreachable!() };
        'outer: loop {
            if d == NO_MORE {
                break;
            }
            for i in 1..pos.len() {
                let x = pos[i].advance(d);
                if x > d {
                    d = pos[0].advance(x);
                    continue 'outer;
                }
            }
            for n in neg.iter_mut() {
                if n.advance(d) == d {
                    d = pos[0].next();
                    continue 'outer;
                }
            }
            break;
        }
        *doc = d;
        d
    }

    /// Write this subtree's contributions at `d` (it is on `d`) into `slots`; returns their sum.
    fn score(&mut self, d: u32, s: &Scorer, slots: &mut [f64]) -> f64 {
        match self {
            Node::Term { c, leaf, .. } => {
                let x = s.contrib_fast(leaf.f, leaf.w, c.tf(0), d);
                slots[leaf.slot] = x;
                x
            }
            Node::Pair { c, la, lb, .. } => {
                let x = s.contrib(la.f, la.w, c.tf(0), d);
                let y = s.contrib(lb.f, lb.w, c.tf(1), d);
                slots[la.slot] = x;
                slots[lb.slot] = y;
                x + y
            }
            Node::And { pos, .. } => pos.iter_mut().map(|p| p.score(d, s, slots)).sum(),
            Node::Or { kids, .. } => {
                let mut t = 0.0;
                for k in kids.iter_mut() {
                    if k.doc() == d {
                        t += k.score(d, s, slots);
                    }
                }
                t
            }
            Node::All { .. } => 0.0,
        }
    }
}

/// Resolved plan (terms looked up), before cursors exist.
enum Plan {
    Term(TermInfo, f64),
    Pair(PairInfo, TermInfo, TermInfo, f64, f64),
    And(Vec<Plan>, Vec<Plan>),
    Or(Vec<Plan>),
    All,
}

enum Resolved {
    /// Matches nothing (an unknown term in an And, or an empty Or).
    Empty,
    /// An unknown term (dropped from Or / Not, empties an And).
    Unknown,
    P(Plan),
}

struct Resolver<'a> {
    idx: &'a TextIndex,
    p: &'a SearchParams,
    pairs_used: u32,
}

impl Resolver<'_> {
    fn resolve(&mut self, n: &Norm, top: bool) -> Result<Resolved, QueryError> {
        Ok(match n {
            Norm::Term { key, boost } => match self.idx.lookup(key) {
                Some(t) => Resolved::P(Plan::Term(t, *boost)),
                None => Resolved::Unknown,
            },
            Norm::Phrase { a, b, boost } => {
                let (Some(ta), Some(tb)) = (self.idx.lookup(a), self.idx.lookup(b)) else { return Ok(Resolved::Unknown) };
                if self.p.use_pairs
                    && self.idx.pair_kind == PairKind::Adjacent
                    && let Some(pi) = self.idx.lookup_pair(ta.ord, tb.ord)
                {
                    self.pairs_used += 1;
                    return Ok(Resolved::P(Plan::Pair(pi, ta, tb, *boost, *boost)));
                }
                if ta.ord == tb.ord {
                    Resolved::P(Plan::Term(ta, *boost))
                } else {
                    Resolved::P(Plan::And(vec![Plan::Term(ta, *boost), Plan::Term(tb, *boost)], vec![]))
                }
            }
            Norm::Not(_) if top => return self.resolve(&Norm::And(vec![n.clone()]), false),
            Norm::Not(_) => unreachable!("Not only appears inside And"),
            Norm::Or(kids) => {
                let mut out = Vec::new();
                for k in kids {
                    if let Resolved::P(p) = self.resolve(k, false)? {
                        out.push(p);
                    }
                }
                match out.len() {
                    0 => Resolved::Empty,
                    1 => Resolved::P(out.pop().unwrap()),
                    _ => Resolved::P(Plan::Or(out)),
                }
            }
            Norm::And(kids) => {
                let (mut pos, mut neg) = (Vec::new(), Vec::new());
                let mut empty = false;
                for k in kids {
                    if let Norm::Not(inner) = k {
                        if let Resolved::P(p) = self.resolve(inner, false)? {
                            neg.push(p);
                        }
                        continue;
                    }
                    match self.resolve(k, false)? {
                        Resolved::P(p) => pos.push(p),
                        _ => empty = true,
                    }
                }
                if pos.is_empty() && !empty {
                    if !self.p.match_all_pure_not {
                        return Err(QueryError::NotOnly);
                    }
                    pos.push(Plan::All);
                }
                if empty {
                    return Ok(Resolved::Empty);
                }
                self.plan_pairs(&mut pos);
                if pos.len() == 1 && neg.is_empty() { Resolved::P(pos.pop().unwrap()) } else { Resolved::P(Plan::And(pos, neg)) }
            }
        })
    }

    /// Greedy cover of an And's positive terms by co-occurrence pair lists.
    fn plan_pairs(&mut self, pos: &mut Vec<Plan>) {
        if !self.p.use_pairs || self.idx.pair_kind != PairKind::Cooc {
            return;
        }
        let terms: Vec<usize> = (0..pos.len()).filter(|&i| matches!(pos[i], Plan::Term(..))).collect();
        if terms.len() < 2 || terms.len() > 16 {
            return;
        }
        let info = |i: usize| match &pos[i] {
            Plan::Term(t, b) => (*t, *b),
            _ => unreachable!(),
        };
        let mut cands: Vec<(u32, usize, usize, PairInfo)> = Vec::new();
        for (x, &i) in terms.iter().enumerate() {
            for &j in &terms[x + 1..] {
                let (a, b) = (info(i).0, info(j).0);
                let (lo, hi) = if a.ord < b.ord { (i, j) } else { (j, i) };
                if let Some(pi) = self.idx.lookup_pair(info(lo).0.ord, info(hi).0.ord) {
                    // the plain rule skips pairs with df_ab >= 0.5 min(df); one sequential list beats a
                    // leapfrog of two long ones well beyond that here, so only near-equal lists are skipped
                    if (pi.df as f64) < PAIR_MAX_FRACTION * a.df.min(b.df) as f64 {
                        cands.push((pi.df, lo, hi, pi));
                    }
                }
            }
        }
        cands.sort_by_key(|c| (c.0, c.1.min(c.2), c.1.max(c.2)));
        let mut covered = vec![false; pos.len()];
        let mut pairs = Vec::new();
        for (_, i, j, pi) in cands {
            if covered[i] || covered[j] {
                continue;
            }
            covered[i] = true;
            covered[j] = true;
            let ((ta, ba), (tb, bb)) = (info(i), info(j));
            pairs.push(Plan::Pair(pi, ta, tb, ba, bb));
        }
        if pairs.is_empty() {
            return;
        }
        self.pairs_used += pairs.len() as u32;
        let old = std::mem::take(pos);
        *pos = old.into_iter().enumerate().filter(|(i, _)| !covered[*i]).map(|(_, p)| p).collect();
        pos.extend(pairs);
    }
}

struct Builder<'a, 's> {
    idx: &'a TextIndex,
    s: &'s Scorer<'a>,
    /// (ord, position) of every positive leaf, in visiting order.
    leaves: Vec<(u32, usize)>,
    /// The root is a conjunction of terms that the block-at-a-time loop evaluates: it need not be
    /// aligned on its first match (the loop finds it faster).
    unaligned_root: bool,
    global: Option<&'s GlobalStats>,
}

impl<'a> Builder<'a, '_> {
    fn idf(&self, t: &TermInfo) -> f64 {
        let (n, df) = match self.global {
            Some(g) => (g.n as f64, self.idx.term_key(t.ord).and_then(|k| g.df.get(&k).copied()).unwrap_or(t.df as u64) as f64),
            None => (self.idx.n as f64, t.df as f64),
        };
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn leaf(&mut self, t: &TermInfo, boost: f64) -> Leaf {
        let slot = self.leaves.len();
        self.leaves.push((t.ord, slot));
        Leaf { slot, w: boost * self.idf(t), f: t.field as usize }
    }

    fn build(&mut self, p: Plan) -> Node<'a> {
        match p {
            Plan::Term(t, boost) => {
                let leaf = self.leaf(&t, boost);
                let ub = self.s.bound(leaf.f, leaf.w, t.max_tf_sat, t.min_len_code);
                Node::Term { c: self.idx.term_cursor(&t), leaf, ub, info: t }
            }
            Plan::Pair(pi, ta, tb, ba, bb) => {
                let la = self.leaf(&ta, ba);
                let lb = self.leaf(&tb, bb);
                let ub = self.s.bound(la.f, la.w, pi.max_tf[0], pi.min_len_code) + self.s.bound(lb.f, lb.w, pi.max_tf[1], pi.min_len_code);
                Node::Pair { c: self.idx.pair_cursor(&pi), la, lb, ub }
            }
            Plan::All => Node::All { doc: if self.idx.n == 0 { NO_MORE } else { 0 }, n: self.idx.n },
            Plan::Or(kids) => {
                let kids: Vec<Node> = kids.into_iter().map(|k| self.build(k)).collect();
                let ub = kids.iter().map(|k| k.ub()).sum();
                let doc = kids.iter().map(|k| k.doc()).min().unwrap_or(NO_MORE);
                Node::Or { kids, doc, ub }
            }
            Plan::And(pos, neg) => {
                let unaligned = std::mem::take(&mut self.unaligned_root);
                let mut pos: Vec<Node> = pos.into_iter().map(|k| self.build(k)).collect();
                let neg: Vec<Node> = neg.into_iter().map(|k| self.build_neg(k)).collect();
                pos.sort_by_key(|n| n.cost());
                let ub = pos.iter().map(|k| k.ub()).sum();
                let d = pos[0].doc();
                let mut n = Node::And { pos, neg, doc: d, ub };
                if !unaligned {
                    n.align(d);
                }
                n
            }
        }
    }

    /// Negative subtrees only match; their leaves never score (no slots).
    fn build_neg(&mut self, p: Plan) -> Node<'a> {
        let saved = self.leaves.len();
        let n = self.build(p);
        // their slots stay zero; keep the slot numbering but mark them unused
        for l in &mut self.leaves[saved..] {
            l.0 = u32::MAX;
        }
        n
    }
}

/// A term node's parts, borrowed for the root loops that run on cursors directly.
struct TermRef<'c, 'a> {
    c: &'c mut Cursor<'a>,
    leaf: Leaf,
    ub: f64,
    info: TermInfo,
}

impl<'c, 'a> TermRef<'c, 'a> {
    fn of(n: &'c mut Node<'a>) -> TermRef<'c, 'a> {
        match n {
            Node::Term { c, leaf, ub, info } => TermRef { c, leaf: *leaf, ub: *ub, info: *info },
            _ => unreachable!("a root loop over terms got another node"),
        }
    }

    /// This term's contribution at `d` (the cursor is on d), written to its slot.
    #[inline]
    fn score(&mut self, d: u32, sc: &Scorer, slots: &mut [f64]) -> f64 {
        let x = sc.contrib_fast(self.leaf.f, self.leaf.w, self.c.tf(0), d);
        slots[self.leaf.slot] = x;
        x
    }
}

/// Top-k by (score desc, doc asc): a min-heap whose root is the worst kept hit.
struct TopK {
    k: usize,
    heap: Vec<(f64, u32)>,
}

impl TopK {
    #[inline]
    fn worse(a: (f64, u32), b: (f64, u32)) -> bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 > b.1)
    }
    #[inline]
    fn theta(&self) -> f64 {
        if self.heap.len() < self.k { f64::NEG_INFINITY } else { self.heap[0].0 }
    }
    /// Offer a hit; true if it was kept.
    fn push(&mut self, s: f64, d: u32) -> bool {
        let h = &mut self.heap;
        if h.len() < self.k {
            h.push((s, d));
            let mut i = h.len() - 1;
            while i > 0 {
                let p = (i - 1) / 2;
                if Self::worse(h[i], h[p]) {
                    h.swap(i, p);
                    i = p;
                } else {
                    break;
                }
            }
            true
        } else if Self::worse(h[0], (s, d)) {
            h[0] = (s, d);
            let mut i = 0;
            loop {
                let (l, r) = (2 * i + 1, 2 * i + 2);
                let mut m = i;
                if l < h.len() && Self::worse(h[l], h[m]) {
                    m = l;
                }
                if r < h.len() && Self::worse(h[r], h[m]) {
                    m = r;
                }
                if m == i {
                    break;
                }
                h.swap(i, m);
                i = m;
            }
            true
        } else {
            false
        }
    }
    fn into_sorted(mut self) -> (Vec<u32>, Vec<f64>) {
        self.heap.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        (self.heap.iter().map(|x| x.1).collect(), self.heap.iter().map(|x| x.0).collect())
    }
}

/// Exact score at the current doc: slots summed in (ordinal, position) order, then cleared.
#[inline]
fn exact_sum(slots: &mut [f64], order: &[usize]) -> f64 {
    let mut t = 0.0;
    for &i in order {
        t += slots[i];
        slots[i] = 0.0;
    }
    t
}

/// Collection-wide statistics for searching one shard of several: N, the per-field
/// token totals (avgdl) and the df of every query term summed over the shards, so each shard
/// scores exactly like one index over all the documents.
pub struct GlobalStats {
    pub n: u64,
    pub total_tokens: Vec<u64>,
    pub df: FastMap<Vec<u8>, u64>,
}

/// The term keys a normalised query looks up.
fn query_keys(n: &Norm, out: &mut Vec<Vec<u8>>) {
    match n {
        Norm::Term { key, .. } => out.push(key.clone()),
        Norm::Phrase { a, b, .. } => {
            out.push(a.clone());
            out.push(b.clone());
        }
        Norm::Not(c) => query_keys(c, out),
        Norm::And(k) | Norm::Or(k) => k.iter().for_each(|c| query_keys(c, out)),
    }
}

/// (shard, doc, score) hits, the total, whether it is exact, and the pair lists used.
pub type ShardHits = (Vec<(u32, u32, f64)>, u64, bool, u32);

/// Search every shard of a collection with the collection's statistics and merge the top k
/// (score descending, then shard, then doc). Returns (shard, doc, score) hits, the total and
/// whether it is exact, and the pair lists used. The shards share fields and analyzer.
pub fn search_shards(shards: &[&TextIndex], q: &str, p: &SearchParams) -> Result<ShardHits, QueryError> {
    let Some(first) = shards.first() else { return Ok((Vec::new(), 0, true, 0)) };
    let Some(norm) = normalize(q, p.default_or, false, first)? else { return Ok((Vec::new(), 0, true, 0)) };
    let mut keys = Vec::new();
    query_keys(&norm, &mut keys);
    let nf = first.fields.len();
    let mut g = GlobalStats { n: 0, total_tokens: vec![0; nf], df: FastMap::default() };
    for s in shards {
        g.n += s.n as u64;
        for (f, fi) in s.fields.iter().enumerate().take(nf) {
            g.total_tokens[f] += fi.total_tokens;
        }
        for k in &keys {
            if let Some(t) = s.lookup(k) {
                *g.df.entry(k.clone()).or_insert(0) += t.df as u64;
            }
        }
    }
    let (mut all, mut total, mut exact, mut pairs) = (Vec::new(), 0u64, true, 0u32);
    for (i, s) in shards.iter().enumerate() {
        let h = search_with(s, q, p, Some(&g))?;
        total += h.total;
        exact &= h.total_exact;
        pairs += h.pairs_used;
        all.extend(h.docs.iter().zip(&h.scores).map(|(&d, &sc)| (i as u32, d, sc)));
    }
    all.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    all.truncate(p.k);
    Ok((all, total, exact, pairs))
}

pub fn search(idx: &TextIndex, q: &str, p: &SearchParams) -> Result<Hits, QueryError> {
    search_with(idx, q, p, None)
}

/// Conjunction of terms, block at a time on the cursors themselves: the rest of the
/// leader's block is the candidate list; each follower in cost order keeps the candidates
/// it holds (a dense one by its doc bitset, the others by `Cursor::intersect`, which also
/// reads their tfs); the survivors are counted, their contributions summed term by term over
/// the block (a dense term's tf from its bitset's tf column) and only a doc that could enter
/// gets the exact sum. At each new leader block the block maxima of every term around the leader's doc
/// are summed, and a block that cannot beat theta is skipped whole.
#[allow(clippy::too_many_arguments)]
fn and_terms(
    idx: &TextIndex,
    sc: &Scorer,
    ts: &mut [TermRef],
    neg: &mut [Node],
    top: &mut TopK,
    hits: &mut Hits,
    slots: &mut [f64],
    order: &[usize],
) {
    #[cfg(target_arch = "x86_64")]
    if crate::isa::selected() >= crate::isa::Isa::Avx2 && std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has AVX2 and POPCNT (checked just above).
        return unsafe { and_terms_avx2(idx, sc, ts, neg, top, hits, slots, order) };
    }
    and_terms_body(idx, sc, ts, neg, top, hits, slots, order)
}

/// `and_terms` compiled for AVX2 and POPCNT (with `Cursor::intersect` inlined): a dense
/// follower's tf is found by a rank (a bit count, ~15 instructions in baseline x86-64 code
/// instead of one), and a merge counts a group of 8 postings below a candidate in one compare.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
#[allow(clippy::too_many_arguments)]
fn and_terms_avx2(
    idx: &TextIndex,
    sc: &Scorer,
    ts: &mut [TermRef],
    neg: &mut [Node],
    top: &mut TopK,
    hits: &mut Hits,
    slots: &mut [f64],
    order: &[usize],
) {
    and_terms_body(idx, sc, ts, neg, top, hits, slots, order)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn and_terms_body(
    idx: &TextIndex,
    sc: &Scorer,
    ts: &mut [TermRef],
    neg: &mut [Node],
    top: &mut TopK,
    hits: &mut Hits,
    slots: &mut [f64],
    order: &[usize],
) {
    let deleted = idx.has_deletes();
    let nt = ts.len();
    assert!(nt <= MAX_AND_TERMS, "and_terms: {nt} terms");
    let mut dense = [None; MAX_AND_TERMS];
    for (d, t) in dense[1..nt].iter_mut().zip(&ts[1..]) {
        *d = idx.dense_bits(&t.info);
    }
    // dense followers first: their filter is the cheapest and leaves fewer docs to merge
    let mut followers = [0usize; MAX_AND_TERMS];
    let followers = &mut followers[..nt - 1];
    for (i, f) in followers.iter_mut().enumerate() {
        *f = i + 1;
    }
    followers.sort_by_key(|&i| dense[i].is_none());
    let mut docs = [0u32; BLOCK];
    let mut sel = [0u8; BLOCK];
    // per term: tfs by candidate index (a merged follower's), tfm by survivor
    let mut scratch = AND_SCRATCH.take();
    if scratch.len() < 2 * nt {
        scratch.resize(2 * nt, [0; BLOCK]);
    }
    let (tfs, tfm) = scratch.split_at_mut(nt);
    let mut approx = [0f64; BLOCK];
    let mut last_block = usize::MAX;
    while ts[0].c.doc != NO_MORE {
        let d = ts[0].c.doc;
        if top.heap.len() == top.k && ts[0].c.bi != last_block && ts[0].c.bi < ts[0].c.n_full() {
            last_block = ts[0].c.bi;
            let mut ub = 0.0;
            let mut until = ts[0].c.block_last();
            for t in ts.iter() {
                ub += match t.c.bound_at(d) {
                    Some((mt, ml, last)) => {
                        until = until.min(last);
                        sc.bound(t.leaf.f, t.leaf.w, mt[0], ml)
                    }
                    None => t.ub,
                };
            }
            if ub <= top.theta() {
                hits.total_exact = false;
                // nothing up to `until` can enter: move the leader past it
                if until >= NO_MORE - 1 {
                    break;
                }
                ts[0].c.advance(until + 1);
                continue;
            }
        }
        let rest = ts[0].c.rest_docs();
        let mut n = rest.len();
        docs[..n].copy_from_slice(rest);
        for (j, s) in sel[..n].iter_mut().enumerate() {
            *s = j as u8;
        }
        for &i in followers.iter() {
            if n == 0 {
                break;
            }
            n = match &dense[i] {
                Some(b) => {
                    let mut k = 0;
                    for j in 0..n {
                        let x = docs[j];
                        docs[k] = x;
                        sel[k] = sel[j];
                        k += b.has(x) as usize;
                    }
                    k
                }
                None => ts[i].c.intersect(&mut docs, &mut sel, n, &mut tfs[i]),
            };
        }
        if deleted || !neg.is_empty() {
            let mut k = 0;
            for m in 0..n {
                let d = docs[m];
                let drop = (deleted && idx.is_deleted(d)) || neg.iter_mut().any(|x| x.advance(d) == d);
                docs[k] = d;
                sel[k] = sel[m];
                k += !drop as usize;
            }
            n = k;
        }
        hits.total += n as u64;
        // each term's contribution to every survivor (a dense follower's tf from its bitset's
        // tf column), summed in term order; the exact sum, in the canonical order, only for a
        // doc that could enter. Term by term over the block: short loops without dispatch.
        let (docs, sel) = (&docs[..n], &sel[..n]);
        for (i, t) in ts.iter_mut().enumerate() {
            let tf = &mut tfm[i][..n];
            match dense[i] {
                _ if i == 0 => t.c.tfs_at(sel, tf),
                Some(b) => {
                    for (o, &d) in tf.iter_mut().zip(docs) {
                        *o = match b.tf(d) {
                            Some(x) => x,
                            None => dense_tf_slow(idx, t, b, d),
                        };
                    }
                }
                None => {
                    for (o, &j) in tf.iter_mut().zip(sel) {
                        *o = tfs[i][j as usize];
                    }
                }
            }
            let fs = &sc.f[t.leaf.f];
            let a = &mut approx[..n];
            if fs.zero {
                if i == 0 {
                    a.fill(0.0);
                }
            } else {
                let (codes, one, norm, w) = (fs.codes, &*fs.one, &*fs.norm, t.leaf.w);
                for m in 0..n {
                    let code = codes[docs[m] as usize] as usize;
                    // the arithmetic of `Scorer::contrib_fast`, so the same values
                    let c = if tf[m] == 1 {
                        w * one[code]
                    } else {
                        let x = tf[m] as f64;
                        w * ((x * fs.k1p1) / (x + norm[code]))
                    };
                    a[m] = if i == 0 { c } else { a[m] + c };
                }
            }
        }
        let mut theta = top.theta();
        for m in 0..n {
            if approx[m] * BOUND_SLACK <= theta {
                continue;
            }
            for (i, t) in ts.iter().enumerate() {
                slots[t.leaf.slot] = sc.contrib_fast(t.leaf.f, t.leaf.w, tfm[i][m], docs[m]);
            }
            top.push(exact_sum(slots, order), docs[m]);
            theta = top.theta();
        }
        ts[0].c.skip_block();
    }
    AND_SCRATCH.set(scratch);
}

/// Most terms `and_terms` takes (a longer conjunction is evaluated document at a time).
const MAX_AND_TERMS: usize = 16;

thread_local! {
    /// `and_terms`' per-term tf arrays, kept for the next query on this thread.
    static AND_SCRATCH: std::cell::Cell<Vec<[u32; BLOCK]>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The tf of a dense term's doc whose tf column saturated (255 or more): from its postings.
#[cold]
#[inline(never)]
fn dense_tf_slow(idx: &TextIndex, t: &mut TermRef, b: &DenseBits, d: u32) -> u32 {
    idx.dense_tf(&t.info, b, d).unwrap_or_else(|| {
        if t.c.is_unloaded() {
            t.c.start_at(d);
        }
        t.c.advance(d);
        t.c.tf(0)
    })
}

/// One pair list (a conjunction of two terms the pair index holds): a block whose two bounds
/// cannot beat theta is skipped whole, and inside a block each posting's two contributions are
/// summed and only a doc that could enter gets the exact sum.
#[allow(clippy::too_many_arguments)]
fn pair_scan(
    idx: &TextIndex,
    sc: &Scorer,
    c: &mut Cursor,
    la: Leaf,
    lb: Leaf,
    top: &mut TopK,
    hits: &mut Hits,
    slots: &mut [f64],
    order: &[usize],
) {
    let deleted = idx.has_deletes();
    let mut skipped = false;
    while c.doc != NO_MORE {
        let bi = c.bi;
        if bi < c.n_full() && top.heap.len() == top.k {
            let (mt, ml) = c.block_bound(bi);
            if sc.bound(la.f, la.w, mt[0], ml) + sc.bound(lb.f, lb.w, mt[1], ml) <= top.theta() {
                skipped = true;
                c.skip_block();
                continue;
            }
        }
        c.ensure_block();
        let (docs, ta, tb) = c.rest2();
        for ((&d, &x), &y) in docs.iter().zip(ta).zip(tb) {
            if deleted && idx.is_deleted(d) {
                continue;
            }
            hits.total += 1;
            let (x, y) = (sc.contrib_fast(la.f, la.w, x, d), sc.contrib_fast(lb.f, lb.w, y, d));
            if (x + y) * BOUND_SLACK <= top.theta() {
                continue;
            }
            slots[la.slot] = x;
            slots[lb.slot] = y;
            top.push(exact_sum(slots, order), d);
        }
        c.skip_block();
    }
    if skipped {
        hits.total = c.df() as u64 - if deleted { idx.deleted_count.min(c.df() as u64) } else { 0 };
        hits.total_exact = !deleted;
    }
}

/// BM25 constants per field (the index's own unless k1 / b are overridden or a collection's
/// statistics are given).
fn scorer<'a>(idx: &'a TextIndex, p: &SearchParams, global: Option<&GlobalStats>) -> Scorer<'a> {
    let table = &idx.len_table;
    let mut sc = Scorer { f: Vec::with_capacity(idx.fields.len()) };
    for (f, fi) in idx.fields.iter().enumerate() {
        let k1 = p.k1.unwrap_or(fi.k1);
        let b = p.b.unwrap_or(fi.b);
        let (total, n) = match global {
            Some(g) => (g.total_tokens[f], g.n),
            None => (fi.total_tokens, idx.n as u64),
        };
        let (norm, one) = if k1 == fi.k1 && b == fi.b && global.is_none() {
            (CodeTable::Index(&idx.norms[f]), CodeTable::Index(&idx.ones[f]))
        } else {
            let norm = bm25_norms(table, k1, b, total, n);
            let one = tf1_factors(k1, &norm);
            (CodeTable::Own(Box::new(norm)), CodeTable::Own(Box::new(one)))
        };
        sc.f.push(FieldScorer { codes: idx.codes(f), norm, one, k1p1: k1 + 1.0, zero: total == 0 });
    }
    sc
}

/// The most common query, two to eight plain words ANDed (`a b`, `a AND b`) in a one-field index
/// without pair lists, evaluated like the general path (`and_terms` on the same cursors, in the
/// same order, with the same leaves) but without a parse, a plan or a tree: nothing is allocated
/// but the cursors' blocks and the results. None: take the general path.
fn plain_conjunction(idx: &TextIndex, q: &str, p: &SearchParams) -> Option<Hits> {
    const MAXW: usize = 8;
    if idx.fields.len() != 1 || p.k == 0 || (p.use_pairs && idx.pair_kind != PairKind::Off) {
        return None;
    }
    let mut toks: [&[u8]; 2 * MAXW - 1] = [&[]; 2 * MAXW - 1];
    let mut nt = 0;
    for t in q.as_bytes().split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        if nt == toks.len() {
            return None;
        }
        toks[nt] = t;
        nt += 1;
    }
    let toks = &toks[..nt];
    let step = if toks.len() >= 3 && toks[1] == b"AND" {
        if toks.len().is_multiple_of(2) || toks.iter().skip(1).step_by(2).any(|&o| o != b"AND") {
            return None;
        }
        2
    } else if p.default_or {
        return None;
    } else {
        1
    };
    // the words' keys (field 0, lower case), de-duplicated in order
    let mut buf = [0u8; 512];
    let mut ends = [0usize; MAXW];
    let (mut nw, mut used) = (0, 0);
    for w in toks.iter().step_by(step) {
        if !w.iter().all(|b| b.is_ascii_alphanumeric()) || w.len() > idx.analyzer.max_token_bytes || matches!(*w, b"AND" | b"OR" | b"NOT") {
            return None;
        }
        if nw == MAXW || used + 1 + w.len() > buf.len() {
            return None;
        }
        buf[used] = 0;
        for (o, b) in buf[used + 1..used + 1 + w.len()].iter_mut().zip(w.iter()) {
            *o = b.to_ascii_lowercase();
        }
        let key = used..used + 1 + w.len();
        let start = |i: usize| if i == 0 { 0 } else { ends[i - 1] };
        if (0..nw).any(|i| buf[start(i)..ends[i]] == buf[key.clone()]) {
            continue;
        }
        used = key.end;
        ends[nw] = used;
        nw += 1;
    }
    if nw < 2 {
        return None;
    }
    let mut keys: [&[u8]; MAXW] = [&[]; MAXW];
    for (i, k) in keys[..nw].iter_mut().enumerate() {
        *k = &buf[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
    }
    let mut infos = [None; MAXW];
    idx.lookup_many(&keys[..nw], &mut infos[..nw]);
    if infos[..nw].iter().any(|t| t.is_none()) {
        return Some(Hits { total_exact: true, ..Default::default() });
    }
    // the leader (shortest list, the first of equals: `ts` is sorted stably below) starts on its
    // first block; the followers start where the leader's docs are (see `and_terms`)
    let lead = (0..nw).min_by_key(|&i| infos[i].unwrap().df).unwrap_or(0);
    for (i, t) in infos[..nw].iter().flatten().enumerate() {
        // the leader's first block; a follower's skip data (a dense one is read by bitset)
        if i == lead || idx.dense_bits(t).is_none() {
            idx.prefetch_postings(t);
        }
    }
    let sc = scorer(idx, p, None);
    let weight = idx.fields[0].weight;
    let mut cursors: Vec<Cursor> = infos[..nw]
        .iter()
        .enumerate()
        .map(|(i, t)| if i == lead { idx.term_cursor(&t.unwrap()) } else { idx.term_cursor_unloaded(&t.unwrap()) })
        .collect();
    let mut ts: Vec<TermRef> = cursors
        .iter_mut()
        .zip(&infos[..nw])
        .enumerate()
        .map(|(slot, (c, t))| {
            let info = t.unwrap();
            let (n, df) = (idx.n as f64, info.df as f64);
            let w = weight * (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            TermRef { c, leaf: Leaf { slot, w, f: 0 }, ub: sc.bound(0, w, info.max_tf_sat, info.min_len_code), info }
        })
        .collect();
    ts.sort_by_key(|t| t.c.df());
    let mut order = [0usize; MAXW];
    for (i, o) in order[..nw].iter_mut().enumerate() {
        *o = i;
    }
    order[..nw].sort_by_key(|&i| infos[i].unwrap().ord);
    let mut slots = [0.0f64; MAXW];
    let mut hits = Hits { total_exact: true, ..Default::default() };
    let mut top = TopK { k: p.k, heap: Vec::with_capacity(p.k + 1) };
    and_terms(idx, &sc, &mut ts, &mut [], &mut top, &mut hits, &mut slots[..nw], &order[..nw]);
    (hits.docs, hits.scores) = top.into_sorted();
    Some(hits)
}

fn search_with(idx: &TextIndex, q: &str, p: &SearchParams, global: Option<&GlobalStats>) -> Result<Hits, QueryError> {
    if global.is_none()
        && let Some(h) = plain_conjunction(idx, q, p)
    {
        return Ok(h);
    }
    let Some(norm) = normalize(q, p.default_or, p.use_pairs && idx.pair_kind == PairKind::Adjacent, idx)? else {
        return Ok(Hits { total_exact: true, ..Default::default() });
    };
    let mut r = Resolver { idx, p, pairs_used: 0 };
    let plan = match r.resolve(&norm, true)? {
        Resolved::P(plan) => plan,
        _ => return Ok(Hits { total_exact: true, ..Default::default() }),
    };
    let sc = scorer(idx, p, global);
    let unaligned_root = p.k > 0 && matches!(&plan, Plan::And(pos, _) if pos.iter().all(|x| matches!(x, Plan::Term(..))));
    let mut b = Builder { idx, s: &sc, leaves: Vec::new(), global, unaligned_root };
    let mut root = b.build(plan);
    let mut order: Vec<(u32, usize)> = b.leaves.iter().copied().filter(|l| l.0 != u32::MAX).collect();
    order.sort_unstable();
    let order: Vec<usize> = order.into_iter().map(|l| l.1).collect();
    let mut slots = vec![0.0f64; b.leaves.len()];
    let mut hits = Hits { pairs_used: r.pairs_used, total_exact: true, ..Default::default() };
    let deleted = idx.has_deletes();

    if p.k == 0 {
        let mut d = root.doc();
        while d != NO_MORE {
            if !idx.is_deleted(d) {
                hits.total += 1;
            }
            d = root.next();
        }
        return Ok(hits);
    }
    let mut top = TopK { k: p.k, heap: Vec::with_capacity(p.k + 1) };
    match &mut root {
        Node::Term { c, leaf, .. } => {
            // One list: skip whole blocks whose bound cannot beat the k-th score; inside a block, a
            // posting is first judged without a division (w tf (k1+1) against theta (tf + norm)),
            // with a margin far above rounding, and only possible entrants are scored exactly.
            let leaf = *leaf;
            let codes = sc.f[leaf.f].codes;
            let norm: &[f64; 256] = &sc.f[leaf.f].norm;
            let wk = leaf.w * sc.f[leaf.f].k1p1;
            let mut theta_lo = f64::NEG_INFINITY;
            let mut skipped = false;
            while c.doc != NO_MORE {
                let bi = c.bi;
                if bi < c.n_full() && top.heap.len() == top.k {
                    let (mt, ml) = c.block_bound(bi);
                    if sc.bound(leaf.f, leaf.w, mt[0], ml) <= top.theta() {
                        skipped = true;
                        c.skip_block();
                        continue;
                    }
                }
                c.ensure_block();
                let (docs, tfs) = c.rest();
                hits.total += docs.len() as u64;
                for (&d, &tf) in docs.iter().zip(tfs) {
                    if deleted && idx.is_deleted(d) {
                        hits.total -= 1;
                        continue;
                    }
                    let code = codes[d as usize] as usize;
                    let t = tf as f64;
                    if wk * t < theta_lo * (t + norm[code]) {
                        continue;
                    }
                    if top.push(sc.contrib(leaf.f, leaf.w, tf, d), d) && top.heap.len() == top.k {
                        theta_lo = top.theta() * (1.0 - 1e-9);
                    }
                }
                c.skip_block();
            }
            if skipped {
                hits.total = c.df() as u64 - if deleted { idx.deleted_count.min(c.df() as u64) } else { 0 };
                hits.total_exact = !deleted;
            }
        }
        Node::Or { kids, .. } if kids.iter().all(|k| matches!(k, Node::Term { .. })) => {
            // MaxScore over term cursors: terms by bound ascending; a prefix whose bounds sum
            // <= theta cannot produce a hit alone, so only the rest (essential) propose candidates.
            // Theta is seeded with the k-th best score of the shortest term; candidates are judged
            // first by block maxima over regions, then without a division, then exactly.
            kids.sort_by(|a, b| a.ub().total_cmp(&b.ub()));
            let mut ts: Vec<TermRef> = kids.iter_mut().map(TermRef::of).collect();
            let dense: Vec<Option<&DenseBits>> = ts.iter().map(|t| idx.dense_bits(&t.info)).collect();
            let dense_terms: Vec<(usize, &DenseBits)> = dense.iter().enumerate().filter_map(|(i, b)| b.map(|b| (i, b))).collect();
            let n = ts.len();
            let mut prefix = vec![0.0; n];
            let mut acc = 0.0;
            for i in 0..n {
                acc += ts[i].ub;
                prefix[i] = acc * BOUND_SLACK;
            }
            // Seed theta: the contributions of the shortest term in any k docs are lower bounds of
            // those docs' scores, so a doc whose bound is below the k-th best of them cannot make
            // the top k. Its few blocks with the highest bounds (or its tail) give them cheaply.
            let mut seed = f64::NEG_INFINITY;
            if let Some(t) = ts.iter().min_by_key(|t| t.c.df())
                && t.c.df() as usize >= p.k
                && !deleted
            {
                let mut c = idx.term_cursor(&t.info);
                let mut blocks: Vec<(f64, usize)> = (0..c.n_full())
                    .map(|b| {
                        let (mt, ml) = c.block_bound(b);
                        (sc.bound(t.leaf.f, t.leaf.w, mt[0], ml), b)
                    })
                    .collect();
                blocks.sort_by(|a, b| b.0.total_cmp(&a.0));
                blocks.truncate(SEED_BLOCKS);
                if blocks.len() * BLOCK < p.k {
                    blocks.push((0.0, c.n_full())); // the tail too
                }
                let mut best = TopK { k: p.k, heap: Vec::with_capacity(p.k + 1) };
                for &(_, b) in &blocks {
                    c.goto_block(b);
                    c.ensure_block();
                    let (docs, tfs) = c.rest();
                    for (&d, &tf) in docs.iter().zip(tfs) {
                        let x = sc.contrib_fast(t.leaf.f, t.leaf.w, tf, d);
                        if x >= best.theta() {
                            best.push(x, d);
                        }
                    }
                }
                let kth = best.theta();
                if kth > 0.0 {
                    seed = f64::from_bits(kth.to_bits() - 1); // prune strictly below the k-th
                }
            }
            let mut ess = 0;
            let mut last_block = usize::MAX;
            let mut checked_until = 0u32;
            loop {
                let theta = top.theta().max(seed);
                while ess < n && prefix[ess] <= theta {
                    ess += 1;
                    hits.total_exact = false;
                }
                if ess == n {
                    break;
                }
                let rest = if ess > 0 { prefix[ess - 1] } else { 0.0 };
                if ess == n - 1 && ess > 0 {
                    // one essential term: skip its blocks and docs that cannot reach theta - rest
                    let t = &mut ts[ess];
                    if t.c.doc == NO_MORE {
                        break;
                    }
                    let need = theta - rest;
                    if t.c.bi != last_block {
                        last_block = t.c.bi;
                        if t.c.bi < t.c.n_full() {
                            let (mt, ml) = t.c.block_bound(t.c.bi);
                            if sc.bound(t.leaf.f, t.leaf.w, mt[0], ml) <= need {
                                t.c.skip_block();
                                continue;
                            }
                        }
                    }
                    // the rest of the block in one tight pass (tfs decoded once): the first posting that
                    // could reach `need` without a division, else the next block. A doc outside the
                    // lists of the non-essential terms with a bitset gets nothing from them, so it
                    // needs more from this term (for two common words, most docs hold only one).
                    let bits_ne: &[(usize, &DenseBits)] = &dense_terms[..dense_terms.partition_point(|&(i, _)| i < ess)];
                    let sparse_rest = (0..ess).filter(|&i| dense[i].is_none()).map(|i| ts[i].ub).sum::<f64>() * BOUND_SLACK;
                    let t = &mut ts[ess];
                    t.c.ensure_block();
                    let (docs, tfs) = t.c.rest();
                    let (wk, need_lo, need_out) =
                        (t.leaf.w * sc.f[t.leaf.f].k1p1, need * (1.0 - 1e-9), (theta - sparse_rest) * (1.0 - 1e-9));
                    let (norm, codes) = (&sc.f[t.leaf.f].norm, sc.f[t.leaf.f].codes);
                    let hit = docs.iter().zip(tfs).position(|(&d, &tf)| {
                        let tf = tf as f64;
                        let need = if bits_ne.iter().any(|(_, b)| b.has(d)) { need_lo } else { need_out };
                        wk * tf >= need * (tf + norm[codes[d as usize] as usize])
                    });
                    match hit {
                        Some(j) => t.c.step(j),
                        None => {
                            t.c.skip_block();
                            continue;
                        }
                    }
                }
                let mut d = NO_MORE;
                for t in &ts[ess..] {
                    d = d.min(t.c.doc);
                }
                if d == NO_MORE {
                    break;
                }
                if ess < n - 1 && d > checked_until && theta > f64::NEG_INFINITY {
                    // several essential terms: once per region, their block maxima around d (a term
                    // adds nothing before its next doc) plus the non-essential bounds
                    let mut ub = rest;
                    let mut until = NO_MORE - 1;
                    for t in &ts[ess..] {
                        if t.c.doc > d {
                            until = until.min(t.c.doc - 1);
                            continue;
                        }
                        ub += match t.c.bound_at(d) {
                            Some((mt, ml, last)) => {
                                until = until.min(last);
                                sc.bound(t.leaf.f, t.leaf.w, mt[0], ml)
                            }
                            None => t.ub,
                        };
                    }
                    if ub * BOUND_SLACK <= theta && until < NO_MORE - 1 {
                        hits.total_exact = false;
                        for t in ts[ess..].iter_mut() {
                            t.c.advance(until + 1);
                        }
                        continue;
                    }
                    checked_until = until;
                }
                if ess < n - 1 && theta > f64::NEG_INFINITY {
                    // one essential term on d alone: its postings before the other essential terms' next
                    // doc are alone too; judge them in one tight pass over its block (no division), and
                    // go straight to the first that could reach theta - rest
                    let mut on = ts[ess..].iter().enumerate().filter(|(_, t)| t.c.doc == d);
                    if let (Some((li, _)), None) = (on.next(), on.next()) {
                        let li = ess + li;
                        let next_other =
                            ts[ess..].iter().enumerate().filter(|&(i, _)| ess + i != li).map(|(_, t)| t.c.doc).min().unwrap_or(NO_MORE);
                        let t = &mut ts[li];
                        t.c.ensure_block();
                        let (docs, tfs) = t.c.rest();
                        let (wk, need_lo) = (t.leaf.w * sc.f[t.leaf.f].k1p1, (theta - rest) * (1.0 - 1e-9));
                        let (norm, codes) = (&sc.f[t.leaf.f].norm, sc.f[t.leaf.f].codes);
                        let stop = docs.iter().zip(tfs).position(|(&x, &tf)| {
                            let tf = tf as f64;
                            x >= next_other || wk * tf >= need_lo * (tf + norm[codes[x as usize] as usize])
                        });
                        match stop {
                            Some(0) => {}
                            Some(j) => {
                                hits.total_exact = false;
                                t.c.step(j);
                                continue;
                            }
                            None => {
                                hits.total_exact = false;
                                t.c.skip_block();
                                continue;
                            }
                        }
                    }
                }
                let mut approx = 0.0;
                for t in ts[ess..].iter_mut() {
                    if t.c.doc == d {
                        approx += t.score(d, &sc, &mut slots);
                    }
                }
                let mut ok = true;
                for i in (0..ess).rev() {
                    if approx + prefix[i] <= theta {
                        ok = false;
                        break;
                    }
                    if let Some(b) = dense[i] {
                        if !b.has(d) {
                            continue; // not in this list: no need to move its cursor
                        }
                        if let Some(tf) = b.tf(d).or_else(|| idx.dense_tf(&ts[i].info, b, d)) {
                            let t = &ts[i];
                            let x = sc.contrib_fast(t.leaf.f, t.leaf.w, tf, d);
                            slots[t.leaf.slot] = x;
                            approx += x;
                            continue;
                        }
                    }
                    if ts[i].c.advance(d) == d {
                        approx += ts[i].score(d, &sc, &mut slots);
                    }
                }
                let s = exact_sum(&mut slots, &order);
                if ok && !(deleted && idx.is_deleted(d)) {
                    hits.total += 1;
                    top.push(s, d);
                }
                for t in ts[ess..].iter_mut() {
                    if t.c.doc == d {
                        t.c.next();
                    }
                }
            }
        }
        Node::Pair { c, la, lb, .. } => {
            let (la, lb) = (*la, *lb);
            pair_scan(idx, &sc, c, la, lb, &mut top, &mut hits, &mut slots, &order);
        }
        Node::And { pos, neg, .. } if neg.is_empty() && pos.len() == 1 && matches!(pos[0], Node::Pair { .. }) => {
            let Node::Pair { c, la, lb, .. } = &mut pos[0] else { unreachable!() };
            let (la, lb) = (*la, *lb);
            pair_scan(idx, &sc, c, la, lb, &mut top, &mut hits, &mut slots, &order);
        }
        Node::And { pos, neg, .. } if top.k > 0 && pos.len() <= MAX_AND_TERMS && pos.iter().all(|p| matches!(p, Node::Term { .. })) => {
            let mut ts: Vec<TermRef> = pos.iter_mut().map(TermRef::of).collect();
            and_terms(idx, &sc, &mut ts, neg, &mut top, &mut hits, &mut slots, &order);
        }
        _ => {
            let mut d = root.doc();
            while d != NO_MORE {
                if !(deleted && idx.is_deleted(d)) {
                    root.score(d, &sc, &mut slots);
                    hits.total += 1;
                    top.push(exact_sum(&mut slots, &order), d);
                } else {
                    slots.iter_mut().for_each(|x| *x = 0.0);
                }
                d = root.next();
            }
        }
    }
    (hits.docs, hits.scores) = top.into_sorted();
    Ok(hits)
}
