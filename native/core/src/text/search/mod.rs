//! Query evaluation: term lookup and the pair planner (`plan`) turn the normalised tree into
//! document-at-a-time iterators (`tree`); a lone term scans with block-max skipping (`term`), a
//! top-level OR of terms runs MaxScore (`or`), a conjunction of terms runs block at a time (`and`),
//! a pair list scans on its own (`pairs`), everything else is an exhaustive leapfrog. Scores are
//! BM25 summed in f64 in ascending (term ordinal, leaf position) order, so the TypeScript oracle
//! reproduces them bit for bit.

mod and;
mod or;
mod pairs;
mod plan;
mod term;
mod topk;
mod tree;

use super::NO_MORE;
use super::bm25::{CodeTable, FieldScorer, Scorer, bm25_norms, tf1_factors};
use super::query::{Norm, QueryError, normalize};
use super::reader::TextIndex;
use crate::fastmap::FastMap;
use and::{MAX_AND_TERMS, and_terms, plain_conjunction};
use topk::{TopK, exact_sum};
use tree::{Node, TermRef, Tree};

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

pub use super::format::PAIR_MAX_FRACTION;

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

/// Search one index: the plain-words fast path, else plan, tree and the evaluation its root
/// calls for.
fn search_with(idx: &TextIndex, q: &str, p: &SearchParams, global: Option<&GlobalStats>) -> Result<Hits, QueryError> {
    if global.is_none()
        && let Some(h) = plain_conjunction(idx, q, p)
    {
        return Ok(h);
    }
    let Some((plan, pairs_used)) = plan::resolve_query(idx, q, p)? else {
        return Ok(Hits { total_exact: true, ..Default::default() });
    };
    let sc = scorer(idx, p, global);
    let Tree { mut root, order, mut slots } = tree::build_tree(idx, &sc, global, plan, p.k);
    let mut hits = Hits { pairs_used, total_exact: true, ..Default::default() };
    if p.k == 0 {
        count_matches(idx, &mut root, &mut hits);
        return Ok(hits);
    }
    let mut top = TopK::new(p.k);
    evaluate(idx, &sc, &mut root, &mut top, &mut hits, &mut slots, &order);
    (hits.docs, hits.scores) = top.into_sorted();
    Ok(hits)
}

/// k = 0: only the number of matches.
fn count_matches(idx: &TextIndex, root: &mut Node, hits: &mut Hits) {
    let mut d = root.doc();
    while d != NO_MORE {
        if !idx.is_deleted(d) {
            hits.total += 1;
        }
        d = root.next();
    }
}

/// The top k of a tree, by the loop its root calls for.
fn evaluate(idx: &TextIndex, sc: &Scorer, root: &mut Node, top: &mut TopK, hits: &mut Hits, slots: &mut [f64], order: &[usize]) {
    match root {
        Node::Term { c, leaf, .. } => term::term_scan(idx, sc, c, *leaf, top, hits),
        Node::Or { kids, .. } if kids.iter().all(|k| matches!(k, Node::Term { .. })) => {
            or::max_score(idx, sc, kids, top.k, top, hits, slots, order)
        }
        Node::Pair { c, la, lb, .. } => pairs::pair_scan(idx, sc, c, *la, *lb, top, hits, slots, order),
        Node::And { pos, neg, .. } if neg.is_empty() && pos.len() == 1 && matches!(pos[0], Node::Pair { .. }) => {
            let Node::Pair { c, la, lb, .. } = &mut pos[0] else { unreachable!() };
            pairs::pair_scan(idx, sc, c, *la, *lb, top, hits, slots, order)
        }
        Node::And { pos, neg, .. } if top.k > 0 && pos.len() <= MAX_AND_TERMS && pos.iter().all(|p| matches!(p, Node::Term { .. })) => {
            let mut ts: Vec<TermRef> = pos.iter_mut().map(TermRef::of).collect();
            and_terms(idx, sc, &mut ts, neg, top, hits, slots, order)
        }
        _ => exhaustive(idx, sc, root, top, hits, slots, order),
    }
}

/// Any other tree, document at a time: every match scored exactly.
fn exhaustive(idx: &TextIndex, sc: &Scorer, root: &mut Node, top: &mut TopK, hits: &mut Hits, slots: &mut [f64], order: &[usize]) {
    let deleted = idx.has_deletes();
    let mut d = root.doc();
    while d != NO_MORE {
        if !(deleted && idx.is_deleted(d)) {
            root.score(d, sc, slots);
            hits.total += 1;
            top.push(exact_sum(slots, order), d);
        } else {
            slots.iter_mut().for_each(|x| *x = 0.0);
        }
        d = root.next();
    }
}

/// BM25 constants per field (the index's own unless k1 / b are overridden or a collection's
/// statistics are given).
fn scorer<'a>(idx: &'a TextIndex, p: &SearchParams, global: Option<&GlobalStats>) -> Scorer<'a> {
    let table = idx.len_table();
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
