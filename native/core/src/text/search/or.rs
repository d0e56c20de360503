//! A disjunction of terms: MaxScore with block maxima, its threshold seeded from the shortest term.

use super::Hits;
use super::topk::{TopK, exact_sum};
use super::tree::{Node, TermRef};
use crate::text::NO_MORE;
use crate::text::bm25::{BOUND_SLACK, Scorer};
use crate::text::codec::BLOCK;
use crate::text::dense::DenseBits;
use crate::text::reader::TextIndex;

/// Blocks of the shortest term an OR reads to seed its threshold.
const SEED_BLOCKS: usize = 4;

/// MaxScore over term cursors (`kids` are all terms): terms by bound ascending; a prefix whose
/// bounds sum <= theta cannot produce a hit alone, so only the rest (essential) propose
/// candidates. Theta is seeded with the k-th best score of the shortest term; candidates are
/// judged first by block maxima over regions, then without a division, then exactly.
#[allow(clippy::too_many_arguments)]
pub(super) fn max_score(
    idx: &TextIndex,
    sc: &Scorer,
    kids: &mut [Node],
    k: usize,
    top: &mut TopK,
    hits: &mut Hits,
    slots: &mut [f64],
    order: &[usize],
) {
    let deleted = idx.has_deletes();
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
    let seed = if deleted { f64::NEG_INFINITY } else { seed_theta(idx, sc, &ts, k) };
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
            let (wk, need_lo, need_out) = (t.leaf.w * sc.f[t.leaf.f].k1p1, need * (1.0 - 1e-9), (theta - sparse_rest) * (1.0 - 1e-9));
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
                approx += t.score(d, sc, slots);
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
                approx += ts[i].score(d, sc, slots);
            }
        }
        let s = exact_sum(slots, order);
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

/// Seed theta: the contributions of the shortest term in any k docs are lower bounds of those
/// docs' scores, so a doc whose bound is below the k-th best of them cannot make the top k. Its
/// few blocks with the highest bounds (or its tail) give them cheaply. NEG_INFINITY: no seed.
fn seed_theta(idx: &TextIndex, sc: &Scorer, ts: &[TermRef], k: usize) -> f64 {
    let Some(t) = ts.iter().min_by_key(|t| t.c.df()) else { return f64::NEG_INFINITY };
    if (t.c.df() as usize) < k {
        return f64::NEG_INFINITY;
    }
    let mut c = idx.term_cursor(&t.info);
    let mut blocks: Vec<(f64, usize)> = (0..c.n_full())
        .map(|b| {
            let (mt, ml) = c.block_bound(b);
            (sc.bound(t.leaf.f, t.leaf.w, mt[0], ml), b)
        })
        .collect();
    blocks.sort_by(|a, b| b.0.total_cmp(&a.0));
    blocks.truncate(SEED_BLOCKS);
    if blocks.len() * BLOCK < k {
        blocks.push((0.0, c.n_full())); // the tail too
    }
    let mut best = TopK::new(k);
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
        f64::from_bits(kth.to_bits() - 1) // prune strictly below the k-th
    } else {
        f64::NEG_INFINITY
    }
}
