//! The vector index: build (async), open, info, batch search (async).

use crate::napi::{Args, Env, JsError, JsResult, Task, define, err, export, spawn};
use crate::sys::*;
use recall_core::container::HeaderFields;
use recall_core::vector::filter::FilterMode;
use recall_core::vector::store::{Metric, Quant};
use recall_core::vector::{BuildOptions, IndexType, Results, SearchParams, VectorIndex};
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::Arc;

const INDEX_TAG: napi_type_tag = napi_type_tag { lower: 0x51c3_77a0_9e24_8b1d, upper: 0x2d6f_0b84_c1e9_3a57 };

js_fn! {
    async js_vector_build => vector_build;
    js_vector_open => vector_open;
    js_vector_info => vector_info;
    js_vector_rows => vector_rows;
    js_vector_verify => vector_verify;
    async js_vector_make_resident => vector_make_resident;
    async js_vector_search => vector_search;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"vectorBuild", Some(js_vector_build)),
            export(c"vectorOpen", Some(js_vector_open)),
            export(c"vectorInfo", Some(js_vector_info)),
            export(c"vectorRows", Some(js_vector_rows)),
            export(c"vectorVerify", Some(js_vector_verify)),
            export(c"vectorMakeResident", Some(js_vector_make_resident)),
            export(c"vectorSearch", Some(js_vector_search)),
        ],
    )
}

fn opt_string(env: Env, obj: napi_value, name: &CStr, default: &str) -> JsResult<String> {
    let v = env.get(obj, name)?;
    if env.is_nullish(v)? { Ok(default.to_string()) } else { env.string_arg(v, &name.to_string_lossy()) }
}

struct Build {
    path: PathBuf,
    fields: HeaderFields,
    params: String,
    data: Vec<f32>,
    ids: Vec<u64>,
    attrs: Option<Vec<i64>>,
    dim: usize,
    opts: BuildOptions,
    cancel: recall_core::CancelToken,
}

impl Task for Build {
    type Output = (u64, f64, f64);
    fn compute(&mut self) -> Result<(u64, f64, f64), JsError> {
        let t0 = std::time::Instant::now();
        let c0 = recall_core::cputime::process_cpu_seconds();
        let idx = VectorIndex::build_with_attrs(&self.data, &self.ids, self.attrs.as_deref(), self.dim, &self.opts, &self.cancel)?;
        let (secs, cpu) = (t0.elapsed().as_secs_f64(), recall_core::cputime::process_cpu_seconds() - c0);
        let bytes = idx.write(&self.path, self.fields.clone(), &self.params)?;
        Ok((bytes, secs, cpu))
    }
    fn resolve(self, env: Env, (bytes, secs, cpu): (u64, f64, f64)) -> JsResult<napi_value> {
        let o = env.object()?;
        env.set(o, c"fileBytes", env.double(bytes as f64)?)?;
        env.set(o, c"buildSeconds", env.double(secs)?)?;
        env.set(o, c"buildCpuSeconds", env.double(cpu)?)?;
        Ok(o)
    }
}

/// vectorBuild(path, header, paramsJson, data: Float32Array, ids: BigUint64Array, dim,
///             {type, metric, quant, m, efConstruction, nlist, kmeansIters, seed: bigint, threads, keepF32,
///              attrs?: BigInt64Array (one per row)}, token?)
fn vector_build(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<8>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let fields = crate::container::build_header(env, a.argv[1])?;
    let params = env.string_arg(a.argv[2], "paramsJson")?;
    let (data, ids) = unsafe { (env.typed_array::<f32>(a.argv[3], "data")?.to_vec(), env.typed_array::<u64>(a.argv[4], "ids")?.to_vec()) };
    let dim = env.index(a.argv[5], "dim")? as usize;
    let o = a.argv[6];
    let num = |name: &CStr, default: f64| -> JsResult<f64> { Ok(env.opt_number(o, name)?.unwrap_or(default)) };
    let bad = |what: &str, v: &str| err("ERR_RECALL_INVALID_ARG", format!("unknown {what} {v}"));
    let kind_s = opt_string(env, o, c"type", "hnsw")?;
    let metric_s = opt_string(env, o, c"metric", "l2")?;
    let quant_s = opt_string(env, o, c"quant", "f32")?;
    let seed_v = env.get(o, c"seed")?;
    let opts = BuildOptions {
        kind: IndexType::parse(&kind_s).ok_or_else(|| bad("index type", &kind_s))?,
        metric: Metric::parse(&metric_s).ok_or_else(|| bad("metric", &metric_s))?,
        quant: Quant::parse(&quant_s).ok_or_else(|| bad("quantisation", &quant_s))?,
        m: num(c"m", 16.0)? as usize,
        ef_construction: num(c"efConstruction", 200.0)? as usize,
        nlist: num(c"nlist", 0.0)? as usize,
        kmeans_iters: num(c"kmeansIters", 10.0)? as usize,
        seed: if env.is_nullish(seed_v)? { 0 } else { env.bigint_u64_arg(seed_v, "seed")? },
        threads: num(c"threads", 1.0)? as usize,
        keep_f32: num(c"keepF32", 0.0)? != 0.0,
    };
    let attrs_v = env.get(o, c"attrs")?;
    let attrs = if env.is_nullish(attrs_v)? { None } else { Some(unsafe { env.typed_array::<i64>(attrs_v, "attrs")? }.to_vec()) };
    let cancel = crate::cancel::token_arg(env, a.argv[7])?;
    spawn(env, "recall.vectorBuild", Build { path, fields, params, data, ids, attrs, dim, opts, cancel })
}

fn index<'a>(env: Env, v: napi_value) -> JsResult<&'a Arc<VectorIndex>> {
    env.external_ref::<Arc<VectorIndex>>(v, &INDEX_TAG, "index")
}

/// vectorOpen(path): handle
fn vector_open(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    env.external(Arc::new(VectorIndex::open(&path)?), &INDEX_TAG)
}

/// vectorInfo(handle): {n, dim, type, metric, quant, m, nlist, hasF32, hasAttrs, vectorBytes, memoryBytes, resident}
fn vector_info(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let o = env.object()?;
    env.set(o, c"n", env.double(idx.n as f64)?)?;
    env.set(o, c"dim", env.double(idx.dim as f64)?)?;
    env.set(o, c"type", env.string(idx.kind.name())?)?;
    env.set(o, c"metric", env.string(idx.metric.name())?)?;
    env.set(o, c"quant", env.string(idx.store.quant.name())?)?;
    env.set(o, c"m", env.double(idx.hnsw.as_ref().map_or(0, |h| h.m) as f64)?)?;
    env.set(o, c"nlist", env.double(idx.ivf.as_ref().map_or(0, |v| v.nlist) as f64)?)?;
    env.set(o, c"hasF32", env.double(idx.f32.is_some() as u8 as f64)?)?;
    env.set(o, c"hasAttrs", env.double(idx.attrs.is_some() as u8 as f64)?)?;
    env.set(o, c"vectorBytes", env.double(idx.store.raw().len() as f64)?)?;
    env.set(o, c"memoryBytes", env.double(idx.memory_bytes() as f64)?)?;
    env.set(o, c"resident", env.boolean(idx.is_resident())?)?;
    Ok(o)
}

/// vectorRows(handle): {ids: BigUint64Array, data: Float32Array (n x dim)} or null (SQ8 without f32 rows)
fn vector_rows(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let Some(data) = idx.rows_f32()? else { return env.null() };
    let o = env.object()?;
    env.set(o, c"ids", env.typed_array_copy(&idx.ids)?)?;
    env.set(o, c"data", env.typed_array_from_vec(data)?)?;
    Ok(o)
}

/// vectorVerify(handle): undefined, or throws ERR_RECALL_CORRUPT naming the first damaged re-rank row
fn vector_verify(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    index(env, a.argv[0])?.verify_rows()?;
    env.null()
}

struct MakeResident {
    idx: Arc<VectorIndex>,
}

impl Task for MakeResident {
    type Output = ();
    fn compute(&mut self) -> Result<(), JsError> {
        self.idx.make_resident();
        Ok(())
    }
    fn resolve(self, env: Env, _: ()) -> JsResult<napi_value> {
        env.null()
    }
}

/// vectorMakeResident(handle): Promise<null>, once the rows are copied into memory (`VectorIndex::make_resident`)
fn vector_make_resident(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let idx = index(env, a.argv[0])?.clone();
    spawn(env, "recall.vectorMakeResident", MakeResident { idx })
}

/// A filter as the caller gave it: built into rows on the worker thread (it reads every row).
struct FilterArgs {
    allow_ids: Option<Vec<u64>>,
    ranges: Option<Vec<(i64, i64)>>,
    mode: FilterMode,
}

struct Search {
    idx: Arc<VectorIndex>,
    queries: Vec<f32>,
    params: SearchParams,
    filter: Option<FilterArgs>,
    cancel: recall_core::CancelToken,
}

/// What a filtered search reports: the rows allowed and whether they were scanned.
type FilterUse = Option<(usize, bool)>;

impl Task for Search {
    type Output = (Results, f64, f64, FilterUse);
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        let t0 = std::time::Instant::now();
        let c0 = recall_core::cputime::process_cpu_seconds();
        let (r, used) = match &self.filter {
            None => (self.idx.search(&self.queries, &self.params, &self.cancel)?, None),
            Some(f) => {
                let rows = self.idx.row_filter(f.allow_ids.as_deref(), f.ranges.as_deref())?;
                let used = (rows.allowed(), self.idx.filter_scans(&rows, &self.params, f.mode));
                (self.idx.search_filtered(&self.queries, &self.params, Some(&rows), f.mode, &self.cancel)?, Some(used))
            }
        };
        Ok((r, t0.elapsed().as_secs_f64(), recall_core::cputime::process_cpu_seconds() - c0, used))
    }
    fn resolve(self, env: Env, (r, secs, cpu, used): Self::Output) -> JsResult<napi_value> {
        let o = env.object()?;
        env.set(o, c"ids", env.typed_array_from_vec(r.ids)?)?;
        env.set(o, c"distances", env.typed_array_from_vec(r.distances)?)?;
        env.set(o, c"searchSeconds", env.double(secs)?)?;
        env.set(o, c"searchCpuSeconds", env.double(cpu)?)?;
        if let Some((allowed, scanned)) = used {
            env.set(o, c"filterAllowed", env.double(allowed as f64)?)?;
            env.set(o, c"filterScanned", env.boolean(scanned)?)?;
        }
        Ok(o)
    }
}

/// vectorSearch(handle, queries: Float32Array, {k, ef, nprobe, rerank, threads,
///              allowIds?: BigUint64Array, attrRanges?: BigInt64Array (lo, hi pairs), filterMode?}, token?):
/// Promise<{ids: BigInt64Array, distances: Float32Array, searchSeconds, searchCpuSeconds,
///          filterAllowed?, filterScanned?}>
fn vector_search(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<4>::get(env, info)?;
    let idx = Arc::clone(index(env, a.argv[0])?);
    let queries = unsafe { env.typed_array::<f32>(a.argv[1], "queries")?.to_vec() };
    let o = a.argv[2];
    let num = |name: &CStr, default: f64| -> JsResult<f64> { Ok(env.opt_number(o, name)?.unwrap_or(default)) };
    let params = SearchParams {
        k: num(c"k", 10.0)? as usize,
        ef: num(c"ef", 64.0)? as usize,
        nprobe: num(c"nprobe", 8.0)? as usize,
        rerank: num(c"rerank", 0.0)? as usize,
        threads: num(c"threads", 1.0)? as usize,
    };
    let allow_v = env.get(o, c"allowIds")?;
    let allow_ids = if env.is_nullish(allow_v)? { None } else { Some(unsafe { env.typed_array::<u64>(allow_v, "allowIds")? }.to_vec()) };
    let ranges_v = env.get(o, c"attrRanges")?;
    let ranges = if env.is_nullish(ranges_v)? {
        None
    } else {
        let flat = unsafe { env.typed_array::<i64>(ranges_v, "attrRanges")? };
        if !flat.len().is_multiple_of(2) {
            return Err(err("ERR_RECALL_INVALID_ARG", "attrRanges: lo, hi pairs expected"));
        }
        Some(flat.chunks_exact(2).map(|p| (p[0], p[1])).collect())
    };
    let mode_s = opt_string(env, o, c"filterMode", "auto")?;
    let mode = FilterMode::parse(&mode_s).ok_or_else(|| err("ERR_RECALL_INVALID_ARG", format!("unknown filter mode {mode_s}")))?;
    let filter = (allow_ids.is_some() || ranges.is_some()).then_some(FilterArgs { allow_ids, ranges, mode });
    let cancel = crate::cancel::token_arg(env, a.argv[3])?;
    spawn(env, "recall.vectorSearch", Search { idx, queries, params, filter, cancel })
}
