//! Term-pair postings (spec §2.9): candidates are the frequent terms, pairs are
//! counted over the forward lists (`cooc`: both terms in the doc's field; `adjacent`:
//! `b` right after `a`), kept by the postings they save, stored as one list
//! carrying both tfs so `AND(a, b)` reads one short list.

use super::build::{FastMap, PairOptions, encode_list, parallel_ranges};
use super::PairKind;
use crate::cancel::CancelToken;
use crate::error::Result;

/// The candidate pairs of one doc: (key, tf of a, tf of b).
fn doc_pairs(d: usize, kind: PairKind, cap: bool, cand: &[bool], term_df: &[u32], term_field: &[u8], doc_off: &[u64], ords: &[u32], tfs: &[u32], adj_off: &[u64], adj: &[u64], buf: &mut Vec<(u32, u32)>, out: &mut Vec<(u64, u32, u32)>) {
    out.clear();
    buf.clear();
    let (s, e) = (doc_off[d] as usize, doc_off[d + 1] as usize);
    for i in s..e {
        if cand[ords[i] as usize] {
            buf.push((ords[i], tfs[i]));
        }
    }
    let tf_of = |buf: &[(u32, u32)], o: u32| buf.binary_search_by_key(&o, |x| x.0).ok().map(|i| buf[i].1);
    match kind {
        PairKind::Cooc => {
            if cap && buf.len() > 64 {
                // bound the quadratic work of counting: keep the 64 rarest candidates (the lists
                // of the pairs kept are then filled from every candidate, so they are complete)
                buf.sort_unstable_by_key(|&(o, _)| (term_df[o as usize], o));
                buf.truncate(64);
                buf.sort_unstable();
            }
            for i in 0..buf.len() {
                for j in i + 1..buf.len() {
                    let (a, b) = (buf[i], buf[j]);
                    if term_field[a.0 as usize] == term_field[b.0 as usize] {
                        out.push(((a.0 as u64) << 32 | b.0 as u64, a.1, b.1));
                    }
                }
            }
        }
        PairKind::Adjacent => {
            for &k in &adj[adj_off[d] as usize..adj_off[d + 1] as usize] {
                let (a, b) = ((k >> 32) as u32, k as u32);
                if let (Some(ta), Some(tb)) = (tf_of(buf, a), tf_of(buf, b)) {
                    out.push((k, ta, tb));
                }
            }
        }
        PairKind::Off => {}
    }
}

/// Returns (PAIR_DICT bytes, PAIR_POSTINGS bytes, pair count).
#[allow(clippy::too_many_arguments)]
pub fn build(p: &PairOptions, n: usize, term_df: &[u32], term_field: &[u8], doc_off: &[u64], ords: &[u32], tfs: &[u32], adj_off: &[u64], adj: &[u64], codes: &[Vec<u8>], threads: usize, cancel: &CancelToken) -> Result<(Vec<u8>, Vec<u8>, u64)> {
    let min_df = if p.min_df == 0 { (n as u32 / 1000).max(1000) } else { p.min_df };
    let mut by_df: Vec<u32> = (0..term_df.len() as u32).filter(|&t| term_df[t as usize] >= min_df).collect();
    by_df.sort_unstable_by_key(|&t| (std::cmp::Reverse(term_df[t as usize]), t));
    by_df.truncate(p.max_terms);
    let mut cand = vec![false; term_df.len()];
    for &t in &by_df {
        cand[t as usize] = true;
    }
    // Count pair dfs in parallel doc ranges; the sums do not depend on the split.
    let parts = (threads * 4).clamp(1, n.max(1));
    let counts = parallel_ranges(n, parts, threads, |r| {
        let mut m: FastMap<u64, u32> = FastMap::default();
        let (mut buf, mut out) = (Vec::new(), Vec::new());
        for d in r {
            if d % 8192 == 0 {
                cancel.check()?;
            }
            doc_pairs(d, p.kind, true, &cand, term_df, term_field, doc_off, ords, tfs, adj_off, adj, &mut buf, &mut out);
            for &(k, _, _) in &out {
                *m.entry(k).or_insert(0) += 1;
            }
        }
        Ok(m)
    })?;
    let mut total: FastMap<u64, u32> = FastMap::default();
    for m in counts {
        for (k, c) in m {
            *total.entry(k).or_insert(0) += c;
        }
    }
    let min_pair_df = p.min_pair_df.max(2);
    let mut keep: Vec<(u64, u32)> = total.into_iter().filter(|&(_, c)| c >= min_pair_df).collect();
    let saving = |&(k, c): &(u64, u32)| term_df[(k >> 32) as usize].min(term_df[k as u32 as usize]) - c;
    keep.sort_unstable_by(|a, b| saving(b).cmp(&saving(a)).then(a.0.cmp(&b.0)));
    keep.truncate(p.max_pairs);
    keep.sort_unstable();
    cancel.check()?;

    // Lists of the kept pairs, docs in increasing order.
    let index: FastMap<u64, u32> = keep.iter().enumerate().map(|(i, &(k, _))| (k, i as u32)).collect();
    let mut lists: Vec<(Vec<u32>, Vec<u32>, Vec<u32>)> = keep.iter().map(|&(_, c)| (Vec::with_capacity(c as usize), Vec::with_capacity(c as usize), Vec::with_capacity(c as usize))).collect();
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    for d in 0..n {
        doc_pairs(d, p.kind, false, &cand, term_df, term_field, doc_off, ords, tfs, adj_off, adj, &mut buf, &mut out);
        for &(k, ta, tb) in &out {
            if let Some(&i) = index.get(&k) {
                let l = &mut lists[i as usize];
                l.0.push(d as u32);
                l.1.push(ta);
                l.2.push(tb);
            }
        }
    }
    let mut dict = Vec::with_capacity(16 + keep.len() * 24);
    dict.push(p.kind as u8);
    dict.extend_from_slice(&[0u8; 7]);
    dict.extend_from_slice(&(keep.len() as u64).to_le_bytes());
    let mut post = Vec::new();
    for (i, &(k, _)) in keep.iter().enumerate() {
        let (docs, ta, tb) = &lists[i];
        // the list's own length: the capped count above may be lower for docs with > 64 candidates
        let c = docs.len() as u32;
        let start = post.len() as u64;
        let field = term_field[(k >> 32) as usize] as usize;
        let (max_tf, min_len) = encode_list(&mut post, docs, &[ta, tb], &codes[field]);
        dict.extend_from_slice(&k.to_le_bytes());
        dict.extend_from_slice(&c.to_le_bytes());
        dict.extend_from_slice(&[max_tf[0], max_tf[1], min_len, 0]);
        dict.extend_from_slice(&start.to_le_bytes());
    }
    Ok((dict, post, keep.len() as u64))
}
