//! The stream's lists equal `cf::compute` over every interaction so far, for every algorithm,
//! however the interactions are cut into batches, and across a checkpoint.

use super::*;
use crate::rand::splitmix;
use crate::x2i::cf::{self, Interactions, Prep};

/// Random interactions with skewed items and users; user keys are strings.
fn data(seed: u64, n: usize, users: u64, items: u64) -> Vec<(String, u64, u32, f32)> {
    let mut r = seed;
    let mut next = || {
        r = splitmix(r);
        r
    };
    (0..n)
        .map(|_| {
            let a = next() % users;
            let u = a * a / users; // skew: low ids more active
            let b = next() % items;
            let i = 1000 + b * b / items * 7; // sparse, skewed ids
            let t = (next() % 5000) as u32;
            let w = 1.0 + (next() % 3) as f32;
            (format!("u{u}"), i, t, w)
        })
        .collect()
}

fn batch_lists(rows: &[(String, u64, u32, f32)], o: &CfOptions, weighted: bool) -> HashMap<u64, Vec<(u64, f32)>> {
    let mut ukeys: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    ukeys.sort();
    ukeys.dedup();
    let mut ids: Vec<u64> = rows.iter().map(|r| r.1).collect();
    ids.sort();
    ids.dedup();
    let user: Vec<u32> = rows.iter().map(|r| ukeys.binary_search(&&r.0).unwrap() as u32).collect();
    let item: Vec<u32> = rows.iter().map(|r| ids.binary_search(&r.1).unwrap() as u32).collect();
    let ts: Vec<u32> = rows.iter().map(|r| r.2).collect();
    let w: Vec<f32> = rows.iter().map(|r| r.3).collect();
    let user_hash: Vec<u64> = ukeys.iter().map(|k| cf::user_key_hash(k.as_bytes())).collect();
    let d = Interactions {
        user: &user,
        item: &item,
        ts: &ts,
        weight: weighted.then_some(&w[..]),
        users: ukeys.len(),
        items: ids.len(),
        user_hash: &user_hash,
        item_ids: &ids,
    };
    let r = cf::compute(&d, o, &CancelToken::new()).unwrap();
    let mut out = HashMap::new();
    for (i, &id) in ids.iter().enumerate() {
        let row: Vec<(u64, f32)> = (r.row_off[i] as usize..r.row_off[i + 1] as usize).map(|p| (ids[r.nb[p] as usize], r.sc[p])).collect();
        if !row.is_empty() {
            out.insert(id, row);
        }
    }
    out
}

type Columns = (Vec<u32>, Vec<u8>, Vec<u64>, Vec<u32>, Vec<f32>);

fn stream_batch(rows: &[(String, u64, u32, f32)]) -> Columns {
    let mut off = vec![0u32];
    let mut bytes = Vec::new();
    for r in rows {
        bytes.extend_from_slice(r.0.as_bytes());
        off.push(bytes.len() as u32);
    }
    (off, bytes, rows.iter().map(|r| r.1).collect(), rows.iter().map(|r| r.2).collect(), rows.iter().map(|r| r.3).collect())
}

fn apply(s: &mut StreamState, rows: &[(String, u64, u32, f32)], weighted: bool, recompute: bool) -> Changed {
    let (off, bytes, item, ts, w) = stream_batch(rows);
    let b = Batch { user_off: &off, user_bytes: &bytes, item: &item, ts: &ts, weight: weighted.then_some(&w[..]) };
    s.apply(&b, recompute, &CancelToken::new()).unwrap()
}

fn lists_of(c: &Changed) -> HashMap<u64, Vec<(u64, f32)>> {
    (0..c.keys.len())
        .map(|r| {
            let (a, b) = (c.offsets[r] as usize, c.offsets[r + 1] as usize);
            (c.keys[r], c.items[a..b].iter().copied().zip(c.scores[a..b].iter().copied()).collect())
        })
        .collect()
}

/// Same keys; per key the same length, scores within 1e-6 relative, and the same items except
/// where scores tie within that tolerance (sums in another order may swap them).
fn assert_same(got: &HashMap<u64, Vec<(u64, f32)>>, want: &HashMap<u64, Vec<(u64, f32)>>, what: &str) {
    let mut keys: Vec<_> = want.keys().collect();
    keys.sort();
    assert_eq!(got.len(), want.len(), "{what}: key counts");
    for k in keys {
        let (g, w) = (&got[k], &want[k]);
        assert_eq!(g.len(), w.len(), "{what}: key {k}: {g:?} vs {w:?}");
        let close = |a: f32, b: f32| (a as f64 - b as f64).abs() <= 1e-6 * (a.abs().max(b.abs()) as f64);
        for p in 0..g.len() {
            assert!(close(g[p].1, w[p].1), "{what}: key {k} at {p}: {g:?} vs {w:?}");
            if g[p].0 != w[p].0 {
                // a tie: the item must appear in want at a tied score
                assert!(
                    w.iter().any(|x| x.0 == g[p].0 && close(x.1, g[p].1)) || close(w[w.len() - 1].1, g[p].1),
                    "{what}: key {k} at {p}: {g:?} vs {w:?}"
                );
            }
        }
    }
}

fn algos() -> Vec<(&'static str, Algo)> {
    vec![
        ("cooc", Algo::Cooc),
        ("cosine", Algo::Cosine),
        ("jaccard", Algo::Jaccard),
        ("condprob", Algo::CondProb { alpha: 0.5 }),
        ("iuf", Algo::Iuf),
        ("decay", Algo::Decay { tau: 600.0 }),
        ("swing", Algo::Swing { alpha1: 15.0, alpha2: 1.0, beta: 0.3, item_user_cap: 100_000, seed: 7 }),
        // popular items hold ~40 users: the sample bites, and batch and stream draw the same one
        ("swing sampled", Algo::Swing { alpha1: 15.0, alpha2: 1.0, beta: 0.3, item_user_cap: 6, seed: 7 }),
    ]
}

fn options(algo: Algo, user_cap: usize, min_user_items: usize) -> CfOptions {
    CfOptions { algo, prep: Prep { min_user_items, max_user_items: 25, user_cap }, top_k: 5, min_score: 0.0, min_common: 1, threads: 2 }
}

#[test]
fn batches_equal_the_batch_computation() {
    for seed in [1u64, 2, 3] {
        let rows = data(seed, 1500, 120, 90);
        for (name, algo) in algos() {
            for weighted in [false, true] {
                // caps that bite (users hold up to ~40 items), the min and max filters too
                let o = options(algo, 12, 2);
                let want = batch_lists(&rows, &o, weighted);
                let mut s = StreamState::new(o.clone());
                let mut got: HashMap<u64, Vec<(u64, f32)>> = HashMap::new();
                let mut at = 0;
                let mut r = seed;
                while at < rows.len() {
                    r = splitmix(r);
                    // mostly tiny batches (where a count change reaches rows the batch did not touch), some large
                    let end = (at + 1 + (r % if r % 5 == 0 { 300 } else { 4 }) as usize).min(rows.len());
                    let c = apply(&mut s, &rows[at..end], weighted, true);
                    for (k, v) in lists_of(&c) {
                        got.insert(k, v);
                    }
                    at = end;
                    if r % 11 == 0 && at < rows.len() {
                        // between batches too: a stale list may be repaired by a later large batch
                        got.retain(|_, v| !v.is_empty());
                        assert_same(&got, &batch_lists(&rows[..at], &o, weighted), &format!("{name} seed {seed} at row {at}"));
                    }
                }
                got.retain(|_, v| !v.is_empty());
                let what = format!("{name} seed {seed} weighted {weighted}");
                assert_same(&got, &want, &what);
                assert_same(&lists_of(&s.all_lists()), &want, &what);
            }
        }
    }
}

#[test]
fn a_checkpoint_resumes_where_it_stopped() {
    let rows = data(9, 1200, 80, 60);
    let dir = std::env::temp_dir().join(format!("recall-stream-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.bin");
    for (name, algo) in algos() {
        let o = options(algo, 10, 1);
        let want = batch_lists(&rows, &o, true);
        // graph only for the first half, lists set from the batch build (a kept state)
        let mut s = StreamState::new(o.clone());
        apply(&mut s, &rows[..600], true, false);
        let base = batch_lists(&rows[..600], &o, true);
        let mut keys: Vec<u64> = base.keys().copied().collect();
        keys.sort();
        let (mut offs, mut items, mut scores) = (vec![0u64], vec![], vec![]);
        for k in &keys {
            for &(j, sc) in &base[k] {
                items.push(j);
                scores.push(sc);
            }
            offs.push(items.len() as u64);
        }
        s.set_lists(&keys, &offs, &items, &scores).unwrap();
        apply(&mut s, &rows[600..900], true, true);
        s.save(&path, "{\"seq\":3}").unwrap();
        let (mut t, meta) = StreamState::load(&path, o.clone()).unwrap();
        assert_eq!(meta, "{\"seq\":3}");
        apply(&mut t, &rows[900..], true, true);
        assert_same(&lists_of(&t.all_lists()), &want, name);
    }
    // a flipped byte is refused
    let mut b = std::fs::read(&path).unwrap();
    b[40] ^= 1;
    std::fs::write(&path, &b).unwrap();
    assert!(StreamState::load(&path, options(Algo::Cooc, 10, 1)).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unchanged_lists_are_not_reported_and_records_carry_the_tag() {
    let rows = data(4, 400, 40, 30);
    let mut s = StreamState::new(options(Algo::Cooc, 50, 1));
    apply(&mut s, &rows, false, true);
    // the same interactions again: distinct items, times and weights do not change
    let c = apply(&mut s, &rows, false, true);
    assert_eq!(c.keys.len(), 0);
    assert_eq!(c.users_changed, 0);
    let c = apply(&mut s, &[("new".into(), rows[0].1, 1, 1.0), ("new".into(), rows[1].1, 1, 1.0)], false, true);
    assert!(!c.keys.is_empty() && c.keys.len() <= 2);
    let (ops, ends, p) = c.wal_records(b"{\"pos\":1}");
    assert_eq!(ops.len(), c.keys.len());
    let first = &p[..ends[0] as usize];
    assert_eq!(payload::x2i_upsert_tag(first).unwrap(), b"{\"pos\":1}");
    let (mut items, mut scores) = (vec![], vec![]);
    assert_eq!(payload::read_x2i_upsert_into(first, &mut items, &mut scores).unwrap(), c.keys[0]);
    // the tag is not read as scores
    let n = c.offsets[1] as usize;
    assert_eq!((items.as_slice(), scores.as_slice()), (&c.items[..n], &c.scores[..n]));
}
