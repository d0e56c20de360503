//! The vector channel: flat, HNSW and IVF indexes over f32, f16 or SQ8
//! (per-dimension int8) storage, L2 / inner product / cosine, with optional
//! exact f32 re-ranking of the top R. One container (kind VECTOR):
//! PARAMS (JSON), META (u64 words), IDS (u64 per row), VECTORS (the rows, padded
//! to 32 elements), SQ8 (per-dimension min and step), F32 (re-rank rows), F32_CRC
//! (CRC-32C of each re-rank row), and the graph (HNSW_*) or the lists (IVF_*).
//! An SQ8 index whose codes decode to its rows bit for bit keeps no F32 section:
//! it re-ranks from the codes (META word 12 is 2; minor version 1).
//!
//! Graphs and centroids are computed from f32 rows with the bit-identical
//! kernels, so the same input, parameters and seed give the same bytes on any
//! machine and for any thread count.

pub mod filter;
pub mod heap;
pub mod hnsw;
pub mod ivf;
pub mod store;

use crate::cancel::CancelToken;
use crate::container::{self, Container, HeaderFields, Section, kind};
use crate::error::{Error, Result};
use filter::{FilterMode, RowFilter};
use heap::{Cand, TopK};
use hnsw::{Hnsw, Visited};
use ivf::Ivf;
use std::borrow::Cow;
use std::path::Path;
use store::{Metric, Quant, Scorer, Sq8, Store, normalize, padded};

pub const MAJOR: u16 = 1;
/// 1: re-rank rows may be decoded from the SQ8 codes (older readers refuse such a file).
pub const MINOR: u16 = 1;
pub const SECTION_META: u32 = 32;
pub const SECTION_IDS: u32 = 33;
pub const SECTION_VECTORS: u32 = 34;
pub const SECTION_SQ8: u32 = 35;
pub const SECTION_F32: u32 = 36;
pub const SECTION_HNSW_LEVELS: u32 = 37;
pub const SECTION_HNSW_L0: u32 = 38;
pub const SECTION_HNSW_UPPER_OFF: u32 = 39;
pub const SECTION_HNSW_UPPER: u32 = 40;
pub const SECTION_IVF_CENTROIDS: u32 = 41;
pub const SECTION_IVF_OFFSETS: u32 = 42;
/// CRC-32C of every F32 row (u32 each): the F32 section is mapped, not read, so a query checks
/// the rows it re-ranks instead of the whole section. Files written before it have none; their
/// F32 section is checked whole on first use.
pub const SECTION_F32_CRC: u32 = 43;
/// The integer attribute of every row (i64), kept with `--attr` for filtered search.
pub const SECTION_ATTRS: u32 = 44;

/// Upper bounds a reader accepts for parameters a file states (a damaged or re-sealed file must be
/// refused, not drive an allocation); far above anything a build writes.
const MAX_DIM: usize = 1 << 16;
const MAX_LINKS: usize = 1 << 12;

/// Queries a flat scan serves per pass over the rows.
const FLAT_BATCH: usize = 16;
/// Queries IVF serves together: probed 32 at a time (a row panel), then scanned list by list, so a
/// list's rows are read once for every query of the batch that probes it. At most 2048, and at
/// most what 32 MiB of padded queries hold (a batch keeps two copies of its queries), in panels.
fn ivf_batch(stride: usize) -> usize {
    let panel = crate::kernels::PANEL_ROWS;
    ((32 << 20) / (4 * stride.max(1)) / panel).clamp(1, 64) * panel
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexType {
    Flat,
    Hnsw,
    Ivf,
}

impl IndexType {
    pub fn parse(s: &str) -> Option<IndexType> {
        match s {
            "flat" => Some(IndexType::Flat),
            "hnsw" => Some(IndexType::Hnsw),
            "ivf" => Some(IndexType::Ivf),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            IndexType::Flat => "flat",
            IndexType::Hnsw => "hnsw",
            IndexType::Ivf => "ivf",
        }
    }
}

#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub kind: IndexType,
    pub metric: Metric,
    pub quant: Quant,
    pub m: usize,
    pub ef_construction: usize,
    pub nlist: usize,
    pub kmeans_iters: usize,
    pub seed: u64,
    pub threads: usize,
    /// Keep the f32 rows for re-ranking (quantised stores only).
    pub keep_f32: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            kind: IndexType::Hnsw,
            metric: Metric::L2,
            quant: Quant::F32,
            m: 16,
            ef_construction: 200,
            nlist: 0,
            kmeans_iters: 10,
            seed: 0,
            threads: 1,
            keep_f32: false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct SearchParams {
    pub k: usize,
    pub ef: usize,
    pub nprobe: usize,
    /// Re-rank the top `rerank` candidates with exact f32 distances (0 = off).
    pub rerank: usize,
    pub threads: usize,
}

/// The f32 rows kept for re-ranking: in memory after a build, mapped (read on
/// first touch) after an open, so a quantised index does not pay for them in RAM;
/// or, when every SQ8 code decodes to its value bit for bit (whole-number data such
/// as pixels), the codes themselves: no copy is stored or held.
pub enum F32Rows {
    Owned(Store),
    Mapped(MappedRows),
    Codes,
}

/// The F32 section of an opened file and how its rows are checked before use.
pub struct MappedRows {
    map: crate::mapped::Mapped,
    stride: usize,
    dim: usize,
    path: String,
    /// Where the section lies and its stored CRC (for messages and the whole-section check).
    offset: u64,
    crc: u32,
    /// Per-row CRC-32C (F32_CRC section), or None for a file written before it.
    row_crcs: Option<Vec<u32>>,
    /// Rows whose checksum already held, a bit each: a row is checked when a query first
    /// re-ranks it, not on every read (the file under the map does not change; a read cache
    /// of checked blocks does the same).
    checked_rows: Vec<std::sync::atomic::AtomicU64>,
    /// Files without row CRCs: the whole section's checksum, computed once on first use.
    whole_ok: std::sync::OnceLock<bool>,
}

impl MappedRows {
    fn damaged(&self, r: Option<usize>) -> Error {
        let row_bytes = (self.stride * 4) as u64;
        let (offset, length, what) = match r {
            Some(r) => (self.offset + r as u64 * row_bytes, row_bytes, format!("f32 row {r}: checksum mismatch")),
            None => (self.offset, self.map.bytes().len() as u64, "f32 section: checksum mismatch".to_string()),
        };
        Error::Corrupt { path: self.path.clone(), offset, length, message: what }
    }

    /// Row `r`, its checksum checked (a row's or, for older files, the section's once).
    fn checked(&self, r: usize) -> Result<&[f32]> {
        let row = &self.map.f32s()[r * self.stride..(r + 1) * self.stride];
        match &self.row_crcs {
            Some(crcs) => {
                use std::sync::atomic::Ordering::Relaxed;
                let (word, bit) = (&self.checked_rows[r / 64], 1u64 << (r % 64));
                if word.load(Relaxed) & bit == 0 {
                    let bytes = &self.map.bytes()[r * self.stride * 4..(r + 1) * self.stride * 4];
                    if crate::checksum::crc32c(bytes) != crcs[r] || !row_is_clean(row, self.dim) {
                        return Err(self.damaged(Some(r)));
                    }
                    word.fetch_or(bit, Relaxed);
                }
            }
            None => {
                if !*self.whole_ok.get_or_init(|| crate::checksum::crc32c(self.map.bytes()) == self.crc) {
                    return Err(self.damaged(None));
                }
            }
        }
        Ok(row)
    }
}

impl F32Rows {
    /// META word 12: 0 no re-rank rows, 1 an F32 section, 2 decoded from the SQ8 codes.
    fn meta_word(f: Option<&F32Rows>) -> u64 {
        match f {
            None => 0,
            Some(F32Rows::Codes) => 2,
            Some(_) => 1,
        }
    }
    /// Row `r` (`stride` f32, zero padded): kept rows in place (owned ones need no check, mapped
    /// ones are checked), or decoded from `store`'s codes into `buf`.
    #[inline]
    pub fn row<'a>(&'a self, r: usize, store: &Store, buf: &'a mut [f32]) -> Result<&'a [f32]> {
        match self {
            F32Rows::Owned(s) => Ok(s.f32_row(r)),
            F32Rows::Mapped(m) => m.checked(r),
            F32Rows::Codes => {
                store.sq8.as_ref().expect("sq8 parameters").decode_row(store.u8_row(r), buf);
                Ok(buf)
            }
        }
    }
    /// Start loading every line of row `r` (`stride` f32), or of its codes.
    #[inline]
    pub fn prefetch_row(&self, r: usize, store: &Store) {
        match self {
            F32Rows::Codes => store.prefetch_row(r),
            _ => {
                let row = self.bytes()[r * store.stride * 4..].as_ptr();
                for off in (0..store.stride * 4).step_by(64) {
                    crate::prefetch::prefetch(row.wrapping_add(off));
                }
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            F32Rows::Owned(s) => s.raw(),
            F32Rows::Mapped(m) => m.map.bytes(),
            F32Rows::Codes => &[],
        }
    }

    /// CRC-32C of every row (`stride` f32 each).
    fn row_crcs(&self, n: usize, stride: usize) -> Vec<u32> {
        let b = self.bytes();
        (0..n).map(|r| crate::checksum::crc32c(&b[r * stride * 4..(r + 1) * stride * 4])).collect()
    }
}

pub struct VectorIndex {
    pub kind: IndexType,
    pub metric: Metric,
    pub n: usize,
    pub dim: usize,
    pub ids: Vec<u64>,
    pub store: Store,
    pub f32: Option<F32Rows>,
    pub hnsw: Option<Hnsw>,
    pub ivf: Option<Ivf>,
    /// The integer attribute of each row (in row order), when the build kept one.
    pub attrs: Option<Vec<i64>>,
    pub header: Option<container::Header>,
}

/// Search results, `k` per query: row positions' ids (or -1) and distances
/// (L2: Euclidean distance; ip: minus the inner product; cosine: 1 - cosine).
pub struct Results {
    pub ids: Vec<i64>,
    pub distances: Vec<f32>,
}

fn check_rows(data: &[f32], n: usize, dim: usize) -> Result<()> {
    if dim == 0 || data.len() != n * dim {
        return Err(Error::InvalidArgument(format!("vectors: {} values are not {n} rows of {dim}", data.len())));
    }
    if let Some(p) = data.iter().position(|x| !x.is_finite()) {
        return Err(Error::InvalidArgument(format!("row {}: element {} is {} (vectors must be finite)", p / dim, p % dim, data[p])));
    }
    Ok(())
}

/// A stored f32 row: finite values, zero padding (the kernels read the whole padded row).
fn row_is_clean(row: &[f32], dim: usize) -> bool {
    row[..dim].iter().all(|x| x.is_finite()) && row[dim..].iter().all(|&x| x.to_bits() == 0)
}

/// The VECTORS section as a reader relies on it: finite values and zero padding in every row.
fn check_stored_rows(bytes: &[u8], n: usize, dim: usize, quant: Quant) -> std::result::Result<(), String> {
    let stride = padded(dim);
    let bad = |r: usize| Err(format!("vectors: row {r} holds a value that is not a finite number, or non-zero padding"));
    for r in 0..n {
        let row = &bytes[r * stride * quant.bytes()..(r + 1) * stride * quant.bytes()];
        let ok = match quant {
            Quant::F32 => row.chunks_exact(4).enumerate().all(|(j, x)| {
                let x = f32::from_le_bytes([x[0], x[1], x[2], x[3]]);
                if j < dim { x.is_finite() } else { x.to_bits() == 0 }
            }),
            // an f16 whose exponent bits are all set is an infinity or a NaN
            Quant::F16 => row.chunks_exact(2).enumerate().all(|(j, h)| {
                let h = u16::from_le_bytes([h[0], h[1]]);
                if j < dim { h & 0x7c00 != 0x7c00 } else { h == 0 }
            }),
            Quant::Sq8 => row[dim..].iter().all(|&c| c == 0),
        };
        if !ok {
            return bad(r);
        }
    }
    Ok(())
}

fn le_u64(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
fn le_u32(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
fn le_f32(words: &[f32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
fn u64s(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}
fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
}
/// `u32s` into huge-page-advised memory: a graph search reads link blocks at random.
fn u32s_huge(b: &[u8]) -> Vec<u32> {
    let mut v = vec![0u32; b.len() / 4];
    crate::hugebuf::advise_huge(&mut v);
    for (w, c) in v.iter_mut().zip(b.chunks_exact(4)) {
        *w = u32::from_le_bytes(c.try_into().unwrap());
    }
    v
}
fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// Rows, ids and attributes moved so that row `new` is what row `order[new]` was. The rows move in
/// place, cycle by cycle: a build holds several copies of its rows already.
fn reorder(rows: &mut [f32], dim: usize, ids: &mut Vec<u64>, attrs: &mut Option<Vec<i64>>, order: &[u32]) {
    let mut placed = vec![false; order.len()];
    let mut held = vec![0f32; dim];
    for start in 0..order.len() {
        if placed[start] {
            continue;
        }
        held.copy_from_slice(&rows[start * dim..(start + 1) * dim]);
        let mut at = start;
        loop {
            placed[at] = true;
            let from = order[at] as usize;
            if from == start {
                rows[at * dim..(at + 1) * dim].copy_from_slice(&held);
                break;
            }
            rows.copy_within(from * dim..(from + 1) * dim, at * dim);
            at = from;
        }
    }
    *ids = order.iter().map(|&old| ids[old as usize]).collect();
    if let Some(a) = attrs {
        *a = order.iter().map(|&old| a[old as usize]).collect();
    }
}

impl VectorIndex {
    /// Build from `n` dense rows of `dim` f32 and their ids.
    pub fn build(data: &[f32], ids: &[u64], dim: usize, o: &BuildOptions, cancel: &CancelToken) -> Result<VectorIndex> {
        VectorIndex::build_with_attrs(data, ids, None, dim, o, cancel)
    }

    /// Build, keeping an integer attribute per row (input order) for filtered search.
    pub fn build_with_attrs(
        data: &[f32],
        ids: &[u64],
        attrs: Option<&[i64]>,
        dim: usize,
        o: &BuildOptions,
        cancel: &CancelToken,
    ) -> Result<VectorIndex> {
        let n = ids.len();
        check_rows(data, n, dim)?;
        if let Some(a) = attrs
            && a.len() != n
        {
            return Err(Error::InvalidArgument(format!("{} attribute values for {n} rows", a.len())));
        }
        let mut attrs = attrs.map(<[i64]>::to_vec);
        // the input rows as they are, or a normalised copy (cosine)
        let mut rows: Cow<[f32]> = Cow::Borrowed(data);
        if o.metric == Metric::Cosine {
            let r = rows.to_mut();
            for i in 0..n {
                normalize(&mut r[i * dim..(i + 1) * dim]);
            }
        }
        let mut ids = ids.to_vec();
        let mut ivf = None;
        if o.kind == IndexType::Ivf {
            let nlist = if o.nlist > 0 { o.nlist } else { ((n as f64).sqrt().round() as usize).max(1) };
            let (centroids, lists) = ivf::train(&rows, n, dim, nlist, o.metric, o.seed, o.kmeans_iters, o.threads, cancel)?;
            let nlist = centroids.len() / padded(dim);
            let (perm, offsets) = ivf::layout(&lists, nlist);
            reorder(rows.to_mut(), dim, &mut ids, &mut attrs, &perm);
            ivf = Some(Ivf::new(nlist, centroids, offsets));
        }
        let f32_store = Store::encode(&rows, n, dim, Quant::F32);
        let hnsw = if o.kind == IndexType::Hnsw {
            let scorer = Scorer::new(&f32_store, o.metric);
            Some(Hnsw::build(&scorer, o.m, o.ef_construction.max(o.m), o.seed, o.threads, cancel)?)
        } else {
            None
        };
        // Rows renumbered in a breadth-first walk of the graph, so a walk's next rows tend to lie
        // near the ones it just read: on the 1M x 128 synthetic set that made searches 1.2x faster
        // at ef 80 and 1.6x at ef 1280, with the same rows found (Fashion's 3 KiB rows: no change).
        let (f32_store, hnsw) = match hnsw {
            Some(h) => {
                let order = h.bfs_order();
                reorder(rows.to_mut(), dim, &mut ids, &mut attrs, &order);
                drop(f32_store); // before its renumbered copy: one fewer copy of the rows at the peak
                (Store::encode(&rows, n, dim, Quant::F32), Some(h.renumbered(&order)))
            }
            None => (f32_store, None),
        };
        let (store, f32) = if o.quant == Quant::F32 {
            (f32_store, None)
        } else {
            let store = Store::encode(&rows, n, dim, o.quant);
            let f32 = match &store.sq8 {
                _ if !o.keep_f32 => None,
                Some(q) if q.is_lossless(&rows, n, dim) => Some(F32Rows::Codes),
                _ => Some(F32Rows::Owned(f32_store)),
            };
            (store, f32)
        };
        Ok(VectorIndex { kind: o.kind, metric: o.metric, n, dim, ids, store, f32, hnsw, ivf, attrs, header: None })
    }

    fn meta(&self) -> Vec<u64> {
        let h = self.hnsw.as_ref();
        vec![
            1,
            self.n as u64,
            self.dim as u64,
            self.store.stride as u64,
            match self.store.quant {
                Quant::F32 => 0,
                Quant::F16 => 1,
                Quant::Sq8 => 2,
            },
            match self.metric {
                Metric::L2 => 0,
                Metric::Ip => 1,
                Metric::Cosine => 2,
            },
            match self.kind {
                IndexType::Flat => 0,
                IndexType::Hnsw => 1,
                IndexType::Ivf => 2,
            },
            h.map_or(0, |h| h.m as u64),
            h.map_or(0, |h| h.m0 as u64),
            h.map_or(0, |h| h.entry as u64),
            h.map_or(0, |h| h.max_level as u64),
            self.ivf.as_ref().map_or(0, |v| v.nlist as u64),
            F32Rows::meta_word(self.f32.as_ref()),
        ]
    }

    /// Write the index (temp name, fsync, rename).
    pub fn write(&self, path: &Path, mut fields: HeaderFields, params_json: &str) -> Result<u64> {
        fields.kind = kind::VECTOR;
        fields.major = MAJOR;
        fields.minor = MINOR;
        // the rows are written from where they are (a copy would double a large index's memory)
        let mut sections: Vec<(u32, u32, Cow<[u8]>)> = vec![
            (container::SECTION_PARAMS, 1, Cow::Borrowed(params_json.as_bytes())),
            (SECTION_META, 1, Cow::Owned(le_u64(&self.meta()))),
            (SECTION_IDS, 1, Cow::Owned(le_u64(&self.ids))),
            (SECTION_VECTORS, 1, Cow::Borrowed(self.store.raw())),
        ];
        if let Some(q) = &self.store.sq8 {
            sections.push((SECTION_SQ8, 1, Cow::Owned([le_f32(&q.min), le_f32(&q.step)].concat())));
        }
        if let Some(f @ (F32Rows::Owned(_) | F32Rows::Mapped(_))) = &self.f32 {
            sections.push((SECTION_F32, 1, Cow::Borrowed(f.bytes())));
            sections.push((SECTION_F32_CRC, 1, Cow::Owned(le_u32(&f.row_crcs(self.n, self.store.stride)))));
        }
        if let Some(h) = &self.hnsw {
            sections.push((SECTION_HNSW_LEVELS, 1, Cow::Borrowed(&h.levels)));
            sections.push((SECTION_HNSW_L0, 1, Cow::Owned(le_u32(&h.links0))));
            sections.push((SECTION_HNSW_UPPER_OFF, 1, Cow::Owned(le_u32(&h.upper_off))));
            sections.push((SECTION_HNSW_UPPER, 1, Cow::Owned(le_u32(&h.upper))));
        }
        if let Some(v) = &self.ivf {
            sections.push((SECTION_IVF_CENTROIDS, 1, Cow::Owned(le_f32(&v.centroids))));
            sections.push((SECTION_IVF_OFFSETS, 1, Cow::Owned(le_u64(&v.offsets))));
        }
        if let Some(a) = &self.attrs {
            sections.push((SECTION_ATTRS, 1, Cow::Owned(a.iter().flat_map(|x| x.to_le_bytes()).collect())));
        }
        let refs: Vec<(u32, u32, &[u8])> = sections.iter().map(|(k, v, b)| (*k, *v, b.as_ref())).collect();
        container::write_container(path, fields, &refs)
    }

    pub fn open(path: &Path) -> Result<VectorIndex> {
        let c = Container::open_kind(path, kind::VECTOR, MAJOR)?;
        let p = path.display().to_string();
        let corrupt = |m: String| Error::Corrupt { path: p.clone(), offset: 0, length: 0, message: m };
        // checked views of the mapped file: the typed copies below are the only copies
        let need = |k: u32, what: &str| -> Result<Section> { c.section(k)?.ok_or_else(|| corrupt(format!("no {what} section"))) };
        let meta = u64s(&need(SECTION_META, "meta")?);
        if meta.len() < 13 || meta[0] != 1 {
            return Err(corrupt("meta section is not version 1".into()));
        }
        let (n, dim) = (meta[1] as usize, meta[2] as usize);
        if dim == 0 || dim > MAX_DIM {
            return Err(corrupt(format!("meta: dimension {dim} is out of range (1..={MAX_DIM})")));
        }
        let quant =
            [Quant::F32, Quant::F16, Quant::Sq8].get(meta[4] as usize).copied().ok_or_else(|| corrupt("unknown quantisation".into()))?;
        let metric =
            [Metric::L2, Metric::Ip, Metric::Cosine].get(meta[5] as usize).copied().ok_or_else(|| corrupt("unknown metric".into()))?;
        let kind_ = [IndexType::Flat, IndexType::Hnsw, IndexType::Ivf]
            .get(meta[6] as usize)
            .copied()
            .ok_or_else(|| corrupt("unknown index type".into()))?;
        if meta[3] as usize != padded(dim) {
            return Err(corrupt("row stride disagrees with the dimension".into()));
        }
        let ids = u64s(&need(SECTION_IDS, "ids")?);
        // the rows stay in the mapping: a search pages in the rows it visits (`verify` checks their checksum)
        let vec_len = c.sections.iter().find(|s| s.kind == SECTION_VECTORS).map_or(0, |s| s.length as usize);
        let vec_bytes = if vec_len <= crate::container::CHECK_AT_OPEN_BYTES {
            c.section(SECTION_VECTORS)?
        } else {
            c.section_unchecked(SECTION_VECTORS)
        }
        .ok_or_else(|| corrupt("no vectors section".into()))?;
        if ids.len() != n || n > u32::MAX as usize || vec_bytes.len() != n * padded(dim) * quant.bytes() {
            return Err(corrupt("ids or vectors disagree with the row count".into()));
        }
        let sq8 = if quant == Quant::Sq8 {
            let b = f32s(&need(SECTION_SQ8, "sq8")?);
            if b.len() != 2 * dim {
                return Err(corrupt("sq8 section has the wrong length".into()));
            }
            if b.iter().any(|x| !x.is_finite()) || b[dim..].iter().any(|&x| x < 0.0) {
                return Err(corrupt("sq8: a dimension's min or step is not a finite number (step >= 0)".into()));
            }
            Some(Sq8 { min: b[..dim].to_vec(), step: b[dim..].to_vec() })
        } else {
            None
        };
        if !vec_bytes.is_mapped() || vec_bytes.len() <= crate::container::CHECK_AT_OPEN_BYTES {
            check_stored_rows(&vec_bytes, n, dim, quant).map_err(corrupt)?;
        }
        let store = Store::from_section(vec_bytes, n, dim, quant, sq8);
        // Mapped, not read: only the rows a query re-ranks are paged in (`recall verify` checks its checksum).
        // Each row's checksum is checked when a query first re-ranks it (F32_CRC).
        let f32 = match c.sections.iter().find(|s| s.kind == SECTION_F32) {
            Some(s) if s.length as usize == n * padded(dim) * 4 => {
                let row_crcs = match c.read_section(SECTION_F32_CRC)? {
                    Some(b) if b.len() == 4 * n => Some(u32s(&b)),
                    Some(_) => return Err(corrupt("f32 row checksums disagree with the row count".into())),
                    None => None,
                };
                Some(F32Rows::Mapped(MappedRows {
                    map: crate::mapped::Mapped::map(path, s.offset, s.length as usize)?,
                    stride: padded(dim),
                    dim,
                    path: p.clone(),
                    offset: s.offset,
                    crc: s.crc,
                    row_crcs,
                    checked_rows: (0..n.div_ceil(64)).map(|_| std::sync::atomic::AtomicU64::new(0)).collect(),
                    whole_ok: std::sync::OnceLock::new(),
                }))
            }
            Some(_) => return Err(corrupt("f32 section has the wrong length".into())),
            None if meta[12] == 2 && quant == Quant::Sq8 => Some(F32Rows::Codes),
            None => None,
        };
        if meta[12] != F32Rows::meta_word(f32.as_ref()) {
            return Err(corrupt("meta and the f32 section disagree on whether re-rank rows are kept".into()));
        }
        let hnsw = if kind_ == IndexType::Hnsw {
            let (m, m0, entry, max_level) = (meta[7] as usize, meta[8] as usize, meta[9] as u32, meta[10] as u32);
            if m == 0 || m > MAX_LINKS || m0 == 0 || m0 > MAX_LINKS || meta[9] > u32::MAX as u64 || meta[10] > hnsw::MAX_LEVEL as u64 {
                return Err(corrupt(format!(
                    "meta: hnsw parameters m {m}, m0 {m0}, entry {}, top level {} are out of range",
                    meta[9], meta[10]
                )));
            }
            let levels = need(SECTION_HNSW_LEVELS, "hnsw levels")?.to_vec();
            let links0 = u32s_huge(&need(SECTION_HNSW_L0, "hnsw level 0")?);
            let upper_off = u32s(&need(SECTION_HNSW_UPPER_OFF, "hnsw upper offsets")?);
            let upper = u32s(&need(SECTION_HNSW_UPPER, "hnsw upper links")?);
            let h = Hnsw { m, m0, entry, max_level, levels, links0, upper_off, upper };
            validate_graph(&h, n).map_err(corrupt)?;
            Some(h)
        } else {
            None
        };
        let ivf = if kind_ == IndexType::Ivf {
            let nlist = meta[11] as usize;
            let centroids = f32s(&need(SECTION_IVF_CENTROIDS, "ivf centroids")?);
            let offsets = u64s(&need(SECTION_IVF_OFFSETS, "ivf offsets")?);
            if nlist == 0
                || nlist > n.max(1)
                || centroids.len() != nlist * padded(dim)
                || offsets.len() != nlist + 1
                || offsets[0] != 0
                || offsets[nlist] as usize != n
                || offsets.windows(2).any(|w| w[0] > w[1])
                || centroids.iter().any(|x| !x.is_finite())
            {
                return Err(corrupt("ivf lists disagree with the rows".into()));
            }
            Some(Ivf::new(nlist, centroids, offsets))
        } else {
            None
        };
        let attrs = match c.read_section(SECTION_ATTRS)? {
            Some(b) if b.len() == 8 * n => Some(b.chunks_exact(8).map(|x| i64::from_le_bytes(x.try_into().unwrap())).collect()),
            Some(_) => return Err(corrupt("attribute section disagrees with the row count".into())),
            None => None,
        };
        // Every section but the rows has been copied out: the file pages the copies read would
        // otherwise stay counted in the process's memory as well (8 MB of graph on Fashion-MNIST).
        for kind in c.sections.iter().map(|s| s.kind).filter(|&k| k != SECTION_VECTORS && k != SECTION_F32) {
            if let Some(s) = c.section_unchecked(kind) {
                s.release_pages();
            }
        }
        Ok(VectorIndex { kind: kind_, metric, n, dim, ids, store, f32, hnsw, ivf, attrs, header: Some(c.header.clone()) })
    }

    /// Search `queries` (dense `nq x dim`), in parallel over queries.
    pub fn search(&self, queries: &[f32], p: &SearchParams, cancel: &CancelToken) -> Result<Results> {
        self.search_filtered(queries, p, None, FilterMode::Auto, cancel)
    }

    /// The rows whose id is in `ids`, or whose attribute lies in one of `ranges`, or both (AND).
    pub fn row_filter(&self, ids: Option<&[u64]>, ranges: Option<&[(i64, i64)]>) -> Result<RowFilter> {
        let by_attr = match ranges {
            Some(r) => {
                let attrs = self
                    .attrs
                    .as_ref()
                    .ok_or_else(|| Error::InvalidArgument("the index keeps no attribute: build it with --attr COLUMN".into()))?;
                Some(RowFilter::from_ranges(attrs, r))
            }
            None => None,
        };
        let by_id = ids.map(|ids| RowFilter::from_ids(&self.ids, ids));
        Ok(match (by_id, by_attr) {
            (Some(a), Some(b)) => a.and(&b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => RowFilter::from_fn(self.n, |_| true),
        })
    }

    /// Search only the rows `filter` allows (all rows without one); `mode` picks the filtered path.
    pub fn search_filtered(
        &self,
        queries: &[f32],
        p: &SearchParams,
        filter: Option<&RowFilter>,
        mode: FilterMode,
        cancel: &CancelToken,
    ) -> Result<Results> {
        let dim = self.dim;
        if let Some(f) = filter
            && f.rows() != self.n
        {
            return Err(Error::InvalidArgument(format!("a filter of {} rows for an index of {}", f.rows(), self.n)));
        }
        if !queries.len().is_multiple_of(dim) {
            return Err(Error::InvalidArgument(format!("queries: {} values are not rows of {dim}", queries.len())));
        }
        let nq = queries.len() / dim;
        check_rows(queries, nq, dim)?;
        if p.k == 0 {
            return Err(Error::InvalidArgument("k must be at least 1".into()));
        }
        if p.k > self.n {
            return Err(Error::InvalidArgument(format!("k {} is larger than the index ({} vectors)", p.k, self.n)));
        }
        if p.rerank > 0 && self.store.quant != Quant::F32 && self.f32.is_none() {
            return Err(Error::InvalidArgument("re-rank needs the f32 rows: build with --rerank".into()));
        }
        if let Some(h) = &self.hnsw {
            // each query's walk reads at most ef * 2M rows
            self.store.note_walks((nq as u64).saturating_mul(p.ef.max(self.wanted(p)) as u64).saturating_mul(h.m0 as u64));
        }
        let k = p.k;
        let mut ids = vec![-1i64; nq * k];
        let mut dists = vec![f32::INFINITY; nq * k];
        let threads = p.threads.max(1).min(nq.max(1));
        let per = nq.div_ceil(threads).max(1);
        let chunks: Vec<(usize, &mut [i64], &mut [f32])> =
            ids.chunks_mut(per * k).zip(dists.chunks_mut(per * k)).enumerate().map(|(c, (a, b))| (c * per, a, b)).collect();
        std::thread::scope(|s| -> Result<()> {
            let hs: Vec<_> = chunks
                .into_iter()
                .map(|(from, out_ids, out_d)| {
                    s.spawn(move || -> Result<()> {
                        let mut vis = Visited::new(if self.hnsw.is_some() { self.n } else { 0 });
                        let nq_here = out_ids.len() / k;
                        // Flat scans take queries FLAT_BATCH at a time, so each row is read from
                        // memory once per batch instead of once per query.
                        // IVF probes likewise, so the centroids are read once per batch.
                        let batch = match (self.kind, filter) {
                            (IndexType::Flat, None) => FLAT_BATCH,
                            (IndexType::Ivf, None) => ivf_batch(self.store.stride),
                            _ => 1,
                        };
                        let mut qi = 0;
                        while qi < nq_here {
                            cancel.check()?;
                            let b = batch.min(nq_here - qi);
                            let qs: Vec<Vec<f32>> = (0..b)
                                .map(|t| {
                                    let q = from + qi + t;
                                    let mut qv = queries[q * dim..(q + 1) * dim].to_vec();
                                    if self.metric == Metric::Cosine {
                                        normalize(&mut qv);
                                    }
                                    qv
                                })
                                .collect();
                            let found = if let Some(f) = filter {
                                vec![self.search_one_filtered(&qs[0], p, &mut vis, f, mode)?]
                            } else if self.kind == IndexType::Flat {
                                self.search_flat(&qs, p)?
                            } else if self.kind == IndexType::Ivf {
                                self.search_ivf(&qs, p)?
                            } else {
                                vec![self.search_one(&qs[0], p, &mut vis)?]
                            };
                            for (t, f) in found.iter().enumerate() {
                                for (j, c) in f.iter().take(k).enumerate() {
                                    out_ids[(qi + t) * k + j] = self.ids[c.id as usize] as i64;
                                    out_d[(qi + t) * k + j] = self.report(c.d);
                                }
                            }
                            qi += b;
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in hs {
                h.join().expect("vector search thread panicked")?;
            }
            Ok(())
        })?;
        Ok(Results { ids, distances: dists })
    }

    /// Every row as dense f32 (`n x dim`, in row order, with `ids`): from the f32 store or the kept
    /// f32 rows, or decoded from f16 (re-encoding gives the same codes). None for an SQ8 index
    /// without f32 rows: decoding and re-quantising would drift, so such an index cannot be rebuilt.
    /// Cosine rows come back normalised, as stored.
    pub fn rows_f32(&self) -> Result<Option<Vec<f32>>> {
        let (n, dim) = (self.n, self.dim);
        let mut out = Vec::with_capacity(n * dim);
        let mut buf = vec![0f32; self.store.stride];
        for r in 0..n {
            match (&self.f32, self.store.quant) {
                (_, Quant::F32) => out.extend_from_slice(&self.store.f32_row(r)[..dim]),
                (Some(f), _) => out.extend_from_slice(&f.row(r, &self.store, &mut buf)?[..dim]),
                (None, Quant::F16) => out.extend(self.store.f16_row(r)[..dim].iter().map(|&h| crate::kernels::f16_to_f32(h))),
                (None, Quant::Sq8) => return Ok(None),
            }
        }
        Ok(Some(out))
    }

    /// Check every kept f32 re-rank row (its CRC, or the whole section's for older files): what
    /// `recall verify` runs beyond the container checksums, without holding the rows in memory.
    pub fn verify_rows(&self) -> Result<()> {
        if let Some(f @ F32Rows::Mapped(_)) = &self.f32 {
            let mut buf = Vec::new();
            for r in 0..self.n {
                f.row(r, &self.store, &mut buf)?;
            }
        }
        Ok(())
    }

    /// Bytes held in memory: rows, ids, graph or lists (not the mapped f32 re-rank rows).
    /// Copy the search rows of an opened index into huge-page memory now, rather than after the
    /// searches have read about 32 times the rows (`Store::note_walks`): a process that will serve
    /// many queries pays the copy once, up front, instead of walking the file's 4 KiB-page mapping
    /// meanwhile (1.45x slower per query on the synthetic 200k x 128 set at ef 40). The f32
    /// re-rank rows of a quantised index stay mapped: a query reads only its re-ranked few.
    pub fn make_resident(&self) {
        self.store.make_resident();
    }

    /// Whether searches read the rows from memory the process owns (built here, or made resident).
    pub fn is_resident(&self) -> bool {
        !self.store.is_mapped()
    }

    pub fn memory_bytes(&self) -> usize {
        let graph = self.hnsw.as_ref().map_or(0, |h| h.levels.len() + 4 * (h.links0.len() + h.upper_off.len() + h.upper.len()));
        let lists = self.ivf.as_ref().map_or(0, |v| 4 * v.centroids.len() + 8 * v.offsets.len());
        let owned_f32 = match &self.f32 {
            Some(F32Rows::Owned(s)) => s.raw().len(),
            _ => 0,
        };
        self.store.raw().len() + 8 * self.ids.len() + graph + lists + owned_f32
    }

    /// The user-facing distance of an internal one.
    fn report(&self, d: f32) -> f32 {
        match self.metric {
            Metric::L2 => d.max(0.0).sqrt(),
            Metric::Ip => d,
            Metric::Cosine => 1.0 + d,
        }
    }

    /// Exact scan for a batch of queries: rows in blocks that stay in cache while every query of the batch scores them.
    fn search_flat(&self, qs: &[Vec<f32>], p: &SearchParams) -> Result<Vec<Vec<Cand>>> {
        let scorer = Scorer::new(&self.store, self.metric);
        let prepared: Vec<_> = qs.iter().map(|q| scorer.prepare(q)).collect();
        let want = self.wanted(p);
        let mut tops: Vec<TopK> = qs.iter().map(|_| TopK::new(want)).collect();
        let block = (256 * 1024 / self.store.row_bytes()).max(1);
        for start in (0..self.n).step_by(block) {
            let end = (start + block).min(self.n);
            for (pq, top) in prepared.iter().zip(tops.iter_mut()) {
                let mut bound = top.bound();
                for r in start..end {
                    let d = scorer.dist(pq, r);
                    if d <= bound {
                        top.push(Cand { d, id: r as u32 });
                        bound = top.bound();
                    }
                }
            }
        }
        tops.into_iter().zip(qs).map(|(t, q)| self.finish(q, t.into_sorted(), p)).collect()
    }

    /// IVF for a batch of queries: the lists of every query probed together, then scanned list by list.
    fn search_ivf(&self, qs: &[Vec<f32>], p: &SearchParams) -> Result<Vec<Vec<Cand>>> {
        let ivf = self.ivf.as_ref().expect("ivf");
        let scorer = Scorer::new(&self.store, self.metric);
        let prepared: Vec<_> = qs.iter().map(|q| scorer.prepare(q)).collect();
        let padded: Vec<&[f32]> = prepared.iter().map(|q| q.padded()).collect();
        let probes = ivf.probes(self.metric, &padded, p.nprobe.max(1));
        let want = self.wanted(p);
        let found = ivf.scan_batch(
            &probes,
            &|q: usize, r: u32| scorer.dist(&prepared[q], r as usize),
            &|q: [usize; 2], r: [u32; 2]| scorer.dist_2x2([&prepared[q[0]], &prepared[q[1]]], [r[0] as usize, r[1] as usize]),
            want,
        );
        qs.iter().zip(found).map(|(q, f)| self.finish(q, f, p)).collect()
    }

    /// Candidates wanted from the index: k, or R when re-ranking.
    fn wanted(&self, p: &SearchParams) -> usize {
        if p.rerank > 0 && self.store.quant != Quant::F32 { p.rerank.max(p.k) } else { p.k }
    }

    fn search_one(&self, q: &[f32], p: &SearchParams, vis: &mut Visited) -> Result<Vec<Cand>> {
        let scorer = Scorer::new(&self.store, self.metric);
        let prepared = scorer.prepare(q);
        let dist = |r: u32| scorer.dist(&prepared, r as usize);
        let want = self.wanted(p);
        let found = match self.kind {
            IndexType::Hnsw => {
                let below = |r: u32, bound: f32| scorer.dist_below(&prepared, r as usize, bound);
                self.hnsw.as_ref().expect("hnsw").search(&dist, &below, &self.store, want, p.ef.max(want), vis)
            }
            IndexType::Ivf => {
                let ivf = self.ivf.as_ref().expect("ivf");
                let probes = ivf.probes(self.metric, &[prepared.padded()], p.nprobe.max(1));
                ivf.scan(&probes[0], &dist, want)
            }
            IndexType::Flat => return Ok(self.search_flat(&[q.to_vec()], p)?.pop().unwrap_or_default()),
        };
        self.finish(q, found, p)
    }

    /// Whether a filtered query scans the allowed rows rather than searching the index with the filter.
    pub fn filter_scans(&self, f: &RowFilter, p: &SearchParams, mode: FilterMode) -> bool {
        match (mode, self.kind) {
            (FilterMode::Scan, _) | (_, IndexType::Flat) => true,
            (FilterMode::Index, _) => false,
            (FilterMode::Auto, IndexType::Hnsw) => filter::prefer_scan(f, p.ef.max(self.wanted(p)), self.hnsw.as_ref().map_or(1, |h| h.m0)),
            // The filtered probe scores up to the rows of nprobe lists plus one distance per centroid;
            // the scan scores the allowed rows.
            (FilterMode::Auto, IndexType::Ivf) => {
                let nlist = self.ivf.as_ref().map_or(1, |v| v.nlist);
                f.allowed() <= nlist + (p.nprobe.max(1) * self.n).div_ceil(nlist)
            }
        }
    }

    fn search_one_filtered(&self, q: &[f32], p: &SearchParams, vis: &mut Visited, f: &RowFilter, mode: FilterMode) -> Result<Vec<Cand>> {
        let want = self.wanted(p);
        let scorer = Scorer::new(&self.store, self.metric);
        let prepared = scorer.prepare(q);
        let dist = |r: u32| scorer.dist(&prepared, r as usize);
        let scan = |want: usize| {
            let mut top = TopK::new(want);
            for r in f.iter() {
                let d = dist(r);
                if d <= top.bound() {
                    top.push(Cand { d, id: r });
                }
            }
            top.into_sorted()
        };
        if self.filter_scans(f, p, mode) {
            return self.finish(q, scan(want), p);
        }
        let found = match self.kind {
            IndexType::Hnsw => {
                // forced into the graph: no budget; on auto, a walk that costs more than the scan gives way to it
                let budget = if mode == FilterMode::Index { usize::MAX } else { f.allowed() };
                match self.hnsw.as_ref().expect("hnsw").search_filtered(&dist, &self.store, p.ef.max(want), vis, f, budget) {
                    Some(mut found) => {
                        found.truncate(want);
                        found
                    }
                    None => return self.finish(q, scan(want), p),
                }
            }
            IndexType::Ivf => {
                let mut padded_q = vec![0f32; self.store.stride];
                padded_q[..self.dim].copy_from_slice(q);
                self.ivf.as_ref().expect("ivf").search_filtered(&scorer, &padded_q, &dist, want, p.nprobe.max(1), f)
            }
            IndexType::Flat => unreachable!("a flat index always scans"),
        };
        // A walk that reached fewer allowed rows than exist and were asked for (a part of the graph
        // the filter cut off) is answered exactly instead.
        let found = if found.len() < want.min(f.allowed()) { scan(want) } else { found };
        self.finish(q, found, p)
    }

    /// Re-rank with exact f32 distances when asked, then keep k.
    fn finish(&self, q: &[f32], mut found: Vec<Cand>, p: &SearchParams) -> Result<Vec<Cand>> {
        if found.len() > p.k
            && let Some(f) = &self.f32
        {
            let k = crate::kernels::kernels();
            let mut qp = vec![0f32; self.store.stride];
            qp[..self.dim].copy_from_slice(q);
            let mut buf = vec![0f32; self.store.stride];
            if let Some(c) = found.first() {
                f.prefetch_row(c.id as usize, &self.store);
            }
            // The next candidate's row loads while one is scored: rows are read from memory
            // at random, so a row at a time would wait out every one's latency.
            for i in 0..found.len() {
                if let Some(next) = found.get(i + 1) {
                    f.prefetch_row(next.id as usize, &self.store);
                }
                let c = &mut found[i];
                let row = f.row(c.id as usize, &self.store, &mut buf)?;
                c.d = if self.metric.is_l2() { (k.l2sq_f32)(&qp, row) } else { -(k.dot_f32)(&qp, row) };
            }
            found.sort_unstable();
        }
        found.truncate(p.k);
        Ok(found)
    }
}

/// Every link points at a row that lives on the link's level, counts fit their blocks, levels agree
/// with the upper blocks, and the entry point is on the top level: what a search walks without checks.
fn validate_graph(h: &Hnsw, n: usize) -> std::result::Result<(), String> {
    if h.levels.len() != n || n.checked_mul(h.m0 + 1) != Some(h.links0.len()) || h.upper_off.len() != n || (n > 0 && h.entry as usize >= n)
    {
        return Err("hnsw sections disagree with the row count".into());
    }
    if let Some(i) = h.levels.iter().position(|&l| l as usize > hnsw::MAX_LEVEL) {
        return Err(format!("hnsw: node {i} has level {}, above {}", h.levels[i], hnsw::MAX_LEVEL));
    }
    let mut blocks = 0usize;
    for i in 0..n {
        let c = h.links0[i * (h.m0 + 1)] as usize;
        if c > h.m0 || h.links0[i * (h.m0 + 1) + 1..i * (h.m0 + 1) + 1 + c].iter().any(|&t| t as usize >= n) {
            return Err(format!("hnsw: node {i} has bad level-0 links"));
        }
        if h.levels[i] > 0 {
            if h.upper_off[i] as usize != blocks {
                return Err(format!("hnsw: node {i} has a bad upper offset"));
            }
            blocks += h.levels[i] as usize;
        }
    }
    if blocks.checked_mul(h.m + 1) != Some(h.upper.len()) {
        return Err("hnsw: upper links have the wrong length".into());
    }
    for i in 0..n {
        for level in 1..=h.levels[i] as usize {
            let b = (h.upper_off[i] as usize + level - 1) * (h.m + 1);
            let c = h.upper[b] as usize;
            if c > h.m || h.upper[b + 1..b + 1 + c].iter().any(|&t| t as usize >= n || (h.levels[t as usize] as usize) < level) {
                return Err(format!("hnsw: node {i} has bad links on level {level}"));
            }
        }
    }
    if n > 0 && h.levels[h.entry as usize] as u32 != h.max_level {
        return Err("hnsw: the entry point is not on the top level".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
