//! IVF: k-means centroids trained on a seeded sample; every row is stored in
//! its nearest centroid's list (the store is reordered so a list is one
//! contiguous run of rows); a query scans the `nprobe` nearest lists.

use super::filter::RowFilter;
use super::heap::{Cand, TopK};
use super::store::{Metric, Scorer, padded};
use crate::cancel::CancelToken;
use crate::error::Result;
use crate::kernels::{self, Kernels};
use crate::rand::splitmix;

pub struct Ivf {
    pub nlist: usize,
    /// nlist rows of `padded(dim)` f32.
    pub centroids: Vec<f32>,
    /// Row ranges of the (reordered) store: list c is rows offsets[c]..offsets[c+1].
    pub offsets: Vec<u64>,
    /// |c|^2 of every centroid: L2 probes rank lists by |c|^2 - 2 q.c.
    norms: Vec<f32>,
}

/// Rows scored against the centroids together: 8 padded 784-d rows (25 KB) and a pair of
/// centroids stay in L1 while the pairs stream past.
const ROW_BLOCK: usize = 8;
/// Rows (64 x 3.2 KB at 784-d) and centroids (256 x 3.2 KB) that stay in L2 together while the
/// row blocks meet the chunk's centroid pairs.
const SUPER_ROWS: usize = 64;
const CENTROID_CHUNK: usize = 256;

/// `visit(c, r, rows[r] . centroid c)` for every centroid and row, centroids in order for each row:
/// two centroids by four rows per kernel call (short groups repeat their last member, whose
/// results are not visited), so a centroid is read once per call for four rows.
fn for_each_dot(k: &Kernels, centroids: &[f32], stride: usize, rows: &[&[f32]], mut visit: impl FnMut(usize, usize, f32)) {
    let nlist = centroids.len().checked_div(stride).unwrap_or(0);
    if rows.is_empty() {
        return;
    }
    for c0 in (0..nlist).step_by(2) {
        let pair = [c0, (c0 + 1).min(nlist - 1)];
        let ys = pair.map(|c| &centroids[c * stride..(c + 1) * stride]);
        for q in (0..rows.len()).step_by(4) {
            let quad = [0, 1, 2, 3].map(|t| rows[(q + t).min(rows.len() - 1)]);
            let dots = (k.dot_2x4_fma_f32)(ys, quad);
            for (h, &c) in pair.iter().enumerate().take(nlist - c0) {
                for (t, &dot) in dots[h].iter().enumerate().take(rows.len() - q) {
                    visit(c, q + t, dot);
                }
            }
        }
    }
}

/// Nearest centroid of every row of `rows` (f32 rows of `stride`, a multiple of 32), in parallel
/// blocks. L2 ranks by `|c|^2 - 2 x.c` (`|x|^2` is the same for every centroid of a row), inner
/// product by `-x.c`: the dot products are fused multiply-adds, two centroids by four rows at a
/// time, bit-identical on every tier, so the lists are the same on any machine and thread count.
fn assign(rows: &[f32], stride: usize, centroids: &[f32], metric: Metric, threads: usize, cancel: &CancelToken) -> Result<Vec<u32>> {
    let n = rows.len() / stride;
    let nlist = centroids.len() / stride;
    let k = kernels::kernels();
    let l2 = metric.is_l2();
    let norms: Vec<f32> = (0..nlist)
        .map(|c| {
            let y = &centroids[c * stride..(c + 1) * stride];
            if l2 { (k.dot_f32)(y, y) } else { 0.0 }
        })
        .collect();
    let per = n.div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<u32>>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .step_by(per)
            .map(|from| {
                let norms = &norms;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(per);
                    let end = (from + per).min(n);
                    let row = |r: usize| &rows[r * stride..(r + 1) * stride];
                    // Blocked as a matrix product: a super-block of rows and a chunk of centroids
                    // sit in L2 together, a block of rows and a pair of centroids in L1. Each
                    // centroid then comes from L3 once per super-block rather than once per block
                    // (all 1024 centroids of 784-d are 3.2 MB, more than L2).
                    for sup in (from..end).step_by(SUPER_ROWS) {
                        cancel.check()?;
                        let sup_end = (sup + SUPER_ROWS).min(end);
                        // per row: the smallest distance so far and its centroid (the first of equals:
                        // every row meets the centroids in order, chunk after chunk)
                        let mut best_d = [f32::INFINITY; SUPER_ROWS];
                        let mut best_c = [0u32; SUPER_ROWS];
                        for c0 in (0..nlist).step_by(CENTROID_CHUNK) {
                            let chunk = &centroids[c0 * stride..(c0 + CENTROID_CHUNK).min(nlist) * stride];
                            for first in (sup..sup_end).step_by(ROW_BLOCK) {
                                let block: Vec<&[f32]> = (first..(first + ROW_BLOCK).min(sup_end)).map(row).collect();
                                let at = first - sup;
                                for_each_dot(k, chunk, stride, &block, |c, r, dot| {
                                    let c = c0 + c;
                                    let d = if l2 { norms[c] - 2.0 * dot } else { -dot };
                                    if d < best_d[at + r] {
                                        best_d[at + r] = d;
                                        best_c[at + r] = c as u32;
                                    }
                                });
                            }
                        }
                        out.extend_from_slice(&best_c[..sup_end - sup]);
                    }
                    Ok(out)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("ivf thread panicked")).collect()
    });
    let mut all = Vec::with_capacity(n);
    for p in parts {
        all.extend(p?);
    }
    Ok(all)
}

/// Train centroids and return them with every row's list. `data` is dense `n x dim`.
#[allow(clippy::too_many_arguments)] // training parameters, each distinct
pub fn train(
    data: &[f32],
    n: usize,
    dim: usize,
    nlist: usize,
    metric: Metric,
    seed: u64,
    iters: usize,
    threads: usize,
    cancel: &CancelToken,
) -> Result<(Vec<f32>, Vec<u32>)> {
    let stride = padded(dim);
    let nlist = nlist.clamp(1, n.max(1));
    // A seeded sample of at most 64 rows per list (partial Fisher-Yates).
    let sample_n = (nlist * 64).min(n);
    let mut order: Vec<usize> = (0..n).collect();
    let mut r = seed ^ 0x5eed;
    for a in 0..sample_n {
        r = splitmix(r);
        let b = a + (r % (n - a) as u64) as usize;
        order.swap(a, b);
    }
    // every row padded once; k-means runs on all of them when the sample would be all of them
    let mut all = vec![0f32; n * stride];
    for i in 0..n {
        all[i * stride..i * stride + dim].copy_from_slice(&data[i * dim..(i + 1) * dim]);
    }
    let gather = |idx: &[usize]| {
        let mut out = Vec::with_capacity(idx.len() * stride);
        for &i in idx {
            out.extend_from_slice(&all[i * stride..(i + 1) * stride]);
        }
        out
    };
    let gathered;
    let sample: &[f32] = if sample_n == n {
        &all
    } else {
        gathered = gather(&order[..sample_n]);
        &gathered
    };
    let mut cent: Vec<f32> = gather(&order[..nlist]);
    for _ in 0..iters {
        let a = assign(sample, stride, &cent, metric, threads, cancel)?;
        let mut sum = vec![0f64; nlist * stride];
        let mut cnt = vec![0usize; nlist];
        for (r, &c) in a.iter().enumerate() {
            cnt[c as usize] += 1;
            for j in 0..dim {
                sum[c as usize * stride + j] += sample[r * stride + j] as f64;
            }
        }
        for c in 0..nlist {
            if cnt[c] == 0 {
                // An empty list takes a sample row (deterministic: the c-th of the sample).
                let r = (c * 7919) % sample_n;
                cent[c * stride..(c + 1) * stride].copy_from_slice(&sample[r * stride..(r + 1) * stride]);
                continue;
            }
            for j in 0..dim {
                cent[c * stride + j] = (sum[c * stride + j] / cnt[c] as f64) as f32;
            }
        }
        if !metric.is_l2() {
            for c in 0..nlist {
                super::store::normalize(&mut cent[c * stride..c * stride + dim]);
            }
        }
    }
    let lists = assign(&all, stride, &cent, metric, threads, cancel)?;
    Ok((cent, lists))
}

impl Ivf {
    pub fn new(nlist: usize, centroids: Vec<f32>, offsets: Vec<u64>) -> Ivf {
        let stride = centroids.len().checked_div(nlist).unwrap_or(0);
        let k = kernels::kernels();
        let norms =
            (0..nlist).map(|c| (k.dot_f32)(&centroids[c * stride..(c + 1) * stride], &centroids[c * stride..(c + 1) * stride])).collect();
        Ivf { nlist, centroids, offsets, norms }
    }

    /// The `nprobe` nearest lists of each padded query, nearest first. The queries go four at a
    /// time against pairs of centroids, so a batch reads the centroids once, not once per query.
    pub fn probes(&self, metric: Metric, queries: &[&[f32]], nprobe: usize) -> Vec<Vec<Cand>> {
        let stride = self.centroids.len().checked_div(self.nlist).unwrap_or(0);
        let k = kernels::kernels();
        let l2 = metric.is_l2();
        let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(nprobe.clamp(1, self.nlist.max(1)))).collect();
        for_each_dot(k, &self.centroids, stride, queries, |c, q, dot| {
            let d = if l2 { self.norms[c] - 2.0 * dot } else { -dot };
            tops[q].push(Cand { d, id: c as u32 });
        });
        tops.into_iter().map(TopK::into_sorted).collect()
    }

    /// The k nearest of one query among the rows of `probes` (lists, nearest first).
    pub fn scan(&self, probes: &[Cand], dist: &impl Fn(u32) -> f32, k: usize) -> Vec<Cand> {
        let mut top = TopK::new(k);
        for p in probes {
            let c = p.id as usize;
            for r in self.offsets[c]..self.offsets[c + 1] {
                top.push(Cand { d: dist(r as u32), id: r as u32 });
            }
        }
        top.into_sorted()
    }

    /// The k nearest allowed rows: lists in order of their centroid's distance until as many allowed
    /// rows were scored as an unfiltered search of `nprobe` lists scores rows (the same distance
    /// budget, so about the same recall), and at least k (or every list was probed).
    pub fn search_filtered(
        &self,
        scorer: &Scorer,
        q_padded: &[f32],
        dist: &impl Fn(u32) -> f32,
        k: usize,
        nprobe: usize,
        filter: &RowFilter,
    ) -> Vec<Cand> {
        let stride = scorer.store.stride;
        let mut order: Vec<Cand> = (0..self.nlist)
            .map(|c| {
                let y = &self.centroids[c * stride..(c + 1) * stride];
                let d = scorer.dist_to(q_padded, y);
                Cand { d, id: c as u32 }
            })
            .collect();
        order.sort_unstable();
        let n = self.offsets[self.nlist] as usize;
        let budget = (nprobe.max(1) * n).div_ceil(self.nlist).max(k);
        let mut top = TopK::new(k);
        let mut scored = 0;
        for p in &order {
            if scored >= budget {
                break;
            }
            let c = p.id as usize;
            for r in self.offsets[c]..self.offsets[c + 1] {
                if filter.allows(r as u32) {
                    top.push(Cand { d: dist(r as u32), id: r as u32 });
                    scored += 1;
                }
            }
        }
        top.into_sorted()
    }

    pub fn list_sizes(&self) -> Vec<u64> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

/// Rows reordered by list: returns (permutation new -> old, offsets).
pub fn layout(lists: &[u32], nlist: usize) -> (Vec<u32>, Vec<u64>) {
    let mut count = vec![0u64; nlist + 1];
    for &c in lists {
        count[c as usize + 1] += 1;
    }
    for c in 0..nlist {
        count[c + 1] += count[c];
    }
    let offsets = count.clone();
    let mut at = count;
    let mut perm = vec![0u32; lists.len()];
    for (old, &c) in lists.iter().enumerate() {
        perm[at[c as usize] as usize] = old as u32;
        at[c as usize] += 1;
    }
    (perm, offsets)
}
