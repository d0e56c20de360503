//! (distance, row) pairs ordered by distance then row: a total order, so
//! every search and build is deterministic whatever the ties.

use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cand {
    pub d: f32,
    pub id: u32,
}

impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand {
    fn cmp(&self, o: &Self) -> Ordering {
        self.d.total_cmp(&o.d).then(self.id.cmp(&o.id))
    }
}

/// The k smallest candidates seen (a max-heap of size k).
pub struct TopK {
    k: usize,
    heap: std::collections::BinaryHeap<Cand>,
}

impl TopK {
    pub fn new(k: usize) -> TopK {
        TopK { k, heap: std::collections::BinaryHeap::with_capacity(k + 1) }
    }
    /// The current k-th distance (infinite until k are held).
    #[inline]
    pub fn bound(&self) -> f32 {
        if self.heap.len() < self.k { f32::INFINITY } else { self.heap.peek().map_or(f32::INFINITY, |c| c.d) }
    }
    #[inline]
    pub fn push(&mut self, c: Cand) {
        if self.heap.len() < self.k {
            self.heap.push(c);
        } else if let Some(top) = self.heap.peek()
            && c < *top
        {
            self.heap.pop();
            self.heap.push(c);
        }
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    /// Ascending.
    pub fn into_sorted(self) -> Vec<Cand> {
        self.heap.into_sorted_vec()
    }
}
