//! Building a text index: analysis in parallel chunks, one vocabulary merged
//! in input order, terms sorted bytewise into ordinals, postings encoded in
//! parallel ranges of ordinals and concatenated in order, so the bytes depend
//! only on the input and the options (never on the thread count).

pub mod pairs;

use super::analyzer::Analyzer;
use super::codec::{BLOCK, bits, pack, put_vint};
use super::*;
use crate::cancel::CancelToken;
use crate::container::{self, HeaderFields, kind};
use crate::error::{Error, Result};
use crate::fastmap::FastMap;
use crate::parallel::parallel_ranges;
use std::path::Path;

/// One text field: all docs' UTF-8 texts concatenated, `offsets` has n + 1 entries.
pub struct FieldInput<'a> {
    pub name: String,
    pub weight: f64,
    pub text: &'a [u8],
    pub offsets: &'a [u32],
}

/// External ids: integers, or strings (bytes + n + 1 offsets).
pub enum ExtIds<'a> {
    U64(&'a [u64]),
    Str { bytes: &'a [u8], offsets: &'a [u32] },
}

impl ExtIds<'_> {
    fn len(&self) -> usize {
        match self {
            ExtIds::U64(v) => v.len(),
            ExtIds::Str { offsets, .. } => offsets.len().saturating_sub(1),
        }
    }
}

#[derive(Clone, Debug)]
pub struct PairOptions {
    pub kind: PairKind,
    /// Keep at most this many pairs.
    pub max_pairs: usize,
    /// ... and about this many bytes of pair postings.
    pub max_bytes: usize,
    /// Candidate terms need at least this df (0 = max(1000, N / 1000)).
    pub min_df: u32,
    /// A pair needs at least this df.
    pub min_pair_df: u32,
    /// At most this many candidate terms (by df).
    pub max_terms: usize,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            kind: PairKind::Off,
            max_pairs: 1_000_000,
            max_bytes: 4 << 20,
            min_df: 0,
            min_pair_df: 64,
            max_terms: pairs::MAX_CANDIDATES,
        }
    }
}

#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub analyzer: Analyzer,
    /// Canonical JSON describing the analyzer (checked by the query side).
    pub analyzer_desc: String,
    pub pairs: PairOptions,
    pub forward: bool,
    pub threads: usize,
    pub k1: f64,
    pub b: f64,
}

#[derive(Clone, Debug, Default)]
pub struct BuildStats {
    pub rows: u64,
    pub docs: u64,
    pub duplicates: u64,
    /// Up to 5 duplicated external ids (as text), for the report.
    pub duplicate_examples: Vec<String>,
    pub terms: u64,
    pub singletons: u64,
    pub postings: u64,
    pub tokens: u64,
    pub dropped_tokens: u64,
    pub pairs: u64,
    pub tombstones: u64,
    pub unknown_tombstones: u64,
    pub file_bytes: u64,
    pub sections: Vec<(&'static str, u64)>,
}

/// What analysing one chunk of rows gives.
struct Chunk {
    /// Local vocabulary: key bytes (field byte + token) in first-seen order.
    keys: Vec<u8>,
    key_off: Vec<u32>,
    /// Per row: (local term, tf) entries sorted by local term id.
    entries: Vec<(u32, u32)>,
    row_off: Vec<u32>,
    /// Per row and field: token count (row-major).
    lens: Vec<u32>,
    /// Per row: distinct adjacent (local a, local b) pairs, only for adjacent pairs.
    adj: Vec<(u32, u32)>,
    adj_off: Vec<u32>,
    dropped: u64,
}

fn analyze_chunk(rows: std::ops::Range<usize>, fields: &[FieldInput], opts: &BuildOptions, cancel: &CancelToken) -> Result<Chunk> {
    let nf = fields.len();
    let mut vocab: FastMap<Vec<u8>, u32> = FastMap::default();
    let mut c = Chunk {
        keys: Vec::new(),
        key_off: vec![0],
        entries: Vec::new(),
        row_off: vec![0],
        lens: Vec::with_capacity(rows.len() * nf),
        adj: Vec::new(),
        adj_off: vec![0],
        dropped: 0,
    };
    let adjacent = opts.pairs.kind == PairKind::Adjacent;
    let mut doc_terms: Vec<u32> = Vec::new();
    let mut seq: Vec<(u32, u32)> = Vec::new();
    let mut key: Vec<u8> = Vec::with_capacity(256);
    for (i, row) in rows.enumerate() {
        if i % 4096 == 0 {
            cancel.check()?;
        }
        doc_terms.clear();
        seq.clear();
        for (f, field) in fields.iter().enumerate() {
            let (s, e) = (field.offsets[row] as usize, field.offsets[row + 1] as usize);
            // Validated as UTF-8 by the caller (JS strings), checked again here for direct callers.
            let text = std::str::from_utf8(&field.text[s..e]).map_err(|err| {
                Error::InvalidArgument(format!("row {row}, field {}: invalid UTF-8 at byte {}", field.name, err.valid_up_to()))
            })?;
            let mut n = 0u32;
            let mut last: Option<u32> = None;
            c.dropped += opts.analyzer.tokens(text, |tok| {
                key.clear();
                key.push(f as u8);
                key.extend_from_slice(tok);
                let id = match vocab.get(&key) {
                    Some(&id) => id,
                    None => {
                        let id = vocab.len() as u32;
                        vocab.insert(key.clone(), id);
                        c.keys.extend_from_slice(&key);
                        c.key_off.push(c.keys.len() as u32);
                        id
                    }
                };
                doc_terms.push(id);
                if adjacent {
                    if let Some(prev) = last {
                        seq.push((prev, id));
                    }
                    last = Some(id);
                }
                n += 1;
            });
            c.lens.push(n);
        }
        doc_terms.sort_unstable();
        let mut j = 0;
        while j < doc_terms.len() {
            let t = doc_terms[j];
            let mut k = j + 1;
            while k < doc_terms.len() && doc_terms[k] == t {
                k += 1;
            }
            c.entries.push((t, (k - j) as u32));
            j = k;
        }
        c.row_off.push(c.entries.len() as u32);
        if adjacent {
            seq.sort_unstable();
            seq.dedup();
            c.adj.extend_from_slice(&seq);
            c.adj_off.push(c.adj.len() as u32);
        }
    }
    Ok(c)
}

fn ext_text(ids: &ExtIds, row: usize) -> String {
    match ids {
        ExtIds::U64(v) => v[row].to_string(),
        ExtIds::Str { bytes, offsets } => String::from_utf8_lossy(&bytes[offsets[row] as usize..offsets[row + 1] as usize]).into_owned(),
    }
}

/// Rows kept (last occurrence of each external id wins), in input order.
fn dedup_rows(ids: &ExtIds, stats: &mut BuildStats) -> Vec<u32> {
    let n = ids.len();
    let mut last: Vec<u32> = vec![0; n];
    match ids {
        ExtIds::U64(v) => {
            let mut m: FastMap<u64, u32> = FastMap::default();
            m.reserve(n);
            for (r, &id) in v.iter().enumerate() {
                m.insert(id, r as u32);
            }
            for (r, &id) in v.iter().enumerate() {
                last[r] = m[&id];
            }
        }
        ExtIds::Str { bytes, offsets } => {
            let mut m: FastMap<&[u8], u32> = FastMap::default();
            m.reserve(n);
            let s = |r: usize| &bytes[offsets[r] as usize..offsets[r + 1] as usize];
            for r in 0..n {
                m.insert(s(r), r as u32);
            }
            for (r, l) in last.iter_mut().enumerate() {
                *l = m[s(r)];
            }
        }
    }
    let mut kept = Vec::with_capacity(n);
    for (r, &l) in last.iter().enumerate() {
        if l as usize == r {
            kept.push(r as u32);
        } else {
            stats.duplicates += 1;
            if stats.duplicate_examples.len() < 5 {
                stats.duplicate_examples.push(ext_text(ids, r));
            }
        }
    }
    kept
}

/// Per-term postings as built: docs and tfs of every term, ord-major.
struct Inverted {
    /// Term t owns docs/tfs[off[t]..off[t+1]].
    off: Vec<u64>,
    docs: Vec<u32>,
    tfs: Vec<u32>,
}

/// The encoded postings of a range of terms, and their TermInfo bytes.
struct Encoded {
    postings: Vec<u8>,
    /// Per term: TermInfo bytes (in `infos`), and whether it has postings bytes.
    infos: Vec<u8>,
    info_off: Vec<u32>,
    post_len: Vec<u64>,
}

/// Encode one posting list (docs strictly increasing) into `out`; `ntf` tf streams.
/// Returns the list-level (max tf, min len code) per stream.
pub(crate) fn encode_list(out: &mut Vec<u8>, docs: &[u32], tfs: &[&[u32]], codes: &[u8]) -> (Vec<u8>, u8) {
    let df = docs.len();
    let n_full = df / BLOCK;
    let ntf = tfs.len();
    let entry = if ntf == 1 { SKIP_ENTRY } else { PAIR_SKIP_ENTRY };
    let skip_start = out.len();
    out.resize(skip_start + n_full * entry, 0);
    let blocks_start = out.len();
    let mut prev_last: i64 = -1;
    let mut vals = [0u32; BLOCK];
    let mut list_max = vec![0u8; ntf];
    let mut list_min_len = 255u8;
    for b in 0..n_full {
        let d = &docs[b * BLOCK..(b + 1) * BLOCK];
        let mut p = prev_last;
        let mut maxgap = 0u32;
        for (k, &doc) in d.iter().enumerate() {
            vals[k] = (doc as i64 - p - 1) as u32;
            maxgap |= vals[k];
            p = doc as i64;
        }
        let doc_bits = bits(maxgap);
        let block_off = (out.len() - blocks_start) as u32;
        pack(out, &vals, doc_bits);
        let mut tf_bits = [0u8; 2];
        let mut max_tf = [0u8; 2];
        for (s, t) in tfs.iter().enumerate() {
            let t = &t[b * BLOCK..(b + 1) * BLOCK];
            let mut m = 0u32;
            for (k, &tf) in t.iter().enumerate() {
                vals[k] = tf - 1;
                m = m.max(tf);
            }
            tf_bits[s] = bits(m - 1);
            max_tf[s] = tf_sat(m);
            list_max[s] = list_max[s].max(max_tf[s]);
            pack(out, &vals, tf_bits[s]);
        }
        let min_len = d.iter().map(|&doc| codes.get(doc as usize).copied().unwrap_or(0)).min().unwrap();
        list_min_len = list_min_len.min(min_len);
        let e = &mut out[skip_start + b * entry..skip_start + (b + 1) * entry];
        e[0..4].copy_from_slice(&d[BLOCK - 1].to_le_bytes());
        e[4..8].copy_from_slice(&block_off.to_le_bytes());
        e[8] = doc_bits;
        if ntf == 1 {
            e[9] = tf_bits[0];
            e[10] = max_tf[0];
            e[11] = min_len;
        } else {
            e[9] = tf_bits[0];
            e[10] = tf_bits[1];
            e[11] = max_tf[0];
            e[12] = max_tf[1];
            e[13] = min_len;
        }
        prev_last = d[BLOCK - 1] as i64;
    }
    let mut p = prev_last;
    for k in n_full * BLOCK..df {
        let doc = docs[k];
        let gap = (doc as i64 - p - 1) as u64;
        p = doc as i64;
        if ntf == 1 {
            let tf = tfs[0][k];
            put_vint(out, gap << 1 | (tf == 1) as u64);
            if tf != 1 {
                put_vint(out, (tf - 1) as u64);
            }
        } else {
            put_vint(out, gap);
            for t in tfs {
                put_vint(out, (t[k] - 1) as u64);
            }
        }
        for (s, t) in tfs.iter().enumerate() {
            list_max[s] = list_max[s].max(tf_sat(t[k]));
        }
        list_min_len = list_min_len.min(codes.get(doc as usize).copied().unwrap_or(0));
    }
    (list_max, list_min_len)
}

fn encode_terms(range: std::ops::Range<usize>, inv: &Inverted, term_field: &[u8], codes: &[Vec<u8>]) -> Encoded {
    let mut e = Encoded { postings: Vec::new(), infos: Vec::new(), info_off: vec![0], post_len: Vec::with_capacity(range.len()) };
    for t in range {
        let (s, end) = (inv.off[t] as usize, inv.off[t + 1] as usize);
        let docs = &inv.docs[s..end];
        let tfs = &inv.tfs[s..end];
        let df = docs.len() as u64;
        put_vint(&mut e.infos, df);
        if df == 1 {
            put_vint(&mut e.infos, docs[0] as u64);
            put_vint(&mut e.infos, tfs[0] as u64);
            e.post_len.push(0);
        } else {
            let start = e.postings.len();
            let (max_tf, min_len) = encode_list(&mut e.postings, docs, &[tfs], &codes[term_field[t] as usize]);
            let len = (e.postings.len() - start) as u64;
            let total: u64 = tfs.iter().map(|&x| x as u64).sum();
            put_vint(&mut e.infos, len);
            put_vint(&mut e.infos, total - df);
            e.infos.push(max_tf[0]);
            e.infos.push(min_len);
            e.post_len.push(len);
        }
        e.info_off.push(e.infos.len() as u32);
    }
    e
}

/// Front-coded dictionary blocks and their index.
fn write_dict(keys: &[u8], key_off: &[u64], enc: &[Encoded]) -> (Vec<u8>, Vec<u8>) {
    let t_count = key_off.len() - 1;
    let n_blocks = t_count.div_ceil(TERMS_PER_DICT_BLOCK);
    let mut blocks = Vec::new();
    let mut block_off = Vec::with_capacity(n_blocks + 1);
    let mut first_keys = Vec::new();
    let mut first_off = vec![0u32];
    // Flatten per-term (info bytes, postings len) across the encoded ranges.
    let mut infos: Vec<(&[u8], u64)> = Vec::with_capacity(t_count);
    for e in enc {
        for i in 0..e.post_len.len() {
            infos.push((&e.infos[e.info_off[i] as usize..e.info_off[i + 1] as usize], e.post_len[i]));
        }
    }
    let key = |t: usize| &keys[key_off[t] as usize..key_off[t + 1] as usize];
    let mut post_pos = 0u64;
    for b in 0..n_blocks {
        block_off.push(blocks.len() as u64);
        let (s, e) = (b * TERMS_PER_DICT_BLOCK, ((b + 1) * TERMS_PER_DICT_BLOCK).min(t_count));
        blocks.extend_from_slice(&post_pos.to_le_bytes());
        blocks.extend_from_slice(&((e - s) as u16).to_le_bytes());
        first_keys.extend_from_slice(key(s));
        first_off.push(first_keys.len() as u32);
        let mut prev: &[u8] = &[];
        #[allow(clippy::needless_range_loop)] // t is the term ordinal: key(t), t == s and infos[t]
        for t in s..e {
            let k = key(t);
            let shared = if t == s { 0 } else { k.iter().zip(prev).take_while(|(a, b)| a == b).count() };
            put_vint(&mut blocks, shared as u64);
            put_vint(&mut blocks, (k.len() - shared) as u64);
            blocks.extend_from_slice(&k[shared..]);
            blocks.extend_from_slice(infos[t].0);
            post_pos += infos[t].1;
            prev = k;
        }
    }
    block_off.push(blocks.len() as u64);
    let mut index = Vec::new();
    index.extend_from_slice(&(n_blocks as u32).to_le_bytes());
    index.extend_from_slice(&0u32.to_le_bytes()); // keeps the u64 array 8-byte aligned
    for o in &block_off {
        index.extend_from_slice(&o.to_le_bytes());
    }
    for o in &first_off {
        index.extend_from_slice(&o.to_le_bytes());
    }
    index.extend_from_slice(&first_keys);
    (index, blocks)
}

/// Integer ids, frame-of-reference packed: `u64 base, u8 width, u8 sorted, u8 perm_width, 5 reserved`,
/// the `n` values `id - base`, then (unless the ids ascend, so the order is its own permutation)
/// the internal ids sorted by external id.
fn write_u64_ids(vals: &[u64]) -> Vec<u8> {
    let n = vals.len();
    let base = vals.iter().copied().min().unwrap_or(0);
    let width = super::codec::bits64(vals.iter().map(|&v| v - base).max().unwrap_or(0));
    let sorted = vals.windows(2).all(|w| w[0] < w[1]);
    let perm_width = if sorted { 0 } else { super::codec::bits64(n.saturating_sub(1) as u64) };
    let mut out = Vec::new();
    out.extend_from_slice(&base.to_le_bytes());
    out.extend_from_slice(&[width, sorted as u8, perm_width, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&super::codec::pack_stream(&vals.iter().map(|&v| v - base).collect::<Vec<_>>(), width));
    if !sorted {
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.sort_unstable_by_key(|&d| vals[d as usize]);
        out.extend_from_slice(&super::codec::pack_stream(&perm.iter().map(|&p| p as u64).collect::<Vec<_>>(), perm_width));
    }
    out
}

/// Forward lists: group offsets per 128 docs, then per doc VInt n, (ord gap, tf) pairs.
fn write_forward(doc_off: &[u64], ords: &[u32], tfs: &[u32]) -> Vec<u8> {
    let n = doc_off.len() - 1;
    let groups = n.div_ceil(BLOCK);
    let mut body = Vec::new();
    let mut group_off = Vec::with_capacity(groups + 1);
    for d in 0..n {
        if d % BLOCK == 0 {
            group_off.push(body.len() as u64);
        }
        let (s, e) = (doc_off[d] as usize, doc_off[d + 1] as usize);
        put_vint(&mut body, (e - s) as u64);
        let mut prev = 0u32;
        for i in s..e {
            put_vint(&mut body, (ords[i] - prev) as u64);
            put_vint(&mut body, tfs[i] as u64);
            prev = ords[i];
        }
    }
    group_off.push(body.len() as u64);
    let mut out = Vec::with_capacity(group_off.len() * 8 + body.len());
    for o in &group_off {
        out.extend_from_slice(&o.to_le_bytes());
    }
    out.extend_from_slice(&body);
    out
}

pub struct Built {
    pub sections: Vec<(u32, Vec<u8>)>,
    pub flags: u32,
    pub stats: BuildStats,
}

/// Build every section in memory.
pub fn build_sections(
    ids: &ExtIds,
    fields: &[FieldInput],
    tombstones: &ExtIds,
    opts: &BuildOptions,
    cancel: &CancelToken,
) -> Result<Built> {
    let rows = ids.len();
    if fields.is_empty() || fields.len() > 255 {
        return Err(Error::InvalidArgument(format!("a text index needs 1 to 255 fields, got {}", fields.len())));
    }
    for f in fields {
        if f.offsets.len() != rows + 1 || f.offsets[rows] as usize != f.text.len() {
            return Err(Error::LengthMismatch {
                what: "field offsets (rows + 1, ending at the text length)",
                expected: rows + 1,
                got: f.offsets.len(),
            });
        }
        if !(f.weight > 0.0 && f.weight.is_finite()) {
            return Err(Error::InvalidArgument(format!("field {}: weight must be a positive number, got {}", f.name, f.weight)));
        }
    }
    if let ExtIds::Str { bytes, offsets } = ids
        && (offsets.len() != rows + 1 || offsets[rows] as usize != bytes.len())
    {
        return Err(Error::InvalidArgument("string ids: offsets must have rows + 1 entries ending at the byte length".into()));
    }
    let mut stats = BuildStats { rows: rows as u64, ..Default::default() };
    let threads = opts.threads.max(1);
    let nf = fields.len();

    // 1. Analysis, in parallel chunks.
    let parts = if rows < 4096 { 1 } else { (threads * 4).min(rows / 1024) };
    let chunks = parallel_ranges(rows, parts, threads, |r| analyze_chunk(r, fields, opts, cancel))?;
    cancel.check()?;

    // 2. One vocabulary, in first-seen order (chunks in input order).
    let mut gvocab: FastMap<&[u8], u32> = FastMap::default();
    let mut gkeys: Vec<&[u8]> = Vec::new();
    let mut local_to_global: Vec<Vec<u32>> = Vec::with_capacity(chunks.len());
    for c in &chunks {
        let mut map = Vec::with_capacity(c.key_off.len() - 1);
        for i in 0..c.key_off.len() - 1 {
            let k = &c.keys[c.key_off[i] as usize..c.key_off[i + 1] as usize];
            let id = *gvocab.entry(k).or_insert_with(|| {
                gkeys.push(k);
                (gkeys.len() - 1) as u32
            });
            map.push(id);
        }
        stats.dropped_tokens += c.dropped;
        local_to_global.push(map);
    }
    drop(gvocab);

    // 3. Last occurrence of an id wins.
    let kept = dedup_rows(ids, &mut stats);
    let n = kept.len();
    if n > MAX_DOCS {
        return Err(Error::InvalidArgument(format!("{n} documents exceed the 2^31 - 1 a text index file holds; shard the input")));
    }
    stats.docs = n as u64;
    // Row -> (chunk, row within chunk).
    let mut chunk_start = Vec::with_capacity(chunks.len() + 1);
    let mut acc = 0usize;
    for c in &chunks {
        chunk_start.push(acc);
        acc += c.row_off.len() - 1;
    }
    let locate = |row: usize| -> (usize, usize) {
        let ci = chunk_start.partition_point(|&s| s <= row) - 1;
        (ci, row - chunk_start[ci])
    };

    // 4. df over kept docs; terms that only occur in replaced rows disappear.
    let mut df = vec![0u32; gkeys.len()];
    for &row in &kept {
        let (ci, r) = locate(row as usize);
        let c = &chunks[ci];
        for &(t, _) in &c.entries[c.row_off[r] as usize..c.row_off[r + 1] as usize] {
            df[local_to_global[ci][t as usize] as usize] += 1;
        }
    }
    let mut live: Vec<u32> = (0..gkeys.len() as u32).filter(|&t| df[t as usize] > 0).collect();
    live.sort_unstable_by(|&a, &b| gkeys[a as usize].cmp(gkeys[b as usize]));
    let t_count = live.len();
    let mut ord_of = vec![u32::MAX; gkeys.len()];
    for (o, &t) in live.iter().enumerate() {
        ord_of[t as usize] = o as u32;
    }
    let mut keys = Vec::new();
    let mut key_off = Vec::with_capacity(t_count + 1);
    key_off.push(0u64);
    let mut term_field = Vec::with_capacity(t_count);
    for &t in &live {
        let k = gkeys[t as usize];
        keys.extend_from_slice(k);
        key_off.push(keys.len() as u64);
        term_field.push(k[0]);
    }
    let term_df: Vec<u32> = live.iter().map(|&t| df[t as usize]).collect();
    drop(df);
    stats.terms = t_count as u64;
    cancel.check()?;

    // 5. Per doc: entries remapped to ords and sorted (the forward lists); lengths.
    let table = len_table();
    let mut doc_off = Vec::with_capacity(n + 1);
    doc_off.push(0u64);
    let mut f_ords: Vec<u32> = Vec::new();
    let mut f_tfs: Vec<u32> = Vec::new();
    let mut codes: Vec<Vec<u8>> = vec![Vec::with_capacity(n); nf];
    let mut total_tokens = vec![0u64; nf];
    let mut docs_with = vec![0u32; nf];
    let mut adj_off = vec![0u64];
    let mut adj: Vec<u64> = Vec::new();
    let mut tmp: Vec<(u32, u32)> = Vec::new();
    for &row in &kept {
        let (ci, r) = locate(row as usize);
        let c = &chunks[ci];
        let map = &local_to_global[ci];
        tmp.clear();
        for &(t, tf) in &c.entries[c.row_off[r] as usize..c.row_off[r + 1] as usize] {
            tmp.push((ord_of[map[t as usize] as usize], tf));
        }
        tmp.sort_unstable();
        for &(o, tf) in &tmp {
            f_ords.push(o);
            f_tfs.push(tf);
        }
        doc_off.push(f_ords.len() as u64);
        for f in 0..nf {
            let len = c.lens[r * nf + f];
            total_tokens[f] += len as u64;
            docs_with[f] += (len > 0) as u32;
            codes[f].push(len_code(&table, len));
        }
        if opts.pairs.kind == PairKind::Adjacent {
            for &(a, b) in &c.adj[c.adj_off[r] as usize..c.adj_off[r + 1] as usize] {
                adj.push((ord_of[map[a as usize] as usize] as u64) << 32 | ord_of[map[b as usize] as usize] as u64);
            }
            adj_off.push(adj.len() as u64);
        }
    }
    drop(chunks);
    drop(local_to_global);
    stats.tokens = total_tokens.iter().sum();
    stats.postings = f_ords.len() as u64;
    cancel.check()?;

    // 6. Invert: counting sort of (doc, tf) by ord; docs arrive in increasing order.
    let mut off = vec![0u64; t_count + 1];
    for t in 0..t_count {
        off[t + 1] = off[t] + term_df[t] as u64;
    }
    let mut fill: Vec<u64> = off[..t_count].to_vec();
    let mut pdocs = vec![0u32; f_ords.len()];
    let mut ptfs = vec![0u32; f_ords.len()];
    for d in 0..n {
        for i in doc_off[d] as usize..doc_off[d + 1] as usize {
            let o = f_ords[i] as usize;
            let p = fill[o] as usize;
            pdocs[p] = d as u32;
            ptfs[p] = f_tfs[i];
            fill[o] += 1;
        }
    }
    drop(fill);
    let inv = Inverted { off, docs: pdocs, tfs: ptfs };
    stats.singletons = term_df.iter().filter(|&&d| d == 1).count() as u64;

    // 7. Postings and TermInfos in parallel ranges (aligned to dictionary blocks).
    let t_blocks = t_count.div_ceil(TERMS_PER_DICT_BLOCK);
    let eparts = (threads * 8).clamp(1, t_blocks.max(1));
    let enc = parallel_ranges(t_blocks, eparts, threads, |br| {
        let r = (br.start * TERMS_PER_DICT_BLOCK)..(br.end * TERMS_PER_DICT_BLOCK).min(t_count);
        Ok(encode_terms(r, &inv, &term_field, &codes))
    })?;
    cancel.check()?;
    let (dict_index, dict_blocks) = write_dict(&keys, &key_off, &enc);
    let postings: Vec<u8> = enc.iter().flat_map(|e| e.postings.iter().copied()).collect();
    drop(enc);

    // 8. Doc lengths.
    let mut lens = Vec::with_capacity(1024 + nf * n);
    for v in table {
        lens.extend_from_slice(&v.to_le_bytes());
    }
    for c in &codes {
        lens.extend_from_slice(c);
    }

    let mut flags = FLAG_FREQS;
    let mut sections: Vec<(u32, Vec<u8>)> = Vec::new();
    // 9. Pairs.
    if opts.pairs.kind != PairKind::Off {
        let (dict, post, count) =
            pairs::build(&opts.pairs, n, &term_df, &term_field, &doc_off, &f_ords, &f_tfs, &adj_off, &adj, &codes, threads, cancel)?;
        stats.pairs = count;
        flags |= FLAG_PAIRS;
        sections.push((SECTION_PAIR_DICT, dict));
        sections.push((SECTION_PAIR_POSTINGS, post));
    }
    if opts.forward {
        flags |= FLAG_FORWARD;
        sections.push((SECTION_FORWARD, write_forward(&doc_off, &f_ords, &f_tfs)));
    }

    // 10. External ids (+ permutation sorted by id), tombstones.
    let mut ext_index: FastMap<Vec<u8>, u32> = FastMap::default();
    let ext = match ids {
        ExtIds::U64(v) => {
            flags |= FLAG_EXT_ID_U64;
            let vals: Vec<u64> = kept.iter().map(|&r| v[r as usize]).collect();
            if tombstones.len() > 0 {
                for (d, x) in vals.iter().enumerate() {
                    ext_index.insert(x.to_le_bytes().to_vec(), d as u32);
                }
            }
            write_u64_ids(&vals)
        }
        ExtIds::Str { bytes, offsets } => {
            flags |= FLAG_EXT_ID_STR;
            let s = |r: u32| &bytes[offsets[r as usize] as usize..offsets[r as usize + 1] as usize];
            let mut perm: Vec<u32> = (0..n as u32).collect();
            perm.sort_unstable_by(|&a, &b| s(kept[a as usize]).cmp(s(kept[b as usize])));
            let mut ext = Vec::new();
            let mut pos = 0u64;
            ext.extend_from_slice(&pos.to_le_bytes());
            for &r in &kept {
                pos += s(r).len() as u64;
                ext.extend_from_slice(&pos.to_le_bytes());
            }
            for &r in &kept {
                ext.extend_from_slice(s(r));
            }
            while ext.len() % 4 != 0 {
                ext.push(0);
            }
            for p in &perm {
                ext.extend_from_slice(&p.to_le_bytes());
            }
            if tombstones.len() > 0 {
                for (d, &r) in kept.iter().enumerate() {
                    ext_index.insert(s(r).to_vec(), d as u32);
                }
            }
            ext
        }
    };
    sections.push((SECTION_EXT_IDS, ext));
    if tombstones.len() > 0 {
        let mut dead: Vec<u32> = Vec::new();
        for i in 0..tombstones.len() {
            let k = match tombstones {
                ExtIds::U64(t) => t[i].to_le_bytes().to_vec(),
                ExtIds::Str { bytes, offsets } => bytes[offsets[i] as usize..offsets[i + 1] as usize].to_vec(),
            };
            match ext_index.get(&k) {
                Some(&d) => dead.push(d),
                None => stats.unknown_tombstones += 1,
            }
        }
        dead.sort_unstable();
        dead.dedup();
        stats.tombstones = dead.len() as u64;
        flags |= FLAG_TOMBSTONES;
        sections.push((SECTION_TOMBSTONES, super::roaring::serialize(&dead)));
    }

    // 11. FIELDS.
    let mut fl = Vec::new();
    fl.extend_from_slice(&(n as u32).to_le_bytes());
    fl.extend_from_slice(&flags.to_le_bytes());
    fl.extend_from_slice(&(t_count as u64).to_le_bytes());
    fl.extend_from_slice(&(BLOCK as u16).to_le_bytes());
    fl.extend_from_slice(&(TERMS_PER_DICT_BLOCK as u16).to_le_bytes());
    fl.extend_from_slice(&(nf as u16).to_le_bytes());
    fl.push(match opts.analyzer.seg {
        super::analyzer::Segmentation::Standard => 0,
        super::analyzer::Segmentation::Segmented => 1,
    });
    fl.push(0);
    fl.extend_from_slice(&(opts.analyzer.max_token_bytes as u32).to_le_bytes());
    for (f, field) in fields.iter().enumerate() {
        fl.extend_from_slice(&(field.name.len() as u16).to_le_bytes());
        fl.extend_from_slice(field.name.as_bytes());
        fl.extend_from_slice(&total_tokens[f].to_le_bytes());
        fl.extend_from_slice(&docs_with[f].to_le_bytes());
        fl.extend_from_slice(&opts.k1.to_le_bytes());
        fl.extend_from_slice(&opts.b.to_le_bytes());
        fl.extend_from_slice(&field.weight.to_le_bytes());
    }
    fl.extend_from_slice(&(opts.analyzer_desc.len() as u32).to_le_bytes());
    fl.extend_from_slice(opts.analyzer_desc.as_bytes());

    let mut all = vec![
        (SECTION_FIELDS, fl),
        (SECTION_DICT_INDEX, dict_index),
        (SECTION_DICT_BLOCKS, dict_blocks),
        (SECTION_POSTINGS, postings),
        (SECTION_DOC_LENS, lens),
    ];
    all.extend(sections);
    all.sort_by_key(|s| s.0);
    Ok(Built { sections: all, flags, stats })
}

/// Build and write the index file (temp name, fsync, rename).
#[allow(clippy::too_many_arguments)] // the inputs of one build, each distinct; a struct would only wrap them
pub fn build(
    path: &Path,
    mut fields_h: HeaderFields,
    params_json: &str,
    ids: &ExtIds,
    fields: &[FieldInput],
    tombstones: &ExtIds,
    opts: &BuildOptions,
    cancel: &CancelToken,
) -> Result<BuildStats> {
    let built = build_sections(ids, fields, tombstones, opts, cancel)?;
    cancel.check()?;
    fields_h.kind = kind::INVERTED;
    fields_h.major = MAJOR;
    fields_h.minor = MINOR;
    fields_h.flags = built.flags;
    let mut refs: Vec<(u32, u32, &[u8])> = vec![(container::SECTION_PARAMS, 1, params_json.as_bytes())];
    refs.extend(built.sections.iter().map(|(k, b)| (*k, 1u32, b.as_slice())));
    let mut stats = built.stats;
    stats.sections = built.sections.iter().map(|(k, b)| (section_label(*k), b.len() as u64)).collect();
    stats.file_bytes = container::write_container(path, fields_h, &refs)?;
    Ok(stats)
}
