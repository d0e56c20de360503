//! Conjunctions of terms, block at a time (`and_terms`), and the plain-words fast path that
//! runs it without a parse or a plan (`plain_conjunction`).

use super::topk::{TopK, exact_sum};
use super::tree::{Leaf, Node, TermRef};
use super::{Hits, SearchParams, scorer};
use crate::text::bm25::{BOUND_SLACK, Scorer, idf};
use crate::text::codec::BLOCK;
use crate::text::dense::DenseBits;
use crate::text::postings::Cursor;
use crate::text::reader::TextIndex;
use crate::text::{NO_MORE, PairKind};

/// Conjunction of terms, block at a time on the cursors themselves: the rest of the
/// leader's block is the candidate list; each follower in cost order keeps the candidates
/// it holds (a dense one by its doc bitset, the others by `Cursor::intersect`, which also
/// reads their tfs); the survivors are counted, their contributions summed term by term over
/// the block (a dense term's tf from its bitset's tf column) and only a doc that could enter
/// gets the exact sum. At each new leader block the block maxima of every term around the leader's doc
/// are summed, and a block that cannot beat theta is skipped whole.
#[allow(clippy::too_many_arguments)]
pub(super) fn and_terms(
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
        if top.is_full() && ts[0].c.bi != last_block && ts[0].c.bi < ts[0].c.n_full() {
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
pub(super) const MAX_AND_TERMS: usize = 16;

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

/// The most common query, two to eight plain words ANDed (`a b`, `a AND b`) in a one-field index
/// without pair lists, evaluated like the general path (`and_terms` on the same cursors, in the
/// same order, with the same leaves) but without a parse, a plan or a tree: nothing is allocated
/// but the cursors' blocks and the results. None: take the general path.
pub(super) fn plain_conjunction(idx: &TextIndex, q: &str, p: &SearchParams) -> Option<Hits> {
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
            let w = weight * idf(n, df);
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
    let mut top = TopK::new(p.k);
    and_terms(idx, &sc, &mut ts, &mut [], &mut top, &mut hits, &mut slots[..nw], &order[..nw]);
    (hits.docs, hits.scores) = top.into_sorted();
    Some(hits)
}
