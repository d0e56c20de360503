//! Posting-list cursors over POSTINGS (terms) and PAIR_POSTINGS (pairs): a skip table of one
//! entry per full 128-doc block (last doc, offset, bit widths, block maxima), the packed blocks,
//! then a VInt tail. A cursor decodes a block's docs whole and its tfs lazily, and moves with
//! `advance` through the skip table.

use super::codec::{BLOCK, get_vint, u32_at, unpack, unpack_docs};
use super::{NO_MORE, PAIR_SKIP_ENTRY, SKIP_ENTRY};

/// A posting-list cursor (terms: one tf stream; pairs: two).
pub struct Cursor<'a> {
    ntf: usize,
    df: u32,
    n_full: usize,
    skip: &'a [u8],
    entry: usize,
    blocks: &'a [u8],
    tail_off: usize,
    /// Current block (n_full = the tail).
    pub bi: usize,
    /// The decoded block, on the heap so a cursor moves cheaply; back to `SPARE_BUFS` on drop.
    buf: std::mem::ManuallyDrop<Box<CursorBuf>>,
    len: usize,
    pos: usize,
    tf_ready: bool,
    tf_at: usize,
    pub doc: u32,
}

struct CursorBuf {
    /// The block's docs, then PAD entries of u32::MAX (and u32::MAX past a short tail's docs):
    /// a conjunction compares groups of 8 without a bounds check (`Cursor::intersect`).
    docs: [u32; BLOCK + PAD],
    tfs: [[u32; BLOCK]; 2],
}

thread_local! {
    /// Block buffers of dropped cursors, for the next cursors on this thread: a query makes a
    /// cursor per term, and a fresh zeroed 1.5 KB allocation each time was a tenth of a light
    /// query's cost. Every read of a buffer is below `len` or in the padding, so what a previous
    /// cursor left in it is never seen.
    #[allow(clippy::vec_box)] // the boxes are reused as they are: no 1.5 KB move in or out
    static SPARE_BUFS: std::cell::RefCell<Vec<Box<CursorBuf>>> = const { std::cell::RefCell::new(Vec::new()) };
}

const SPARE_BUFS_MAX: usize = 64;

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        // SAFETY: `buf` is taken once, here, and the cursor is not used afterwards.
        let buf = unsafe { std::mem::ManuallyDrop::take(&mut self.buf) };
        let _ = SPARE_BUFS.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < SPARE_BUFS_MAX {
                s.push(buf);
            }
        });
    }
}

impl CursorBuf {
    /// A spare buffer of this thread, or a new one.
    fn take() -> std::mem::ManuallyDrop<Box<CursorBuf>> {
        std::mem::ManuallyDrop::new(SPARE_BUFS.try_with(|s| s.borrow_mut().pop()).ok().flatten().unwrap_or_else(CursorBuf::new))
    }

    fn new() -> Box<CursorBuf> {
        // SAFETY: all-zero bytes are a valid CursorBuf (arrays of u32). Zeroed allocation, not a
        // 1.5 KB value built on the stack and copied.
        let mut b = unsafe { Box::<CursorBuf>::new_zeroed().assume_init() };
        b.docs[BLOCK..].fill(u32::MAX);
        b
    }
}

const PAD: usize = 8;

/// Value `i` of a packed run of `w`-bit values starting at byte `at`.
#[inline(always)]
pub(super) fn packed_at(b: &[u8], at: usize, w: u32, i: usize) -> u32 {
    if w == 0 {
        return 0;
    }
    let bit = i * w as usize;
    let byte = at + (bit >> 3);
    let word = if byte + 8 <= b.len() {
        u64::from_le_bytes(b[byte..byte + 8].try_into().unwrap())
    } else {
        let mut tmp = [0u8; 8];
        for (k, t) in tmp.iter_mut().enumerate().take(b.len() - byte) {
            *t = b[byte + k];
        }
        u64::from_le_bytes(tmp)
    } >> (bit & 7);
    let mask = if w == 32 { u32::MAX as u64 } else { (1u64 << w) - 1 };
    (word & mask) as u32
}

impl<'a> Cursor<'a> {
    pub(super) fn new(list: &'a [u8], df: u32, ntf: usize) -> Cursor<'a> {
        let mut c = Cursor::unloaded(list, df, ntf);
        c.load(0);
        c
    }

    /// A cursor before its first block is decoded (`is_unloaded`): only its skip data may be read
    /// until `start_at`.
    pub(super) fn unloaded(list: &'a [u8], df: u32, ntf: usize) -> Cursor<'a> {
        let n_full = df as usize / BLOCK;
        let entry = if ntf == 1 { SKIP_ENTRY } else { PAIR_SKIP_ENTRY };
        let skip = &list[..n_full * entry];
        let blocks = &list[n_full * entry..];
        let tail_off = if n_full == 0 {
            0
        } else {
            let e = &skip[(n_full - 1) * entry..];
            let widths: usize = if ntf == 1 { e[8] as usize + e[9] as usize } else { e[8] as usize + e[9] as usize + e[10] as usize };
            u32_at(e, 4) as usize + 16 * widths
        };
        Cursor {
            ntf,
            df,
            n_full,
            skip,
            entry,
            blocks,
            tail_off,
            bi: 0,
            buf: CursorBuf::take(),
            len: 0,
            pos: 0,
            tf_ready: false,
            tf_at: 0,
            doc: 0,
        }
    }

    pub fn is_unloaded(&self) -> bool {
        self.len == 0 && self.doc != NO_MORE
    }

    /// First move of an unloaded cursor: decode the block that can hold `target` (not block 0)
    /// and stop at its first doc >= target.
    pub fn start_at(&mut self, target: u32) -> u32 {
        let b = if self.n_full == 0 || self.last_doc(0) >= target { 0 } else { self.block_for(target) };
        self.load(b);
        if self.doc == NO_MORE {
            return NO_MORE;
        }
        self.seek_in_block(target);
        self.settle()
    }

    pub(super) fn singleton(doc: u32, tf: u32) -> Cursor<'static> {
        let mut c = Cursor {
            ntf: 1,
            df: 1,
            n_full: 0,
            skip: &[],
            entry: SKIP_ENTRY,
            blocks: &[],
            tail_off: 0,
            bi: 0,
            buf: CursorBuf::take(),
            len: 1,
            pos: 0,
            tf_ready: true,
            tf_at: 0,
            doc,
        };
        c.buf.docs[0] = doc;
        c.buf.docs[1..BLOCK].fill(u32::MAX);
        c.buf.tfs[0][0] = tf;
        c
    }

    pub fn df(&self) -> u32 {
        self.df
    }
    pub fn n_full(&self) -> usize {
        self.n_full
    }

    #[inline]
    fn last_doc(&self, b: usize) -> u32 {
        u32_at(self.skip, b * self.entry)
    }

    /// (max tf per stream, min len code) of full block `b`.
    #[inline]
    pub fn block_bound(&self, b: usize) -> ([u8; 2], u8) {
        let e = &self.skip[b * self.entry..];
        if self.ntf == 1 { ([e[10], 0], e[11]) } else { ([e[11], e[12]], e[13]) }
    }

    /// Bound data of the block that holds `target` or would (no decoding): (max tf per stream,
    /// min len code, the block's last doc); `None` in the tail (use the list's bound).
    #[inline]
    pub fn bound_at(&self, target: u32) -> Option<([u8; 2], u8, u32)> {
        let lo = if self.bi < self.n_full && self.last_doc(self.bi) >= target { self.bi } else { self.block_for(target) };
        (lo < self.n_full).then(|| {
            let (mt, ml) = self.block_bound(lo);
            (mt, ml, self.last_doc(lo))
        })
    }

    /// The first full block after the current one whose last doc >= target (`n_full`: the tail).
    /// Galloping from the current block: successive probes of one query land close together, so
    /// the first steps stay in the cache lines already read.
    #[inline]
    fn block_for(&self, target: u32) -> usize {
        self.block_from(self.bi + 1, target)
    }

    /// The first full block from `lo` on whose last doc >= target (`n_full`: the tail).
    #[inline]
    fn block_from(&self, mut lo: usize, target: u32) -> usize {
        let mut step = 1;
        let mut hi = lo;
        while hi < self.n_full && self.last_doc(hi) < target {
            lo = hi + 1;
            hi += step;
            step *= 2;
        }
        let mut hi = hi.min(self.n_full);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.last_doc(mid) < target { lo = mid + 1 } else { hi = mid }
        }
        lo
    }

    /// Last doc of the current block (the tail: NO_MORE - 1).
    #[inline]
    pub fn block_last(&self) -> u32 {
        if self.bi < self.n_full { self.last_doc(self.bi) } else { NO_MORE - 1 }
    }

    fn load(&mut self, b: usize) {
        self.bi = b;
        self.pos = 0;
        let prev_last: i64 = if b == 0 { -1 } else { self.last_doc(b - 1) as i64 };
        if b < self.n_full {
            let e = &self.skip[b * self.entry..(b + 1) * self.entry];
            let off = u32_at(e, 4) as usize;
            let w = e[8];
            // whole-block decoding: a plain unpack and prefix sum beats value-by-value
            // extraction even when a probe needs only part of the block
            unpack_docs(&self.blocks[off..], w, prev_last, self.buf.docs.first_chunk_mut().unwrap());
            self.len = BLOCK;
            self.tf_ready = false;
            self.tf_at = off + 16 * w as usize;
            self.doc = self.buf.docs[0];
            return;
        }
        // the VInt tail
        let count = self.df as usize - self.n_full * BLOCK;
        let mut pos = self.tail_off;
        let mut p = prev_last;
        for k in 0..count {
            let v = get_vint(self.blocks, &mut pos).unwrap_or(0);
            if self.ntf == 1 {
                p += (v >> 1) as i64 + 1;
                self.buf.tfs[0][k] = if v & 1 == 1 { 1 } else { get_vint(self.blocks, &mut pos).unwrap_or(0) as u32 + 1 };
            } else {
                p += v as i64 + 1;
                self.buf.tfs[0][k] = get_vint(self.blocks, &mut pos).unwrap_or(0) as u32 + 1;
                self.buf.tfs[1][k] = get_vint(self.blocks, &mut pos).unwrap_or(0) as u32 + 1;
            }
            self.buf.docs[k] = p as u32;
        }
        self.buf.docs[count..BLOCK].fill(u32::MAX);
        self.len = count;
        self.tf_ready = true;
        self.doc = if count == 0 { NO_MORE } else { self.buf.docs[0] };
    }

    /// Move `pos` to the first doc >= target in the current block (or to `len`).
    /// Targets of one query rise slowly, so a short linear look comes first.
    #[inline]
    fn seek_in_block(&mut self, target: u32) {
        let docs = &self.buf.docs[..self.len];
        let mut p = self.pos;
        let end = (p + 8).min(docs.len());
        while p < end && docs[p] < target {
            p += 1;
        }
        if p == end {
            p += docs[p..].partition_point(|&d| d < target);
        }
        self.pos = p;
    }

    #[inline(always)]
    #[allow(clippy::should_implement_trait)] // a cursor returning a sentinel doc id, not an Iterator
    pub fn next(&mut self) -> u32 {
        self.pos += 1;
        self.settle()
    }

    /// After `pos` moved: the doc there, or the next block's first, or the end.
    #[inline(always)]
    fn settle(&mut self) -> u32 {
        if self.pos < self.len {
            self.doc = self.buf.docs[self.pos];
        } else if self.bi < self.n_full {
            self.load(self.bi + 1);
        } else {
            self.doc = NO_MORE;
        }
        self.doc
    }

    /// First doc >= target.
    #[inline]
    pub fn advance(&mut self, target: u32) -> u32 {
        if self.doc >= target {
            return self.doc;
        }
        if self.bi < self.n_full && target > self.last_doc(self.bi) {
            let lo = self.block_for(target);
            self.load(lo);
            if self.doc == NO_MORE {
                return NO_MORE;
            }
        }
        self.seek_in_block(target);
        self.settle()
    }

    /// Move `j` postings forward inside the current block (`j` < what `rest` holds).
    #[inline]
    pub fn step(&mut self, j: usize) {
        self.pos += j;
        self.doc = self.buf.docs[self.pos];
    }

    /// Move to the first doc of block `b` (`n_full`: the tail).
    pub fn goto_block(&mut self, b: usize) {
        self.load(b.min(self.n_full));
    }

    /// Move to the first doc of the block after the current one (block-max skipping).
    pub fn skip_block(&mut self) -> u32 {
        if self.bi < self.n_full {
            self.load(self.bi + 1);
        } else {
            self.pos = self.len;
            self.doc = NO_MORE;
        }
        self.doc
    }

    #[inline]
    fn decode_tfs(&mut self) {
        let e = &self.skip[self.bi * self.entry..];
        let mut at = self.tf_at;
        for s in 0..self.ntf {
            let w = e[9 + s];
            unpack(&self.blocks[at..], w, &mut self.buf.tfs[s]);
            for t in self.buf.tfs[s].iter_mut() {
                *t += 1;
            }
            at += 16 * w as usize;
        }
        self.tf_ready = true;
    }

    /// tf of stream `s` (0, or 1 for a pair's second term) at the current doc: from the
    /// decoded block, or read out of the packed block alone (an AND needs few tfs per block).
    #[inline]
    pub fn tf(&mut self, s: usize) -> u32 {
        if self.tf_ready {
            return self.buf.tfs[s][self.pos];
        }
        let e = &self.skip[self.bi * self.entry..];
        let mut at = self.tf_at;
        for k in 0..s {
            at += 16 * e[9 + k] as usize;
        }
        packed_at(self.blocks, at, e[9 + s] as u32, self.pos) + 1
    }

    /// tf of stream 0 at the current doc without changing the cursor's state (no block decode).
    #[inline]
    pub fn tf_peek(&self) -> u32 {
        if self.tf_ready {
            return self.buf.tfs[0][self.pos];
        }
        let e = &self.skip[self.bi * self.entry..];
        packed_at(self.blocks, self.tf_at, e[9] as u32, self.pos) + 1
    }

    /// Position of the cursor in its block.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// tf of stream 0 at position `p` of the current block (the cursor does not move).
    #[inline]
    pub fn tf_at(&self, p: usize) -> u32 {
        if self.tf_ready {
            return self.buf.tfs[0][p];
        }
        let e = &self.skip[self.bi * self.entry..];
        packed_at(self.blocks, self.tf_at, e[9] as u32, p) + 1
    }

    /// tfs of stream 0 at the positions `pos + at[m]` of the current block (the cursor does not
    /// move): read one by one out of the packed block for a few, else the block is decoded.
    pub fn tfs_at(&mut self, at: &[u8], out: &mut [u32]) {
        if !self.tf_ready && at.len() >= 8 {
            self.decode_tfs();
        }
        let p0 = self.pos;
        if self.tf_ready {
            for (o, &j) in out.iter_mut().zip(at) {
                *o = self.buf.tfs[0][p0 + j as usize];
            }
        } else {
            for (o, &j) in out.iter_mut().zip(at) {
                *o = self.tf_at(p0 + j as usize);
            }
        }
    }

    /// One step of a conjunction: keep those of the ascending candidates `docs[..n]` that this list
    /// holds (compacting `sel`, their indexes into `tfs`, alongside) and write each kept one's tf
    /// to `tfs[sel]`; returns how many were kept. Blocks without a candidate are skipped through
    /// the skip data (the blocks that few candidates fall in are prefetched together first); in a
    /// block, a few candidates are binary-searched, many are placed by counting the postings
    /// below each eight at a time (about one step per candidate, not one per candidate and
    /// posting as a merge takes, and no branch on the data but a rare skip of eight). Afterwards the cursor
    /// lies past the last candidate, or at the end of the block it merged last (`doc` is then
    /// stale but below every later target, which `advance` handles).
    #[inline(always)]
    pub fn intersect(&mut self, docs: &mut [u32; BLOCK], sel: &mut [u8; BLOCK], n: usize, tfs: &mut [u32; BLOCK]) -> usize {
        if n <= 16 {
            self.prefetch_blocks(&docs[..n]);
        }
        let mut at = [0u8; BLOCK];
        let (mut j, mut k) = (0, 0);
        while j < n {
            let d = if self.is_unloaded() { self.start_at(docs[j]) } else { self.advance(docs[j]) };
            if d == NO_MORE {
                break;
            }
            let (len, mut p, k0) = (self.len, self.pos, k);
            // the candidates this block can hold; the next one after them moves to another block
            let jend = j + docs[j..n].partition_point(|&d| d <= self.buf.docs[len - 1]);
            if (jend - j) * 8 < len - p {
                // few candidates for many postings: look each one up
                while j < jend {
                    let a = docs[j];
                    p += self.buf.docs[p..len].partition_point(|&d| d < a);
                    if self.buf.docs[p] == a {
                        (docs[k], sel[k], at[k]) = (a, sel[j], p as u8);
                        k += 1;
                    }
                    j += 1;
                }
            } else {
                // for each candidate, whole groups of 8 postings below it are passed, then the
                // postings below it in the next group are counted (branch-free, vectorized): about
                // one step per candidate instead of one per candidate and posting. Every candidate
                // is <= the block's last doc, and the padding is u32::MAX, so p stays below len.
                let block = &self.buf.docs;
                while j < jend {
                    let a = docs[j];
                    while block[(p + 7).min(BLOCK + PAD - 1)] < a {
                        p += 8;
                    }
                    let g: &[u32; 8] = block[p.min(BLOCK)..].first_chunk().unwrap();
                    p += g.iter().map(|&d| (d < a) as usize).sum::<usize>();
                    let hit = block[p.min(BLOCK - 1)] == a;
                    (docs[k & (BLOCK - 1)], sel[k & (BLOCK - 1)], at[k & (BLOCK - 1)]) = (a, sel[j], p as u8);
                    k += hit as usize;
                    j += 1;
                }
            }
            for m in k0..k {
                tfs[sel[m] as usize] = self.tf_at(at[m] as usize);
            }
            self.pos = p;
            if p < len {
                self.doc = self.buf.docs[p];
            }
        }
        k
    }

    /// Prefetch the blocks that would hold the ascending `targets` (from the current block on):
    /// a few candidates spread over several blocks then wait for their cache misses together
    /// instead of one after another.
    fn prefetch_blocks(&self, targets: &[u32]) {
        let (mut b, mut last) = (if self.is_unloaded() { 0 } else { self.bi }, usize::MAX);
        for &t in targets {
            if b < self.n_full && self.last_doc(b) < t {
                b = self.block_from(b + 1, t);
            }
            if b != last {
                last = b;
                let (off, bytes) = if b < self.n_full {
                    let e = &self.skip[b * self.entry..];
                    (u32_at(e, 4) as usize, 16 * e[8] as usize)
                } else {
                    (self.tail_off, 128)
                };
                for o in (off..(off + bytes).min(self.blocks.len())).step_by(64) {
                    crate::prefetch::prefetch(&self.blocks[o]);
                }
            }
        }
    }

    /// The rest of the current block's docs from the cursor (always decoded; tfs are not needed).
    #[inline]
    pub fn rest_docs(&self) -> &[u32] {
        &self.buf.docs[self.pos..self.len]
    }

    /// Decode the current block's tfs too (a scan reads them all).
    #[inline]
    pub fn ensure_block(&mut self) {
        if !self.tf_ready {
            self.decode_tfs();
        }
    }

    /// The rest of the current block from the cursor with both tf streams of a pair list; call
    /// `ensure_block` first.
    #[inline]
    pub fn rest2(&self) -> (&[u32], &[u32], &[u32]) {
        (&self.buf.docs[self.pos..self.len], &self.buf.tfs[0][self.pos..self.len], &self.buf.tfs[1][self.pos..self.len])
    }

    /// The rest of the current block from the cursor: (docs, tfs of stream 0); call `ensure_block` first.
    #[inline]
    pub fn rest(&self) -> (&[u32], &[u32]) {
        (&self.buf.docs[self.pos..self.len], &self.buf.tfs[0][self.pos..self.len])
    }
}

#[cfg(test)]
impl<'a> Cursor<'a> {
    pub fn new_for_test(list: &'a [u8], df: u32) -> Cursor<'a> {
        Cursor::new(list, df, 1)
    }
    pub fn unloaded_for_test(list: &'a [u8], df: u32) -> Cursor<'a> {
        Cursor::unloaded(list, df, 1)
    }
    pub fn singleton_for_test(doc: u32, tf: u32) -> Cursor<'static> {
        Cursor::singleton(doc, tf)
    }
    /// Fill this thread's spare block buffers with zeros (stale docs below every candidate).
    pub fn poison_spare_bufs_for_test() {
        SPARE_BUFS.with(|s| {
            let mut s = s.borrow_mut();
            s.extend((0..8).map(|_| CursorBuf::new()));
            for b in s.iter_mut() {
                b.docs[..BLOCK].fill(0);
            }
        });
    }
}

/// Check a posting list (`ntf` tf streams, `df` postings) against everything a cursor relies on,
/// at open: the skip table inside the list, blocks back to back inside it with bit widths of at
/// most 32, every doc below `n` and strictly ascending across the list, each full block ending on
/// the doc its skip entry names, and a VInt tail that decodes to the remaining postings. Only doc
/// ids are decoded from the packed blocks (tfs of any value are safe to read).
pub fn check_list(list: &[u8], df: u32, ntf: usize, n: u32, scratch: &mut [u32; BLOCK]) -> Result<(), &'static str> {
    let n_full = df as usize / BLOCK;
    let entry = if ntf == 1 { SKIP_ENTRY } else { PAIR_SKIP_ENTRY };
    let skip = list.get(..n_full * entry).ok_or("skip table runs past its list")?;
    let blocks = &list[n_full * entry..];
    let (mut prev, mut off) = (-1i64, 0usize);
    for e in skip.chunks_exact(entry) {
        let (last, at) = (u32_at(e, 0), u32_at(e, 4) as usize);
        let widths = &e[8..9 + ntf];
        if widths.iter().any(|&w| w > 32) {
            return Err("a block's bit width is above 32");
        }
        if at != off {
            return Err("blocks are not back to back");
        }
        off += 16 * widths.iter().map(|&w| w as usize).sum::<usize>();
        if off > blocks.len() {
            return Err("a block runs past its list");
        }
        if last >= n || (last as i64) < prev + BLOCK as i64 {
            return Err("a block's last doc is out of order or not a document");
        }
        unpack_docs(&blocks[at..], e[8], prev, scratch);
        let mut p = prev;
        for &d in scratch.iter() {
            if d as i64 <= p {
                return Err("docs are not ascending");
            }
            p = d as i64;
        }
        if p != last as i64 {
            return Err("a block does not end on its skip entry's last doc");
        }
        prev = p;
    }
    let mut pos = off;
    for _ in 0..df as usize - n_full * BLOCK {
        let v = get_vint(blocks, &mut pos).ok_or("the tail is truncated")?;
        let (gap, tfs) = if ntf == 1 { (v >> 1, (v & 1 == 0) as usize) } else { (v, 2) };
        for _ in 0..tfs {
            if get_vint(blocks, &mut pos).ok_or("the tail is truncated")? >= u32::MAX as u64 {
                return Err("a tf is out of range");
            }
        }
        if gap >= n as u64 || prev + gap as i64 + 1 >= n as i64 {
            return Err("a tail doc is not a document");
        }
        prev += gap as i64 + 1;
    }
    Ok(())
}
