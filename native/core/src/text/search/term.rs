//! One term on its own: a scan of its list with block-max skipping.

use super::Hits;
use super::topk::TopK;
use super::tree::Leaf;
use crate::text::NO_MORE;
use crate::text::bm25::Scorer;
use crate::text::postings::Cursor;
use crate::text::reader::TextIndex;

/// One list: skip whole blocks whose bound cannot beat the k-th score; inside a block, a
/// posting is first judged without a division (w tf (k1+1) against theta (tf + norm)),
/// with a margin far above rounding, and only possible entrants are scored exactly.
pub(super) fn term_scan(idx: &TextIndex, sc: &Scorer, c: &mut Cursor, leaf: Leaf, top: &mut TopK, hits: &mut Hits) {
    let deleted = idx.has_deletes();
    let codes = sc.f[leaf.f].codes;
    let norm: &[f64; 256] = &sc.f[leaf.f].norm;
    let wk = leaf.w * sc.f[leaf.f].k1p1;
    let mut theta_lo = f64::NEG_INFINITY;
    let mut skipped = false;
    while c.doc != NO_MORE {
        let bi = c.bi;
        if bi < c.n_full() && top.is_full() {
            let (mt, ml) = c.block_bound(bi);
            if sc.bound(leaf.f, leaf.w, mt[0], ml) <= top.theta() {
                skipped = true;
                c.skip_block();
                continue;
            }
        }
        c.ensure_block();
        let (docs, tfs) = c.rest();
        hits.total += docs.len() as u64;
        for (&d, &tf) in docs.iter().zip(tfs) {
            if deleted && idx.is_deleted(d) {
                hits.total -= 1;
                continue;
            }
            let code = codes[d as usize] as usize;
            let t = tf as f64;
            if wk * t < theta_lo * (t + norm[code]) {
                continue;
            }
            if top.push(sc.contrib(leaf.f, leaf.w, tf, d), d) && top.is_full() {
                theta_lo = top.theta() * (1.0 - 1e-9);
            }
        }
        c.skip_block();
    }
    if skipped {
        hits.total = c.df() as u64 - if deleted { idx.deleted_count.min(c.df() as u64) } else { 0 };
        hits.total_exact = !deleted;
    }
}
