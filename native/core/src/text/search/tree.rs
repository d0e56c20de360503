//! The document-at-a-time iterator tree a plan is built into: term and pair cursors, leapfrog
//! conjunctions with negations, disjunctions and match-all, each with its score upper bound; and
//! the leaves (a slot per positive term) whose contributions are summed in canonical order.

use super::GlobalStats;
use super::plan::Plan;
use crate::text::NO_MORE;
use crate::text::bm25::{Scorer, idf};
use crate::text::dict::TermInfo;
use crate::text::postings::Cursor;
use crate::text::reader::TextIndex;

#[derive(Clone, Copy)]
pub(super) struct Leaf {
    pub(super) slot: usize,
    pub(super) w: f64,
    pub(super) f: usize,
}

pub(super) enum Node<'a> {
    Term { c: Cursor<'a>, leaf: Leaf, ub: f64, info: TermInfo },
    Pair { c: Cursor<'a>, la: Leaf, lb: Leaf, ub: f64 },
    And { pos: Vec<Node<'a>>, neg: Vec<Node<'a>>, doc: u32, ub: f64 },
    Or { kids: Vec<Node<'a>>, doc: u32, ub: f64 },
    All { doc: u32, n: u32 },
}

impl<'a> Node<'a> {
    #[inline]
    pub(super) fn doc(&self) -> u32 {
        match self {
            Node::Term { c, .. } | Node::Pair { c, .. } => c.doc,
            Node::And { doc, .. } | Node::Or { doc, .. } | Node::All { doc, .. } => *doc,
        }
    }

    pub(super) fn ub(&self) -> f64 {
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

    pub(super) fn next(&mut self) -> u32 {
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

    pub(super) fn advance(&mut self, t: u32) -> u32 {
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
    pub(super) fn score(&mut self, d: u32, s: &Scorer, slots: &mut [f64]) -> f64 {
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

/// Builds a plan into a tree; see `build_tree`.
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
        idf(n, df)
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
pub(super) struct TermRef<'c, 'a> {
    pub(super) c: &'c mut Cursor<'a>,
    pub(super) leaf: Leaf,
    pub(super) ub: f64,
    pub(super) info: TermInfo,
}

impl<'c, 'a> TermRef<'c, 'a> {
    pub(super) fn of(n: &'c mut Node<'a>) -> TermRef<'c, 'a> {
        match n {
            Node::Term { c, leaf, ub, info } => TermRef { c, leaf: *leaf, ub: *ub, info: *info },
            _ => unreachable!("a root loop over terms got another node"),
        }
    }

    /// This term's contribution at `d` (the cursor is on d), written to its slot.
    #[inline]
    pub(super) fn score(&mut self, d: u32, sc: &Scorer, slots: &mut [f64]) -> f64 {
        let x = sc.contrib_fast(self.leaf.f, self.leaf.w, self.c.tf(0), d);
        slots[self.leaf.slot] = x;
        x
    }
}

/// A query's iterator tree with its scoring slots.
pub(super) struct Tree<'a> {
    pub(super) root: Node<'a>,
    /// The positive leaves' slots in (term ordinal, position) order: the order scores are summed in.
    pub(super) order: Vec<usize>,
    /// One per leaf (negative leaves' stay zero).
    pub(super) slots: Vec<f64>,
}

/// The tree of a plan, its cursors on their first documents (a top-level conjunction of terms with
/// `k` > 0 is left unaligned: its block-at-a-time loop finds the first match faster).
pub(super) fn build_tree<'a>(idx: &'a TextIndex, sc: &Scorer<'a>, global: Option<&GlobalStats>, plan: Plan, k: usize) -> Tree<'a> {
    let unaligned_root = k > 0 && matches!(&plan, Plan::And(pos, _) if pos.iter().all(|x| matches!(x, Plan::Term(..))));
    let mut b = Builder { idx, s: sc, leaves: Vec::new(), global, unaligned_root };
    let root = b.build(plan);
    let mut order: Vec<(u32, usize)> = b.leaves.iter().copied().filter(|l| l.0 != u32::MAX).collect();
    order.sort_unstable();
    let order: Vec<usize> = order.into_iter().map(|l| l.1).collect();
    Tree { root, order, slots: vec![0.0f64; b.leaves.len()] }
}
