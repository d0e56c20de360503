//! The x2i channel of a merge request with several seeds: each item gets the sum over the seeds of
//! weight(seed) * score(seed -> item), best first, ties by the id's decimal text (the order the
//! TypeScript merge uses for every channel), at most `fanout` a request. Many requests a call.

use super::X2iIndex;
use crate::error::Error;
use crate::fastmap::FastMap;
use crate::hash::{hash_i64, shards_of};
use crate::merge::order::decimal;
use crate::neighborhash;
use std::cmp::Ordering;

/// The kept items of every request one after another, their sums, and the count kept per request.
pub type SeedSums = (Vec<i64>, Vec<f64>, Vec<u32>);

/// `counts[l]` items of list `l` lie in `items`/`scores` one list after another; seed `s` reads
/// list `seed_lists[s]` (list `s` without them: a seed shared by many requests is looked up once).
/// The seeds of request `r` are `request_ends[r - 1]..request_ends[r]` (from 0). Returns the kept
/// items, their sums and the count kept per request.
pub fn sum_seed_lists(
    items: &[i64],
    scores: &[f32],
    counts: &[u32],
    seed_lists: Option<&[u32]>,
    weights: &[f64],
    request_ends: &[u32],
    fanout: usize,
) -> Result<SeedSums, String> {
    let seeds = seed_lists.map_or(counts.len(), |l| l.len());
    if seeds != weights.len() {
        return Err(format!("{seeds} seeds but {} weights", weights.len()));
    }
    if let Some(bad) = seed_lists.and_then(|l| l.iter().find(|&&x| x as usize >= counts.len())) {
        return Err(format!("seed list {bad} of {} lists", counts.len()));
    }
    let total: u64 = counts.iter().map(|&c| c as u64).sum();
    if total != items.len() as u64 || items.len() != scores.len() {
        return Err(format!("the counts add up to {total}, but {} items and {} scores came", items.len(), scores.len()));
    }
    if request_ends.windows(2).any(|w| w[0] > w[1]) || request_ends.last().is_some_and(|&e| e as usize > seeds) {
        return Err("request ends must ascend and stay within the seeds".into());
    }
    let mut starts = Vec::with_capacity(counts.len() + 1);
    let mut at = 0usize;
    for &c in counts {
        starts.push(at);
        at += c as usize;
    }
    starts.push(at);
    Ok(rank_sums(weights, request_ends, fanout, |s, w, sums| {
        let l = seed_lists.map_or(s, |x| x[s] as usize);
        for j in starts[l]..starts[l + 1] {
            *sums.entry(items[j]).or_insert(0.0) += w * scores[j] as f64;
        }
    }))
}

/// The same sums read straight from the shards of one x2i version (no list is copied out first):
/// each seed key is routed to its shard as `recall shard` routes int64 keys, looked up there, and
/// its list read to `top` items (all with 0), as a lookup returns them.
pub fn sum_seed_lists_in(
    shards: &[&X2iIndex],
    keys: &[i64],
    weights: &[f64],
    request_ends: &[u32],
    top: usize,
    fanout: usize,
) -> crate::error::Result<SeedSums> {
    if keys.len() != weights.len() {
        return Err(Error::InvalidArgument(format!("{} seeds but {} weights", keys.len(), weights.len())));
    }
    if shards.is_empty() {
        return Err(Error::InvalidArgument("no shard".into()));
    }
    if request_ends.windows(2).any(|w| w[0] > w[1]) || request_ends.last().is_some_and(|&e| e as usize > keys.len()) {
        return Err(Error::InvalidArgument("request ends must ascend and stay within the seeds".into()));
    }
    let mut shard_of = vec![0u32; keys.len()];
    if shards.len() > 1 {
        let mut hashes = vec![0u64; keys.len()];
        hash_i64(keys, 0, &mut hashes)?;
        shards_of(&hashes, shards.len() as u32, &mut shard_of)?;
    }
    // each shard's seeds found in one batched probe; a seed's list is then a position and a length
    let mut lists: Vec<(usize, usize)> = vec![(0, 0); keys.len()];
    for (sh, idx) in shards.iter().enumerate() {
        let rows: Vec<usize> = (0..keys.len()).filter(|&i| shard_of[i] as usize == sh).collect();
        let asked: Vec<u64> = rows.iter().map(|&i| keys[i] as u64).collect();
        for (j, found) in idx.find_lists(&asked, neighborhash::DEFAULT_RING)?.into_iter().enumerate() {
            lists[rows[j]] = found.map_or((0, 0), |(w, len)| (w, if top > 0 { len.min(top) } else { len }));
        }
    }
    Ok(rank_sums(weights, request_ends, fanout, |s, w, sums| {
        let (at, n) = lists[s];
        if n > 0 {
            shards[shard_of[s] as usize].visit_list(at, n, |item, score| *sums.entry(item as i64).or_insert(0.0) += w * score as f64);
        }
    }))
}

/// Per request: the sums its seeds add (`add(seed, weight, sums)`), best first, ties by the id's
/// decimal text, at most `fanout`.
fn rank_sums(weights: &[f64], request_ends: &[u32], fanout: usize, mut add: impl FnMut(usize, f64, &mut FastMap<i64, f64>)) -> SeedSums {
    let (mut out_items, mut out_scores, mut out_counts) = (Vec::new(), Vec::new(), Vec::with_capacity(request_ends.len()));
    let mut sums: FastMap<i64, f64> = FastMap::default();
    let mut kept: Vec<(i64, f64)> = Vec::new();
    let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
    let mut prev = 0usize;
    for &end in request_ends {
        sums.clear();
        for (s, &w) in weights.iter().enumerate().take(end as usize).skip(prev) {
            add(s, w, &mut sums);
        }
        prev = end as usize;
        kept.clear();
        kept.extend(sums.iter().map(|(&k, &v)| (k, v)));
        let mut order = |x: &(i64, f64), y: &(i64, f64)| {
            y.1.partial_cmp(&x.1)
                .unwrap_or(Ordering::Equal)
                .then_with(|| if x.0 == y.0 { Ordering::Equal } else { decimal(x.0, &mut a).cmp(decimal(y.0, &mut b)) })
        };
        if kept.len() > fanout {
            if fanout == 0 {
                kept.clear();
            } else {
                kept.select_nth_unstable_by(fanout - 1, &mut order);
                kept.truncate(fanout);
            }
        }
        kept.sort_unstable_by(&mut order);
        out_counts.push(kept.len() as u32);
        for &(k, v) in &kept {
            out_items.push(k);
            out_scores.push(v);
        }
    }
    (out_items, out_scores, out_counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_ranks_and_cuts_like_a_brute_force_reference() {
        let mut rng = crate::testutil::Rng(11);
        for _ in 0..200 {
            let requests = 1 + rng.below(4) as usize;
            let (mut items, mut scores, mut counts, mut weights, mut ends) = (vec![], vec![], vec![], vec![], vec![]);
            let mut want: Vec<Vec<(i64, f64)>> = vec![];
            let fanout = rng.below(12) as usize;
            for _ in 0..requests {
                let mut m: Vec<(i64, f64)> = vec![];
                for _ in 0..rng.below(4) {
                    let w = [1.0, 0.5, 2.0][rng.below(3) as usize];
                    let n = rng.below(8) as u32;
                    for _ in 0..n {
                        // few distinct ids and scores: many ties, negative and multi-digit ids
                        let id = [3i64, 12, 2, -7, -12, 100, 25, 9_007_199_254_740_993][rng.below(8) as usize];
                        let s = [0.5f32, 0.25, 1.0][rng.below(3) as usize];
                        items.push(id);
                        scores.push(s);
                        match m.iter_mut().find(|x| x.0 == id) {
                            Some(x) => x.1 += w * s as f64,
                            None => m.push((id, w * s as f64)),
                        }
                    }
                    counts.push(n);
                    weights.push(w);
                }
                m.sort_by(|x, y| y.1.partial_cmp(&x.1).unwrap().then_with(|| x.0.to_string().cmp(&y.0.to_string())));
                m.truncate(fanout);
                want.push(m);
                ends.push(counts.len() as u32);
            }
            let (gi, gs, gc) = sum_seed_lists(&items, &scores, &counts, None, &weights, &ends, fanout).unwrap();
            // the same seeds reading shared lists: every list once, in reverse, seeds pointing at them
            let nl = counts.len();
            let mut starts = vec![0usize];
            for &c in &counts {
                starts.push(starts.last().unwrap() + c as usize);
            }
            let (mut ri, mut rs, mut rc) = (vec![], vec![], vec![]);
            for l in (0..nl).rev() {
                ri.extend_from_slice(&items[starts[l]..starts[l + 1]]);
                rs.extend_from_slice(&scores[starts[l]..starts[l + 1]]);
                rc.push(counts[l]);
            }
            let seed_lists: Vec<u32> = (0..nl).map(|s| (nl - 1 - s) as u32).collect();
            let shared = sum_seed_lists(&ri, &rs, &rc, Some(&seed_lists), &weights, &ends, fanout).unwrap();
            assert_eq!(shared, (gi.clone(), gs.clone(), gc.clone()));
            let mut at = 0;
            for (r, w) in want.iter().enumerate() {
                let n = gc[r] as usize;
                let got: Vec<(i64, f64)> = (at..at + n).map(|j| (gi[j], gs[j])).collect();
                assert_eq!(&got, w);
                at += n;
            }
        }
        assert!(sum_seed_lists(&[1], &[1.0], &[2], None, &[1.0], &[1], 5).is_err());
        assert!(sum_seed_lists(&[1], &[1.0], &[1], Some(&[1]), &[1.0], &[1], 5).is_err());
    }
}
