//! Incremental item-CF and Swing: the state a stream of interactions keeps so
//! that each micro-batch recomputes only the lists it can change, with the
//! same result as `cf::compute` over all interactions so far.
//!
//! The state is the bipartite graph the batch computation reads: each user's
//! distinct items (latest time, largest weight), from which the active list
//! (the `user_cap` most recent, ties by smaller item id, then the
//! min/max-items filter) is derived exactly as the batch build derives it;
//! each item's active users (its count N_i); and every item's current list.
//! Pair statistics (co-occurrence counts, Swing's user-pair overlaps) are
//! derived per affected row with the batch kernels instead of being stored:
//! a pair table is about ten times the memory of the graph, and a row costs
//! the same accumulator pass either way.
//!
//! Which rows a batch can change (exactly, no heuristics):
//! - every item in the old or new active list of a user whose list changed
//!   (its pair terms, or the user's weight for IUF and Swing, changed);
//! - for scores normalised by N_j (cosine, jaccard, condprob, iuf, decay):
//!   when N_j grew, the items whose list holds j (their score with j fell;
//!   an item outside a list only falls further), and when N_j shrank, every
//!   item co-occurring with j (its score with j rose and may enter a list).
//!
//! Ties are broken by external item id as int64, which is the batch's ordinal order.

use super::cf::{Acc, Algo, CfOptions, SwingScratch, swing_row, swing_sample, user_key_hash};
use crate::cancel::CancelToken;
use crate::checksum::crc32c;
use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;
use crate::wal::{Channel, payload};
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    item: u32,
    ts: u32,
    w: f32,
}

impl Entry {
    fn same(&self, o: &Entry) -> bool {
        self.item == o.item && self.ts == o.ts && self.w.to_bits() == o.w.to_bits()
    }
}

/// One micro-batch of interactions by external id. User keys are byte strings
/// (`user_bytes[user_off[r]..user_off[r + 1]]`).
pub struct Batch<'a> {
    pub user_off: &'a [u32],
    pub user_bytes: &'a [u8],
    pub item: &'a [u64],
    pub ts: &'a [u32],
    pub weight: Option<&'a [f32]>,
}

impl Batch<'_> {
    pub fn len(&self) -> usize {
        self.item.len()
    }
    pub fn is_empty(&self) -> bool {
        self.item.is_empty()
    }
}

/// The lists a batch changed, by external id, sorted by key.
#[derive(Debug, Default)]
pub struct Changed {
    pub keys: Vec<u64>,
    pub offsets: Vec<u64>,
    pub items: Vec<u64>,
    pub scores: Vec<f32>,
    /// Rows recomputed (the items the batch could have changed).
    pub touched: u64,
    /// Of those, the items in the changed users' lists (the rest: through another item's count).
    pub touched_by_users: u64,
    /// Users whose active list changed.
    pub users_changed: u64,
    /// Accumulator updates or Swing user pairs: the work done.
    pub work: u64,
}

impl Changed {
    /// The changes as x2i upsert WAL records, each carrying `tag` (the source position).
    pub fn wal_records(&self, tag: &[u8]) -> (Vec<u8>, Vec<u32>, Vec<u8>) {
        let op = Channel::X2i.op(false);
        let mut ops = Vec::with_capacity(self.keys.len());
        let mut ends = Vec::with_capacity(self.keys.len());
        // sized once: a batch's records run to hundreds of megabytes
        let mut out = Vec::with_capacity(self.items.len() * 12 + self.keys.len() * (16 + tag.len()));
        for (r, &key) in self.keys.iter().enumerate() {
            let (a, b) = (self.offsets[r] as usize, self.offsets[r + 1] as usize);
            payload::x2i_upsert_tagged(key, &self.items[a..b], &self.scores[a..b], tag, &mut out);
            ops.push(op);
            ends.push(out.len() as u32);
        }
        (ops, ends, out)
    }
}

pub struct StreamState {
    opts: CfOptions,
    item_ids: Vec<u64>,
    item_of: HashMap<u64, u32>,
    user_of: HashMap<Box<[u8]>, u32>,
    user_hash: Vec<u64>,
    /// Per user: distinct items, sorted by ordinal.
    hist: Vec<Vec<Entry>>,
    /// Per user: the active list the batch computation would keep, sorted by ordinal.
    act: Vec<Vec<Entry>>,
    /// Per item: the users whose active list holds it.
    users_of: Vec<Vec<u32>>,
    /// Per item: its current list (ordinal, score), score desc then id asc.
    lists: Vec<Vec<(u32, f32)>>,
    /// Per item: each list entry's pair term (the count, or the sum) when computed here (empty when
    /// unknown: lists set from a build), and the best score left out of the list then (+inf unknown).
    raw: Vec<Vec<f64>>,
    bound: Vec<f64>,
    interactions: u64,
}

const MAGIC: &[u8; 8] = b"RCLXSTR1";

fn normalised(algo: Algo) -> bool {
    !matches!(algo, Algo::Cooc | Algo::Swing { .. })
}

impl StreamState {
    pub fn new(opts: CfOptions) -> StreamState {
        StreamState {
            opts,
            item_ids: Vec::new(),
            item_of: HashMap::new(),
            user_of: HashMap::new(),
            user_hash: Vec::new(),
            hist: Vec::new(),
            act: Vec::new(),
            users_of: Vec::new(),
            lists: Vec::new(),
            raw: Vec::new(),
            bound: Vec::new(),
            interactions: 0,
        }
    }

    pub fn items(&self) -> usize {
        self.item_ids.len()
    }
    pub fn users(&self) -> usize {
        self.hist.len()
    }
    /// Interactions applied (rows, before deduplication).
    pub fn interactions(&self) -> u64 {
        self.interactions
    }
    /// Distinct (user, item) pairs held.
    pub fn pairs(&self) -> u64 {
        self.hist.iter().map(|h| h.len() as u64).sum()
    }

    /// Approximate heap bytes of the state.
    pub fn heap_bytes(&self) -> u64 {
        let vecs = |v: &Vec<Vec<Entry>>| v.iter().map(|x| 24 + x.capacity() * 12).sum::<usize>();
        let u32s = |v: &Vec<Vec<u32>>| v.iter().map(|x| 24 + x.capacity() * 4).sum::<usize>();
        let keys: usize = self.user_of.keys().map(|k| k.len() + 16 + 4 + 8).sum();
        let lists: usize = self.lists.iter().map(|x| 24 + x.capacity() * 8).sum::<usize>()
            + self.raw.iter().map(|x| 24 + x.capacity() * 8).sum::<usize>()
            + self.bound.len() * 8;
        (vecs(&self.hist)
            + vecs(&self.act)
            + u32s(&self.users_of)
            + keys
            + lists
            + self.item_ids.len() * (8 + 24)
            + self.user_hash.len() * 8) as u64
    }

    fn item(&mut self, id: u64) -> u32 {
        if let Some(&i) = self.item_of.get(&id) {
            return i;
        }
        let i = self.item_ids.len() as u32;
        self.item_ids.push(id);
        self.item_of.insert(id, i);
        self.users_of.push(Vec::new());
        self.lists.push(Vec::new());
        self.raw.push(Vec::new());
        self.bound.push(f64::INFINITY);
        i
    }

    fn user(&mut self, key: &[u8]) -> u32 {
        if let Some(&u) = self.user_of.get(key) {
            return u;
        }
        let u = self.hist.len() as u32;
        self.user_of.insert(key.into(), u);
        self.user_hash.push(user_key_hash(key));
        self.hist.push(Vec::new());
        self.act.push(Vec::new());
        u
    }

    /// The active list the batch computation derives from a user's distinct items.
    fn active(&self, hist: &[Entry]) -> Vec<Entry> {
        let p = &self.opts.prep;
        // the user filters count distinct items before the cap, as the batch computation does
        if hist.len() < p.min_user_items || hist.len() > p.max_user_items {
            return Vec::new();
        }
        let mut row: Vec<Entry> = hist.to_vec();
        if row.len() > p.user_cap {
            let ids = &self.item_ids;
            row.sort_by(|a, b| b.ts.cmp(&a.ts).then((ids[a.item as usize] as i64).cmp(&(ids[b.item as usize] as i64))));
            row.truncate(p.user_cap);
            row.sort_unstable_by_key(|e| e.item);
        }
        row
    }

    /// Apply a micro-batch. With `recompute`, the lists it can change are
    /// recomputed and the changed ones returned (and kept); without, only the
    /// graph is updated (lists are then set with `set_lists`).
    pub fn apply(&mut self, b: &Batch, recompute: bool, cancel: &CancelToken) -> Result<Changed> {
        let n = b.len();
        if b.user_off.len() != n + 1 || b.ts.len() != n || b.weight.is_some_and(|w| w.len() != n) {
            return Err(Error::LengthMismatch { what: "stream batch columns", expected: n, got: b.ts.len() });
        }
        if b.user_off.windows(2).any(|w| w[0] > w[1]) || b.user_off[n] as usize > b.user_bytes.len() {
            return Err(Error::InvalidArgument("stream batch: user offsets out of order or past the bytes".into()));
        }
        // 1. each user's distinct items: latest time, largest weight (the batch's dedupe)
        let mut dirty: Vec<u32> = Vec::new();
        let mut is_dirty: Vec<bool> = vec![false; self.hist.len()];
        for r in 0..n {
            let u = self.user(&b.user_bytes[b.user_off[r] as usize..b.user_off[r + 1] as usize]);
            let i = self.item(b.item[r]);
            let (t, w) = (b.ts[r], b.weight.map_or(1.0, |w| w[r]));
            let h = &mut self.hist[u as usize];
            match h.binary_search_by_key(&i, |e| e.item) {
                Ok(p) => {
                    h[p].ts = h[p].ts.max(t);
                    h[p].w = h[p].w.max(w);
                }
                Err(p) => h.insert(p, Entry { item: i, ts: t, w }),
            }
            if u as usize >= is_dirty.len() {
                is_dirty.resize(u as usize + 1, false);
            }
            if !is_dirty[u as usize] {
                is_dirty[u as usize] = true;
                dirty.push(u);
            }
        }
        self.interactions += n as u64;
        // 2. active lists, item counts, and the rows they touch
        let n_items = self.item_ids.len();
        // 0: untouched, 1: only other items' counts grew (rescore the list), 2: recompute the row
        let mut mark = vec![0u8; n_items];
        let mut affected: Vec<u32> = Vec::new();
        let mut d_n: Vec<i64> = vec![0; n_items];
        let mut changed_n: Vec<u32> = Vec::new();
        let mut out = Changed::default();
        let mut removals: Vec<(u32, u32)> = Vec::new();
        let add_as = |i: u32, mode: u8, mark: &mut Vec<u8>, affected: &mut Vec<u32>| {
            let m = &mut mark[i as usize];
            if *m == 0 {
                affected.push(i);
            }
            *m = (*m).max(mode);
        };
        let add = |i: u32, mark: &mut Vec<u8>, affected: &mut Vec<u32>| add_as(i, 2, mark, affected);
        for &u in &dirty {
            let new = self.active(&self.hist[u as usize]);
            let old = std::mem::take(&mut self.act[u as usize]);
            if old.len() == new.len() && old.iter().zip(&new).all(|(a, b)| a.same(b)) {
                self.act[u as usize] = old;
                continue;
            }
            out.users_changed += 1;
            let (mut a, mut c) = (0, 0);
            while a < old.len() || c < new.len() {
                let (x, y) = (old.get(a).map(|e| e.item), new.get(c).map(|e| e.item));
                let step = match (x, y) {
                    (Some(x), Some(y)) if x == y => {
                        a += 1;
                        c += 1;
                        add(x, &mut mark, &mut affected);
                        continue;
                    }
                    (Some(x), Some(y)) if x < y => -1,
                    (Some(_), None) => -1,
                    _ => 1,
                };
                let j = if step < 0 {
                    a += 1;
                    x.unwrap()
                } else {
                    c += 1;
                    y.unwrap()
                };
                if step < 0 {
                    removals.push((j, u));
                } else {
                    self.users_of[j as usize].push(u);
                }
                if d_n[j as usize] == 0 {
                    changed_n.push(j);
                }
                d_n[j as usize] += step;
                add(j, &mut mark, &mut affected);
            }
            self.act[u as usize] = new;
        }
        // removals item by item, one pass over each item's users (a popular item loses many
        // users at the cap in one batch; finding each one alone would scan its users each time)
        removals.sort_unstable();
        for run in removals.chunk_by(|a, b| a.0 == b.0) {
            let gone: Vec<u32> = run.iter().map(|x| x.1).collect(); // sorted: the pairs are
            self.users_of[run[0].0 as usize].retain(|v| gone.binary_search(v).is_err());
        }
        if !recompute {
            return Ok(out);
        }
        out.touched_by_users = affected.len() as u64;
        // 3. rows whose scores move with another item's count
        if normalised(self.opts.algo) {
            // the lists holding an item whose count grew: one pass over every list (a popular
            // item is held by most lists, so an index of holders saves nothing on a real batch)
            if changed_n.iter().any(|&j| d_n[j as usize] > 0) {
                for (i, l) in self.lists.iter().enumerate() {
                    if mark[i] == 0 && l.iter().any(|&(j, _)| d_n[j as usize] > 0) {
                        add_as(i as u32, 1, &mut mark, &mut affected);
                    }
                }
            }
            for &j in &changed_n {
                if d_n[j as usize] < 0 {
                    for &v in &self.users_of[j as usize] {
                        for e in &self.act[v as usize] {
                            add(e.item, &mut mark, &mut affected);
                        }
                    }
                }
            }
        }
        affected.sort_unstable_by_key(|&i| self.item_ids[i as usize]);
        out.touched = affected.len() as u64;
        // 4. recompute those rows in parallel, keep and report the ones that changed
        let rescore = |i: u32| mark[i as usize] == 1;
        let (rows, work) = self.rows(&affected, &rescore, cancel)?;
        out.work = work;
        out.offsets.push(0);
        let entries: usize = rows.iter().map(|r| r.0.len()).sum();
        out.items.reserve(entries);
        out.scores.reserve(entries);
        for (&i, (row, raw, bound)) in affected.iter().zip(rows) {
            self.raw[i as usize] = raw;
            self.bound[i as usize] = bound;
            let old = &self.lists[i as usize];
            if old.len() == row.len() && old.iter().zip(&row).all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits()) {
                continue;
            }
            out.keys.push(self.item_ids[i as usize]);
            for &(j, s) in &row {
                out.items.push(self.item_ids[j as usize]);
                out.scores.push(s);
            }
            out.offsets.push(out.items.len() as u64);
            self.lists[i as usize] = row;
        }
        Ok(out)
    }

    /// Set the current lists (from a batch build over the same interactions). Keys or
    /// items the state has not seen are refused.
    pub fn set_lists(&mut self, keys: &[u64], offsets: &[u64], items: &[u64], scores: &[f32]) -> Result<()> {
        if offsets.len() != keys.len() + 1 || items.len() != scores.len() || offsets.last().copied().unwrap_or(0) as usize != items.len() {
            return Err(Error::LengthMismatch { what: "lists", expected: keys.len() + 1, got: offsets.len() });
        }
        for (r, &k) in keys.iter().enumerate() {
            let i = *self.item_of.get(&k).ok_or_else(|| Error::InvalidArgument(format!("list key {k} is not an item of the state")))?;
            let mut row = Vec::with_capacity((offsets[r + 1] - offsets[r]) as usize);
            for p in offsets[r] as usize..offsets[r + 1] as usize {
                let j = *self
                    .item_of
                    .get(&items[p])
                    .ok_or_else(|| Error::InvalidArgument(format!("list item {} is not an item of the state", items[p])))?;
                row.push((j, scores[p]));
            }
            self.lists[i as usize] = row;
            self.raw[i as usize] = Vec::new();
            self.bound[i as usize] = f64::INFINITY;
        }
        Ok(())
    }

    /// Every item's list, by external id sorted by key (items with an empty list left out).
    pub fn all_lists(&self) -> Changed {
        let mut order: Vec<u32> = (0..self.item_ids.len() as u32).filter(|&i| !self.lists[i as usize].is_empty()).collect();
        order.sort_unstable_by_key(|&i| self.item_ids[i as usize]);
        let mut out = Changed { offsets: vec![0], ..Default::default() };
        for i in order {
            out.keys.push(self.item_ids[i as usize]);
            for &(j, s) in &self.lists[i as usize] {
                out.items.push(self.item_ids[j as usize]);
                out.scores.push(s);
            }
            out.offsets.push(out.items.len() as u64);
        }
        out
    }

    /// Recompute the rows of `items` (threads take blocks; the result does not depend on their count).
    fn rows(&self, items: &[u32], rescore: &(dyn Fn(u32) -> bool + Sync), cancel: &CancelToken) -> Result<(Vec<RowOut>, u64)> {
        const BLOCK: usize = 64;
        let view = &BatchView::new(self, items.len());
        let blocks: Vec<&[u32]> = items.chunks(BLOCK).collect();
        let threads = self.opts.threads.max(1).min(blocks.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        type Block = (usize, Vec<RowOut>, u64);
        let results: Vec<Result<Vec<Block>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut scratch = Scratch::new(self.item_ids.len(), self.opts.algo);
                        let mut mine = Vec::new();
                        loop {
                            let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if b >= blocks.len() {
                                return Ok(mine);
                            }
                            cancel.check()?;
                            let mut work = 0;
                            let rows = blocks[b]
                                .iter()
                                .map(|&i| {
                                    if rescore(i) { self.rescored(i, view) } else { None }
                                        .unwrap_or_else(|| self.row(i, view, &mut scratch, &mut work))
                                })
                                .collect();
                            mine.push((b, rows, work));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(Error::InvalidArgument("a worker thread panicked".into()))))
                .collect()
        });
        let mut parts: Vec<Option<Vec<RowOut>>> = (0..blocks.len()).map(|_| None).collect();
        let mut work = 0;
        for r in results {
            for (b, rows, w) in r? {
                parts[b] = Some(rows);
                work += w;
            }
        }
        Ok((parts.into_iter().flatten().flatten().collect(), work))
    }

    /// Score of pair term `v` (count `c`) between `i` (ni users) and `j`: the batch computation's arithmetic.
    #[inline]
    fn score(&self, view: &BatchView, ni: f64, j: u32, v: f64, c: u32) -> f64 {
        match self.opts.algo {
            Algo::Cooc | Algo::Swing { .. } => v,
            Algo::Cosine | Algo::Iuf | Algo::Decay { .. } => v * (1.0 / ni.sqrt()) * view.norm[j as usize],
            Algo::Jaccard => c as f64 / (ni + view.n[j as usize] - c as f64),
            Algo::CondProb { .. } => c as f64 * view.norm[j as usize] / ni,
        }
    }

    /// A list whose pair terms did not change, only other items' counts grew: its entries
    /// rescored. Every item left out scored at most `bound` and can only have fallen, so the
    /// rescored entries are the top-k while they all stay above it; otherwise None (recompute).
    fn rescored(&self, i: u32, view: &BatchView) -> Option<RowOut> {
        let (l, raw) = (&self.lists[i as usize], &self.raw[i as usize]);
        let o = &self.opts;
        if raw.len() != l.len() || l.is_empty() || matches!(o.algo, Algo::CondProb { alpha } if alpha < 0.0) {
            return None;
        }
        let ni = self.users_of[i as usize].len() as f64;
        let mut e: Vec<(f64, u32, f64)> = Vec::with_capacity(l.len());
        for (&(j, _), &v) in l.iter().zip(raw) {
            let s = self.score(view, ni, j, v, v as u32);
            if !(s >= o.min_score && s > 0.0 && s > self.bound[i as usize]) {
                return None;
            }
            e.push((s, j, v));
        }
        let ids = &self.item_ids;
        e.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then((ids[a.1 as usize] as i64).cmp(&(ids[b.1 as usize] as i64))));
        Some((e.iter().map(|x| (x.1, x.0 as f32)).collect(), e.iter().map(|x| x.2).collect(), self.bound[i as usize]))
    }

    /// One item's list, as `cf::compute` computes it.
    fn row(&self, i: u32, view: &BatchView, sc: &mut Scratch, work: &mut u64) -> RowOut {
        let o = &self.opts;
        let users = &self.users_of[i as usize];
        let acc = &mut sc.acc;
        let ni = users.len() as f64;
        let weight_of = |row: &[Entry]| row[row.binary_search_by_key(&i, |e| e.item).expect("an active user holds the item")];
        match o.algo {
            Algo::Swing { alpha1, alpha2, beta, item_user_cap, seed } => {
                let sample = &mut sc.sample;
                sample.clear();
                sample.extend_from_slice(users);
                swing_sample(sample, item_user_cap, seed, self.item_ids[i as usize], |v| self.user_hash[v as usize]);
                let sw = &mut sc.swing;
                sw.local.clear();
                sw.local_off.clear();
                sw.local_off.push(0);
                sw.weights.clear();
                for &v in sample.iter() {
                    let a = &self.act[v as usize];
                    sw.local.extend(a.iter().map(|e| e.item));
                    sw.local_off.push(sw.local.len());
                    sw.weights.push((alpha1 + a.len() as f64).powf(-beta));
                }
                *work += swing_row(sw, acc, alpha2, i);
                emit(acc, i, o.top_k, o.min_score, 0, &self.item_ids, |_, s, _| s)
            }
            algo @ (Algo::Cosine | Algo::Jaccard | Algo::CondProb { .. } | Algo::Iuf) if view.act.is_some() => {
                let act = view.act.as_ref().expect("checked");
                let iuf = matches!(algo, Algo::Iuf);
                for (p, &u) in users.iter().enumerate() {
                    if let Some(&v) = users.get(p + 4) {
                        crate::prefetch::prefetch(act.items.as_ptr().wrapping_add(act.off[v as usize] as usize));
                    }
                    let row = &act.items[act.off[u as usize] as usize..act.off[u as usize + 1] as usize];
                    *work += row.len() as u64;
                    if iuf {
                        let x = 1.0 / (1.0 + row.len() as f64).ln();
                        for &j in row {
                            acc.add_counted(j, x);
                        }
                    } else {
                        for &j in row {
                            acc.count(j);
                        }
                    }
                }
                emit(acc, i, o.top_k, o.min_score, o.min_common, &self.item_ids, |j, v, c| self.score(view, ni, j, v, c))
            }
            algo => {
                let weighted = matches!(algo, Algo::Cooc) && !acc.val.is_empty();
                for (p, &u) in users.iter().enumerate() {
                    // two dependent misses per user (its list header, then its items): fetch both ahead
                    if let Some(&v) = users.get(p + 8) {
                        crate::prefetch::prefetch(&self.act[v as usize] as *const Vec<Entry>);
                    }
                    if let Some(&v) = users.get(p + 4) {
                        crate::prefetch::prefetch(self.act[v as usize].as_ptr());
                    }
                    let row = &self.act[u as usize];
                    *work += row.len() as u64;
                    match algo {
                        Algo::Cooc if weighted => {
                            let ri = weight_of(row).w as f64;
                            for e in row {
                                acc.add_counted(e.item, ri * e.w as f64);
                            }
                        }
                        Algo::Cosine | Algo::Jaccard | Algo::CondProb { .. } | Algo::Cooc => {
                            for e in row {
                                acc.count(e.item);
                            }
                        }
                        Algo::Iuf => {
                            let x = 1.0 / (1.0 + row.len() as f64).ln();
                            for e in row {
                                acc.add_counted(e.item, x);
                            }
                        }
                        Algo::Decay { tau } => {
                            let ti = weight_of(row).ts as f64;
                            for e in row {
                                acc.add_counted(e.item, 1.0 / (1.0 + (e.ts as f64 - ti).abs() / tau));
                            }
                        }
                        Algo::Swing { .. } => unreachable!(),
                    }
                }
                emit(acc, i, o.top_k, o.min_score, o.min_common, &self.item_ids, |j, v, c| self.score(view, ni, j, v, c))
            }
        }
    }

    // ------------------------------------------------------------ checkpoint

    /// Write the state and `meta` (the caller's JSON: WAL seq, source position) to `path`
    /// atomically (temp name, fsync, rename): a reader sees the old checkpoint or the new one.
    pub fn save(&self, path: &Path, meta: &str) -> Result<()> {
        let mut b: Vec<u8> = Vec::with_capacity(64 + self.pairs() as usize * 12 + self.item_ids.len() * 16);
        b.extend_from_slice(MAGIC);
        put_u32(&mut b, meta.len() as u32);
        b.extend_from_slice(meta.as_bytes());
        put_u64(&mut b, self.interactions);
        put_u64(&mut b, self.item_ids.len() as u64);
        for &id in &self.item_ids {
            put_u64(&mut b, id);
        }
        let mut keys: Vec<&[u8]> = vec![&[]; self.hist.len()];
        for (k, &u) in &self.user_of {
            keys[u as usize] = k;
        }
        put_u64(&mut b, self.hist.len() as u64);
        for (u, h) in self.hist.iter().enumerate() {
            put_u32(&mut b, keys[u].len() as u32);
            b.extend_from_slice(keys[u]);
            put_u32(&mut b, h.len() as u32);
            for e in h {
                put_u32(&mut b, e.item);
                put_u32(&mut b, e.ts);
                put_u32(&mut b, e.w.to_bits());
            }
        }
        for (i, l) in self.lists.iter().enumerate() {
            put_u32(&mut b, l.len() as u32);
            for &(j, s) in l {
                put_u32(&mut b, j);
                put_u32(&mut b, s.to_bits());
            }
            put_u32(&mut b, self.raw[i].len() as u32);
            for &v in &self.raw[i] {
                put_u64(&mut b, v.to_bits());
            }
            put_u64(&mut b, self.bound[i].to_bits());
        }
        let crc = crc32c(&b);
        put_u32(&mut b, crc);
        let mut f = AtomicFile::create(path)?;
        f.write_all(&b)?;
        f.commit()
    }

    /// Read a checkpoint written by `save`; returns the state and its meta JSON. The derived
    /// parts (active lists, item users) are rebuilt.
    pub fn load(path: &Path, opts: CfOptions) -> Result<(StreamState, String)> {
        let b = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
        let bad = |what: &str| Error::InvalidArgument(format!("{}: not a whole stream state ({what})", path.display()));
        if b.len() < 12 || &b[..8] != MAGIC {
            return Err(bad("no header"));
        }
        let body = &b[..b.len() - 4];
        if crc32c(body) != u32::from_le_bytes(b[b.len() - 4..].try_into().unwrap()) {
            return Err(bad("checksum mismatch"));
        }
        let mut r = Reader { b: body, at: 8 };
        let m = r.u32().ok_or_else(|| bad("meta"))? as usize;
        let meta = String::from_utf8(r.take(m).ok_or_else(|| bad("meta"))?.to_vec()).map_err(|_| bad("meta is not UTF-8"))?;
        let mut s = StreamState::new(opts);
        s.interactions = r.u64().ok_or_else(|| bad("counts"))?;
        let items = r.u64().ok_or_else(|| bad("items"))? as usize;
        for _ in 0..items {
            let id = r.u64().ok_or_else(|| bad("items"))?;
            s.item(id);
        }
        let users = r.u64().ok_or_else(|| bad("users"))? as usize;
        for _ in 0..users {
            let k = r.u32().ok_or_else(|| bad("users"))? as usize;
            let key = r.take(k).ok_or_else(|| bad("users"))?;
            let u = s.user(key);
            let n = r.u32().ok_or_else(|| bad("users"))? as usize;
            let mut h = Vec::with_capacity(n);
            for _ in 0..n {
                let (item, ts, w) = (r.u32(), r.u32(), r.u32());
                let (Some(item), Some(ts), Some(w)) = (item, ts, w) else { return Err(bad("users")) };
                if item as usize >= items || h.last().is_some_and(|e: &Entry| e.item >= item) {
                    return Err(bad("user items"));
                }
                h.push(Entry { item, ts, w: f32::from_bits(w) });
            }
            s.hist[u as usize] = h;
        }
        for i in 0..items {
            let n = r.u32().ok_or_else(|| bad("lists"))? as usize;
            let mut l = Vec::with_capacity(n);
            for _ in 0..n {
                let (Some(j), Some(sc)) = (r.u32(), r.u32()) else { return Err(bad("lists")) };
                if j as usize >= items {
                    return Err(bad("lists"));
                }
                l.push((j, f32::from_bits(sc)));
            }
            s.lists[i] = l;
            let m = r.u32().ok_or_else(|| bad("lists"))? as usize;
            if m != 0 && m != n {
                return Err(bad("list terms"));
            }
            let mut raw = Vec::with_capacity(m);
            for _ in 0..m {
                raw.push(f64::from_bits(r.u64().ok_or_else(|| bad("list terms"))?));
            }
            s.raw[i] = raw;
            s.bound[i] = f64::from_bits(r.u64().ok_or_else(|| bad("list bounds"))?);
        }
        if r.at != body.len() {
            return Err(bad("trailing bytes"));
        }
        for u in 0..s.hist.len() {
            let a = s.active(&s.hist[u]);
            for e in &a {
                s.users_of[e.item as usize].push(u as u32);
            }
            s.act[u] = a;
        }
        Ok((s, meta))
    }
}

/// What the rows a batch recomputes read, laid out once per batch: each item's count and
/// normaliser in flat arrays (not a division and a `users_of` header per candidate), and,
/// when the batch recomputes many rows of a count-only algorithm, the active lists' items as
/// one array (a third of the entries' bytes, read contiguously).
struct BatchView {
    n: Vec<f64>,
    norm: Vec<f64>,
    act: Option<ActItems>,
}

struct ActItems {
    off: Vec<u64>,
    items: Vec<u32>,
}

impl BatchView {
    fn new(s: &StreamState, rows: usize) -> BatchView {
        let n: Vec<f64> = s.users_of.iter().map(|u| u.len() as f64).collect();
        let norm = n
            .iter()
            .map(|&n| match s.opts.algo {
                Algo::CondProb { alpha } => 1.0 / n.powf(alpha),
                _ => 1.0 / n.sqrt(),
            })
            .collect();
        // copying every active list costs about what recomputing an eighth of the rows does
        let count_only = matches!(s.opts.algo, Algo::Cosine | Algo::Jaccard | Algo::CondProb { .. } | Algo::Iuf);
        let act = (count_only && rows * 8 >= s.item_ids.len()).then(|| {
            let mut off = Vec::with_capacity(s.act.len() + 1);
            off.push(0u64);
            let mut items = Vec::with_capacity(s.act.iter().map(Vec::len).sum());
            for a in &s.act {
                items.extend(a.iter().map(|e| e.item));
                off.push(items.len() as u64);
            }
            ActItems { off, items }
        });
        BatchView { n, norm, act }
    }
}

struct Scratch {
    acc: Acc,
    swing: SwingScratch,
    sample: Vec<u32>,
}

impl Scratch {
    fn new(items: usize, algo: Algo) -> Scratch {
        let (sums, counts) = match algo {
            Algo::Cosine | Algo::Jaccard | Algo::CondProb { .. } => (false, true),
            // weighted or not, the sum of products equals the count when every weight is 1
            Algo::Cooc => (true, true),
            Algo::Iuf | Algo::Decay { .. } => (true, true),
            Algo::Swing { .. } => (true, false),
        };
        Scratch {
            acc: Acc::new(items, sums, counts),
            swing: SwingScratch::new(items, matches!(algo, Algo::Swing { .. })),
            sample: Vec::new(),
        }
    }
}

/// Top-k of the touched entries (score desc, external id asc); resets them. As `Acc::emit`,
/// with ties broken by id instead of ordinal.
fn emit(acc: &mut Acc, i: u32, k: usize, min_score: f64, min_common: u32, ids: &[u64], score: impl Fn(u32, f64, u32) -> f64) -> RowOut {
    let mut cand: Vec<(f64, u32, f64)> = Vec::with_capacity(acc.n_touched);
    let (sums, counts) = (!acc.val.is_empty(), !acc.cnt.is_empty());
    for t in 0..acc.n_touched {
        let j = acc.touched[t];
        let j_ = j as usize;
        let c = if counts { std::mem::take(&mut acc.cnt[j_]) } else { 0 };
        let v = if sums { std::mem::take(&mut acc.val[j_]) } else { c as f64 };
        if j != i && (!counts || c >= min_common) {
            let s = score(j, v, c);
            if s >= min_score && s > 0.0 {
                cand.push((s, j, v));
            }
        }
    }
    acc.n_touched = 0;
    let by =
        |a: &(f64, u32, f64), b: &(f64, u32, f64)| b.0.total_cmp(&a.0).then((ids[a.1 as usize] as i64).cmp(&(ids[b.1 as usize] as i64)));
    let mut bound = f64::NEG_INFINITY;
    if k > 0 && cand.len() > k {
        cand.select_nth_unstable_by(k - 1, by);
        bound = cand[k..].iter().map(|x| x.0).fold(f64::NEG_INFINITY, f64::max);
        cand.truncate(k);
    }
    cand.sort_unstable_by(by);
    (cand.iter().map(|x| (x.1, x.0 as f32)).collect(), cand.iter().map(|x| x.2).collect(), bound)
}

/// A recomputed list, its entries' pair terms, and the best score left out of it.
type RowOut = (Vec<(u32, f32)>, Vec<f64>, f64);

fn put_u32(b: &mut Vec<u8>, x: u32) {
    b.extend_from_slice(&x.to_le_bytes());
}
fn put_u64(b: &mut Vec<u8>, x: u64) {
    b.extend_from_slice(&x.to_le_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|s| u32::from_le_bytes(s.try_into().unwrap()))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|s| u64::from_le_bytes(s.try_into().unwrap()))
    }
}

#[cfg(test)]
mod tests;
