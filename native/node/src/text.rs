//! The text index: analyze, build (async), open, info, batch search (async), ids.

use crate::napi::{Args, Env, JsError, JsResult, Task, define, err, export, spawn};
use crate::sys::*;
use recall_core::container::HeaderFields;
use recall_core::text::PairKind;
use recall_core::text::analyzer::{Analyzer, Segmentation};
use recall_core::text::batch::{QueryOutcome, search_batch};
use recall_core::text::build::{self, BuildOptions, BuildStats, ExtIds, FieldInput, PairOptions};
use recall_core::text::ext_ids::ExtIdStore;
use recall_core::text::reader::TextIndex;
use recall_core::text::search::{SearchParams, search};
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::Arc;

const INDEX_TAG: napi_type_tag = napi_type_tag { lower: 0x7e1d_52a9_c04b_36f2, upper: 0x18c3_9f6e_a2d7_4b05 };

js_fn! {
    js_text_tables => text_tables;
    js_text_analyze => text_analyze;
    async js_text_build => text_build;
    js_text_open => text_open;
    js_text_info => text_info;
    async js_text_search => text_search;
    js_text_query_into => text_query_into;
    js_text_ext_ids => text_ext_ids;
    js_text_top_terms => text_top_terms;
    async js_text_add_tombstones => text_add_tombstones;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"textTables", Some(js_text_tables)),
            export(c"textAnalyze", Some(js_text_analyze)),
            export(c"textBuild", Some(js_text_build)),
            export(c"textOpen", Some(js_text_open)),
            export(c"textInfo", Some(js_text_info)),
            export(c"textSearch", Some(js_text_search)),
            export(c"textQueryInto", Some(js_text_query_into)),
            export(c"textExtIds", Some(js_text_ext_ids)),
            export(c"textTopTerms", Some(js_text_top_terms)),
            export(c"textAddTombstones", Some(js_text_add_tombstones)),
        ],
    )
}

fn segmentation(env: Env, o: napi_value) -> JsResult<Segmentation> {
    let v = env.get(o, c"segmentation")?;
    let s = if env.is_nullish(v)? { "standard".to_string() } else { env.string_arg(v, "segmentation")? };
    Segmentation::parse(&s).ok_or_else(|| err("ERR_RECALL_INVALID_ARG", format!("unknown segmentation {s} (standard or segmented)")))
}

/// textTables(): {unicode, hash}: the Unicode tables the analyzer was generated from.
fn text_tables(env: Env, _info: napi_callback_info) -> JsResult<napi_value> {
    use recall_core::text::unicode_tables::{TABLES_HASH, UNICODE_VERSION};
    let o = env.object()?;
    env.set(o, c"unicode", env.string(UNICODE_VERSION)?)?;
    env.set(o, c"hash", env.string(TABLES_HASH)?)?;
    Ok(o)
}

/// textAnalyze(text, {segmentation, maxTokenBytes}): string[]
fn text_analyze(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let text = env.string_arg(a.argv[0], "text")?;
    let an = Analyzer::new(segmentation(env, a.argv[1])?, env.opt_number(a.argv[1], c"maxTokenBytes")?.unwrap_or(255.0) as usize);
    let toks = an.token_strings(&text);
    env.array(toks.iter().map(|t| env.string(t)))
}

/// Owned copies of the inputs (the JS buffers may be collected while the build runs).
struct Build {
    path: PathBuf,
    header: HeaderFields,
    params: String,
    ids_u64: Option<Vec<u64>>,
    ids_str: Option<(Vec<u8>, Vec<u32>)>,
    fields: Vec<(String, f64, Vec<u8>, Vec<u32>)>,
    tomb_u64: Vec<u64>,
    tomb_str: Option<(Vec<u8>, Vec<u32>)>,
    opts: BuildOptions,
    cancel: recall_core::CancelToken,
}

impl Task for Build {
    type Output = (BuildStats, f64, f64);
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        let t0 = std::time::Instant::now();
        let c0 = recall_core::cputime::process_cpu_seconds();
        let ids = match (&self.ids_u64, &self.ids_str) {
            (Some(v), _) => ExtIds::U64(v),
            (None, Some((b, o))) => ExtIds::Str { bytes: b, offsets: o },
            _ => return Err(err("ERR_RECALL_INVALID_ARG", "ids: pass integer or string ids")),
        };
        let tomb = match &self.tomb_str {
            Some((b, o)) => ExtIds::Str { bytes: b, offsets: o },
            None => ExtIds::U64(&self.tomb_u64),
        };
        let fields: Vec<FieldInput> =
            self.fields.iter().map(|(name, w, t, o)| FieldInput { name: name.clone(), weight: *w, text: t, offsets: o }).collect();
        let stats = build::build(&self.path, self.header.clone(), &self.params, &ids, &fields, &tomb, &self.opts, &self.cancel)?;
        Ok((stats, t0.elapsed().as_secs_f64(), recall_core::cputime::process_cpu_seconds() - c0))
    }
    fn resolve(self, env: Env, (s, secs, cpu): Self::Output) -> JsResult<napi_value> {
        let o = env.object()?;
        let num = |name: &CStr, v: f64| env.set(o, name, env.double(v)?);
        num(c"rows", s.rows as f64)?;
        num(c"docs", s.docs as f64)?;
        num(c"duplicates", s.duplicates as f64)?;
        env.set(o, c"duplicateExamples", env.array(s.duplicate_examples.iter().map(|x| env.string(x)))?)?;
        num(c"terms", s.terms as f64)?;
        num(c"singletons", s.singletons as f64)?;
        num(c"postings", s.postings as f64)?;
        num(c"tokens", s.tokens as f64)?;
        num(c"droppedTokens", s.dropped_tokens as f64)?;
        num(c"pairs", s.pairs as f64)?;
        num(c"tombstones", s.tombstones as f64)?;
        num(c"unknownTombstones", s.unknown_tombstones as f64)?;
        num(c"fileBytes", s.file_bytes as f64)?;
        num(c"buildSeconds", secs)?;
        num(c"buildCpuSeconds", cpu)?;
        let sec = env.object()?;
        for (name, bytes) in &s.sections {
            let key = std::ffi::CString::new(*name).unwrap();
            env.set(sec, &key, env.double(*bytes as f64)?)?;
        }
        env.set(o, c"sectionBytes", sec)?;
        Ok(o)
    }
}

fn str_ids(env: Env, o: napi_value, bytes: &CStr, offsets: &CStr) -> JsResult<Option<(Vec<u8>, Vec<u32>)>> {
    let b = env.get(o, bytes)?;
    if env.is_nullish(b)? {
        return Ok(None);
    }
    let off = env.get(o, offsets)?;
    Ok(Some(unsafe { (env.typed_array::<u8>(b, "string id bytes")?.to_vec(), env.typed_array::<u32>(off, "string id offsets")?.to_vec()) }))
}

/// textBuild(path, header, paramsJson, {ids?: BigUint64Array, idBytes?, idOffsets?, fields: [{name, weight, text, offsets}],
///           tombstones?: BigUint64Array, tombstoneBytes?, tombstoneOffsets?},
///           {segmentation, maxTokenBytes, analyzer, pairs, maxPairs, pairMinDf, pairMinPairDf, pairMaxTerms, forward, threads, k1, b}, token?)
fn text_build(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<6>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let header = crate::container::build_header(env, a.argv[1])?;
    let params = env.string_arg(a.argv[2], "paramsJson")?;
    let input = a.argv[3];
    let ids_v = env.get(input, c"ids")?;
    let ids_u64 = if env.is_nullish(ids_v)? { None } else { Some(unsafe { env.typed_array::<u64>(ids_v, "ids")?.to_vec() }) };
    let ids_str = str_ids(env, input, c"idBytes", c"idOffsets")?;
    let mut fields = Vec::new();
    for f in env.array_items(env.get(input, c"fields")?, "fields")? {
        let name = env.string_arg(env.get(f, c"name")?, "field name")?;
        let weight = env.opt_number(f, c"weight")?.unwrap_or(1.0);
        let (text, offsets) = unsafe {
            (
                env.typed_array::<u8>(env.get(f, c"text")?, "field text")?.to_vec(),
                env.typed_array::<u32>(env.get(f, c"offsets")?, "field offsets")?.to_vec(),
            )
        };
        fields.push((name, weight, text, offsets));
    }
    let tv = env.get(input, c"tombstones")?;
    let tomb_u64 = if env.is_nullish(tv)? { Vec::new() } else { unsafe { env.typed_array::<u64>(tv, "tombstones")?.to_vec() } };
    let tomb_str = str_ids(env, input, c"tombstoneBytes", c"tombstoneOffsets")?;
    let o = a.argv[4];
    let num = |name: &CStr, default: f64| -> JsResult<f64> { Ok(env.opt_number(o, name)?.unwrap_or(default)) };
    let pv = env.get(o, c"pairs")?;
    let pairs_s = if env.is_nullish(pv)? { "off".to_string() } else { env.string_arg(pv, "pairs")? };
    let kind = PairKind::parse(&pairs_s)
        .ok_or_else(|| err("ERR_RECALL_INVALID_ARG", format!("unknown pair kind {pairs_s} (adjacent, cooc or off)")))?;
    let d = PairOptions::default();
    let opts = BuildOptions {
        analyzer: Analyzer::new(segmentation(env, o)?, num(c"maxTokenBytes", 255.0)? as usize),
        analyzer_desc: env.string_arg(env.get(o, c"analyzer")?, "analyzer")?,
        pairs: PairOptions {
            kind,
            max_pairs: num(c"maxPairs", d.max_pairs as f64)? as usize,
            max_bytes: num(c"pairBudgetBytes", d.max_bytes as f64)? as usize,
            min_df: num(c"pairMinDf", 0.0)? as u32,
            min_pair_df: num(c"pairMinPairDf", d.min_pair_df as f64)? as u32,
            max_terms: num(c"pairMaxTerms", d.max_terms as f64)? as usize,
        },
        forward: num(c"forward", 0.0)? != 0.0,
        threads: num(c"threads", 1.0)? as usize,
        k1: num(c"k1", 1.2)?,
        b: num(c"b", 0.75)?,
    };
    let cancel = crate::cancel::token_arg(env, a.argv[5])?;
    spawn(env, "recall.textBuild", Build { path, header, params, ids_u64, ids_str, fields, tomb_u64, tomb_str, opts, cancel })
}

fn index<'a>(env: Env, v: napi_value) -> JsResult<&'a Arc<TextIndex>> {
    env.external_ref::<Arc<TextIndex>>(v, &INDEX_TAG, "index")
}

/// textOpen(path): handle
fn text_open(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    env.external(Arc::new(TextIndex::open(&path)?), &INDEX_TAG)
}

/// textInfo(handle): {docs, terms, flags, analyzer, segmentation, maxTokenBytes, pairs, deleted, memoryBytes, fields: [...]}
fn text_info(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let o = env.object()?;
    env.set(o, c"docs", env.double(idx.n as f64)?)?;
    env.set(o, c"terms", env.double(idx.num_terms as f64)?)?;
    env.set(o, c"flags", env.double(idx.flags as f64)?)?;
    env.set(o, c"analyzer", env.string(&idx.analyzer_desc)?)?;
    env.set(o, c"segmentation", env.string(if idx.analyzer.seg == Segmentation::Standard { "standard" } else { "segmented" })?)?;
    env.set(o, c"maxTokenBytes", env.double(idx.analyzer.max_token_bytes as f64)?)?;
    env.set(o, c"pairs", env.string(idx.pair_kind.name())?)?;
    env.set(o, c"deleted", env.double(idx.deleted_count as f64)?)?;
    env.set(o, c"memoryBytes", env.double(idx.memory_bytes() as f64)?)?;
    let fields = env.array(idx.fields.iter().map(|f| {
        let x = env.object()?;
        env.set(x, c"name", env.string(&f.name)?)?;
        env.set(x, c"totalTokens", env.double(f.total_tokens as f64)?)?;
        env.set(x, c"docsWithField", env.double(f.docs_with as f64)?)?;
        env.set(x, c"k1", env.double(f.k1)?)?;
        env.set(x, c"b", env.double(f.b)?)?;
        env.set(x, c"weight", env.double(f.weight)?)?;
        Ok(x)
    }))?;
    env.set(o, c"fields", fields)?;
    Ok(o)
}

/// One index, or the shards of one collection (searched with its statistics, merged).
struct Search {
    idx: Vec<Arc<TextIndex>>,
    queries: Vec<String>,
    params: SearchParams,
    threads: usize,
    cancel: recall_core::CancelToken,
}

impl Task for Search {
    type Output = (Vec<QueryOutcome>, f64, f64);
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        let t0 = std::time::Instant::now();
        let c0 = recall_core::cputime::process_cpu_seconds();
        if self.queries.is_empty() {
            return Ok((Vec::new(), 0.0, 0.0));
        }
        let idx: Vec<&TextIndex> = self.idx.iter().map(|x| &**x).collect();
        let out = search_batch(&idx, &self.queries, &self.params, self.threads, &self.cancel)?;
        Ok((out, t0.elapsed().as_secs_f64(), recall_core::cputime::process_cpu_seconds() - c0))
    }
    fn resolve(self, env: Env, (out, secs, cpu): Self::Output) -> JsResult<napi_value> {
        let n = out.len();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0u32);
        let (mut docs, mut scores, mut shard_of) = (Vec::new(), Vec::new(), Vec::new());
        let mut totals = Vec::with_capacity(n);
        let mut exact = Vec::with_capacity(n);
        let mut pairs = Vec::with_capacity(n);
        let mut micros = Vec::with_capacity(n);
        let mut errors = Vec::with_capacity(n);
        for (r, us) in &out {
            micros.push(*us);
            match r {
                Ok((h, sh)) => {
                    shard_of.extend_from_slice(sh);
                    docs.extend_from_slice(&h.docs);
                    scores.extend_from_slice(&h.scores);
                    totals.push(h.total as f64);
                    exact.push(h.total_exact as u8);
                    pairs.push(h.pairs_used);
                    errors.push(None);
                }
                Err(e) => {
                    totals.push(0.0);
                    exact.push(1);
                    pairs.push(0);
                    errors.push(Some((e.code(), e.message())));
                }
            }
            offsets.push(docs.len() as u32);
        }
        let o = env.object()?;
        env.set(o, c"offsets", env.typed_array_from_vec(offsets)?)?;
        env.set(o, c"docs", env.typed_array_from_vec(docs)?)?;
        env.set(o, c"shards", env.typed_array_from_vec(shard_of)?)?;
        env.set(o, c"scores", env.typed_array_from_vec(scores)?)?;
        env.set(o, c"totals", env.typed_array_from_vec(totals)?)?;
        env.set(o, c"totalExact", env.typed_array_from_vec(exact)?)?;
        env.set(o, c"pairsUsed", env.typed_array_from_vec(pairs)?)?;
        env.set(o, c"micros", env.typed_array_from_vec(micros)?)?;
        let errs = env.array(errors.iter().map(|e| match e {
            None => env.null(),
            Some((code, msg)) => {
                let x = env.object()?;
                env.set(x, c"code", env.string(code)?)?;
                env.set(x, c"message", env.string(msg)?)?;
                Ok(x)
            }
        }))?;
        env.set(o, c"errors", errs)?;
        env.set(o, c"searchSeconds", env.double(secs)?)?;
        env.set(o, c"searchCpuSeconds", env.double(cpu)?)?;
        Ok(o)
    }
}

fn search_params(env: Env, o: napi_value) -> JsResult<SearchParams> {
    let num = |name: &CStr| env.opt_number(o, name);
    Ok(SearchParams {
        k: num(c"k")?.unwrap_or(10.0) as usize,
        default_or: num(c"defaultOr")?.unwrap_or(0.0) != 0.0,
        use_pairs: num(c"usePairs")?.unwrap_or(1.0) != 0.0,
        match_all_pure_not: num(c"matchAllPureNot")?.unwrap_or(0.0) != 0.0,
        k1: num(c"k1")?,
        b: num(c"b")?,
    })
}

/// textQueryInto(handle, query, k, flags, out: Uint8Array of 24 + 20 k bytes): hit count
/// One query on the calling thread with no allocation on either side (a thread-pool round trip and
/// result objects would cost more than the query): `out` holds, little-endian, meta [total hits,
/// total exact (1/0), pair lists used] as f64, then k f64 scores, k u64 external ids (integer-id
/// indexes), k u32 internal docs (the JS side keeps typed views over one buffer). `flags`: bit 0
/// words are ORed, bit 1 ignore pairs, bit 2 match-all for pure NOT.
fn text_query_into(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<5>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let (mut buf, mut owned) = ([0u8; 512], String::new());
    let q = env.str_arg_in(a.argv[1], "query", &mut buf, &mut owned)?;
    let k = env.index(a.argv[2], "k")? as usize;
    let flags = env.index(a.argv[3], "flags")?;
    // one byte view for every output (one Node-API call instead of eight): meta (3 f64), scores (k f64),
    // ids (k u64, integer-id indexes), docs (k u32), little-endian
    // SAFETY of the borrow: the array belongs to the caller for the duration of this call.
    let out = unsafe { env.typed_array_mut::<u8>(a.argv[4], "out")? };
    if out.len() < 24 + 20 * k {
        return Err(err("ERR_RECALL_INVALID_ARG", format!("out must hold 24 + 20 k bytes ({} for k = {k})", 24 + 20 * k)));
    }
    let p =
        SearchParams { k, default_or: flags & 1 != 0, use_pairs: flags & 2 == 0, match_all_pure_not: flags & 4 != 0, k1: None, b: None };
    let h = search(idx, q, &p).map_err(|e| err(e.code(), e.message()))?;
    let n = h.docs.len();
    let (meta, rest) = out.split_at_mut(24);
    let (scores, rest) = rest.split_at_mut(8 * k);
    let (ids, docs) = rest.split_at_mut(8 * k);
    for (i, x) in [h.total as f64, h.total_exact as u8 as f64, h.pairs_used as f64].iter().enumerate() {
        meta[8 * i..8 * i + 8].copy_from_slice(&x.to_le_bytes());
    }
    for (i, (&d, &s)) in h.docs.iter().zip(&h.scores).enumerate() {
        scores[8 * i..8 * i + 8].copy_from_slice(&s.to_le_bytes());
        docs[4 * i..4 * i + 4].copy_from_slice(&d.to_le_bytes());
        if let ExtIdStore::U64(v) = &idx.ext {
            ids[8 * i..8 * i + 8].copy_from_slice(&v[d as usize].to_le_bytes());
        }
    }
    env.uint32(n as u32)
}

/// textSearch(handle | handles[], queries: string[], {k, defaultOr, usePairs, matchAllPureNot, k1, b, threads}, token?)
/// Several handles: the shards of one collection, searched with its summed statistics and merged.
fn text_search(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<4>::get(env, info)?;
    let idx = match env.array_items(a.argv[0], "indexes") {
        Ok(handles) if handles.is_empty() => return Err(err("ERR_RECALL_INVALID_ARG", "textSearch: no index handles")),
        Ok(handles) => handles.into_iter().map(|h| index(env, h).map(Arc::clone)).collect::<JsResult<Vec<_>>>()?,
        Err(_) => vec![Arc::clone(index(env, a.argv[0])?)],
    };
    let queries = env.array_items(a.argv[1], "queries")?.into_iter().map(|q| env.string_arg(q, "query")).collect::<JsResult<Vec<_>>>()?;
    let params = search_params(env, a.argv[2])?;
    let threads = env.opt_number(a.argv[2], c"threads")?.unwrap_or(1.0) as usize;
    let cancel = crate::cancel::token_arg(env, a.argv[3])?;
    spawn(env, "recall.textSearch", Search { idx, queries, params, threads, cancel })
}

/// textExtIds(handle, docs: Uint32Array): BigUint64Array (integer ids) or string[]
fn text_ext_ids(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let docs = unsafe { env.typed_array::<u32>(a.argv[1], "docs")? };
    if let Some(&bad) = docs.iter().find(|&&d| d >= idx.n) {
        return Err(err("ERR_RECALL_INVALID_ARG", format!("doc {bad} is out of range ({} docs)", idx.n)));
    }
    match &idx.ext {
        ExtIdStore::U64(v) => env.typed_array_from_vec(docs.iter().map(|&d| v[d as usize]).collect::<Vec<u64>>()),
        ExtIdStore::Str { .. } => env.array(docs.iter().map(|&d| env.string(&idx.ext_id_string(d)))),
    }
}

/// textTopTerms(handle, n): per field, {field, terms: string[], df: number[]}: its n terms of highest df
fn text_top_terms(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let n = env.u32_in(a.argv[1], "n", 0)? as usize;
    let top = idx.top_terms(n);
    env.array(idx.fields.iter().zip(top).map(|(f, terms)| {
        let x = env.object()?;
        env.set(x, c"field", env.string(&f.name)?)?;
        env.set(x, c"terms", env.array(terms.iter().map(|(t, _)| env.string(t)))?)?;
        env.set(x, c"df", env.array(terms.iter().map(|&(_, df)| env.uint32(df)))?)?;
        Ok(x)
    }))
}

struct AddTombstones {
    src: PathBuf,
    dst: PathBuf,
    fields: HeaderFields,
    ext_ids: Vec<String>,
}

impl Task for AddTombstones {
    type Output = recall_core::text::retombstone::Retombstoned;
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        let f = &self.fields;
        Ok(recall_core::text::retombstone::add_tombstones(&self.src, &self.dst, f.version, f.shard, f.shard_count, &self.ext_ids)?)
    }
    fn resolve(self, env: Env, r: Self::Output) -> JsResult<napi_value> {
        let o = env.object()?;
        for (name, v) in [(c"tombstones", r.tombstones), (c"added", r.added), (c"unknown", r.unknown), (c"fileBytes", r.file_bytes)] {
            env.set(o, name, env.double(v as f64)?)?;
        }
        Ok(o)
    }
}

/// textAddTombstones(src, dst, header {version, shard, shardCount}, extIds: string[]): Promise<{tombstones, added, unknown, fileBytes}>
fn text_add_tombstones(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<4>::get(env, info)?;
    let src = PathBuf::from(env.string_arg(a.argv[0], "src")?);
    let dst = PathBuf::from(env.string_arg(a.argv[1], "dst")?);
    let fields = crate::container::build_header(env, a.argv[2])?;
    let ext_ids = env.array_items(a.argv[3], "extIds")?.into_iter().map(|v| env.string_arg(v, "extIds")).collect::<JsResult<Vec<_>>>()?;
    spawn(env, "recall.textAddTombstones", AddTombstones { src, dst, fields, ext_ids })
}
