//! The x2i index: write, open, batch lookup, verify, lists computed from interactions, and the
//! WAL replay and dumps (x2iReplay, x2iDump).

use crate::napi::{Args, Env, JsError, JsResult, Task, define, err, export, spawn};
use crate::sys::*;
use recall_core::container::{Backing, HeaderFields};
use recall_core::neighborhash;
use recall_core::x2i::{self, BuildOptions, Lists, X2iIndex, X2iStats};
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::Arc;

const INDEX_TAG: napi_type_tag = napi_type_tag { lower: 0x3c51_9e0a_77d2_41f8, upper: 0x0e6b_d4a3_95c7_2f11 };

js_fn! {
    async js_x2i_write => x2i_write;
    js_x2i_open => x2i_open;
    js_x2i_lookup => x2i_lookup;
    js_x2i_info => x2i_info;
    js_x2i_verify => x2i_verify;
    async js_x2i_compute => x2i_compute;
    js_x2i_replay => x2i_replay;
    async js_x2i_dump => x2i_dump;
    js_x2i_sum_seed_lists => x2i_sum_seed_lists;
    js_x2i_sum_seeds_in => x2i_sum_seeds_in;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"x2iWrite", Some(js_x2i_write)),
            export(c"x2iOpen", Some(js_x2i_open)),
            export(c"x2iLookup", Some(js_x2i_lookup)),
            export(c"x2iInfo", Some(js_x2i_info)),
            export(c"x2iVerify", Some(js_x2i_verify)),
            export(c"x2iCompute", Some(js_x2i_compute)),
            export(c"x2iReplay", Some(js_x2i_replay)),
            export(c"x2iDump", Some(js_x2i_dump)),
            export(c"x2iSumSeedLists", Some(js_x2i_sum_seed_lists)),
            export(c"x2iSumSeedsIn", Some(js_x2i_sum_seeds_in)),
        ],
    )
}

struct Write {
    path: PathBuf,
    fields: HeaderFields,
    params: String,
    keys: Vec<u64>,
    offsets: Vec<u64>,
    items: Vec<u64>,
    scores: Vec<f32>,
    opts: BuildOptions,
}

impl Task for Write {
    type Output = X2iStats;
    fn compute(&mut self) -> Result<X2iStats, JsError> {
        let lists = Lists { keys: &self.keys, offsets: &self.offsets, items: &self.items, scores: &self.scores, deleted: &[] };
        Ok(x2i::write(&self.path, self.fields.clone(), &self.params, &lists, &self.opts)?)
    }
    fn resolve(self, env: Env, s: X2iStats) -> JsResult<napi_value> {
        let o = env.object()?;
        for (name, v) in [
            (c"keys", s.keys as f64),
            (c"edges", s.edges as f64),
            (c"maxLen", s.max_len as f64),
            (c"capacity", s.capacity as f64),
            (c"load", s.load),
            (c"fileBytes", s.file_bytes as f64),
        ] {
            env.set(o, name, env.double(v)?)?;
        }
        Ok(o)
    }
}

/// x2iWrite(path, header, paramsJson, keys, offsets, items, scores, {seed, topK, minScore}): Promise<stats>
fn x2i_write(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<8>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let fields = crate::container::build_header(env, a.argv[1])?;
    let params = env.string_arg(a.argv[2], "paramsJson")?;
    // Async work must own its inputs: copy the views now.
    let (keys, offsets, items, scores) = unsafe {
        (
            env.typed_array::<u64>(a.argv[3], "keys")?.to_vec(),
            env.typed_array::<u64>(a.argv[4], "offsets")?.to_vec(),
            env.typed_array::<u64>(a.argv[5], "items")?.to_vec(),
            env.typed_array::<f32>(a.argv[6], "scores")?.to_vec(),
        )
    };
    let o = a.argv[7];
    let seed_v = if env.is_nullish(o)? { o } else { env.get(o, c"seed")? };
    let opts = BuildOptions {
        seed: if env.is_nullish(seed_v)? { 0 } else { env.bigint_u64_arg(seed_v, "seed")? },
        top_k: env.opt_number(o, c"topK")?.unwrap_or(0.0) as usize,
        min_score: env.opt_number(o, c"minScore")?.map(|x| x as f32),
    };
    spawn(env, "recall.x2iWrite", Write { path, fields, params, keys, offsets, items, scores, opts })
}

fn index<'a>(env: Env, v: napi_value) -> JsResult<&'a Arc<X2iIndex>> {
    env.external_ref::<Arc<X2iIndex>>(v, &INDEX_TAG, "index")
}

/// x2iOpen(path, {readAll?}): handle (mapped; `readAll` copies the file into memory instead)
fn x2i_open(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let read_all = env.opt_bool(a.argv[1], c"readAll")?;
    let backing = if read_all { Backing::Read } else { Backing::Map };
    env.external(Arc::new(X2iIndex::open_with(&path, backing)?), &INDEX_TAG)
}

/// x2iLookup(handle, keys: BigUint64Array, top = 0): {found, counts, items, scores}
fn x2i_lookup(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<3>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let keys = unsafe { env.typed_array::<u64>(a.argv[1], "keys")? };
    let top = if env.is_nullish(a.argv[2])? { 0 } else { env.index(a.argv[2], "top")? as usize };
    let r = idx.lookup(keys, top, neighborhash::DEFAULT_RING)?;
    let o = env.object()?;
    env.set(o, c"found", env.typed_array_from_vec(r.found)?)?;
    env.set(o, c"counts", env.typed_array_from_vec(r.counts)?)?;
    env.set(o, c"items", env.typed_array_from_vec(r.items)?)?;
    env.set(o, c"scores", env.typed_array_from_vec(r.scores)?)?;
    Ok(o)
}

/// x2iInfo(handle): {keys, edges, maxLen, capacity, seed, apcl, probes}
fn x2i_info(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let t = idx.table();
    let ap = neighborhash::apcl(&t);
    let o = env.object()?;
    for (name, v) in [
        (c"keys", idx.keys as f64),
        (c"edges", idx.edges as f64),
        (c"maxLen", idx.max_len as f64),
        (c"capacity", t.slots.len() as f64),
        (c"apcl", ap.lines),
        (c"probes", ap.probes),
    ] {
        env.set(o, name, env.double(v)?)?;
    }
    env.set(o, c"seed", env.bigint_u64(idx.seed)?)?;
    Ok(o)
}

/// x2iVerify(handle): null when the table's invariants hold, else the first violation
fn x2i_verify(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    match index(env, a.argv[0])?.verify() {
        Ok(()) => env.null(),
        Err(e) => env.string(&e),
    }
}

// ------------------------------------------------------- lists from interactions

use recall_core::x2i::cf::{self, Algo, CfOptions, Interactions, Prep, Rows};

struct Compute {
    user: Vec<u32>,
    item: Vec<u32>,
    ts: Vec<u32>,
    weight: Option<Vec<f32>>,
    users: usize,
    items: usize,
    /// Swing's sample keys: user key bytes by ordinal (offsets, bytes), item ids by ordinal.
    user_keys: Option<(Vec<u32>, Vec<u8>)>,
    item_ids: Vec<u64>,
    opts: CfOptions,
    cancel: recall_core::CancelToken,
}

impl Task for Compute {
    type Output = Rows;
    fn compute(&mut self) -> Result<Rows, JsError> {
        let user_hash: Vec<u64> = match &self.user_keys {
            Some((off, bytes)) => cf::user_key_hashes(off, bytes),
            None => Vec::new(),
        };
        let d = Interactions {
            user: &self.user,
            item: &self.item,
            ts: &self.ts,
            weight: self.weight.as_deref(),
            users: self.users,
            items: self.items,
            user_hash: &user_hash,
            item_ids: &self.item_ids,
        };
        Ok(cf::compute(&d, &self.opts, &self.cancel)?)
    }
    fn resolve(self, env: Env, r: Rows) -> JsResult<napi_value> {
        let o = env.object()?;
        env.set(o, c"rowOff", env.typed_array_from_vec(r.row_off)?)?;
        env.set(o, c"nb", env.typed_array_from_vec(r.nb)?)?;
        env.set(o, c"sc", env.typed_array_from_vec(r.sc)?)?;
        env.set(o, c"work", env.double(r.work as f64)?)?;
        env.set(o, c"keptInteractions", env.double(r.kept_interactions as f64)?)?;
        env.set(o, c"prepSeconds", env.double(r.prep_seconds)?)?;
        env.set(o, c"computeSeconds", env.double(r.compute_seconds)?)?;
        env.set(o, c"computeCpuSeconds", env.double(r.compute_cpu_seconds)?)?;
        Ok(o)
    }
}

/// x2iCompute(user: Uint32Array, item: Uint32Array, ts: Uint32Array, weight: Float32Array | null,
///            users, items, options, token?, sampleKeys?: {userOff: Uint32Array, userBytes: Uint8Array,
///            itemIds: BigUint64Array}): Promise<{rowOff, nb, sc, work, keptInteractions}>
fn x2i_compute(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<9>::get(env, info)?;
    let (user, item, ts) = unsafe {
        (
            env.typed_array::<u32>(a.argv[0], "user")?.to_vec(),
            env.typed_array::<u32>(a.argv[1], "item")?.to_vec(),
            env.typed_array::<u32>(a.argv[2], "ts")?.to_vec(),
        )
    };
    let weight = if env.is_nullish(a.argv[3])? { None } else { Some(unsafe { env.typed_array::<f32>(a.argv[3], "weight")? }.to_vec()) };
    let users = env.index(a.argv[4], "users")? as usize;
    let items = env.index(a.argv[5], "items")? as usize;
    let opts = cf_options(env, a.argv[6])?;
    let cancel = crate::cancel::token_arg(env, a.argv[7])?;
    let (user_keys, item_ids) = if env.is_nullish(a.argv[8])? {
        (None, Vec::new())
    } else {
        let k = a.argv[8];
        let off = unsafe { env.typed_array::<u32>(env.get(k, c"userOff")?, "userOff")? }.to_vec();
        let bytes = unsafe { env.typed_array::<u8>(env.get(k, c"userBytes")?, "userBytes")? }.to_vec();
        let ids = unsafe { env.typed_array::<u64>(env.get(k, c"itemIds")?, "itemIds")? }.to_vec();
        if off.len() != users + 1
            || ids.len() != items
            || off.windows(2).any(|w| w[0] > w[1])
            || off.last().is_some_and(|&e| e as usize > bytes.len())
        {
            return Err(err("ERR_RECALL_INVALID_ARG", "x2iCompute: sample keys do not match the users and items"));
        }
        (Some((off, bytes)), ids)
    };
    spawn(env, "recall.x2iCompute", Compute { user, item, ts, weight, users, items, user_keys, item_ids, opts, cancel })
}

/// The similarity options of `x2iCompute` and the stream state: {algo, topK, minScore, minCommon,
/// threads, userCap, minUserItems, maxUserItems, alpha, tauSeconds, alpha1, alpha2, beta, itemUserCap, seed}.
pub(crate) fn cf_options(env: Env, o: napi_value) -> JsResult<CfOptions> {
    let num = |name: &CStr, default: f64| -> JsResult<f64> { Ok(env.opt_number(o, name)?.unwrap_or(default)) };
    let algo_name = env.string_arg(env.get(o, c"algo")?, "algo")?;
    let seed_v = env.get(o, c"seed")?;
    let seed = if env.is_nullish(seed_v)? { 0 } else { env.bigint_u64_arg(seed_v, "seed")? };
    let algo = match algo_name.as_str() {
        "cooc" => Algo::Cooc,
        "cosine" => Algo::Cosine,
        "jaccard" => Algo::Jaccard,
        "condprob" => Algo::CondProb { alpha: num(c"alpha", 0.5)? },
        "iuf" => Algo::Iuf,
        "decay" => Algo::Decay { tau: num(c"tauSeconds", 86400.0)? },
        "swing" => Algo::Swing {
            alpha1: num(c"alpha1", 15.0)?,
            alpha2: num(c"alpha2", 0.0)?,
            beta: num(c"beta", 0.3)?,
            item_user_cap: num(c"itemUserCap", 200.0)? as usize,
            seed,
        },
        other => {
            return Err(err(
                "ERR_RECALL_INVALID_ARG",
                format!("unknown algorithm {other} (cooc, cosine, jaccard, condprob, iuf, decay, swing)"),
            ));
        }
    };
    Ok(CfOptions {
        algo,
        prep: Prep {
            min_user_items: num(c"minUserItems", 1.0)? as usize,
            max_user_items: num(c"maxUserItems", f64::MAX)?.min(usize::MAX as f64) as usize,
            user_cap: num(c"userCap", 200.0)? as usize,
        },
        top_k: num(c"topK", 100.0)? as usize,
        min_score: num(c"minScore", 0.0)?,
        min_common: num(c"minCommon", 1.0)? as u32,
        threads: num(c"threads", 1.0)? as usize,
    })
}

// ------------------------------------------------------- WAL replay and dumps

use crate::wal::{report, scan_options};
use recall_core::wal::{ScanOptions, ScanReport};
use recall_core::x2i::dump::{self, Changes, ReplayLists, ShardDump};
use std::path::Path;

fn build_options(env: Env, o: napi_value) -> JsResult<BuildOptions> {
    let seed_v = if env.is_nullish(o)? { o } else { env.get(o, c"seed")? };
    Ok(BuildOptions {
        seed: if env.is_nullish(seed_v)? { 0 } else { env.bigint_u64_arg(seed_v, "seed")? },
        top_k: env.opt_number(o, c"topK")?.unwrap_or(0.0) as usize,
        min_score: env.opt_number(o, c"minScore")?.map(|x| x as f32),
    })
}

fn changes_summary(env: Env, o: napi_value, c: &Changes, r: &ScanReport) -> JsResult<()> {
    for (name, v) in [(c"records", c.records), (c"upserts", c.upserts), (c"deletes", c.deletes), (c"changedKeys", c.by_key.len() as u64)] {
        env.set(o, name, env.double(v as f64)?)?;
    }
    env.set(o, c"replaySeconds", env.double(c.seconds)?)?;
    env.set(o, c"report", report(env, r)?)
}

/// x2iReplay(walDir, {after, upto, skipCorrupt}, {topK, minScore}): the WAL's last state per x2i key,
/// lists normalised as the index stores them: {keys: BigUint64Array, deleted: Uint8Array, counts:
/// Uint32Array, items: BigUint64Array, scores: Float32Array, records, upserts, deletes, report}
fn x2i_replay(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<3>::get(env, info)?;
    let dir = PathBuf::from(env.string_arg(a.argv[0], "walDir")?);
    let (c, r) = dump::replay(&dir, &scan_options(env, a.argv[1])?)?;
    let opts = build_options(env, a.argv[2])?;
    let ReplayLists { keys, deleted, counts, items, scores } =
        dump::replay_lists(&c, &opts).map_err(|(key, i)| err("ERR_RECALL_CORRUPT", format!("WAL: score {i} of key {key} is NaN")))?;
    let o = env.object()?;
    env.set(o, c"keys", env.typed_array_from_vec(keys)?)?;
    env.set(o, c"deleted", env.typed_array_from_vec(deleted)?)?;
    env.set(o, c"counts", env.typed_array_from_vec(counts)?)?;
    env.set(o, c"items", env.typed_array_from_vec(items)?)?;
    env.set(o, c"scores", env.typed_array_from_vec(scores)?)?;
    changes_summary(env, o, &c, &r)?;
    Ok(o)
}

struct Dump {
    wal: PathBuf,
    scan: ScanOptions,
    delta: bool,
    layers: Vec<Vec<PathBuf>>,
    outs: Vec<PathBuf>,
    headers: Vec<HeaderFields>,
    params: Vec<String>,
    opts: BuildOptions,
}

impl Task for Dump {
    type Output = (Vec<X2iStats>, Changes, ScanReport);
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        let (changes, report) = dump::replay(&self.wal, &self.scan)?;
        let shard_count = self.outs.len() as u32;
        let mut stats = Vec::new();
        for s in 0..self.outs.len() {
            let layers = self.layers[s].iter().map(|p| X2iIndex::open(p)).collect::<recall_core::Result<Vec<_>>>()?;
            let d = ShardDump { shard: s as u32, shard_count, layers: &layers, changes: &changes, opts: self.opts.clone() };
            let out: &Path = &self.outs[s];
            stats.push(if self.delta {
                dump::write_delta(&d, out, self.headers[s].clone(), &self.params[s])?
            } else {
                dump::write_major(&d, out, self.headers[s].clone(), &self.params[s])?
            });
        }
        Ok((stats, changes, report))
    }
    fn resolve(self, env: Env, (stats, c, r): Self::Output) -> JsResult<napi_value> {
        let o = env.object()?;
        let shards = env.array(stats.iter().map(|s| {
            let x = env.object()?;
            for (name, v) in [
                (c"keys", s.keys as f64),
                (c"deleted", s.deleted as f64),
                (c"edges", s.edges as f64),
                (c"maxLen", s.max_len as f64),
                (c"capacity", s.capacity as f64),
                (c"load", s.load),
                (c"fileBytes", s.file_bytes as f64),
            ] {
                env.set(x, name, env.double(v)?)?;
            }
            Ok(x)
        }))?;
        env.set(o, c"shards", shards)?;
        changes_summary(env, o, &c, &r)?;
        Ok(o)
    }
}

/// x2iDump({walDir, after, upto, skipCorrupt, delta, layers: string[][] (per shard, oldest first), outs: string[],
/// headers: object[], params: string[], seed, topK, minScore}): Promise<{shards, records, upserts, deletes, keys, report}>
fn x2i_dump(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let o = a.argv[0];
    let strings = |v: napi_value, what: &str| -> JsResult<Vec<String>> {
        env.array_items(v, what)?.into_iter().map(|s| env.string_arg(s, what)).collect()
    };
    let outs: Vec<PathBuf> = strings(env.get(o, c"outs")?, "outs")?.into_iter().map(PathBuf::from).collect();
    let layers: Vec<Vec<PathBuf>> = env
        .array_items(env.get(o, c"layers")?, "layers")?
        .into_iter()
        .map(|l| strings(l, "layers").map(|v| v.into_iter().map(PathBuf::from).collect()))
        .collect::<JsResult<_>>()?;
    let headers = env
        .array_items(env.get(o, c"headers")?, "headers")?
        .into_iter()
        .map(|h| crate::container::build_header(env, h))
        .collect::<JsResult<Vec<_>>>()?;
    let params = strings(env.get(o, c"params")?, "params")?;
    if layers.len() != outs.len()
        || headers.len() != outs.len()
        || params.len() != outs.len()
        || outs.is_empty()
        || layers.iter().any(|l| l.is_empty())
    {
        return Err(err(
            "ERR_RECALL_INVALID_ARG",
            "x2iDump: layers, outs, headers and params need one entry per shard, each shard at least its base",
        ));
    }
    let task = Dump {
        wal: PathBuf::from(env.string_arg(env.get(o, c"walDir")?, "walDir")?),
        scan: scan_options(env, o)?,
        delta: env.opt_bool(o, c"delta")?,
        layers,
        outs,
        headers,
        params,
        opts: build_options(env, o)?,
    };
    spawn(env, "recall.x2iDump", task)
}

/// x2iSumSeedLists(items: BigInt64Array, scores: Float32Array, counts: Uint32Array, weights: Float64Array,
/// requestEnds: Uint32Array, fanout, seedLists?: Uint32Array): {items: BigInt64Array, scores: Float64Array,
/// counts: Uint32Array}; with seedLists, `counts` are per list and seed s reads list seedLists[s]
fn x2i_sum_seed_lists(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<7>::get(env, info)?;
    let items = unsafe { env.typed_array::<i64>(a.argv[0], "items")? };
    let scores = unsafe { env.typed_array::<f32>(a.argv[1], "scores")? };
    let counts = unsafe { env.typed_array::<u32>(a.argv[2], "counts")? };
    let weights = unsafe { env.typed_array::<f64>(a.argv[3], "weights")? };
    let ends = unsafe { env.typed_array::<u32>(a.argv[4], "requestEnds")? };
    let fanout = env.u32_in(a.argv[5], "fanout", 0)? as usize;
    let seed_lists = if env.is_nullish(a.argv[6])? { None } else { Some(unsafe { env.typed_array::<u32>(a.argv[6], "seedLists")? }) };
    let (i, s, c) = x2i::seedsum::sum_seed_lists(items, scores, counts, seed_lists, weights, ends, fanout)
        .map_err(|m| err("ERR_RECALL_INVALID_ARG", m))?;
    let o = env.object()?;
    env.set(o, c"items", env.typed_array_from_vec(i)?)?;
    env.set(o, c"scores", env.typed_array_from_vec(s)?)?;
    env.set(o, c"counts", env.typed_array_from_vec(c)?)?;
    Ok(o)
}

/// x2iSumSeedsIn(shards: handle[], keys: BigInt64Array, weights: Float64Array, requestEnds: Uint32Array, top, fanout):
/// {items: BigInt64Array, scores: Float64Array, counts: Uint32Array}: x2iSumSeedLists over the lists
/// of one version's shards, read in place
fn x2i_sum_seeds_in(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<6>::get(env, info)?;
    let handles = env.array_items(a.argv[0], "shards")?;
    let mut shards = Vec::with_capacity(handles.len());
    for h in handles {
        shards.push(index(env, h)?.as_ref());
    }
    let keys = unsafe { env.typed_array::<i64>(a.argv[1], "keys")? };
    let weights = unsafe { env.typed_array::<f64>(a.argv[2], "weights")? };
    let ends = unsafe { env.typed_array::<u32>(a.argv[3], "requestEnds")? };
    let top = env.index(a.argv[4], "top")? as usize;
    let fanout = env.u32_in(a.argv[5], "fanout", 0)? as usize;
    let (i, s, c) = x2i::seedsum::sum_seed_lists_in(&shards, keys, weights, ends, top, fanout)?;
    let o = env.object()?;
    env.set(o, c"items", env.typed_array_from_vec(i)?)?;
    env.set(o, c"scores", env.typed_array_from_vec(s)?)?;
    env.set(o, c"counts", env.typed_array_from_vec(c)?)?;
    Ok(o)
}
