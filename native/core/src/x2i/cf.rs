//! Item-to-item lists computed from interactions:
//! the item-CF family (cooc, cosine, jaccard, condprob, iuf, decay) row by
//! row with a dense accumulator (Gustavson SpGEMM: no hash maps, no pair
//! shuffle), and Swing item-centric with a seeded per-item user sample.
//! Rows are independent, so threads take blocks of items and the output is
//! the same for any thread count. Ties are broken by item ordinal, which is
//! the order of the external ids.

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::rand::splitmix;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Algo {
    /// C_ij, or the sum of r_ui * r_uj with weights.
    Cooc,
    /// C_ij / sqrt(N_i N_j)
    Cosine,
    /// C_ij / (N_i + N_j - C_ij)
    Jaccard,
    /// C_ij / (N_i * N_j^alpha)
    CondProb { alpha: f64 },
    /// sum 1/ln(1 + |I_u|) / sqrt(N_i N_j)
    Iuf,
    /// sum 1/(1 + |t_ui - t_uj| / tau) / sqrt(N_i N_j)
    Decay { tau: f64 },
    /// sum over user pairs {u,v} in U_i ∩ U_j of w_u w_v / (alpha2 + |I_u ∩ I_v|), w_u = (alpha1 + |I_u|)^-beta
    Swing { alpha1: f64, alpha2: f64, beta: f64, item_user_cap: usize, seed: u64 },
}

#[derive(Clone, Debug)]
pub struct Prep {
    /// Users with fewer distinct items are dropped (they still count in nothing).
    pub min_user_items: usize,
    /// Users with more distinct items (counted before `user_cap`) are dropped (bots, shared accounts).
    pub max_user_items: usize,
    /// Keep at most this many most recent items per user.
    pub user_cap: usize,
}

impl Default for Prep {
    fn default() -> Self {
        Prep { min_user_items: 1, max_user_items: usize::MAX, user_cap: 200 }
    }
}

#[derive(Clone, Debug)]
pub struct CfOptions {
    pub algo: Algo,
    pub prep: Prep,
    pub top_k: usize,
    pub min_score: f64,
    /// Item-CF: drop pairs with fewer common users.
    pub min_common: u32,
    pub threads: usize,
}

/// Interactions by dense ordinal: user u, item i, time t (seconds), weight w.
pub struct Interactions<'a> {
    pub user: &'a [u32],
    pub item: &'a [u32],
    pub ts: &'a [u32],
    pub weight: Option<&'a [f32]>,
    pub users: usize,
    pub items: usize,
    /// Swing's sample keys: each user's key hash (`xxh64` of its bytes) and each item's
    /// external id, so the sample does not depend on which other users and items exist and
    /// the stream draws the same one. Empty: the ordinals stand in (callers without keys).
    pub user_hash: &'a [u64],
    pub item_ids: &'a [u64],
}

/// The hash a user's key bytes are sampled by (the stream state keeps it per user).
pub fn user_key_hash(key: &[u8]) -> u64 {
    crate::hash::xxh64(key, 0)
}

/// `user_key_hash` of every key in `bytes[off[u]..off[u + 1]]`.
pub fn user_key_hashes(off: &[u32], bytes: &[u8]) -> Vec<u64> {
    off.windows(2).map(|w| user_key_hash(&bytes[w[0] as usize..w[1] as usize])).collect()
}

/// Swing's user sample of an item with more than `cap` users: the `cap` users of smallest
/// seeded hash, sorted. Adding or removing other users never reshuffles who is in it,
/// which is what lets a stream keep the batch's sample.
pub fn swing_sample(sample: &mut Vec<u32>, cap: usize, seed: u64, item_id: u64, user_hash: impl Fn(u32) -> u64) {
    if sample.len() > cap {
        let salt = seed ^ item_id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        sample.select_nth_unstable_by_key(cap.max(1) - 1, |&v| splitmix(salt ^ user_hash(v)));
        sample.truncate(cap);
    }
    sample.sort_unstable();
}

/// Rows: item i's neighbours are `nb/sc[row_off[i]..row_off[i+1]]`.
#[derive(Debug, Default, PartialEq)]
pub struct Rows {
    pub row_off: Vec<u64>,
    pub nb: Vec<u32>,
    pub sc: Vec<f32>,
    /// Accumulator updates (item-CF) or user pairs (Swing): the work done.
    pub work: u64,
    pub kept_interactions: u64,
    /// Wall time of the preprocessing (CSR builds) and of the row computation.
    pub prep_seconds: f64,
    pub compute_seconds: f64,
    /// CPU time of the row computation, summed over its threads.
    pub compute_cpu_seconds: f64,
}

/// CSR user -> items (sorted by item), with each item's time and weight.
struct Csr {
    off: Vec<usize>,
    idx: Vec<u32>,
    ts: Vec<u32>,
    w: Vec<f32>,
}

fn user_csr(d: &Interactions, prep: &Prep) -> Csr {
    // Counting sort by user (O(n)), then each user's few items sorted by
    // (item, latest time first): dedupe keeps the latest time and the max weight.
    let n = d.user.len();
    let mut start = vec![0usize; d.users + 1];
    for &u in d.user {
        start[u as usize + 1] += 1;
    }
    for u in 0..d.users {
        start[u + 1] += start[u];
    }
    let mut pos = start.clone();
    let mut by_user = vec![0u32; n];
    for (k, &u) in d.user.iter().enumerate() {
        by_user[pos[u as usize]] = k as u32;
        pos[u as usize] += 1;
    }
    let mut off = vec![0usize; d.users + 1];
    let (mut idx, mut ts, mut w) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let mut row: Vec<(u32, u32, f32)> = Vec::new();
    for u in 0..d.users {
        row.clear();
        row.extend(by_user[start[u]..start[u + 1]].iter().map(|&k| {
            let k = k as usize;
            (d.item[k], d.ts[k], d.weight.map_or(1.0, |w| w[k]))
        }));
        row.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.total_cmp(&a.2)));
        let mut kept = 0;
        for r in 0..row.len() {
            if kept > 0 && row[kept - 1].0 == row[r].0 {
                row[kept - 1].2 = row[kept - 1].2.max(row[r].2);
            } else {
                row[kept] = row[r];
                kept += 1;
            }
        }
        row.truncate(kept);
        // the user filters count distinct items before the cap: a bot with 50,000 items is one
        // whatever the cap leaves of it
        let distinct = row.len();
        if row.len() > prep.user_cap {
            // the most recent user_cap items (ties: smaller item first), then back to item order
            row.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            row.truncate(prep.user_cap);
            row.sort_unstable_by_key(|x| x.0);
        }
        if distinct >= prep.min_user_items && distinct <= prep.max_user_items {
            for &(i, t, wt) in &row {
                idx.push(i);
                ts.push(t);
                w.push(wt);
            }
        }
        off[u + 1] = idx.len();
    }
    Csr { off, idx, ts, w }
}

/// Transpose: item -> users (sorted by user), with times and weights.
fn item_csr(uc: &Csr, users: usize, items: usize) -> Csr {
    let mut off = vec![0usize; items + 1];
    for &i in &uc.idx {
        off[i as usize + 1] += 1;
    }
    for i in 0..items {
        off[i + 1] += off[i];
    }
    let mut pos = off.clone();
    let n = uc.idx.len();
    let (mut idx, mut ts, mut w) = (vec![0u32; n], vec![0u32; n], vec![0f32; n]);
    for u in 0..users {
        for p in uc.off[u]..uc.off[u + 1] {
            let i = uc.idx[p] as usize;
            let q = pos[i];
            pos[i] += 1;
            idx[q] = u as u32;
            ts[q] = uc.ts[p];
            w[q] = uc.w[p];
        }
    }
    Csr { off, idx, ts, w }
}

/// Per-thread scratch: dense accumulators with a touched list. Binary
/// item-CF only counts (integer adds, `cnt`); weighted variants sum into
/// `val` and count too (for jaccard-style scores and --min-common); Swing
/// only sums. Every contribution is positive, so zero means "not touched yet".
pub(super) struct Acc {
    pub(super) val: Vec<f64>,
    pub(super) cnt: Vec<u32>,
    /// Touched ordinals in `touched[..n_touched]`; sized to the item count so
    /// appending needs no capacity check and no branch (see `count`).
    pub(super) touched: Vec<u32>,
    pub(super) n_touched: usize,
}

impl Acc {
    pub(super) fn new(items: usize, sums: bool, counts: bool) -> Acc {
        Acc {
            val: if sums { vec![0.0; items] } else { Vec::new() },
            cnt: if counts { vec![0; items] } else { Vec::new() },
            touched: vec![0; items + 1],
            n_touched: 0,
        }
    }
    /// Append `j` when it is new: written always, kept only if `new` (no
    /// mispredicted branch on first touches, which are frequent and random).
    #[inline(always)]
    fn touch(&mut self, j: u32, new: bool) {
        let t = self.n_touched;
        self.touched[t] = j;
        self.n_touched = t + new as usize;
    }
    #[inline(always)]
    pub(super) fn count(&mut self, j: u32) {
        let c = self.cnt[j as usize];
        self.cnt[j as usize] = c + 1;
        self.touch(j, c == 0);
    }
    #[inline(always)]
    pub(super) fn add(&mut self, j: u32, x: f64) {
        let v = self.val[j as usize];
        self.val[j as usize] = v + x;
        self.touch(j, v == 0.0);
    }
    #[inline(always)]
    pub(super) fn add_counted(&mut self, j: u32, x: f64) {
        self.add(j, x);
        self.cnt[j as usize] += 1;
    }
    /// Top-k of the touched entries (score desc, ordinal asc); resets them.
    /// `score(j, sum, count)`: the sum is the count in count-only mode, and
    /// the count is the sum's integer part in sum-only mode (unused there).
    #[allow(clippy::too_many_arguments)] // the scoring closure and thresholds of one emit, plus its output buffers
    fn emit(
        &mut self,
        i: u32,
        k: usize,
        min_score: f64,
        min_common: u32,
        score: impl Fn(u32, f64, u32) -> f64,
        nb: &mut Vec<u32>,
        sc: &mut Vec<f32>,
    ) {
        let mut cand: Vec<(f64, u32)> = Vec::with_capacity(self.n_touched);
        let (sums, counts) = (!self.val.is_empty(), !self.cnt.is_empty());
        for &j in &self.touched[..self.n_touched] {
            let j_ = j as usize;
            let c = if counts { std::mem::take(&mut self.cnt[j_]) } else { 0 };
            let v = if sums { std::mem::take(&mut self.val[j_]) } else { c as f64 };
            if j != i && (!counts || c >= min_common) {
                let s = score(j, v, c);
                if s >= min_score && s > 0.0 {
                    cand.push((s, j));
                }
            }
        }
        self.n_touched = 0;
        let by = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if k > 0 && cand.len() > k {
            cand.select_nth_unstable_by(k - 1, by);
            cand.truncate(k);
        }
        cand.sort_unstable_by(by);
        for (s, j) in cand {
            nb.push(j);
            sc.push(s as f32);
        }
    }
}

/// Swing's per-thread scratch. For one item i with sampled users 0..n:
/// `local` holds their item lists side by side; `by_item` inverts them
/// (item j -> the sampled users that have j, ascending); `pair[a*n+b]`
/// (a < b) first counts |I_a ∩ I_b|, then holds w_a w_b / (alpha + count).
/// Only the upper triangle is used, and it is zeroed again after each item,
/// so the buffer is never cleared in bulk.
pub(super) struct SwingScratch {
    pub(super) local: Vec<u32>,
    pub(super) local_off: Vec<usize>,
    pub(super) weights: Vec<f64>,
    count: Vec<u32>,
    start: Vec<u32>,
    items: Vec<u32>,
    by_item: Vec<u32>,
    pair: Vec<f64>,
}

impl SwingScratch {
    pub(super) fn new(n_items: usize, swing: bool) -> SwingScratch {
        let n = if swing { n_items } else { 0 };
        SwingScratch {
            local: Vec::new(),
            local_off: Vec::new(),
            weights: Vec::new(),
            count: vec![0; n],
            start: vec![0; n],
            items: Vec::new(),
            by_item: Vec::new(),
            pair: Vec::new(),
        }
    }
}

/// One Swing row, item-major: instead of intersecting the lists of every
/// user pair (cost: the sum over pairs of |I_v|), walk each item j once and
/// visit the pairs of sampled users that share it (cost: the sum over pairs
/// of |I_u ∩ I_v|, which is what the definition adds anyway). Same sums,
/// in a fixed order, so the result is deterministic.
/// s(i,j) = sum over user pairs {a,b} sharing i and j of w_a w_b / (alpha + |I_a ∩ I_b|).
pub(super) fn swing_row(sw: &mut SwingScratch, acc: &mut Acc, alpha2: f64, i: u32) -> u64 {
    let n = sw.local_off.len() - 1;
    // item -> sampled users (counting sort over the items the sample touches)
    sw.items.clear();
    for &j in &sw.local {
        let c = &mut sw.count[j as usize];
        if *c == 0 {
            sw.items.push(j);
        }
        *c += 1;
    }
    let mut at = 0u32;
    for &j in &sw.items {
        sw.start[j as usize] = at;
        at += sw.count[j as usize];
    }
    sw.by_item.clear();
    sw.by_item.resize(at as usize, 0);
    for a in 0..n {
        for &j in &sw.local[sw.local_off[a]..sw.local_off[a + 1]] {
            let p = &mut sw.start[j as usize];
            sw.by_item[*p as usize] = a as u32;
            *p += 1;
        }
    }
    // start[j] now points past j's users: j's users are by_item[start[j] - count[j] .. start[j]]
    let users_of = |sw: &SwingScratch, j: u32| {
        let e = sw.start[j as usize] as usize;
        e - sw.count[j as usize] as usize..e
    };
    // |I_a ∩ I_b| for every pair, from the items they share
    if sw.pair.len() < n * n {
        sw.pair.resize(n * n, 0.0);
    }
    for &j in &sw.items {
        let us = &sw.by_item[users_of(sw, j)];
        for x in 0..us.len() {
            let row = us[x] as usize * n;
            for &b in &us[x + 1..] {
                sw.pair[row + b as usize] += 1.0;
            }
        }
    }
    // counts -> contributions, in place
    let mut pairs = 0u64;
    for a in 0..n {
        let wa = sw.weights[a];
        for b in a + 1..n {
            let p = &mut sw.pair[a * n + b];
            *p = if *p >= 2.0 { wa * sw.weights[b] / (alpha2 + *p) } else { 0.0 };
            pairs += 1;
        }
    }
    // s(i, j): the pairs that share j (every sampled user has i, so every pair shares i)
    for &j in &sw.items {
        if j != i {
            let us = &sw.by_item[users_of(sw, j)];
            let mut s = 0.0;
            for x in 0..us.len() {
                let row = us[x] as usize * n;
                for &b in &us[x + 1..] {
                    s += sw.pair[row + b as usize];
                }
            }
            if s > 0.0 {
                acc.add(j, s);
            }
        }
        sw.count[j as usize] = 0;
    }
    for a in 0..n {
        sw.pair[a * n + a + 1..(a + 1) * n].fill(0.0);
    }
    pairs
}

struct Part {
    cpu_seconds: f64,
    nb: Vec<u32>,
    sc: Vec<f32>,
    lens: Vec<u32>,
    work: u64,
}

/// What every row reads besides the graph: per-user weights, per-item normalisers, and Swing's sample keys.
struct RowWeights<'a> {
    user_w: Vec<f64>,
    item_norm: Vec<f64>,
    keys: &'a Interactions<'a>,
}

fn row_block(items: std::ops::Range<usize>, uc: &Csr, ic: &Csr, w: &RowWeights, o: &CfOptions, cancel: &CancelToken) -> Result<Part> {
    let (user_w, item_norm, keys) = (&w.user_w[..], &w.item_norm[..], w.keys);
    let n_items = ic.off.len() - 1;
    let weighted_cooc = matches!(o.algo, Algo::Cooc) && uc.w.iter().any(|&w| w != 1.0);
    let (sums, counts) = match o.algo {
        Algo::Cosine | Algo::Jaccard | Algo::CondProb { .. } => (false, true),
        Algo::Cooc => (weighted_cooc, true),
        Algo::Iuf | Algo::Decay { .. } => (true, true),
        Algo::Swing { .. } => (true, false),
    };
    let mut acc = Acc::new(n_items, sums, counts);
    let cpu0 = crate::cputime::thread_cpu_seconds();
    let mut part = Part { cpu_seconds: 0.0, nb: Vec::new(), sc: Vec::new(), lens: Vec::new(), work: 0 };
    let n_of = |i: usize| (ic.off[i + 1] - ic.off[i]) as f64;
    let mut sw = SwingScratch::new(n_items, matches!(o.algo, Algo::Swing { .. }));
    let mut sample: Vec<u32> = Vec::new();
    for i in items {
        if i % 64 == 0 {
            cancel.check()?;
        }
        let before = part.nb.len();
        let users = ic.off[i]..ic.off[i + 1];
        match o.algo {
            Algo::Swing { alpha2, item_user_cap, seed, .. } => {
                sample.clear();
                sample.extend_from_slice(&ic.idx[users]);
                let item_id = keys.item_ids.get(i).copied().unwrap_or(i as u64);
                swing_sample(&mut sample, item_user_cap, seed, item_id, |v| {
                    keys.user_hash.get(v as usize).copied().unwrap_or_else(|| splitmix(v as u64))
                });
                // alpha1 and beta are folded into `user_w`, once per computation
                // The sampled users' item lists, copied next to each other once per
                // item: every user pair then reads cache-warm memory instead of two
                // random places of the whole CSR.
                sw.local.clear();
                sw.local_off.clear();
                sw.local_off.push(0);
                for &v in &sample {
                    sw.local.extend_from_slice(&uc.idx[uc.off[v as usize]..uc.off[v as usize + 1]]);
                    sw.local_off.push(sw.local.len());
                }
                sw.weights.clear();
                sw.weights.extend(sample.iter().map(|&v| user_w[v as usize]));
                part.work += swing_row(&mut sw, &mut acc, alpha2, i as u32);
                acc.emit(i as u32, o.top_k, o.min_score, 0, |_, s, _| s, &mut part.nb, &mut part.sc);
            }
            algo => {
                let ni = n_of(i);
                let end = users.end;
                for p in users {
                    // The users' lists lie at scattered places of the CSR: fetch a later
                    // user's list while this one is summed.
                    if p + 4 < end {
                        crate::prefetch::prefetch(uc.idx.as_ptr().wrapping_add(uc.off[ic.idx[p + 4] as usize]));
                    }
                    let u = ic.idx[p] as usize;
                    let row = uc.off[u]..uc.off[u + 1];
                    part.work += row.len() as u64;
                    match algo {
                        Algo::Cooc if weighted_cooc => {
                            let ri = ic.w[p] as f64;
                            for q in row {
                                acc.add_counted(uc.idx[q], ri * uc.w[q] as f64);
                            }
                        }
                        Algo::Cosine | Algo::Jaccard | Algo::CondProb { .. } | Algo::Cooc => {
                            for &j in &uc.idx[row] {
                                acc.count(j);
                            }
                        }
                        Algo::Iuf => {
                            let x = user_w[u];
                            for &j in &uc.idx[row] {
                                acc.add_counted(j, x);
                            }
                        }
                        Algo::Decay { tau } => {
                            let ti = ic.ts[p] as f64;
                            for q in row {
                                acc.add_counted(uc.idx[q], 1.0 / (1.0 + (uc.ts[q] as f64 - ti).abs() / tau));
                            }
                        }
                        Algo::Swing { .. } => unreachable!(),
                    }
                }
                // per-item factors precomputed once (item_norm), so a candidate costs a multiply
                let inv_ni = 1.0 / ni.sqrt();
                let score = |j: u32, v: f64, c: u32| match algo {
                    Algo::Cooc => v,
                    Algo::Cosine | Algo::Iuf | Algo::Decay { .. } => v * inv_ni * item_norm[j as usize],
                    Algo::Jaccard => {
                        let nj = n_of(j as usize);
                        c as f64 / (ni + nj - c as f64)
                    }
                    Algo::CondProb { .. } => c as f64 * item_norm[j as usize] / ni,
                    Algo::Swing { .. } => unreachable!(),
                };
                acc.emit(i as u32, o.top_k, o.min_score, o.min_common, score, &mut part.nb, &mut part.sc);
            }
        }
        part.lens.push((part.nb.len() - before) as u32);
    }
    part.cpu_seconds = crate::cputime::thread_cpu_seconds() - cpu0;
    Ok(part)
}

/// Compute every item's list. Deterministic for any `threads`.
pub fn compute(d: &Interactions, o: &CfOptions, cancel: &CancelToken) -> Result<Rows> {
    let n = d.user.len();
    if d.item.len() != n || d.ts.len() != n || d.weight.is_some_and(|w| w.len() != n) {
        return Err(Error::LengthMismatch { what: "interaction columns", expected: n, got: d.item.len() });
    }
    if let Some(k) = d.user.iter().position(|&u| u as usize >= d.users).or_else(|| d.item.iter().position(|&i| i as usize >= d.items)) {
        return Err(Error::InvalidArgument(format!("row {k}: user or item ordinal out of range")));
    }
    if !(d.user_hash.is_empty() || d.user_hash.len() == d.users) || !(d.item_ids.is_empty() || d.item_ids.len() == d.items) {
        return Err(Error::LengthMismatch { what: "sample keys", expected: d.users, got: d.user_hash.len() });
    }
    let t0 = std::time::Instant::now();
    let uc = user_csr(d, &o.prep);
    let ic = item_csr(&uc, d.users, d.items);
    let prep_seconds = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    // Per-user weights, computed once: Swing's (alpha1 + |I_u|)^-beta, IUF's 1 / ln(1 + |I_u|).
    let user_w: Vec<f64> = (0..d.users)
        .map(|u| {
            let n = (uc.off[u + 1] - uc.off[u]) as f64;
            match o.algo {
                Algo::Swing { alpha1, beta, .. } => (alpha1 + n).powf(-beta),
                Algo::Iuf => 1.0 / (1.0 + n).ln(),
                _ => 1.0,
            }
        })
        .collect();
    // Per-item normalisers: 1/sqrt(N_j) (cosine, iuf, decay) or 1/N_j^alpha (condprob).
    let item_norm: Vec<f64> = (0..d.items)
        .map(|j| {
            let n = (ic.off[j + 1] - ic.off[j]) as f64;
            match o.algo {
                Algo::CondProb { alpha } => 1.0 / n.powf(alpha),
                _ => 1.0 / n.sqrt(),
            }
        })
        .collect();
    let weights = RowWeights { user_w, item_norm, keys: d };
    // Blocks of items, handed out round-robin: balanced, and the result does not depend on the thread count.
    const BLOCK: usize = 256;
    let blocks: Vec<std::ops::Range<usize>> = (0..d.items).step_by(BLOCK).map(|s| s..(s + BLOCK).min(d.items)).collect();
    let threads = o.threads.max(1).min(blocks.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<Option<Part>> = (0..blocks.len()).map(|_| None).collect();
    let results: Vec<Result<Vec<(usize, Part)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if b >= blocks.len() {
                            return Ok(mine);
                        }
                        mine.push((b, row_block(blocks[b].clone(), &uc, &ic, &weights, o, cancel)?));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::InvalidArgument("a worker thread panicked".into())))).collect()
    });
    for r in results {
        for (b, p) in r? {
            parts[b] = Some(p);
        }
    }
    let mut rows =
        Rows { row_off: Vec::with_capacity(d.items + 1), kept_interactions: uc.idx.len() as u64, prep_seconds, ..Default::default() };
    rows.row_off.push(0);
    for p in parts.into_iter().flatten() {
        for len in &p.lens {
            rows.row_off.push(rows.row_off.last().unwrap() + *len as u64);
        }
        rows.nb.extend(p.nb);
        rows.sc.extend(p.sc);
        rows.work += p.work;
        rows.compute_cpu_seconds += p.cpu_seconds;
    }
    rows.compute_seconds = t1.elapsed().as_secs_f64();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
        (pairs.iter().map(|p| p.0).collect(), pairs.iter().map(|p| p.1).collect(), vec![0; pairs.len()])
    }

    #[test]
    fn flink_ml_swing_doc_example() {
        // users {0: 10,11,12}, {1: 13,12}, {2: 10,11,12}, {3: 13,12}; items 10..13 as ordinals 0..3
        let (u, i, t) = data(&[(0, 0), (0, 1), (0, 2), (1, 3), (1, 2), (2, 0), (2, 1), (2, 2), (3, 3), (3, 2)]);
        let d = Interactions { user: &u, item: &i, ts: &t, weight: None, users: 4, items: 4, user_hash: &[], item_ids: &[] };
        let o = CfOptions {
            algo: Algo::Swing { alpha1: 15.0, alpha2: 0.0, beta: 0.3, item_user_cap: 1000, seed: 1 },
            prep: Prep::default(),
            top_k: 10,
            min_score: 0.0,
            min_common: 1,
            threads: 2,
        };
        let r = compute(&d, &o, &CancelToken::new()).unwrap();
        let row = |x: usize| (r.row_off[x] as usize..r.row_off[x + 1] as usize).map(|p| (r.nb[p], r.sc[p])).collect::<Vec<_>>();
        let close = |a: f32, b: f64| (a as f64 - b).abs() < 1e-6;
        let r10 = row(0);
        assert_eq!(r10[0].0, 1);
        assert!(close(r10[0].1, 0.0588458), "{r10:?}");
        let r12 = row(2);
        assert_eq!(r12[0].0, 3);
        assert!(close(r12[0].1, 0.0913480), "{r12:?}");
        assert!(r12[1..].iter().all(|p| close(p.1, 0.0588458)));
    }

    #[test]
    fn the_user_filters_count_distinct_items_before_the_cap() {
        // user 0 took items 0..6 (6 distinct), user 1 items 0 and 1; the cap keeps 2 items of user 0,
        // but with max-user-items 4 user 0 is a "bot" and drops out entirely
        let mut pairs: Vec<(u32, u32)> = (0..6).map(|i| (0, i)).collect();
        pairs.extend([(1, 0), (1, 1)]);
        let (u, i, _) = data(&pairs);
        let t: Vec<u32> = pairs.iter().map(|p| p.1).collect(); // later items are more recent
        let d = Interactions { user: &u, item: &i, ts: &t, weight: None, users: 2, items: 6, user_hash: &[], item_ids: &[] };
        let run = |max_user_items| {
            let o = CfOptions {
                algo: Algo::Cooc,
                prep: Prep { min_user_items: 1, max_user_items, user_cap: 2 },
                top_k: 10,
                min_score: 0.0,
                min_common: 1,
                threads: 1,
            };
            compute(&d, &o, &CancelToken::new()).unwrap()
        };
        let kept = run(100);
        assert_eq!(kept.kept_interactions, 4, "user 0 capped to its 2 most recent items, user 1 whole");
        let dropped = run(4);
        assert_eq!(dropped.kept_interactions, 2, "user 0 has 6 distinct items > 4: dropped, not capped");
    }
}
