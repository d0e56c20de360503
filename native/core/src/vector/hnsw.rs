//! HNSW (Malkov & Yashunin): a layered proximity graph. Level 0 keeps up to
//! 2M links per node, upper levels M; search descends greedily from the entry
//! point and runs a best-first search with `ef` candidates on level 0.
//!
//! Deterministic, parallel build: nodes are inserted in batches, highest level
//! first (a seeded order within a level).
//! Every node of a batch searches the graph as it was before the batch (in
//! parallel, read-only), then its links are set in insertion order, then the reverse
//! links are added grouped by target node (in parallel, each target's list
//! updated from its sources in id order). Batches start at one node and grow
//! with the graph, so the result depends on the seed and the data only, not
//! on the thread count. Last, every node a walk from the entry point cannot
//! reach gets a link in (`link_unreached`).

use super::Metric;
use super::filter::RowFilter;
use super::heap::{Cand, TopK};
use super::store::{Scorer, Store};
use crate::cancel::CancelToken;
use crate::error::Result;
use crate::rand::splitmix;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub const MAX_LEVEL: usize = 15;
/// The share of a full link list a prune keeps (faiss calls the rest prune headroom, 0.2 there).
/// On the 1M x 128 synthetic set, 0.9 took a single-thread build from 331 to 279 CPU-s, and
/// recall@10 at ef 2560 from 0.9922 to 0.9928; on 200k rows, 0.8 cost 0.0035 of recall at ef 320
/// where 0.9 cost 0.0004, less than one seed's graph differs from another's.
const PRUNE_KEEP: f32 = 0.9;

pub struct Hnsw {
    pub m: usize,
    pub m0: usize,
    pub entry: u32,
    pub max_level: u32,
    pub levels: Vec<u8>,
    /// n * (m0 + 1): count, then links.
    pub links0: Vec<u32>,
    /// Per node: first upper block (level 1) in `upper`, or u32::MAX for level-0 nodes.
    pub upper_off: Vec<u32>,
    /// Blocks of (m + 1): count, then links; a node of level L owns L consecutive blocks.
    pub upper: Vec<u32>,
}

/// Visited marks by generation, reused across searches of one thread. A byte per node: the
/// marks stay in cache four times longer than u32 ones, for a clear every 255 searches.
pub struct Visited {
    mark: Vec<u8>,
    epoch: u8,
}

impl Visited {
    pub fn new(n: usize) -> Visited {
        Visited { mark: vec![0; n], epoch: 0 }
    }
    fn next(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.mark.fill(0);
            self.epoch = 1;
        }
    }
    #[inline]
    fn insert(&mut self, i: u32) -> bool {
        let m = &mut self.mark[i as usize];
        let new = *m != self.epoch;
        *m = self.epoch;
        new
    }
}

/// Each of `fresh` in order, to be scored, with the rows a few ahead loading meanwhile: one row
/// ahead left the distance kernel waiting on its loads (rows are read at random, and a row is
/// scored in less time than memory takes to deliver it). About 40 lines stay in flight: two rows
/// of 1 KB or more, three smaller ones.
#[inline]
fn each_prefetched(fresh: &[u32], rows: &Store, mut score: impl FnMut(u32)) {
    let ahead = if rows.row_bytes() > 1024 { 2 } else { 3 };
    for &nb in fresh.iter().take(ahead) {
        rows.prefetch_row(nb as usize);
    }
    for (k, &nb) in fresh.iter().enumerate() {
        if let Some(&after) = fresh.get(k + ahead) {
            rows.prefetch_row(after as usize);
        }
        score(nb);
    }
}

/// A node's level: floor(-ln(u) / ln(M)), u uniform in (0, 1] from (seed, id).
pub fn level_of(seed: u64, id: usize, m: usize) -> usize {
    let u = ((splitmix(seed ^ (id as u64).wrapping_mul(0xd6e8_feb8_6659_fd93)) >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    ((-u.ln() / (m.max(2) as f64).ln()).floor() as usize).min(MAX_LEVEL)
}

impl Hnsw {
    #[inline]
    pub fn links(&self, i: u32, level: usize) -> &[u32] {
        if level == 0 {
            let b = i as usize * (self.m0 + 1);
            let c = self.links0[b] as usize;
            &self.links0[b + 1..b + 1 + c]
        } else {
            let b = (self.upper_off[i as usize] as usize + level - 1) * (self.m + 1);
            let c = self.upper[b] as usize;
            &self.upper[b + 1..b + 1 + c]
        }
    }

    fn set_links(&mut self, i: u32, level: usize, to: &[u32]) {
        let (arr, b, cap) = if level == 0 {
            (&mut self.links0, i as usize * (self.m0 + 1), self.m0)
        } else {
            (&mut self.upper, (self.upper_off[i as usize] as usize + level - 1) * (self.m + 1), self.m)
        };
        debug_assert!(to.len() <= cap);
        arr[b] = to.len() as u32;
        arr[b + 1..b + 1 + to.len()].copy_from_slice(to);
    }

    /// Greedy descent from `from_level` to just above `to_level`: on each level, move to the
    /// nearest neighbour while one is nearer. Only whether a neighbour beats the current point
    /// matters, so its distance stops once it cannot (`dist_below`, ties settled in full), and the
    /// rows a few neighbours ahead load meanwhile: an upper level's rows are read at random too.
    fn greedy(&self, dist_below: &impl Fn(u32, f32) -> f32, rows: &Store, from_level: usize, to_level: usize, mut ep: Cand) -> Cand {
        for level in (to_level + 1..=from_level).rev() {
            loop {
                let mut moved = false;
                each_prefetched(self.links(ep.id, level), rows, |nb| {
                    let mut d = dist_below(nb, ep.d);
                    if d == ep.d {
                        d = dist_below(nb, f32::INFINITY);
                    }
                    let c = Cand { d, id: nb };
                    if c < ep {
                        ep = c;
                        moved = true;
                    }
                });
                if !moved {
                    break;
                }
            }
        }
        ep
    }

    /// Best-first search of one level from `eps`; the `ef` nearest, ascending.
    fn search_level(
        &self,
        dist_below: &impl Fn(u32, f32) -> f32,
        rows: &Store,
        eps: &[Cand],
        ef: usize,
        level: usize,
        vis: &mut Visited,
    ) -> Vec<Cand> {
        vis.next();
        let mut cand: BinaryHeap<Reverse<Cand>> = BinaryHeap::with_capacity(ef * 2);
        let mut best = TopK::new(ef);
        for &e in eps {
            if vis.insert(e.id) {
                cand.push(Reverse(e));
                best.push(e);
            }
        }
        let mut fresh: Vec<u32> = Vec::with_capacity(self.m0);
        while let Some(Reverse(c)) = cand.pop() {
            if c.d > best.bound() {
                break;
            }
            self.unvisited(c.id, level, rows, vis, &mut fresh);
            each_prefetched(&fresh, rows, |nb| {
                // A neighbour at or above the beam's bound is never taken: its sum may stop early.
                let bound = if best.len() < ef { f32::INFINITY } else { best.bound() };
                let d = dist_below(nb, bound);
                if d < bound {
                    // a candidate is likely expanded later: its links start loading now
                    self.prefetch_links(nb, level);
                    let e = Cand { d, id: nb };
                    cand.push(Reverse(e));
                    best.push(e);
                }
            });
        }
        best.into_sorted()
    }

    /// `c`'s neighbours on `level` not visited yet, into `fresh`, their rows' first lines loading.
    #[inline]
    fn unvisited(&self, c: u32, level: usize, rows: &Store, vis: &mut Visited, fresh: &mut Vec<u32>) {
        fresh.clear();
        for &nb in self.links(c, level) {
            if vis.insert(nb) {
                rows.prefetch_row_head(nb as usize);
                fresh.push(nb);
            }
        }
    }

    /// Start loading node `i`'s link block on `level` (count and links: up to three lines).
    #[inline]
    fn prefetch_links(&self, i: u32, level: usize) {
        let block = if level == 0 {
            self.links0[i as usize * (self.m0 + 1)..].as_ptr()
        } else {
            self.upper[(self.upper_off[i as usize] as usize + level - 1) * (self.m + 1)..].as_ptr()
        };
        for line in (0..(if level == 0 { self.m0 } else { self.m }) + 1).step_by(16) {
            crate::prefetch::prefetch(block.wrapping_add(line));
        }
    }

    /// The k nearest of a prepared query (distances from `dist`), searching with `ef`.
    /// The k nearest found with a beam of `ef`. `dist_below(row, bound)` is the distance when it
    /// is below `bound` and any value at or above it otherwise (`Scorer::dist_below`): on level 0 a
    /// neighbour is scored against the beam's current bound, so one that cannot enter stops early.
    pub fn search(
        &self,
        dist: &impl Fn(u32) -> f32,
        dist_below: &impl Fn(u32, f32) -> f32,
        rows: &Store,
        k: usize,
        ef: usize,
        vis: &mut Visited,
    ) -> Vec<Cand> {
        if self.levels.is_empty() {
            return Vec::new();
        }
        let ep = Cand { d: dist(self.entry), id: self.entry };
        let ep = self.greedy(dist_below, rows, self.max_level as usize, 0, ep);
        let mut r = self.search_level(dist_below, rows, &[ep], ef.max(k), 0, vis);
        r.truncate(k);
        r
    }

    /// The `ef` nearest allowed rows found, ascending. The walk goes through every node it reaches (a disallowed node
    /// still leads on to its neighbours, so the graph stays connected under any filter); only allowed
    /// nodes enter the result, and the walk stops once `ef` allowed ones are held and the nearest
    /// unexpanded candidate is farther than all of them. None when the walk computed more than
    /// `budget` distances: the allowed rows lie away from the query (a filter correlated with the
    /// data), and scanning them costs less than walking on.
    pub fn search_filtered(
        &self,
        dist: &impl Fn(u32) -> f32,
        rows: &Store,
        ef: usize,
        vis: &mut Visited,
        filter: &RowFilter,
        budget: usize,
    ) -> Option<Vec<Cand>> {
        if self.levels.is_empty() {
            return Some(Vec::new());
        }
        let ep = Cand { d: dist(self.entry), id: self.entry };
        let ep = self.greedy(&|r, _| dist(r), rows, self.max_level as usize, 0, ep);
        let ef = ef.max(1);
        vis.next();
        let mut cand: BinaryHeap<Reverse<Cand>> = BinaryHeap::with_capacity(ef * 2);
        let mut best = TopK::new(ef);
        vis.insert(ep.id);
        cand.push(Reverse(ep));
        if filter.allows(ep.id) {
            best.push(ep);
        }
        let mut fresh: Vec<u32> = Vec::with_capacity(self.m0);
        let mut computed = 0;
        while let Some(Reverse(c)) = cand.pop() {
            if c.d > best.bound() {
                break;
            }
            self.unvisited(c.id, 0, rows, vis, &mut fresh);
            computed += fresh.len();
            if computed > budget {
                return None;
            }
            each_prefetched(&fresh, rows, |nb| {
                let d = dist(nb);
                if d < best.bound() {
                    let e = Cand { d, id: nb };
                    self.prefetch_links(nb, 0);
                    cand.push(Reverse(e));
                    if filter.allows(nb) {
                        best.push(e);
                    }
                }
            });
        }
        Some(best.into_sorted())
    }

    /// HNSW's neighbour heuristic: keep a candidate only if it is closer to the
    /// base node than to every neighbour kept so far (spreads links around the node).
    pub(super) fn select(scorer: &Scorer, cands: &[Cand], m: usize) -> Vec<u32> {
        let mut kept: Vec<Cand> = Vec::with_capacity(m);
        for &c in cands {
            if kept.len() >= m {
                break;
            }
            if kept.iter().all(|k| scorer.dist_rows(c.id as usize, k.id as usize) > c.d) {
                kept.push(c);
            }
        }
        kept.into_iter().map(|c| c.id).collect()
    }

    /// Node `t`'s links once `sources` link to it too. While they fit, they are appended; a list
    /// that would overflow `cap` is cut back by the heuristic to `PRUNE_KEEP` of `cap`, not to
    /// `cap` itself, so the next links in are appended without a prune. A node with a full list
    /// otherwise paid a prune (a distance to each of its neighbours' rows, read at random) for every
    /// link in: on the 1M x 128 synthetic set those prunes took 78 of a 331 CPU-s build.
    pub(super) fn with_links_in(scorer: &Scorer, t: u32, links: &[u32], sources: &[u32], cap: usize) -> Vec<u32> {
        let mut list: Vec<u32> = links.iter().chain(sources).copied().collect();
        if list.len() > cap {
            let mut c: Vec<Cand> = list.iter().map(|&j| Cand { d: scorer.dist_rows(t as usize, j as usize), id: j }).collect();
            c.sort_unstable();
            list = Hnsw::select(scorer, &c, ((cap as f32) * PRUNE_KEEP) as usize);
        }
        list
    }

    /// A breadth-first order of the level-0 graph from the entry point (neighbours in link order;
    /// nodes it cannot reach follow in row order): `order[new] = old`.
    pub fn bfs_order(&self) -> Vec<u32> {
        let n = self.levels.len();
        let mut seen = vec![false; n];
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut push = |i: u32, order: &mut Vec<u32>| {
            if !seen[i as usize] {
                seen[i as usize] = true;
                order.push(i);
            }
        };
        if n == 0 {
            return order;
        }
        push(self.entry, &mut order);
        let mut head = 0;
        for start in 0..n as u32 {
            push(start, &mut order);
            while head < order.len() {
                let c = order[head];
                head += 1;
                for &nb in self.links(c, 0) {
                    push(nb, &mut order);
                }
            }
        }
        order
    }

    /// The same graph over renumbered nodes: node `order[new]` becomes `new`.
    pub fn renumbered(&self, order: &[u32]) -> Hnsw {
        let n = self.levels.len();
        let mut new_of = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            new_of[old as usize] = new as u32;
        }
        let levels: Vec<u8> = order.iter().map(|&old| self.levels[old as usize]).collect();
        let mut links0 = vec![0u32; self.links0.len()];
        let mut upper_off = vec![u32::MAX; n];
        let mut upper = vec![0u32; self.upper.len()];
        let mut blocks = 0usize;
        for (new, &old) in order.iter().enumerate() {
            let copy = |to: &mut [u32], from: &[u32]| {
                to[0] = from[0];
                for (t, &f) in to[1..=from[0] as usize].iter_mut().zip(&from[1..=from[0] as usize]) {
                    *t = new_of[f as usize];
                }
            };
            let w0 = self.m0 + 1;
            copy(&mut links0[new * w0..(new + 1) * w0], &self.links0[old as usize * w0..(old as usize + 1) * w0]);
            let l = levels[new] as usize;
            if l > 0 {
                upper_off[new] = blocks as u32;
                let w = self.m + 1;
                let from = self.upper_off[old as usize] as usize;
                for b in 0..l {
                    copy(&mut upper[(blocks + b) * w..(blocks + b + 1) * w], &self.upper[(from + b) * w..(from + b + 1) * w]);
                }
                blocks += l;
            }
        }
        Hnsw { m: self.m, m0: self.m0, entry: new_of[self.entry as usize], max_level: self.max_level, levels, links0, upper_off, upper }
    }

    /// Build over the rows of an f32 store.
    pub fn build(scorer: &Scorer, m: usize, ef_construction: usize, seed: u64, threads: usize, cancel: &CancelToken) -> Result<Hnsw> {
        // the distance `link_unreached` picks a cut-off row's nearest by (ip: rows lifted onto a sphere)
        let lifted = scorer.with_ip_lift();
        let n = scorer.store.n;
        let m = m.max(2);
        let m0 = 2 * m;
        let levels: Vec<u8> = (0..n).map(|i| level_of(seed, i, m) as u8).collect();
        let mut upper_off = vec![u32::MAX; n];
        let mut blocks = 0usize;
        for i in 0..n {
            if levels[i] > 0 {
                upper_off[i] = blocks as u32;
                blocks += levels[i] as usize;
            }
        }
        let mut g =
            Hnsw { m, m0, entry: 0, max_level: 0, links0: vec![0; n * (m0 + 1)], upper_off, upper: vec![0; blocks * (m + 1)], levels };
        // Every insertion reads link blocks at random, as a search does: huge pages before the
        // first touch (the rows' store has them already). On the 1M x 128 synthetic set (132 MB
        // of level-0 links) two A/B builds took 0.92x and 0.96x the CPU, the same graph.
        crate::hugebuf::advise_huge(&mut g.links0);
        crate::hugebuf::advise_huge(&mut g.upper);
        if n == 0 {
            return Ok(g);
        }
        // Insertion order: the highest levels first, in a seeded order within a level (as faiss
        // inserts), so the upper layers are complete before the level-0 nodes join them, and the
        // input's order does not shape the graph.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (Reverse(g.levels[i]), splitmix(seed ^ 0x6c8e_9cf5_7093_2bd5 ^ i as u64), i));
        g.entry = order[0] as u32;
        g.max_level = g.levels[order[0]] as u32;
        let threads = threads.max(1);
        let mut start = 1usize;
        // Per-thread scratch.
        let mut visited: Vec<Visited> = (0..threads).map(|_| Visited::new(n)).collect();
        while start < n {
            cancel.check()?;
            // Small batches while the graph is small, up to 256 nodes.
            let batch = (start / 16).clamp(1, 256).min(n - start);
            let ids: Vec<usize> = order[start..start + batch].to_vec();
            // 1. each new node's neighbours per level, against the graph before the batch
            let per = ids.len().div_ceil(threads);
            let gref = &g;
            let found: Vec<Vec<Vec<u32>>> = std::thread::scope(|s| {
                let handles: Vec<_> = ids
                    .chunks(per.max(1))
                    .zip(visited.iter_mut())
                    .map(|(chunk, vis)| {
                        s.spawn(move || {
                            chunk
                                .iter()
                                .map(|&i| {
                                    let dist = |j: u32| scorer.dist_rows(i, j as usize);
                                    let li = gref.levels[i] as usize;
                                    let top = gref.max_level as usize;
                                    let mut ep = Cand { d: dist(gref.entry), id: gref.entry };
                                    if top > li {
                                        ep = gref.greedy(&|r, _| dist(r), scorer.store, top, li, ep);
                                    }
                                    let mut eps = vec![ep];
                                    let mut per_level = vec![Vec::new(); li + 1];
                                    for level in (0..=li.min(top)).rev() {
                                        let cands = gref.search_level(&|r, _| dist(r), scorer.store, &eps, ef_construction, level, vis);
                                        per_level[level] = Hnsw::select(scorer, &cands, if level == 0 { m0 } else { m });
                                        eps = cands;
                                    }
                                    per_level
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles.into_iter().flat_map(|h| h.join().expect("hnsw build thread panicked")).collect()
            });
            // 2. forward links, in insertion order
            let mut reverse: Vec<(u32, u8, u32)> = Vec::new();
            for (&i, lv) in ids.iter().zip(&found) {
                for (level, to) in lv.iter().enumerate() {
                    g.set_links(i as u32, level, to);
                    reverse.extend(to.iter().map(|&t| (t, level as u8, i as u32)));
                }
            }
            // 3. reverse links grouped by (target, level); sources in id order
            reverse.sort_unstable();
            let groups: Vec<&[(u32, u8, u32)]> = reverse.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1).collect();
            let gref = &g;
            let per = groups.len().div_ceil(threads).max(1);
            let updates: Vec<(u32, u8, Vec<u32>)> = std::thread::scope(|s| {
                let handles: Vec<_> = groups
                    .chunks(per)
                    .map(|chunk| {
                        s.spawn(move || {
                            chunk
                                .iter()
                                .map(|grp| {
                                    let (t, level) = (grp[0].0, grp[0].1 as usize);
                                    let cap = if level == 0 { m0 } else { m };
                                    let sources: Vec<u32> = grp.iter().map(|x| x.2).collect();
                                    (t, level as u8, Hnsw::with_links_in(scorer, t, gref.links(t, level), &sources, cap))
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles.into_iter().flat_map(|h| h.join().expect("hnsw build thread panicked")).collect()
            });
            for (t, level, list) in updates {
                g.set_links(t, level as usize, &list);
            }
            // 4. a higher node becomes the entry point
            for &i in &ids {
                if g.levels[i] as u32 > g.max_level {
                    g.max_level = g.levels[i] as u32;
                    g.entry = i as u32;
                }
            }
            start += batch;
        }
        g.link_unreached(&lifted, ef_construction, &mut visited[0]);
        Ok(g)
    }

    /// Per node, whether a level-0 walk from the entry point reaches it (only those can be found).
    pub fn reached(&self) -> Vec<bool> {
        let mut reached = vec![false; self.levels.len()];
        if !reached.is_empty() {
            self.mark_reached(self.entry, &mut reached, &mut Vec::new());
        }
        reached
    }

    /// Marks every node a level-0 walk from `from` reaches and has not marked yet.
    fn mark_reached(&self, from: u32, reached: &mut [bool], queue: &mut Vec<u32>) {
        if reached[from as usize] {
            return;
        }
        reached[from as usize] = true;
        queue.clear();
        queue.push(from);
        while let Some(c) = queue.pop() {
            for &nb in self.links(c, 0) {
                if !reached[nb as usize] {
                    reached[nb as usize] = true;
                    queue.push(nb);
                }
            }
        }
    }

    /// Gives a level-0 link in to the nodes a walk from the entry point cannot reach: a search
    /// never finds such a row, at any ef. Pruning left 10,594 of the 1M x 128 synthetic set's rows
    /// without any link in. In row order, each unreached node is linked from the nearest reached
    /// node with room: among its own neighbours, else among the nodes a search for it finds (1.95 s
    /// there, in a 330 CPU-s build). Links are only added, so a reached node stays reached; a node
    /// with no such neighbour stays as it was. Under inner product `scorer` measures between
    /// lifted rows (`Scorer::with_ip_lift`): on Fashion-MNIST a graph on dot products left 56,743
    /// of the 60,000 rows unreached. There most rows come in this way, and a row with one way in
    /// is found only through it: each gets links from 3 reached nodes with room, found the same way
    /// (Fashion-MNIST, M 16, efConstruction 100, recall@10 at ef 40 / 160 / 640: 0.70 / 0.79 /
    /// 0.88 with 1 link in, 0.71 / 0.86 / 0.91 with 3, 0.76 / 0.86 / 0.92 with 6).
    fn link_unreached(&mut self, scorer: &Scorer, ef: usize, vis: &mut Visited) {
        let n = self.levels.len();
        let links_in = if scorer.metric == Metric::Ip { 3 } else { 1 };
        let mut queue = Vec::new();
        let mut reached = self.reached();
        for v in 0..n as u32 {
            if !reached[v as usize] {
                self.link_in(v, links_in, scorer, ef, vis, &mut reached, &mut queue);
            }
        }
    }

    /// Links unreached node `v` in from the `k` nearest reached nodes with room, or as many as
    /// there are (see `link_unreached`).
    #[allow(clippy::too_many_arguments)]
    fn link_in(&mut self, v: u32, k: usize, scorer: &Scorer, ef: usize, vis: &mut Visited, reached: &mut [bool], queue: &mut Vec<u32>) {
        let dist = |j: u32| scorer.dist_rows(v as usize, j as usize);
        let has_room = |u: &u32| self.links(*u, 0).len() < self.m0;
        let mut near: Vec<u32> = self.links(v, 0).iter().copied().filter(|&u| reached[u as usize]).collect();
        if near.iter().filter(|u| has_room(u)).count() < k {
            // From a reached node a level-0 walk meets reached nodes only. The descent on the upper
            // levels can end on an unreached one; then the walk starts at the entry point.
            let top = Cand { d: dist(self.entry), id: self.entry };
            let ep = self.greedy(&|r, _| dist(r), scorer.store, self.max_level as usize, 0, top);
            let ep = if reached[ep.id as usize] { ep } else { top };
            near.extend(self.search_level(&|r, _| dist(r), scorer.store, &[ep], ef, 0, vis).iter().map(|c| c.id));
        }
        let mut from: Vec<u32> = Vec::with_capacity(k);
        for u in near {
            if from.len() < k && has_room(&u) && !from.contains(&u) {
                from.push(u);
            }
        }
        if from.is_empty() {
            return;
        }
        for u in from {
            let mut list = self.links(u, 0).to_vec();
            list.push(v);
            self.set_links(u, 0, &list);
        }
        self.mark_reached(v, reached, queue);
    }
}
