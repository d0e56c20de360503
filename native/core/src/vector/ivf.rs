//! IVF: k-means centroids trained on a seeded sample; every row is stored in
//! its nearest centroid's list (the store is reordered so a list is one
//! contiguous run of rows); a query scans the `nprobe` nearest lists.

use super::filter::RowFilter;
use super::heap::{Cand, TopK};
use super::store::{Metric, Scorer, padded};
use crate::cancel::CancelToken;
use crate::error::Result;
use crate::kernels::{self, PANEL_CENTROIDS as PC, PANEL_ROWS as PR, PanelJob};
use crate::rand::splitmix;

pub struct Ivf {
    pub nlist: usize,
    /// nlist rows of `padded(dim)` f32.
    pub centroids: Vec<f32>,
    /// Row ranges of the (reordered) store: list c is rows offsets[c]..offsets[c+1].
    pub offsets: Vec<u64>,
    /// |c|^2 of every centroid: L2 probes rank lists by |c|^2 - 2 q.c.
    norms: Vec<f32>,
    /// The centroids as `centroid_panels` lays them out for the probes.
    panels: Vec<f32>,
}

/// Centroids in panels of `PC`, dimension-major (the last panel zero-padded): what
/// `Kernels::panel_dots` reads.
fn centroid_panels(centroids: &[f32], stride: usize) -> Vec<f32> {
    let nlist = centroids.len().checked_div(stride).unwrap_or(0);
    let mut panels = vec![0f32; nlist.div_ceil(PC) * stride * PC];
    for c in 0..nlist {
        let (p, j) = (c / PC, c % PC);
        for (k, &x) in centroids[c * stride..(c + 1) * stride].iter().enumerate() {
            panels[(p * stride + k) * PC + j] = x;
        }
    }
    panels
}

/// Up to `PR` rows into a dimension-major panel (a short panel repeats its last row).
fn pack_rows<'a>(panel: &mut [f32], count: usize, row: impl Fn(usize) -> &'a [f32]) {
    for r in 0..PR {
        for (k, &x) in row(r.min(count - 1)).iter().enumerate() {
            panel[k * PR + r] = x;
        }
    }
}

/// The distance `assign` and `probes` rank centroids by: `|c|^2 - 2 x.c` for L2 (`|x|^2` is the
/// same for every centroid of a row), `-x.c` for inner product.
#[inline]
fn centroid_distance(l2: bool, norm: f32, dot: f32) -> f32 {
    if l2 { norm - 2.0 * dot } else { -dot }
}

/// Nearest centroid of every row of `rows` (f32 rows of `stride`, a multiple of 32), in parallel
/// blocks, by `centroid_distance` (the first of equals). A matrix product in panels
/// (`Kernels::panel_dots`): 32 rows at a time, dimension-major, against the centroids 12 at a time,
/// each dot product one chain of fused multiply-adds, bit-identical on every tier, so the lists are
/// the same on any machine and thread count. The kernel it replaced (two centroids by four rows,
/// summed across lanes) made the IVF build 2.6x slower: its sums needed a reduction across lanes for
/// every pair, and a load for every two products.
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
    let centroid_panels = &centroid_panels(centroids, stride);
    let norms = &norms;
    let per = n.div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<u32>>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .step_by(per)
            .map(|from| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(per);
                    let end = (from + per).min(n);
                    let row = |r: usize| &rows[r * stride..(r + 1) * stride];
                    let mut panel = vec![0f32; stride * PR];
                    let mut dots = [[0f32; PR]; PC];
                    for first in (from..end).step_by(PR) {
                        cancel.check()?;
                        let rows_in = (end - first).min(PR);
                        pack_rows(&mut panel, rows_in, |r| row(first + r));
                        // per row: the smallest distance so far and its centroid (centroids in order,
                        // so the first of equals stays)
                        let mut best_d = [f32::INFINITY; PR];
                        let mut best_c = [0u32; PR];
                        for (p, cp) in centroid_panels.chunks_exact(stride * PC).enumerate() {
                            (k.panel_dots)(&PanelJob { rows: &panel, centroids: cp, dims: stride }, &mut dots);
                            for (j, dj) in dots.iter().enumerate().take(nlist - p * PC) {
                                let c = p * PC + j;
                                for ((bd, bc), &dot) in best_d.iter_mut().zip(&mut best_c).zip(dj) {
                                    let d = centroid_distance(l2, norms[c], dot);
                                    if d < *bd {
                                        *bd = d;
                                        *bc = c as u32;
                                    }
                                }
                            }
                        }
                        out.extend_from_slice(&best_c[..rows_in]);
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
        let panels = centroid_panels(&centroids, stride);
        Ivf { nlist, centroids, offsets, norms, panels }
    }

    /// The `nprobe` nearest lists of each padded query, nearest first. The queries go 32 at a
    /// time against the centroid panels (`Kernels::panel_dots`), so a batch reads the centroids
    /// once, not once per query.
    pub fn probes(&self, metric: Metric, queries: &[&[f32]], nprobe: usize) -> Vec<Vec<Cand>> {
        let stride = self.centroids.len().checked_div(self.nlist).unwrap_or(0);
        let k = kernels::kernels();
        let l2 = metric.is_l2();
        let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(nprobe.clamp(1, self.nlist.max(1)))).collect();
        let mut panel = vec![0f32; stride * PR];
        let mut dots = [[0f32; PR]; PC];
        for (batch, tops) in queries.chunks(PR).zip(tops.chunks_mut(PR)) {
            pack_rows(&mut panel, batch.len(), |q| batch[q]);
            // Each query's current k-th distance, kept at hand: most centroids are farther.
            let mut bounds = [f32::INFINITY; PR];
            for (p, cp) in self.panels.chunks_exact(stride * PC).enumerate() {
                (k.panel_dots)(&PanelJob { rows: &panel, centroids: cp, dims: stride }, &mut dots);
                for (j, dj) in dots.iter().enumerate().take(self.nlist - p * PC) {
                    let c = p * PC + j;
                    for ((top, bound), &dot) in tops.iter_mut().zip(bounds.iter_mut()).zip(dj) {
                        let d = centroid_distance(l2, self.norms[c], dot);
                        if d <= *bound {
                            top.push(Cand { d, id: c as u32 });
                            *bound = top.bound();
                        }
                    }
                }
            }
        }
        tops.into_iter().map(TopK::into_sorted).collect()
    }

    /// The k nearest of each query of a batch among the rows of its lists (`probes[q]`), list by
    /// list: every query that probes a list scores each of its rows while the row is in L1, so a
    /// row is read from memory once per batch rather than once per query probing it (a batch of
    /// 2048 queries at nprobe 8 of 1024 lists shares a list between 16 of them on average). The
    /// candidates are the same as `scan`'s per query (TopK keeps a total order, so the order rows
    /// are seen in does not matter): `dist(q, row)`, and `dist_2x2` for two queries against two
    /// rows (the same distances, with each vector loaded once for two of them).
    pub fn scan_batch(
        &self,
        probes: &[Vec<Cand>],
        dist: &impl Fn(usize, u32) -> f32,
        dist_2x2: &impl Fn([usize; 2], [u32; 2]) -> [[f32; 2]; 2],
        k: usize,
    ) -> Vec<Vec<Cand>> {
        // The queries of each list, by counting sort.
        let mut start = vec![0u32; self.nlist + 1];
        for pr in probes {
            for p in pr {
                start[p.id as usize + 1] += 1;
            }
        }
        for c in 0..self.nlist {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut who = vec![0u32; start[self.nlist] as usize];
        for (q, pr) in probes.iter().enumerate() {
            for p in pr {
                let at = &mut fill[p.id as usize];
                who[*at as usize] = q as u32;
                *at += 1;
            }
        }
        let mut tops: Vec<TopK> = probes.iter().map(|_| TopK::new(k)).collect();
        for c in 0..self.nlist {
            let queries = &who[start[c] as usize..start[c + 1] as usize];
            if queries.is_empty() {
                continue;
            }
            let offer = |tops: &mut [TopK], q: u32, r: u32, d: f32| {
                let top = &mut tops[q as usize];
                if d <= top.bound() {
                    top.push(Cand { d, id: r });
                }
            };
            let (mut r, end) = (self.offsets[c] as u32, self.offsets[c + 1] as u32);
            while r + 2 <= end {
                let mut pairs = queries.chunks_exact(2);
                for qp in &mut pairs {
                    let d = dist_2x2([qp[0] as usize, qp[1] as usize], [r, r + 1]);
                    for (i, &q) in qp.iter().enumerate() {
                        offer(&mut tops, q, r, d[i][0]);
                        offer(&mut tops, q, r + 1, d[i][1]);
                    }
                }
                for &q in pairs.remainder() {
                    offer(&mut tops, q, r, dist(q as usize, r));
                    offer(&mut tops, q, r + 1, dist(q as usize, r + 1));
                }
                r += 2;
            }
            if r < end {
                for &q in queries {
                    offer(&mut tops, q, r, dist(q as usize, r));
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_finds_each_rows_nearest_centroid_the_first_of_equals_on_any_thread_count() {
        let (dim, n, nlist) = (40, 203, 29);
        let stride = padded(dim);
        let mut r = 7u64;
        let mut next = || {
            r = splitmix(r);
            (r >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let rows: Vec<f32> = (0..n).flat_map(|_| (0..stride).map(|k| if k < dim { next() } else { 0.0 }).collect::<Vec<_>>()).collect();
        let mut cents: Vec<f32> =
            (0..nlist).flat_map(|_| (0..stride).map(|k| if k < dim { next() } else { 0.0 }).collect::<Vec<_>>()).collect();
        // centroid 5 repeats centroid 2, and row 0 sits on it: 2 must win every time
        cents.copy_within(2 * stride..3 * stride, 5 * stride);
        let mut rows = rows;
        rows[..stride].copy_from_slice(&cents[2 * stride..3 * stride]);
        for metric in [Metric::L2, Metric::Ip] {
            let one = assign(&rows, stride, &cents, metric, 1, &CancelToken::new()).unwrap();
            for threads in [2, 3] {
                assert_eq!(assign(&rows, stride, &cents, metric, threads, &CancelToken::new()).unwrap(), one, "{threads} threads");
            }
            assert_eq!(one[0], 2, "{metric:?}: the first of two equal centroids");
            assert!(!one.contains(&5), "{metric:?}: the repeated centroid is never chosen");
            for (i, &got) in one.iter().enumerate() {
                let score = |c: usize| {
                    let (x, y) = (&rows[i * stride..i * stride + dim], &cents[c * stride..c * stride + dim]);
                    let dot: f64 = x.iter().zip(y).map(|(&a, &b)| a as f64 * b as f64).sum();
                    if metric.is_l2() { y.iter().map(|&v| v as f64 * v as f64).sum::<f64>() - 2.0 * dot } else { -dot }
                };
                let best = (0..nlist).map(score).fold(f64::INFINITY, f64::min);
                assert!(score(got as usize) - best <= 1e-5, "{metric:?} row {i}: centroid {got} is not the nearest");
            }
        }
    }
}
