//! Term-pair postings: candidates are the frequent terms, pairs are
//! counted over the forward lists (`cooc`: both terms in the doc's field; `adjacent`:
//! `b` right after `a`), kept by the postings they save, stored as one list
//! carrying both tfs so `AND(a, b)` reads one short list.

use super::{PairOptions, encode_list};
use crate::parallel::parallel_ranges;

/// At most this many candidate terms (their pair counts are a dense matrix: 16 MiB per thread).
pub const MAX_CANDIDATES: usize = 2048;
use super::super::PairKind;
use crate::cancel::CancelToken;
use crate::error::Result;

/// The candidate pairs of one doc: (key, tf of a, tf of b).
#[allow(clippy::too_many_arguments)] // the hot per-doc step takes the slices it reads and its scratch buffers by value
fn doc_pairs(
    d: usize,
    kind: PairKind,
    cap: bool,
    cand: &[bool],
    term_df: &[u32],
    term_field: &[u8],
    doc_off: &[u64],
    ords: &[u32],
    tfs: &[u32],
    adj_off: &[u64],
    adj: &[u64],
    buf: &mut Vec<(u32, u32)>,
    out: &mut Vec<(u64, u32, u32)>,
) {
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
pub fn build(
    p: &PairOptions,
    n: usize,
    term_df: &[u32],
    term_field: &[u8],
    doc_off: &[u64],
    ords: &[u32],
    tfs: &[u32],
    adj_off: &[u64],
    adj: &[u64],
    codes: &[Vec<u8>],
    threads: usize,
    cancel: &CancelToken,
) -> Result<(Vec<u8>, Vec<u8>, u64)> {
    let min_df = if p.min_df == 0 { (n as u32 / 1000).max(1000) } else { p.min_df };
    let mut by_df: Vec<u32> = (0..term_df.len() as u32).filter(|&t| term_df[t as usize] >= min_df).collect();
    by_df.sort_unstable_by_key(|&t| (std::cmp::Reverse(term_df[t as usize]), t));
    by_df.truncate(p.max_terms.min(MAX_CANDIDATES));
    // Candidates by rank; pair counts live in a dense rank x rank matrix (no hashing).
    let nc = by_df.len();
    let mut rank = vec![u32::MAX; term_df.len()];
    for (r, &t) in by_df.iter().enumerate() {
        rank[t as usize] = r as u32;
    }
    let cand: Vec<bool> = rank.iter().map(|&r| r != u32::MAX).collect();
    let cell = |k: u64| rank[(k >> 32) as usize] as usize * nc + rank[k as u32 as usize] as usize;
    // Count pair dfs in parallel doc ranges; the sums do not depend on the split.
    let parts = threads.clamp(1, n.max(1));
    let counts = parallel_ranges(n, parts, threads, |r| {
        let mut m = vec![0u32; nc * nc];
        let (mut buf, mut out) = (Vec::new(), Vec::new());
        for d in r {
            if d % 8192 == 0 {
                cancel.check()?;
            }
            doc_pairs(d, p.kind, true, &cand, term_df, term_field, doc_off, ords, tfs, adj_off, adj, &mut buf, &mut out);
            for &(k, _, _) in &out {
                m[cell(k)] += 1;
            }
        }
        Ok(m)
    })?;
    let mut total = vec![0u32; nc * nc];
    for m in counts {
        for (t, c) in total.iter_mut().zip(m) {
            *t += c;
        }
    }
    let min_pair_df = p.min_pair_df.max(2);
    let mut keep: Vec<(u64, u32)> = Vec::new();
    for (i, &c) in total.iter().enumerate() {
        if c >= min_pair_df {
            let (a, b) = (by_df[i / nc], by_df[i % nc]);
            keep.push(((a as u64) << 32 | b as u64, c));
        }
    }
    drop(total);
    // A knapsack by bytes. Queries pair terms that occur together, about in proportion to the
    // pair's df, and a pair list costs bytes in proportion to the same df, so the postings a query
    // no longer reads (both lists, df_a + df_b, instead of the pair's df_ab) rank the pairs per byte.
    // Pairs the planner would not use (see format::PAIR_MAX_FRACTION) are dropped.
    let (dfa, dfb) = (|k: u64| term_df[(k >> 32) as usize] as u64, |k: u64| term_df[k as u32 as usize] as u64);
    keep.retain(|&(k, c)| (c as f64) < super::super::format::PAIR_MAX_FRACTION * dfa(k).min(dfb(k)) as f64);
    let saving = |&(k, c): &(u64, u32)| dfa(k) + dfb(k) - c as u64;
    keep.sort_unstable_by(|a, b| saving(b).cmp(&saving(a)).then(a.0.cmp(&b.0)));
    // greedy: a pair that does not fit is passed over, smaller ones after it may
    let mut bytes = 0usize;
    keep.retain(|&(_, c)| {
        let b = 4 * c as usize + 24;
        let fits = bytes + b <= p.max_bytes;
        if fits {
            bytes += b;
        }
        fits
    });
    keep.truncate(p.max_pairs);
    keep.sort_unstable();
    cancel.check()?;

    // Lists of the kept pairs, docs in increasing order.
    let mut index = vec![u32::MAX; nc * nc];
    for (i, &(k, _)) in keep.iter().enumerate() {
        index[cell(k)] = i as u32;
    }
    let mut lists: Vec<(Vec<u32>, Vec<u32>, Vec<u32>)> = keep
        .iter()
        .map(|&(_, c)| (Vec::with_capacity(c as usize), Vec::with_capacity(c as usize), Vec::with_capacity(c as usize)))
        .collect();
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    for d in 0..n {
        if d % 8192 == 0 {
            cancel.check()?;
        }
        doc_pairs(d, p.kind, false, &cand, term_df, term_field, doc_off, ords, tfs, adj_off, adj, &mut buf, &mut out);
        for &(k, ta, tb) in &out {
            let i = index[cell(k)];
            if i != u32::MAX {
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
