//! The merge and scoring of a batch of requests on integer ids (mergeScoreBatch).

use crate::napi::{Args, Env, JsError, JsResult, Task, define, err, export, spawn};
use crate::sys::*;
use recall_core::merge::batch::{self, Channel, FirstRanks, Requests, Spec};

js_fn! {
    async js_merge_score_batch => merge_score_batch;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(env, exports, &[export(c"mergeScoreBatch", Some(js_merge_score_batch))])
}

/// mergeScoreBatch(channels: {counts: Uint32Array, items: BigInt64Array, scores: Float64Array, quota, weight}[],
/// requests: {excludeOffsets: Uint32Array, exclude: BigInt64Array, truthOffsets: Uint32Array, truth: BigInt64Array},
/// spec: {k, rrf: boolean, rrfK, ks: Uint32Array, discount: Float64Array, idcg: Float64Array, allow?: BigInt64Array,
/// deny?: BigInt64Array}, threads, prior?: {counts, items, ranks}): Promise of {metrics, mergedItems, mergedCounts, channelItems, channelCounts, uniqueItems,
/// uniqueHits, mergedTotal, mergedHits, firstItems, firstRanks, firstCounts} (counters as Float64Array), or null when a kept score is not finite.
/// One channel's candidates, copied.
struct OwnedChannel {
    counts: Vec<u32>,
    items: Vec<i64>,
    scores: Vec<f64>,
    quota: usize,
    weight: f64,
}

/// The batch's inputs, copied: the merge runs on a pool thread while the caller goes on.
struct MergeScore {
    channels: Vec<OwnedChannel>,
    exclude_offsets: Vec<u32>,
    exclude: Vec<i64>,
    truth_offsets: Vec<u32>,
    truth: Vec<i64>,
    k: usize,
    rrf: bool,
    rrf_k: f64,
    ks: Vec<u32>,
    discount: Vec<f64>,
    idcg: Vec<f64>,
    allow: Option<Vec<i64>>,
    deny: Option<Vec<i64>>,
    prior: (Vec<u32>, Vec<i64>, Vec<u32>),
    threads: usize,
}

impl Task for MergeScore {
    type Output = Option<batch::Scored>;
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        let channels: Vec<Channel> = self
            .channels
            .iter()
            .map(|c| Channel { counts: &c.counts, items: &c.items, scores: &c.scores, quota: c.quota, weight: c.weight })
            .collect();
        let req = Requests {
            exclude_offsets: &self.exclude_offsets,
            exclude: &self.exclude,
            truth_offsets: &self.truth_offsets,
            truth: &self.truth,
        };
        let spec = Spec {
            k: self.k,
            rrf: self.rrf,
            rrf_k: self.rrf_k,
            ks: &self.ks,
            discount: &self.discount,
            idcg: &self.idcg,
            allow: self.allow.as_deref(),
            deny: self.deny.as_deref(),
        };
        let prior = FirstRanks { counts: &self.prior.0, items: &self.prior.1, ranks: &self.prior.2 };
        batch::merge_score(&channels, &req, &spec, prior, self.threads).map_err(|m| err("ERR_RECALL_INVALID_ARG", m))
    }
    fn resolve(self, env: Env, out: Self::Output) -> JsResult<napi_value> {
        let Some(out) = out else { return env.null() };
        let f64s = |v: Vec<u64>| v.into_iter().map(|x| x as f64).collect::<Vec<f64>>();
        let o = env.object()?;
        env.set(o, c"metrics", env.typed_array_from_vec(out.metrics)?)?;
        env.set(o, c"mergedItems", env.typed_array_from_vec(out.merged_items)?)?;
        env.set(o, c"mergedCounts", env.typed_array_from_vec(out.merged_counts)?)?;
        env.set(o, c"channelItems", env.typed_array_from_vec(out.channel_items)?)?;
        env.set(o, c"channelCounts", env.typed_array_from_vec(out.channel_counts)?)?;
        env.set(o, c"uniqueItems", env.typed_array_from_vec(f64s(out.unique_items))?)?;
        env.set(o, c"uniqueHits", env.typed_array_from_vec(f64s(out.unique_hits))?)?;
        env.set(o, c"mergedTotal", env.typed_array_from_vec(f64s(out.merged_total))?)?;
        env.set(o, c"mergedHits", env.typed_array_from_vec(f64s(out.merged_hits))?)?;
        env.set(o, c"firstItems", env.typed_array_from_vec(out.first_items)?)?;
        env.set(o, c"firstRanks", env.typed_array_from_vec(out.first_ranks)?)?;
        env.set(o, c"firstCounts", env.typed_array_from_vec(out.first_counts)?)?;
        Ok(o)
    }
}

fn merge_score_batch(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<5>::get(env, info)?;
    let mut channels = Vec::new();
    for c in env.array_items(a.argv[0], "channels")? {
        let quota = env.number(env.get(c, c"quota")?, "quota")?;
        channels.push(OwnedChannel {
            counts: unsafe { env.typed_array::<u32>(env.get(c, c"counts")?, "counts")? }.to_vec(),
            items: unsafe { env.typed_array::<i64>(env.get(c, c"items")?, "items")? }.to_vec(),
            scores: unsafe { env.typed_array::<f64>(env.get(c, c"scores")?, "scores")? }.to_vec(),
            quota: if quota.is_finite() && quota >= 0.0 { quota as usize } else { usize::MAX },
            weight: env.number(env.get(c, c"weight")?, "weight")?,
        });
    }
    let r = a.argv[1];
    let s = a.argv[2];
    let ids = |obj: napi_value, name: &std::ffi::CStr| -> JsResult<Vec<i64>> {
        Ok(unsafe { env.typed_array::<i64>(env.get(obj, name)?, &name.to_string_lossy())? }.to_vec())
    };
    let offsets = |name: &std::ffi::CStr| -> JsResult<Vec<u32>> {
        Ok(unsafe { env.typed_array::<u32>(env.get(r, name)?, &name.to_string_lossy())? }.to_vec())
    };
    let opt_ids = |name: &std::ffi::CStr| -> JsResult<Option<Vec<i64>>> {
        let v = env.get(s, name)?;
        if env.is_nullish(v)? { Ok(None) } else { ids(s, name).map(Some) }
    };
    let task = MergeScore {
        channels,
        exclude_offsets: offsets(c"excludeOffsets")?,
        exclude: ids(r, c"exclude")?,
        truth_offsets: offsets(c"truthOffsets")?,
        truth: ids(r, c"truth")?,
        k: env.index(env.get(s, c"k")?, "k")? as usize,
        rrf: env.opt_bool(s, c"rrf")?,
        rrf_k: env.number(env.get(s, c"rrfK")?, "rrfK")?,
        ks: unsafe { env.typed_array::<u32>(env.get(s, c"ks")?, "ks")? }.to_vec(),
        discount: unsafe { env.typed_array::<f64>(env.get(s, c"discount")?, "discount")? }.to_vec(),
        idcg: unsafe { env.typed_array::<f64>(env.get(s, c"idcg")?, "idcg")? }.to_vec(),
        allow: opt_ids(c"allow")?,
        deny: opt_ids(c"deny")?,
        prior: if env.is_nullish(a.argv[4])? {
            Default::default()
        } else {
            let p = a.argv[4];
            (
                unsafe { env.typed_array::<u32>(env.get(p, c"counts")?, "prior counts")? }.to_vec(),
                unsafe { env.typed_array::<i64>(env.get(p, c"items")?, "prior items")? }.to_vec(),
                unsafe { env.typed_array::<u32>(env.get(p, c"ranks")?, "prior ranks")? }.to_vec(),
            )
        },
        threads: env.u32_in(a.argv[3], "threads", 1)? as usize,
    };
    spawn(env, "recall.mergeScoreBatch", task)
}
