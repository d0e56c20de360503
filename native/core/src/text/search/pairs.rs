//! A pair list on its own: the scan of a phrase or of a two-term conjunction the pair index holds.

use super::Hits;
use super::topk::{TopK, exact_sum};
use super::tree::Leaf;
use crate::text::NO_MORE;
use crate::text::bm25::{BOUND_SLACK, Scorer};
use crate::text::postings::Cursor;
use crate::text::reader::TextIndex;

/// One pair list (a conjunction of two terms the pair index holds): a block whose two bounds
/// cannot beat theta is skipped whole, and inside a block each posting's two contributions are
/// summed and only a doc that could enter gets the exact sum.
#[allow(clippy::too_many_arguments)]
pub(super) fn pair_scan(
    idx: &TextIndex,
    sc: &Scorer,
    c: &mut Cursor,
    la: Leaf,
    lb: Leaf,
    top: &mut TopK,
    hits: &mut Hits,
    slots: &mut [f64],
    order: &[usize],
) {
    let deleted = idx.has_deletes();
    let mut skipped = false;
    while c.doc != NO_MORE {
        let bi = c.bi;
        if bi < c.n_full() && top.is_full() {
            let (mt, ml) = c.block_bound(bi);
            if sc.bound(la.f, la.w, mt[0], ml) + sc.bound(lb.f, lb.w, mt[1], ml) <= top.theta() {
                skipped = true;
                c.skip_block();
                continue;
            }
        }
        c.ensure_block();
        let (docs, ta, tb) = c.rest2();
        for ((&d, &x), &y) in docs.iter().zip(ta).zip(tb) {
            if deleted && idx.is_deleted(d) {
                continue;
            }
            hits.total += 1;
            let (x, y) = (sc.contrib_fast(la.f, la.w, x, d), sc.contrib_fast(lb.f, lb.w, y, d));
            if (x + y) * BOUND_SLACK <= top.theta() {
                continue;
            }
            slots[la.slot] = x;
            slots[lb.slot] = y;
            top.push(exact_sum(slots, order), d);
        }
        c.skip_block();
    }
    if skipped {
        hits.total = c.df() as u64 - if deleted { idx.deleted_count.min(c.df() as u64) } else { 0 };
        hits.total_exact = !deleted;
    }
}
