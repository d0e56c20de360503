//! One call merges and scores a batch of requests (an eval batch of users): per request, every
//! channel's list is filtered (the request's exclude set, a deny list, an allow list), de-duplicated
//! and cut to the channel's quota; the kept lists are fused; each kept list and the merged list are
//! scored against the request's truth at every K (Recall, Hit, NDCG, MRR).

use super::order::cmp_decimal;
use crate::error::Result;
use crate::fastmap::{FastMap, FoldHasher};
use crate::parallel::parallel_ranges;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;

type FastSet = HashSet<i64, BuildHasherDefault<FoldHasher>>;

/// The metrics of every list, in this order.
pub const METRICS: usize = 4; // recall, hit, ndcg, mrr

/// One channel's candidates for every request: `counts[r]` of them for request `r`, one request
/// after another, best first; scores are higher-is-better.
pub struct Channel<'a> {
    pub counts: &'a [u32],
    pub items: &'a [i64],
    pub scores: &'a [f64],
    pub quota: usize,
    pub weight: f64,
}

/// Each request's exclude set and truth set, as offsets into flat item arrays.
pub struct Requests<'a> {
    pub exclude_offsets: &'a [u32],
    pub exclude: &'a [i64],
    pub truth_offsets: &'a [u32],
    pub truth: &'a [i64],
}

pub struct Spec<'a> {
    /// Length of the merged list.
    pub k: usize,
    pub rrf: bool,
    pub rrf_k: f64,
    /// The cut-offs, ascending, from 1.
    pub ks: &'a [u32],
    /// 1/log2(r+1) at r (index 0 unused) and its prefix sums, up to the largest K: the caller's
    /// own tables, so both implementations divide by the very same numbers.
    pub discount: &'a [f64],
    pub idcg: &'a [f64],
    /// Sorted ascending.
    pub allow: Option<&'a [i64]>,
    pub deny: Option<&'a [i64]>,
}

/// What a batch gives; `None` from [`merge_score`] when a kept candidate's score is not finite
/// (the caller then takes its reference path, which defines that case).
#[derive(Default, Debug, PartialEq)]
pub struct Scored {
    /// Per request, per scope (the channels in order, then the merged list), per metric, per K.
    pub metrics: Vec<f64>,
    /// The merged lists, one request after another, and their lengths.
    pub merged_items: Vec<i64>,
    pub merged_counts: Vec<u32>,
    /// Each channel's kept list (filtered, each item once, at most its quota), per request then
    /// channel, and their lengths.
    pub channel_items: Vec<i64>,
    pub channel_counts: Vec<u32>,
    /// Per channel and K: merged top-K items only that channel found, and how many of them are hits.
    pub unique_items: Vec<u64>,
    pub unique_hits: Vec<u64>,
    /// Per K: merged top-K items, and hits among them.
    pub merged_total: Vec<u64>,
    pub merged_hits: Vec<u64>,
    /// Per scope: every item in a list's first K (the largest K) and its best rank there, by id,
    /// over this batch and the `prior` ones passed in; `first_counts[scope]` of them per scope
    /// (catalogue coverage without a pass per list entry).
    pub first_items: Vec<i64>,
    pub first_ranks: Vec<u32>,
    pub first_counts: Vec<u32>,
}

fn check_offsets(offsets: &[u32], len: usize, what: &str) -> std::result::Result<(), String> {
    if offsets.first() != Some(&0) || offsets.windows(2).any(|w| w[0] > w[1]) || *offsets.last().unwrap() as usize != len {
        return Err(format!("{what} offsets must start at 0, ascend and end at {len}"));
    }
    Ok(())
}

/// Checks the shapes; the merge itself runs on `threads` threads over parts of the requests.
/// First ranks carried from batch to batch, in `Scored`'s `first_*` layout (sorted by id per scope).
#[derive(Clone, Copy, Default)]
pub struct FirstRanks<'a> {
    pub counts: &'a [u32],
    pub items: &'a [i64],
    pub ranks: &'a [u32],
}

pub fn merge_score(
    channels: &[Channel],
    req: &Requests,
    spec: &Spec,
    prior: FirstRanks,
    threads: usize,
) -> std::result::Result<Option<Scored>, String> {
    if !prior.counts.is_empty() && prior.counts.len() != channels.len() + 1 {
        return Err(format!("prior first ranks for {} scopes; {} expected", prior.counts.len(), channels.len() + 1));
    }
    if prior.counts.iter().map(|&c| c as usize).sum::<usize>() != prior.items.len() || prior.items.len() != prior.ranks.len() {
        return Err("prior first ranks: counts, items and ranks disagree".into());
    }
    let n = req.truth_offsets.len().checked_sub(1).ok_or("truth offsets are empty")?;
    check_offsets(req.truth_offsets, req.truth.len(), "truth")?;
    check_offsets(req.exclude_offsets, req.exclude.len(), "exclude")?;
    if req.exclude_offsets.len() != n + 1 {
        return Err(format!("{} requests by the truth, {} by the exclude sets", n, req.exclude_offsets.len() - 1));
    }
    let max_k = match spec.ks.last() {
        Some(&k) if k > 0 && spec.ks.windows(2).all(|w| w[0] < w[1]) => k as usize,
        _ => return Err("ks must ascend from 1".into()),
    };
    if spec.discount.len() <= max_k || spec.idcg.len() <= max_k {
        return Err(format!("discount tables must reach {max_k}"));
    }
    let mut starts = Vec::with_capacity(channels.len());
    for (c, ch) in channels.iter().enumerate() {
        if ch.counts.len() != n {
            return Err(format!("channel {c}: {} counts for {n} requests", ch.counts.len()));
        }
        let mut s = Vec::with_capacity(n + 1);
        let mut at = 0usize;
        for &k in ch.counts {
            s.push(at);
            at += k as usize;
        }
        s.push(at);
        if at != ch.items.len() || at != ch.scores.len() {
            return Err(format!("channel {c}: counts add up to {at}, {} items and {} scores came", ch.items.len(), ch.scores.len()));
        }
        starts.push(s);
    }
    let parts = if threads > 1 { (n / 256).clamp(1, 64) } else { 1 };
    let outs = parallel_ranges(n, parts, threads, |range| Ok(merge_part(channels, &starts, req, spec, max_k, range)));
    let outs: Result<Vec<Option<Scored>>> = outs;
    let outs = outs.map_err(|e| e.to_string())?;
    let mut all = Scored::default();
    let mut first: Vec<FastMap<i64, u32>> = (0..channels.len() + 1).map(|_| FastMap::default()).collect();
    for o in outs {
        let Some(mut o) = o else { return Ok(None) };
        let mut at = 0usize;
        for (scope, &c) in o.first_counts.iter().enumerate() {
            for j in at..at + c as usize {
                let r = first[scope].entry(o.first_items[j]).or_insert(u32::MAX);
                *r = (*r).min(o.first_ranks[j]);
            }
            at += c as usize;
        }
        o.first_items.clear();
        if all.unique_items.is_empty() {
            all.unique_items = vec![0; o.unique_items.len()];
            all.unique_hits = vec![0; o.unique_hits.len()];
            all.merged_total = vec![0; o.merged_total.len()];
            all.merged_hits = vec![0; o.merged_hits.len()];
        }
        all.metrics.extend(o.metrics);
        all.merged_items.extend(o.merged_items);
        all.merged_counts.extend(o.merged_counts);
        all.channel_items.extend(o.channel_items);
        all.channel_counts.extend(o.channel_counts);
        for (a, b) in [(&mut all.unique_items, &o.unique_items), (&mut all.unique_hits, &o.unique_hits)] {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        for (a, b) in [(&mut all.merged_total, &o.merged_total), (&mut all.merged_hits, &o.merged_hits)] {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
    }
    let mut at = 0usize;
    for (scope, m) in first.into_iter().enumerate() {
        let mut v: Vec<(i64, u32)> = m.into_iter().collect();
        v.sort_unstable();
        // merged with the prior batches' (sorted) entries of this scope
        let n = prior.counts.get(scope).map_or(0, |&c| c as usize);
        let (pi, pr) = (&prior.items[at..at + n], &prior.ranks[at..at + n]);
        at += n;
        let before = all.first_items.len();
        let (mut i, mut j) = (0, 0);
        while i < v.len() || j < n {
            let take_new = j == n || (i < v.len() && v[i].0 <= pi[j]);
            let take_old = i == v.len() || (j < n && pi[j] <= v[i].0);
            let (item, rank) = match (take_new, take_old) {
                (true, true) => (v[i].0, v[i].1.min(pr[j])),
                (true, false) => (v[i].0, v[i].1),
                _ => (pi[j], pr[j]),
            };
            i += take_new as usize;
            j += take_old as usize;
            all.first_items.push(item);
            all.first_ranks.push(rank);
        }
        all.first_counts.push((all.first_items.len() - before) as u32);
    }
    Ok(Some(all))
}

/// Scratch for one request: a slot per distinct item kept by any channel.
#[derive(Default)]
struct Slots {
    of: FastMap<i64, u32>,
    item: Vec<i64>,
    score: Vec<f64>,
    count: Vec<u32>,
    best: Vec<u32>,
    last_list: Vec<usize>,
    first_channel: Vec<usize>,
}

impl Slots {
    fn clear(&mut self) {
        self.of.clear();
        self.item.clear();
        self.score.clear();
        self.count.clear();
        self.best.clear();
        self.last_list.clear();
        self.first_channel.clear();
    }
}

fn merge_part(
    channels: &[Channel],
    starts: &[Vec<usize>],
    req: &Requests,
    spec: &Spec,
    max_k: usize,
    range: std::ops::Range<usize>,
) -> Option<Scored> {
    let nk = spec.ks.len();
    let nc = channels.len();
    let scopes = nc + 1;
    let mut out = Scored {
        unique_items: vec![0; nc * nk],
        unique_hits: vec![0; nc * nk],
        merged_total: vec![0; nk],
        merged_hits: vec![0; nk],
        ..Default::default()
    };
    let mut slots = Slots::default();
    let mut exclude = FastSet::default();
    let mut truth = FastSet::default();
    let mut kept: Vec<(usize, u32)> = Vec::new();
    let mut list: Vec<i64> = Vec::new();
    let mut order: Vec<u32> = Vec::new();
    let mut row = vec![0.0f64; scopes * METRICS * nk];
    let mut first: Vec<FastMap<i64, u32>> = (0..scopes).map(|_| FastMap::default()).collect();
    let note = |first: &mut FastMap<i64, u32>, list: &[i64]| {
        for (r, &it) in list.iter().take(max_k).enumerate() {
            let best = first.entry(it).or_insert(u32::MAX);
            *best = (*best).min(r as u32 + 1);
        }
    };
    let passes = |it: i64, exclude: &FastSet| {
        !(exclude.contains(&it)
            || spec.deny.is_some_and(|d| d.binary_search(&it).is_ok())
            || spec.allow.is_some_and(|a| a.binary_search(&it).is_err()))
    };
    for u in range {
        slots.clear();
        exclude.clear();
        exclude.extend(&req.exclude[req.exclude_offsets[u] as usize..req.exclude_offsets[u + 1] as usize]);
        truth.clear();
        truth.extend(&req.truth[req.truth_offsets[u] as usize..req.truth_offsets[u + 1] as usize]);
        for (c, ch) in channels.iter().enumerate() {
            kept.clear();
            for i in starts[c][u]..starts[c][u + 1] {
                if kept.len() >= ch.quota {
                    break;
                }
                let it = ch.items[i];
                if !passes(it, &exclude) {
                    continue;
                }
                let slot = match slots.of.get(&it) {
                    Some(&s) if slots.last_list[s as usize] == c => continue,
                    Some(&s) => s,
                    None => {
                        let s = slots.item.len() as u32;
                        slots.of.insert(it, s);
                        slots.item.push(it);
                        slots.score.push(0.0);
                        slots.count.push(0);
                        slots.best.push(0);
                        slots.last_list.push(c);
                        slots.first_channel.push(c);
                        s
                    }
                };
                slots.last_list[slot as usize] = c;
                kept.push((i, slot));
            }
            list.clear();
            list.extend(kept.iter().map(|&(i, _)| ch.items[i]));
            score_list(&list, &truth, spec, max_k, &mut row[c * METRICS * nk..(c + 1) * METRICS * nk]);
            out.channel_items.extend_from_slice(&list);
            out.channel_counts.push(list.len() as u32);
            note(&mut first[c], &list);
            if kept.is_empty() {
                continue;
            }
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &(i, _) in &kept {
                let v = ch.scores[i];
                if !v.is_finite() {
                    return None;
                }
                lo = lo.min(v);
                hi = hi.max(v);
            }
            let span = hi - lo;
            for (r, &(i, slot)) in kept.iter().enumerate() {
                let s = slot as usize;
                // a constant list (one candidate, or ties) normalises to 1: every candidate is its channel's best
                slots.score[s] += if spec.rrf {
                    ch.weight / (spec.rrf_k + r as f64 + 1.0)
                } else {
                    ch.weight * if span > 0.0 { (ch.scores[i] - lo) / span } else { 1.0 }
                };
                let rank = r as u32 + 1;
                if slots.count[s] == 0 {
                    slots.first_channel[s] = c;
                }
                if slots.count[s] == 0 || rank < slots.best[s] {
                    slots.best[s] = rank;
                }
                slots.count[s] += 1;
            }
        }
        // ties: the item found by more channels, then the better best rank, then the id's text
        let cmp = |a: &u32, b: &u32| {
            let (a, b) = (*a as usize, *b as usize);
            slots.score[b]
                .partial_cmp(&slots.score[a])
                .unwrap_or(Ordering::Equal)
                .then(slots.count[b].cmp(&slots.count[a]))
                .then(slots.best[a].cmp(&slots.best[b]))
                .then_with(|| cmp_decimal(slots.item[a], slots.item[b]))
        };
        order.clear();
        order.extend(0..slots.item.len() as u32);
        if order.len() > spec.k {
            if spec.k == 0 {
                order.clear();
            } else {
                order.select_nth_unstable_by(spec.k - 1, cmp);
                order.truncate(spec.k);
            }
        }
        order.sort_unstable_by(cmp);
        list.clear();
        list.extend(order.iter().map(|&s| slots.item[s as usize]));
        score_list(&list, &truth, spec, max_k, &mut row[nc * METRICS * nk..]);
        note(&mut first[nc], &list);
        for (ki, &k) in spec.ks.iter().enumerate() {
            for &s in order.iter().take(k as usize) {
                let s = s as usize;
                let hit = truth.contains(&slots.item[s]);
                out.merged_total[ki] += 1;
                out.merged_hits[ki] += hit as u64;
                if slots.count[s] == 1 {
                    let c = slots.first_channel[s];
                    out.unique_items[c * nk + ki] += 1;
                    out.unique_hits[c * nk + ki] += hit as u64;
                }
            }
        }
        out.merged_counts.push(list.len() as u32);
        out.merged_items.extend_from_slice(&list);
        out.metrics.extend_from_slice(&row);
    }
    for m in first {
        out.first_counts.push(m.len() as u32);
        for (it, r) in m {
            out.first_items.push(it);
            out.first_ranks.push(r);
        }
    }
    Some(out)
}

/// Recall, Hit, NDCG and MRR of `list` (best first, each item once) at every K, into
/// `out[metric * K + k]`.
fn score_list(list: &[i64], truth: &FastSet, spec: &Spec, max_k: usize, out: &mut [f64]) {
    let nk = spec.ks.len();
    let size = truth.len();
    let n = list.len().min(max_k);
    let (mut hits, mut dcg, mut first, mut ki) = (0usize, 0.0f64, 0usize, 0usize);
    let mut r = 1usize;
    while ki < nk {
        if r <= n && truth.contains(&list[r - 1]) {
            hits += 1;
            dcg += spec.discount[r];
            if first == 0 {
                first = r;
            }
        }
        while ki < nk && spec.ks[ki] as usize == r {
            let k = spec.ks[ki] as usize;
            out[ki] = hits as f64 / size as f64;
            out[nk + ki] = if hits > 0 { 1.0 } else { 0.0 };
            out[2 * nk + ki] = dcg / spec.idcg[size.min(k)];
            out[3 * nk + ki] = if first > 0 { 1.0 / first as f64 } else { 0.0 };
            ki += 1;
        }
        if r > max_k {
            break;
        }
        r += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// A request's list of one channel: items, scores, quota, weight.
    type List = (Vec<i64>, Vec<f64>, usize, f64);
    /// A channel for every request: counts, items, scores, quota, weight.
    type Lists = (Vec<u32>, Vec<i64>, Vec<f64>, usize, f64);

    fn tables(max_k: usize) -> (Vec<f64>, Vec<f64>) {
        let mut d = vec![0.0];
        let mut i = vec![0.0];
        for r in 1..=max_k {
            d.push(1.0 / ((r + 1) as f64).log2());
            i.push(i[r - 1] + d[r]);
        }
        (d, i)
    }

    /// The merge as its definition reads, one request at a time, with a full sort.
    fn reference(lists: &[List], exclude: &[i64], deny: &[i64], rrf: bool, k: usize) -> Vec<(i64, f64)> {
        let mut acc: Vec<(i64, f64, u32, u32)> = vec![];
        for (items, scores, quota, w) in lists {
            let mut kept: Vec<(i64, f64)> = vec![];
            for (j, &it) in items.iter().enumerate() {
                if kept.len() >= *quota {
                    break;
                }
                if exclude.contains(&it) || deny.contains(&it) || kept.iter().any(|x| x.0 == it) {
                    continue;
                }
                kept.push((it, scores[j]));
            }
            let lo = kept.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
            let hi = kept.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
            for (r, &(it, raw)) in kept.iter().enumerate() {
                let add = if rrf { w / (60.0 + r as f64 + 1.0) } else { w * if hi > lo { (raw - lo) / (hi - lo) } else { 1.0 } };
                match acc.iter_mut().find(|x| x.0 == it) {
                    Some(x) => {
                        x.1 += add;
                        x.2 += 1;
                        x.3 = x.3.min(r as u32 + 1);
                    }
                    None => acc.push((it, add, 1, r as u32 + 1)),
                }
            }
        }
        acc.sort_by(|a, b| {
            b.1.partial_cmp(&a.1).unwrap().then(b.2.cmp(&a.2)).then(a.3.cmp(&b.3)).then(a.0.to_string().cmp(&b.0.to_string()))
        });
        acc.truncate(k);
        acc.into_iter().map(|x| (x.0, x.1)).collect()
    }

    #[test]
    fn merges_and_scores_like_the_definition_for_any_thread_count() {
        let mut rng = Rng(5);
        let ks = [1u32, 3, 10];
        let (discount, idcg) = tables(10);
        for round in 0..40 {
            let n = 1 + rng.below(700) as usize;
            let nc = 1 + rng.below(3) as usize;
            let rrf = round % 2 == 0;
            let k = 1 + rng.below(12) as usize;
            let deny: Vec<i64> = (0..3).map(|_| rng.below(60) as i64).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            let mut chans: Vec<Lists> = vec![];
            for c in 0..nc {
                let (mut counts, mut items, mut scores) = (vec![], vec![], vec![]);
                for _ in 0..n {
                    let m = rng.below(15);
                    counts.push(m as u32);
                    let mut s = 100.0;
                    for _ in 0..m {
                        items.push(rng.below(60) as i64 - 5);
                        // ties on purpose: scores repeat
                        s -= rng.below(3) as f64;
                        scores.push(s);
                    }
                }
                chans.push((counts, items, scores, 2 + rng.below(10) as usize + c, 0.5 + c as f64));
            }
            let (mut eo, mut ex, mut to, mut tr) = (vec![0u32], vec![], vec![0u32], vec![]);
            for _ in 0..n {
                for _ in 0..rng.below(4) {
                    ex.push(rng.below(60) as i64 - 5);
                }
                eo.push(ex.len() as u32);
                let mut t: Vec<i64> = (0..1 + rng.below(6)).map(|_| rng.below(60) as i64 - 5).collect();
                t.sort();
                t.dedup();
                tr.extend(t);
                to.push(tr.len() as u32);
            }
            let channels: Vec<Channel> =
                chans.iter().map(|(c, i, s, q, w)| Channel { counts: c, items: i, scores: s, quota: *q, weight: *w }).collect();
            let req = Requests { exclude_offsets: &eo, exclude: &ex, truth_offsets: &to, truth: &tr };
            let spec = Spec { k, rrf, rrf_k: 60.0, ks: &ks, discount: &discount, idcg: &idcg, allow: None, deny: Some(&deny) };
            let one = merge_score(&channels, &req, &spec, FirstRanks::default(), 1).unwrap().unwrap();
            let three = merge_score(&channels, &req, &spec, FirstRanks::default(), 3).unwrap().unwrap();
            assert_eq!(one, three, "round {round}: the thread count changed the answer");
            let mut at = 0usize;
            let mut starts = vec![0usize; nc];
            for u in 0..n {
                let lists: Vec<_> = chans
                    .iter()
                    .enumerate()
                    .map(|(c, (counts, items, scores, q, w))| {
                        let (s, e) = (starts[c], starts[c] + counts[u] as usize);
                        (items[s..e].to_vec(), scores[s..e].to_vec(), *q, *w)
                    })
                    .collect();
                for c in 0..nc {
                    starts[c] += chans[c].0[u] as usize;
                }
                let want = reference(&lists, &ex[eo[u] as usize..eo[u + 1] as usize], &deny, rrf, k);
                let m = one.merged_counts[u] as usize;
                assert_eq!(
                    &one.merged_items[at..at + m],
                    want.iter().map(|x| x.0).collect::<Vec<_>>().as_slice(),
                    "round {round} user {u}"
                );
                // the merged list's Recall@K against the truth, counted directly
                let truth = &tr[to[u] as usize..to[u + 1] as usize];
                let row = &one.metrics[u * (nc + 1) * METRICS * ks.len()..(u + 1) * (nc + 1) * METRICS * ks.len()];
                for (ki, &kk) in ks.iter().enumerate() {
                    let hits = want.iter().take(kk as usize).filter(|x| truth.contains(&x.0)).count();
                    assert_eq!(row[nc * METRICS * ks.len() + ki], hits as f64 / truth.len() as f64, "round {round} user {u} recall@{kk}");
                }
                at += m;
            }
        }
    }

    #[test]
    fn first_ranks_carry_over_batches_by_id_keeping_the_best_rank() {
        let (discount, idcg) = tables(3);
        // one request, one channel: items 5, 9, 2 at ranks 1, 2, 3
        let ch = Channel { counts: &[3], items: &[5, 9, 2], scores: &[3.0, 2.0, 1.0], quota: 10, weight: 1.0 };
        let req = Requests { exclude_offsets: &[0, 0], exclude: &[], truth_offsets: &[0, 1], truth: &[9] };
        let spec = Spec { k: 3, rrf: false, rrf_k: 60.0, ks: &[3], discount: &discount, idcg: &idcg, allow: None, deny: None };
        // prior: channel scope {1: 1, 2: 1, 9: 3}, merged scope {7: 2}
        let prior = FirstRanks { counts: &[3, 1], items: &[1, 2, 9, 7], ranks: &[1, 1, 3, 2] };
        let out = merge_score(&[ch], &req, &spec, prior, 1).unwrap().unwrap();
        assert_eq!(out.first_counts, vec![4, 4]);
        assert_eq!(out.first_items, vec![1, 2, 5, 9, 2, 5, 7, 9]);
        assert_eq!(out.first_ranks, vec![1, 1, 1, 2, 3, 1, 2, 2]);
        let bad = FirstRanks { counts: &[1], items: &[1], ranks: &[1] };
        assert!(merge_score(&[Channel { counts: &[0], items: &[], scores: &[], quota: 1, weight: 1.0 }], &req, &spec, bad, 1).is_err());
    }

    #[test]
    fn a_score_that_is_not_finite_sends_the_batch_to_the_reference_path() {
        let (discount, idcg) = tables(2);
        let ch = Channel { counts: &[2], items: &[1, 2], scores: &[1.0, f64::NAN], quota: 10, weight: 1.0 };
        let req = Requests { exclude_offsets: &[0, 0], exclude: &[], truth_offsets: &[0, 1], truth: &[2] };
        let spec = Spec { k: 2, rrf: false, rrf_k: 60.0, ks: &[2], discount: &discount, idcg: &idcg, allow: None, deny: None };
        assert_eq!(merge_score(&[ch], &req, &spec, FirstRanks::default(), 1), Ok(None));
    }
}
