//! Reading a text index: the container opened (checksums checked), its sections parsed into the
//! dictionary, postings, doc lengths, pair lists, external ids and tombstones, and the structures
//! made at open (BM25 tables, dictionary skips, dense-term bitsets). Queries go through `TextIndex`.

use super::analyzer::{Analyzer, Segmentation};
use super::bm25::{bm25_norms, tf1_factors};
use super::codec::{BLOCK, get_vint, u16_at, u32_at, u64_at};
use super::dense::{DenseBits, DenseTerms};
use super::dict::{TermDict, TermInfo};
use super::doc_lens::DocLens;
use super::ext_ids::{self, ExtIdStore};
use super::pair_lists::{PairInfo, PairLists};
use super::postings::{Cursor, check_list};
use super::*;
use crate::container::{Container, kind};
use crate::error::{Error, Result};
use std::path::Path;

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    pub total_tokens: u64,
    pub docs_with: u32,
    pub k1: f64,
    pub b: f64,
    pub weight: f64,
}

pub struct TextIndex {
    pub path: String,
    pub n: u32,
    pub flags: u32,
    pub num_terms: u64,
    pub fields: Vec<FieldInfo>,
    pub analyzer: Analyzer,
    pub analyzer_desc: String,
    dict: TermDict,
    postings: Vec<u8>,
    lens: DocLens,
    forward: Option<Vec<u8>>,
    pub pair_kind: PairKind,
    pairs: PairLists,
    pub ext: ExtIdStore,
    perm: Vec<u32>,
    /// Per field: k1 * (1 - b + b * table[code] / avgdl) for the stored k1 and b (queries that
    /// keep the defaults use these instead of recomputing 256 values).
    pub norms: Vec<[f64; 256]>,
    /// Per field: the tf = 1 factor (k1 + 1) / (1 + norm) by length code, for the stored k1 and b.
    pub ones: Vec<[f64; 256]>,
    /// Deleted internal ids as a bitset (TOMBSTONES).
    deleted: Option<Vec<u64>>,
    pub deleted_count: u64,
    /// Doc bitsets of the dense terms, made at open.
    dense: DenseTerms,
}

fn corrupt(path: &str, what: impl Into<String>) -> Error {
    Error::Corrupt { path: path.to_string(), offset: 0, length: 0, message: what.into() }
}

/// The FIELDS section: (n, flags, term count, fields, segmentation, max token bytes, analyzer).
struct FieldsSection {
    n: u32,
    flags: u32,
    num_terms: u64,
    fields: Vec<FieldInfo>,
    seg: Segmentation,
    max_tok: usize,
    analyzer_desc: String,
}

fn parse_fields(fl: &[u8]) -> std::result::Result<FieldsSection, String> {
    let bad = |m: &str| format!("fields section: {m}");
    if fl.len() < 28 {
        return Err(bad("too short"));
    }
    let n = u32_at(fl, 0);
    let flags = u32_at(fl, 4);
    let num_terms = u64_at(fl, 8);
    if u16_at(fl, 16) as usize != BLOCK || u16_at(fl, 18) as usize != TERMS_PER_DICT_BLOCK {
        return Err(bad("unsupported block sizes"));
    }
    let nf = u16_at(fl, 20) as usize;
    let seg = match fl[22] {
        0 => Segmentation::Standard,
        1 => Segmentation::Segmented,
        x => return Err(bad(&format!("unknown segmentation {x}"))),
    };
    let max_tok = u32_at(fl, 24) as usize;
    let mut pos = 28;
    let mut fields = Vec::with_capacity(nf);
    for _ in 0..nf {
        let get = |pos: usize, len: usize| fl.get(pos..pos + len).ok_or_else(|| bad("truncated field entry"));
        let nl = u16_at(get(pos, 2)?, 0) as usize;
        let name = String::from_utf8_lossy(get(pos + 2, nl)?).into_owned();
        pos += 2 + nl;
        let e = get(pos, 36)?;
        let f64_at = |i: usize| f64::from_le_bytes(e[i..i + 8].try_into().unwrap());
        fields.push(FieldInfo {
            name,
            total_tokens: u64_at(e, 0),
            docs_with: u32_at(e, 8),
            k1: f64_at(12),
            b: f64_at(20),
            weight: f64_at(28),
        });
        pos += 36;
        let f = fields.last().unwrap();
        if !(f.k1.is_finite() && f.k1 >= 0.0 && f.b.is_finite() && f.b >= 0.0 && f.weight.is_finite() && f.weight > 0.0) {
            return Err(bad(&format!("field {}: k1 {}, b {}, weight {} are not BM25 parameters", f.name, f.k1, f.b, f.weight)));
        }
    }
    if n as usize > MAX_DOCS || nf == 0 || nf > 256 {
        return Err(bad(&format!("{n} documents in {nf} fields")));
    }
    let al = u32_at(fl.get(pos..pos + 4).ok_or_else(|| bad("no analyzer"))?, 0) as usize;
    let analyzer_desc = String::from_utf8_lossy(fl.get(pos + 4..pos + 4 + al).ok_or_else(|| bad("truncated analyzer"))?).into_owned();
    Ok(FieldsSection { n, flags, num_terms, fields, seg, max_tok, analyzer_desc })
}

/// TOMBSTONES as a bitset over `n` documents, and how many are deleted.
fn parse_tombstones(b: &[u8], n: usize) -> std::result::Result<(Vec<u64>, u64), String> {
    let vals = super::roaring::deserialize(b).ok_or("tombstones are not a Roaring bitmap")?;
    let mut bits = vec![0u64; n.div_ceil(64)];
    for &d in &vals {
        if d as usize >= n {
            return Err(format!("tombstone {d} is not a document"));
        }
        bits[d as usize / 64] |= 1 << (d % 64);
    }
    Ok((bits, vals.len() as u64))
}

impl TextIndex {
    pub fn open(path: &Path) -> Result<TextIndex> {
        let c = Container::open_kind(path, kind::INVERTED, MAJOR)?;
        let p = path.display().to_string();
        let need =
            |k: u32| -> Result<Vec<u8>> { c.read_section(k)?.ok_or_else(|| corrupt(&p, format!("no {} section", section_label(k)))) };
        let FieldsSection { n, flags, num_terms, fields, seg, max_tok, analyzer_desc } =
            parse_fields(&need(SECTION_FIELDS)?).map_err(|m| corrupt(&p, m))?;
        let dict = TermDict::new(need(SECTION_DICT_INDEX)?, need(SECTION_DICT_BLOCKS)?, num_terms).map_err(|m| corrupt(&p, m))?;
        let lens =
            DocLens::parse(&need(SECTION_DOC_LENS)?, fields.len(), n).ok_or_else(|| corrupt(&p, "doc-lens section has the wrong size"))?;
        let pairs = if flags & FLAG_PAIRS != 0 {
            PairLists::new(need(SECTION_PAIR_DICT)?, need(SECTION_PAIR_POSTINGS)?).map_err(|m| corrupt(&p, m))?
        } else {
            PairLists::off()
        };
        let (ext, perm) = ext_ids::parse(&need(SECTION_EXT_IDS)?, n, flags & FLAG_EXT_ID_U64 != 0).map_err(|m| corrupt(&p, m))?;
        let (deleted, deleted_count) = if flags & FLAG_TOMBSTONES != 0 {
            let (bits, count) = parse_tombstones(&need(SECTION_TOMBSTONES)?, n as usize).map_err(|m| corrupt(&p, m))?;
            (Some(bits), count)
        } else {
            (None, 0)
        };
        let norms: Vec<[f64; 256]> = fields.iter().map(|f| bm25_norms(&lens.table, f.k1, f.b, f.total_tokens, n as u64)).collect();
        let ones = fields.iter().zip(&norms).map(|(f, nm)| tf1_factors(f.k1, nm)).collect();
        let forward = if flags & FLAG_FORWARD != 0 {
            let f = need(SECTION_FORWARD)?;
            let groups = (n as usize).div_ceil(BLOCK);
            if f.len() < 8 * (groups + 1) || (0..=groups).any(|g| u64_at(&f, 8 * g) > (f.len() - 8 * (groups + 1)) as u64) {
                return Err(corrupt(&p, "forward section: a group starts outside it"));
            }
            Some(f)
        } else {
            None
        };
        let mut idx = TextIndex {
            norms,
            ones,
            path: p.clone(),
            n,
            flags,
            num_terms,
            fields,
            analyzer: Analyzer::new(seg, max_tok),
            analyzer_desc,
            dict,
            postings: need(SECTION_POSTINGS)?,
            lens,
            forward,
            pair_kind: pairs.kind,
            pairs,
            ext,
            perm,
            deleted,
            deleted_count,
            dense: DenseTerms::default(),
        };
        // one pass over the dictionary, every entry and posting list checked: the lookup skips
        // and the dense terms
        let mut dense_terms = Vec::new();
        let mut scratch = [0u32; BLOCK];
        let postings = &idx.postings;
        idx.dict
            .read_blocks(&idx.lens, (n, idx.fields.len(), num_terms), |t| {
                let end = t
                    .post_off
                    .checked_add(t.post_len)
                    .filter(|&e| e <= postings.len() as u64)
                    .ok_or("a postings list runs past its section")?;
                check_list(&postings[t.post_off as usize..end as usize], t.df, 1, n, &mut scratch)?;
                if DenseTerms::is_dense(t, n) {
                    dense_terms.push(*t);
                }
                Ok(())
            })
            .map_err(|m| corrupt(&p, m))?;
        idx.pairs.check(n, num_terms).map_err(|m| corrupt(&p, format!("pair lists: {m}")))?;
        idx.dense = DenseTerms::new(n, dense_terms, |t| idx.term_cursor(t));
        Ok(idx)
    }

    /// The doc bitset of a dense term; None for other terms (and dense ones past the budget).
    #[inline]
    pub fn dense_bits(&self, t: &TermInfo) -> Option<&DenseBits> {
        self.dense.get(t)
    }

    /// tf of dense term `t` in doc `d` (which holds it), read from its packed block without decoding
    /// the block; None in the list's VInt tail.
    #[inline]
    pub fn dense_tf(&self, t: &TermInfo, bits: &DenseBits, d: u32) -> Option<u32> {
        bits.tf_in_list(t, self.term_list(t), d)
    }

    /// DOC_LENS codes of one field.
    #[inline]
    pub fn codes(&self, field: usize) -> &[u8] {
        self.lens.codes(field)
    }

    /// The DOC_LENS table: the length of every code.
    pub fn len_table(&self) -> &[u32; 256] {
        &self.lens.table
    }

    #[inline]
    pub fn is_deleted(&self, doc: u32) -> bool {
        self.deleted.as_ref().is_some_and(|b| b[doc as usize / 64] >> (doc % 64) & 1 == 1)
    }
    pub fn has_deletes(&self) -> bool {
        self.deleted.is_some()
    }

    /// Look up a term key (field byte + token bytes).
    pub fn lookup(&self, key: &[u8]) -> Option<TermInfo> {
        self.dict.lookup(key, &self.lens)
    }

    /// Look up several keys at once, their cache misses overlapped.
    pub fn lookup_many(&self, keys: &[&[u8]], out: &mut [Option<TermInfo>]) {
        self.dict.lookup_many(keys, &self.lens, out)
    }

    /// Per field: the `n` terms of highest document frequency (df descending, then token), with their df.
    pub fn top_terms(&self, n: usize) -> Vec<Vec<(String, u32)>> {
        self.dict
            .top_by_df(&self.lens, self.fields.len(), n)
            .into_iter()
            .map(|f| f.into_iter().map(|(k, df)| (String::from_utf8_lossy(&k).into_owned(), df)).collect())
            .collect()
    }

    /// The key of an ordinal.
    pub fn term_key(&self, ord: u32) -> Option<Vec<u8>> {
        self.dict.term_key(ord, &self.lens)
    }

    pub fn lookup_pair(&self, a: u32, b: u32) -> Option<PairInfo> {
        self.pairs.lookup(a, b)
    }

    /// Prefetch the start of a term's postings (its skip data and first block).
    pub fn prefetch_postings(&self, t: &TermInfo) {
        if t.singleton.is_none() {
            let p = &self.postings[t.post_off as usize..];
            crate::prefetch::prefetch(p.as_ptr());
            if t.post_len > 64 {
                crate::prefetch::prefetch(p[64..].as_ptr());
            }
        }
    }

    /// The postings bytes of a term with a list (not a singleton).
    #[inline]
    fn term_list(&self, t: &TermInfo) -> &[u8] {
        &self.postings[t.post_off as usize..(t.post_off + t.post_len) as usize]
    }

    pub fn term_cursor(&self, t: &TermInfo) -> Cursor<'_> {
        match t.singleton {
            Some((doc, tf)) => Cursor::singleton(doc, tf),
            None => Cursor::new(self.term_list(t), t.df, 1),
        }
    }

    /// `term_cursor` without its first block decoded: a conjunction's follower starts at the
    /// leader's first doc (`Cursor::start_at`), or never moves if its bitset answers for it.
    pub fn term_cursor_unloaded(&self, t: &TermInfo) -> Cursor<'_> {
        match t.singleton {
            Some((doc, tf)) => Cursor::singleton(doc, tf),
            None => Cursor::unloaded(self.term_list(t), t.df, 1),
        }
    }

    pub fn pair_cursor(&self, p: &PairInfo) -> Cursor<'_> {
        self.pairs.cursor(p)
    }

    pub fn ext_id_string(&self, doc: u32) -> String {
        self.ext.string(doc)
    }

    /// Internal id of an external id (u64 ids: its decimal text).
    pub fn internal_id(&self, ext: &str) -> Option<u32> {
        self.ext.internal_id(&self.perm, ext)
    }

    /// Forward list of a doc: (ord, tf), ords increasing.
    pub fn forward(&self, doc: u32) -> Option<Vec<(u32, u32)>> {
        let f = self.forward.as_ref()?;
        let groups = (self.n as usize).div_ceil(BLOCK);
        let g = doc as usize / BLOCK;
        let body = 8 * (groups + 1);
        let mut pos = body + u64_at(f, 8 * g) as usize;
        for _ in 0..doc as usize % BLOCK {
            let k = get_vint(f, &mut pos)?;
            for _ in 0..2 * k {
                get_vint(f, &mut pos)?;
            }
        }
        let k = get_vint(f, &mut pos)? as usize;
        let mut out = Vec::with_capacity(k);
        let mut ord = 0u32;
        for _ in 0..k {
            ord += get_vint(f, &mut pos)? as u32;
            out.push((ord, get_vint(f, &mut pos)? as u32));
        }
        Some(out)
    }

    /// Bytes of the index held in memory.
    pub fn memory_bytes(&self) -> u64 {
        (self.dict.bytes()
            + self.postings.len()
            + self.lens.bytes()
            + self.forward.as_ref().map_or(0, |f| f.len())
            + self.pairs.bytes()
            + self.perm.len() * 4
            + self.dense.bytes()
            + self.ext.bytes()) as u64
    }
}
