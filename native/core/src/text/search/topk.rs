//! Top-k collection: a min-heap of (score, doc) and the exact sum of a document's slots.

/// Top-k by (score desc, doc asc): a min-heap whose root is the worst kept hit.
pub(super) struct TopK {
    pub(super) k: usize,
    heap: Vec<(f64, u32)>,
}

impl TopK {
    pub(super) fn new(k: usize) -> TopK {
        TopK { k, heap: Vec::with_capacity(k + 1) }
    }
    /// k hits are kept: a new one must beat the worst.
    #[inline]
    pub(super) fn is_full(&self) -> bool {
        self.heap.len() == self.k
    }
    #[inline]
    fn worse(a: (f64, u32), b: (f64, u32)) -> bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 > b.1)
    }
    #[inline]
    pub(super) fn theta(&self) -> f64 {
        if self.heap.len() < self.k { f64::NEG_INFINITY } else { self.heap[0].0 }
    }
    /// Offer a hit; true if it was kept.
    pub(super) fn push(&mut self, s: f64, d: u32) -> bool {
        let h = &mut self.heap;
        if h.len() < self.k {
            h.push((s, d));
            let mut i = h.len() - 1;
            while i > 0 {
                let p = (i - 1) / 2;
                if Self::worse(h[i], h[p]) {
                    h.swap(i, p);
                    i = p;
                } else {
                    break;
                }
            }
            true
        } else if Self::worse(h[0], (s, d)) {
            h[0] = (s, d);
            let mut i = 0;
            loop {
                let (l, r) = (2 * i + 1, 2 * i + 2);
                let mut m = i;
                if l < h.len() && Self::worse(h[l], h[m]) {
                    m = l;
                }
                if r < h.len() && Self::worse(h[r], h[m]) {
                    m = r;
                }
                if m == i {
                    break;
                }
                h.swap(i, m);
                i = m;
            }
            true
        } else {
            false
        }
    }
    pub(super) fn into_sorted(mut self) -> (Vec<u32>, Vec<f64>) {
        self.heap.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        (self.heap.iter().map(|x| x.1).collect(), self.heap.iter().map(|x| x.0).collect())
    }
}

/// Exact score at the current doc: slots summed in (ordinal, position) order, then cleared.
#[inline]
pub(super) fn exact_sum(slots: &mut [f64], order: &[usize]) -> f64 {
    let mut t = 0.0;
    for &i in order {
        t += slots[i];
        slots[i] = 0.0;
    }
    t
}
