//! Vector storage: rows padded to a multiple of 32 elements (the kernels'
//! chunk, so no row needs a tail copy) in 64-byte-aligned memory, as f32,
//! f16 or SQ8 codes (u8 per dimension, affine per dimension: x = min + step * code,
//! trained on the data; never per-vector, which breaks L2).
//!
//! Distances are "smaller is closer": L2 squared, or minus the inner product
//! (cosine = inner product of vectors normalised on the way in).

use crate::hugebuf::HugeBuf;
use crate::kernels::{self, Kernels, f32_to_f16, sq8};

pub const PAD: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    L2,
    Ip,
    Cosine,
}

impl Metric {
    pub fn parse(s: &str) -> Option<Metric> {
        match s {
            "l2" => Some(Metric::L2),
            "ip" => Some(Metric::Ip),
            "cosine" => Some(Metric::Cosine),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::Ip => "ip",
            Metric::Cosine => "cosine",
        }
    }
    /// L2 squared, or inner-product style (IP and cosine after normalisation).
    pub fn is_l2(self) -> bool {
        self == Metric::L2
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    F32,
    F16,
    Sq8,
}

impl Quant {
    pub fn parse(s: &str) -> Option<Quant> {
        match s {
            "f32" => Some(Quant::F32),
            "f16" => Some(Quant::F16),
            "int8" | "sq8" | "i8" => Some(Quant::Sq8),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Quant::F32 => "f32",
            Quant::F16 => "f16",
            Quant::Sq8 => "int8",
        }
    }
    pub fn bytes(self) -> usize {
        match self {
            Quant::F32 => 4,
            Quant::F16 => 2,
            Quant::Sq8 => 1,
        }
    }
}

pub fn padded(dim: usize) -> usize {
    dim.div_ceil(PAD).max(1) * PAD
}

/// Rows in memory: 64-byte-aligned, zero-initialised bytes (64-byte lines, or huge-page-advised
/// memory from 2 MiB: an HNSW build reads rows at random, and with 4 KiB pages nearly every such
/// read is also a TLB miss; Fashion-MNIST M16 builds took 16.0 against 18.1 CPU-s), or a
/// read-only view of an opened file's section (8-byte aligned, enough for f32 / u16 / u8).
/// A view can be made resident (`make_resident`): copied once into huge-page memory, which the
/// reads then use. A graph search reads a few rows at random per step, and through the mapping's
/// 4 KiB pages most such reads also miss the TLB: on this VM, with 128-dimension rows (512 bytes),
/// the copy searched at 1.2-1.4x the QPS. On Fashion-MNIST's 3 KB rows it gained little, and a
/// few queries never repay the copy, so an index asks for it only after many searches.
#[derive(Clone)]
pub struct AlignedBytes {
    owned: Owned,
    len: usize,
    mapped: Option<crate::container::Section>,
    resident: std::sync::OnceLock<HugeBuf>,
}

enum Owned {
    None,
    Lines(Vec<Line>),
    Huge(HugeBuf),
}

impl Clone for Owned {
    fn clone(&self) -> Owned {
        match self {
            Owned::None => Owned::None,
            Owned::Lines(l) => Owned::Lines(l.clone()),
            Owned::Huge(h) => Owned::Huge(h.clone()),
        }
    }
}

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([u8; 64]);

impl AlignedBytes {
    pub fn zeroed(len: usize) -> AlignedBytes {
        let owned = if len >= 2 << 20 { Owned::Huge(HugeBuf::zeroed(len)) } else { Owned::Lines(vec![Line([0; 64]); len.div_ceil(64)]) };
        AlignedBytes { owned, len, mapped: None, resident: std::sync::OnceLock::new() }
    }
    fn view(section: crate::container::Section, len: usize) -> AlignedBytes {
        AlignedBytes { owned: Owned::None, len, mapped: Some(section), resident: std::sync::OnceLock::new() }
    }
    /// Copy a mapped view of 2 MiB or more into huge-page memory, once (concurrent callers wait for
    /// the one copy), read from the file rather than through the mapping (`Section::copy_to`);
    /// the pages earlier searches mapped in are released, so the rows count once in the process.
    fn make_resident(&self) {
        if let Some(m) = &self.mapped
            && self.len >= 2 << 20
        {
            self.resident.get_or_init(|| {
                let mut copy = HugeBuf::zeroed(self.len);
                m.copy_to(&mut copy);
                m.release_pages();
                copy
            });
        }
    }
    pub fn as_slice(&self) -> &[u8] {
        if let Some(m) = &self.mapped {
            if let Some(r) = self.resident.get() {
                return &r[..self.len];
            }
            return &m[..self.len];
        }
        match &self.owned {
            // SAFETY: the lines are `len.div_ceil(64) * 64 >= len` initialised bytes.
            Owned::Lines(l) => unsafe { std::slice::from_raw_parts(l.as_ptr().cast::<u8>(), self.len) },
            Owned::Huge(h) => &h[..self.len],
            Owned::None => &[],
        }
    }
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        assert!(self.mapped.is_none(), "a mapped section is read-only");
        match &mut self.owned {
            // SAFETY: as in `as_slice`, and `&mut self` makes the view unique.
            Owned::Lines(l) => unsafe { std::slice::from_raw_parts_mut(l.as_mut_ptr().cast::<u8>(), self.len) },
            Owned::Huge(h) => &mut h[..self.len],
            Owned::None => &mut [],
        }
    }
    fn typed<T: Copy>(&self) -> &[T] {
        let b = self.as_slice();
        assert!((b.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>()), "rows are not aligned for their type");
        // SAFETY: aligned as checked (64 bytes when owned, 8 when mapped); T is f32/u16/u8 (every bit pattern valid).
        unsafe { std::slice::from_raw_parts(b.as_ptr().cast::<T>(), b.len() / std::mem::size_of::<T>()) }
    }
    fn typed_mut<T: Copy>(&mut self) -> &mut [T] {
        let b = self.as_mut_slice();
        // SAFETY: as in `typed`.
        unsafe { std::slice::from_raw_parts_mut(b.as_mut_ptr().cast::<T>(), b.len() / std::mem::size_of::<T>()) }
    }
}

/// SQ8 per-dimension affine parameters: x_j ~ min_j + step_j * code_j.
#[derive(Clone, Debug, PartialEq)]
pub struct Sq8 {
    pub min: Vec<f32>,
    pub step: Vec<f32>,
}

impl Sq8 {
    /// Train on rows (`dim` used of `stride` each): per-dimension min and max.
    pub fn train(data: &[f32], n: usize, dim: usize, stride: usize) -> Sq8 {
        let (mut lo, mut hi) = (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]);
        for r in 0..n {
            let row = &data[r * stride..r * stride + dim];
            for j in 0..dim {
                lo[j] = lo[j].min(row[j]);
                hi[j] = hi[j].max(row[j]);
            }
        }
        // A dimension of whole numbers spanning at most 255 gets step 1: its codes then decode to
        // the values exactly (pixels, counts), so the rows need not be kept beside the codes.
        let mut whole = vec![true; dim];
        for r in 0..n {
            let row = &data[r * stride..r * stride + dim];
            for j in 0..dim {
                whole[j] &= row[j] == row[j].round();
            }
        }
        let step = (0..dim)
            .map(|j| {
                let (l, h) = (lo[j], hi[j]);
                if h <= l {
                    0.0
                } else if whole[j] && h - l <= 255.0 && l.abs().max(h.abs()) < (1 << 24) as f32 {
                    1.0
                } else {
                    (h - l) / 255.0
                }
            })
            .collect();
        Sq8 { min: lo.into_iter().map(|l| if l.is_finite() { l } else { 0.0 }).collect(), step }
    }
    /// Whether every value of `n` dense rows decodes from its code to itself, bit for bit (the
    /// exact f32 rows can then be had from the codes).
    pub fn is_lossless(&self, data: &[f32], n: usize, dim: usize) -> bool {
        (0..n * dim).all(|i| {
            let j = i % dim;
            self.decode(self.encode(data[i], j), j).to_bits() == data[i].to_bits()
        })
    }
    /// Decode a row of codes into `out` (its first `dim` values; the padding is left as it is).
    pub fn decode_row(&self, codes: &[u8], out: &mut [f32]) {
        for (j, o) in out[..self.min.len()].iter_mut().enumerate() {
            *o = self.min[j] + self.step[j] * codes[j] as f32;
        }
    }
    pub fn encode(&self, x: f32, j: usize) -> u8 {
        if self.step[j] == 0.0 { 0 } else { ((x - self.min[j]) / self.step[j]).round().clamp(0.0, 255.0) as u8 }
    }
    pub fn decode(&self, c: u8, j: usize) -> f32 {
        self.min[j] + self.step[j] * c as f32
    }
}

/// Rows of one precision, padded and aligned.
pub struct Store {
    pub n: usize,
    pub dim: usize,
    pub stride: usize,
    pub quant: Quant,
    pub sq8: Option<Sq8>,
    /// SQ8: per row, sum of step_j^2 code_j^2 (the row's own term of the L2 expansion).
    sq8_norm: Vec<f32>,
    bytes: AlignedBytes,
    /// Rows the searches of this store may have read so far (`note_walks`).
    walked: std::sync::atomic::AtomicU64,
}

/// Copying an opened index's rows into huge-page memory cost about 0.8 CPU-us per row on this
/// VM, and saved 22-27 ns per row a walk may read (synthetic 1M x 128, ef 160: 0.8 CPU-s once,
/// then 1.3-1.4x the QPS): the copy pays once walks may have read about 32 times the rows.
const RESIDENT_AFTER: u64 = 32;

impl Store {
    /// Encode `n` rows of `dim` f32 (dense, row-major) at `quant`.
    pub fn encode(data: &[f32], n: usize, dim: usize, quant: Quant) -> Store {
        let stride = padded(dim);
        let mut s = Store {
            n,
            dim,
            stride,
            quant,
            sq8: None,
            sq8_norm: Vec::new(),
            bytes: AlignedBytes::zeroed(n * stride * quant.bytes()),
            walked: Default::default(),
        };
        match quant {
            Quant::F32 => {
                let out = s.bytes.typed_mut::<f32>();
                for r in 0..n {
                    out[r * stride..r * stride + dim].copy_from_slice(&data[r * dim..(r + 1) * dim]);
                }
            }
            Quant::F16 => {
                let out = s.bytes.typed_mut::<u16>();
                for r in 0..n {
                    for j in 0..dim {
                        out[r * stride + j] = f32_to_f16(data[r * dim + j]);
                    }
                }
            }
            Quant::Sq8 => {
                let q = Sq8::train(data, n, dim, dim);
                let out = s.bytes.typed_mut::<u8>();
                for r in 0..n {
                    for j in 0..dim {
                        out[r * stride + j] = q.encode(data[r * dim + j], j);
                    }
                }
                s.sq8 = Some(q);
                s.sq8_norm = s.norms();
            }
        }
        s
    }

    fn norms(&self) -> Vec<f32> {
        let q = self.sq8.as_ref().expect("sq8 parameters");
        (0..self.n)
            .map(|r| {
                let c = self.u8_row(r);
                (0..self.dim).map(|j| (q.step[j] as f64 * c[j] as f64).powi(2)).sum::<f64>() as f32
            })
            .collect()
    }

    /// From stored bytes (a loaded file): `bytes` is `n * stride * quant.bytes()` long.
    /// The rows of an opened file, in place (no copy): `section` holds at least `n` rows.
    pub fn from_section(section: crate::container::Section, n: usize, dim: usize, quant: Quant, sq8: Option<Sq8>) -> Store {
        let stride = padded(dim);
        let len = n * stride * quant.bytes();
        assert!(section.len() >= len, "vectors section shorter than its rows");
        let bytes = AlignedBytes::view(section, len);
        let mut s = Store { n, dim, stride, quant, sq8, sq8_norm: Vec::new(), bytes, walked: Default::default() };
        if quant == Quant::Sq8 {
            s.sq8_norm = s.norms();
        }
        s
    }

    pub fn from_bytes(bytes: &[u8], n: usize, dim: usize, quant: Quant, sq8: Option<Sq8>) -> Store {
        let stride = padded(dim);
        let mut b = AlignedBytes::zeroed(n * stride * quant.bytes());
        b.as_mut_slice().copy_from_slice(&bytes[..n * stride * quant.bytes()]);
        let mut s = Store { n, dim, stride, quant, sq8, sq8_norm: Vec::new(), bytes: b, walked: Default::default() };
        if quant == Quant::Sq8 {
            s.sq8_norm = s.norms();
        }
        s
    }

    /// Count `rows` more rows that searches may read; once they reach `RESIDENT_AFTER` times the
    /// row count, the rows of an opened file are made resident.
    pub fn note_walks(&self, rows: u64) {
        let walked = self.walked.fetch_add(rows, std::sync::atomic::Ordering::Relaxed).saturating_add(rows);
        if walked >= RESIDENT_AFTER.saturating_mul(self.n as u64) {
            self.make_resident();
        }
    }

    /// Copy the rows of an opened file into huge-page memory for the searches from now on (see
    /// `AlignedBytes`); rows built in memory, or fewer than 2 MiB of them, stay where they are.
    pub fn make_resident(&self) {
        self.bytes.make_resident();
    }

    /// Whether the rows are read from a resident copy rather than the file's mapping.
    pub fn is_resident(&self) -> bool {
        self.bytes.resident.get().is_some()
    }

    /// Whether searches read the rows through an opened file's mapping (not built here, not copied).
    pub fn is_mapped(&self) -> bool {
        self.bytes.mapped.is_some() && !self.is_resident()
    }

    pub fn raw(&self) -> &[u8] {
        self.bytes.as_slice()
    }
    pub fn f32_row(&self, r: usize) -> &[f32] {
        &self.bytes.typed::<f32>()[r * self.stride..(r + 1) * self.stride]
    }
    pub fn f16_row(&self, r: usize) -> &[u16] {
        &self.bytes.typed::<u16>()[r * self.stride..(r + 1) * self.stride]
    }
    pub fn u8_row(&self, r: usize) -> &[u8] {
        &self.bytes.typed::<u8>()[r * self.stride..(r + 1) * self.stride]
    }
    /// Address of row `r` (for prefetching).
    #[inline]
    pub fn row_ptr(&self, r: usize) -> *const u8 {
        self.bytes.as_slice().as_ptr().wrapping_add(r * self.stride * self.quant.bytes())
    }
    pub fn row_bytes(&self) -> usize {
        self.stride * self.quant.bytes()
    }
    /// Start loading every line of row `r` (and its SQ8 norm, which the distance adds).
    #[inline]
    pub fn prefetch_row(&self, r: usize) {
        let ptr = self.row_ptr(r);
        for off in (0..self.row_bytes()).step_by(64) {
            crate::prefetch::prefetch(ptr.wrapping_add(off));
        }
        if let Some(norm) = self.sq8_norm.get(r) {
            crate::prefetch::prefetch(norm);
        }
    }
    /// Start loading the first two lines of row `r`: cheap enough for every neighbour a search reaches.
    #[inline]
    pub fn prefetch_row_head(&self, r: usize) {
        let ptr = self.row_ptr(r);
        crate::prefetch::prefetch(ptr);
        if self.row_bytes() > 64 {
            crate::prefetch::prefetch(ptr.wrapping_add(64));
        }
    }
}

/// A query prepared for one store: padded, converted, and for SQ8 mapped to code space.
pub struct Query {
    f32: Vec<f32>,
    /// SQ8: the weights w_j of the code term, quantised to i16 (w_j ~ sq8_scale * sq8_q[j]) ...
    sq8_q: Vec<i16>,
    sq8_scale: f32,
    /// ... and the query's constant term.
    sq8_c: f32,
}

impl Query {
    /// The query as f32, zero-padded to the store's stride.
    pub fn padded(&self) -> &[f32] {
        &self.f32
    }
}

/// Distances for one store and metric, through the process's kernel table.
pub struct Scorer<'a> {
    pub store: &'a Store,
    pub metric: Metric,
    /// Bit-identical kernels: builds (graph links, k-means) use these.
    k: &'static Kernels,
    /// FMA kernels for ranking at query time.
    fast: crate::kernels::fast::Fast,
    /// Inner product, in builds: each row's lift `sqrt(M^2 - |x|^2)` (M the largest row norm),
    /// the extra coordinate that puts every row on one sphere (see `with_ip_lift`).
    lift: Option<Vec<f32>>,
}

impl<'a> Scorer<'a> {
    pub fn new(store: &'a Store, metric: Metric) -> Scorer<'a> {
        Scorer { store, metric, k: kernels::kernels(), fast: crate::kernels::fast::fast(), lift: None }
    }

    /// This scorer, with `dist_rows` between rows lifted onto a sphere under inner product (other
    /// metrics unchanged): a row x becomes (x, sqrt(M^2 - |x|^2)), M the largest row norm, and
    /// `-(a.b + lift_a lift_b)` orders pairs of rows as their L2 distance there (Bachrach et al.,
    /// RecSys 2014). Under dot product the rows of largest norm are every row's "nearest", so
    /// "the nearest reached row" of a cut-off row means little; lifted, it is a distance.
    /// Building the whole graph on lifted rows was measured too, and not kept: recall@10 on
    /// Fashion-MNIST 0.79 / 0.97 / 0.99 at ef 40 / 160 / 640 (0.71 / 0.86 / 0.91 with only the
    /// cut-off rows linked this way), but 0.34 at ef 100 on rows whose norms span 100x, where the
    /// graph on dot products gives 0.99.
    pub fn with_ip_lift(&self) -> Scorer<'a> {
        let lift = (self.metric == Metric::Ip && self.store.quant == Quant::F32).then(|| {
            let norms: Vec<f32> = (0..self.store.n).map(|r| (self.k.dot_f32)(self.store.f32_row(r), self.store.f32_row(r))).collect();
            let max = norms.iter().copied().fold(0f32, f32::max);
            norms.iter().map(|&x| (max - x).max(0.0).sqrt()).collect()
        });
        Scorer { lift, ..*self }
    }

    /// `q` has `dim` elements (already normalised for cosine).
    pub fn prepare(&self, q: &[f32]) -> Query {
        let s = self.store;
        let mut f = vec![0f32; s.stride];
        f[..s.dim].copy_from_slice(&q[..s.dim]);
        let mut out = Query { f32: Vec::new(), sq8_q: Vec::new(), sq8_scale: 0.0, sq8_c: 0.0 };
        match s.quant {
            Quant::F32 => {}
            Quant::F16 => {}
            Quant::Sq8 => {
                let p = s.sq8.as_ref().expect("sq8 store has parameters");
                // L2: |q - x|^2 = sum (q_j - min_j)^2 - 2 sum step_j (q_j - min_j) c_j + sum step_j^2 c_j^2
                // IP: q . x = sum q_j min_j + sum q_j step_j c_j
                let mut w = vec![0f64; s.stride];
                let mut c = 0f64;
                for j in 0..s.dim {
                    let (q, m, st) = (f[j] as f64, p.min[j] as f64, p.step[j] as f64);
                    if self.metric.is_l2() {
                        w[j] = st * (q - m);
                        c += (q - m) * (q - m);
                    } else {
                        w[j] = q * st;
                        c += q * m;
                    }
                }
                let max = w.iter().fold(0f64, |a, &x| a.max(x.abs()));
                let lim = ((1i32 << sq8::QUERY_BITS) - 1) as f64;
                let scale = if max > 0.0 { max / lim } else { 1.0 };
                out.sq8_q = w.iter().map(|&x| round_half_away(x / scale) as i16).collect();
                out.sq8_scale = scale as f32;
                out.sq8_c = c as f32;
            }
        }
        out.f32 = f;
        out
    }

    #[inline]
    pub fn dist(&self, q: &Query, r: usize) -> f32 {
        let s = self.store;
        match (s.quant, self.metric.is_l2()) {
            (Quant::F32, true) => (self.fast.l2_f32)(&q.f32, s.f32_row(r)),
            (Quant::F32, false) => -(self.fast.dot_f32)(&q.f32, s.f32_row(r)),
            (Quant::F16, true) => (self.fast.l2_f16)(&q.f32, s.f16_row(r)),
            (Quant::F16, false) => -(self.fast.dot_f16)(&q.f32, s.f16_row(r)),
            (Quant::Sq8, true) => q.sq8_c + s.sq8_norm[r] - 2.0 * q.sq8_scale * sq8::dot_u8_i16(s.u8_row(r), &q.sq8_q) as f32,
            (Quant::Sq8, false) => -(q.sq8_c + q.sq8_scale * sq8::dot_u8_i16(s.u8_row(r), &q.sq8_q) as f32),
        }
    }

    /// `dist(q, r)` bit for bit when it is below `bound`, else a value at or above `bound` (an L2
    /// distance over f32 rows may stop summing early; every other store computes it whole).
    #[inline]
    pub fn dist_below(&self, q: &Query, r: usize, bound: f32) -> f32 {
        if self.store.quant == Quant::F32 && self.metric.is_l2() {
            (self.fast.l2_f32_below)(&q.f32, self.store.f32_row(r), bound)
        } else {
            self.dist(q, r)
        }
    }

    /// `[i][j]` = `dist(q[i], r[j])`, bit for bit: f32 rows through the 2x2 kernel, which loads
    /// each query and row once for two pairs; other stores pair by pair.
    #[inline]
    pub fn dist_2x2(&self, q: [&Query; 2], r: [usize; 2]) -> [[f32; 2]; 2] {
        let s = self.store;
        if s.quant != Quant::F32 {
            return [[self.dist(q[0], r[0]), self.dist(q[0], r[1])], [self.dist(q[1], r[0]), self.dist(q[1], r[1])]];
        }
        let (qs, rs) = ([&q[0].f32[..], &q[1].f32[..]], [s.f32_row(r[0]), s.f32_row(r[1])]);
        if self.metric.is_l2() { (self.fast.l2_f32_2x2)(qs, rs) } else { (self.fast.dot_f32_2x2)(qs, rs).map(|row| row.map(|d| -d)) }
    }

    /// Distance from a padded query to a padded f32 vector outside the store (an IVF centroid),
    /// with the query-time kernels: it only ranks lists.
    #[inline]
    pub fn dist_to(&self, q_padded: &[f32], y: &[f32]) -> f32 {
        if self.metric.is_l2() { (self.fast.l2_f32)(q_padded, y) } else { -(self.fast.dot_f32)(q_padded, y) }
    }

    /// Distance between two stored rows (f32 stores only: graph and k-means builds).
    #[inline]
    pub fn dist_rows(&self, a: usize, b: usize) -> f32 {
        let s = self.store;
        debug_assert_eq!(s.quant, Quant::F32);
        if self.metric.is_l2() {
            return (self.k.l2sq_f32)(s.f32_row(a), s.f32_row(b));
        }
        let dot = (self.k.dot_f32)(s.f32_row(a), s.f32_row(b));
        match &self.lift {
            Some(l) => -(dot + l[a] * l[b]),
            None => -dot,
        }
    }
}

/// `x.round()` (half away from zero) for |x| < 2^52, without the libm call `round` is on the
/// SSE2 baseline (no `roundsd` before SSE4.1): truncation and the fraction are exact.
#[inline]
fn round_half_away(x: f64) -> i64 {
    let t = x.abs() as i64;
    let r = if x.abs() - t as f64 >= 0.5 { t + 1 } else { t };
    if x < 0.0 { -r } else { r }
}

/// Normalise `v` in place to unit length (zero vectors stay zero).
pub fn normalize(v: &mut [f32]) {
    let n: f64 = v.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt();
    if n > 0.0 {
        for x in v {
            *x = (*x as f64 / n) as f32;
        }
    }
}

#[cfg(test)]
mod round_tests {
    #[test]
    fn round_half_away_equals_f64_round() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut cases = vec![0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 0.49999999999999994, -0.49999999999999994, 16383.5, -16383.49];
        for _ in 0..100_000 {
            x = crate::rand::splitmix(x);
            cases.push(((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 40_000.0);
        }
        for c in cases {
            assert_eq!(super::round_half_away(c), c.round() as i64, "{c}");
        }
    }
}
