//! The x2i index (write, open, batch lookup, verify) and the hash-table
//! benchmark entry points behind `recall bench hash`.

use crate::napi::{Args, Env, JsError, JsResult, Task, define, err, export, spawn};
use crate::sys::*;
use recall_core::container::HeaderFields;
use recall_core::neighborhash::{self, SlotBuf, Table, baseline};
use recall_core::x2i::{self, BuildOptions, Lists, X2iIndex, X2iStats};
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::Arc;

const INDEX_TAG: napi_type_tag = napi_type_tag { lower: 0x3c51_9e0a_77d2_41f8, upper: 0x0e6b_d4a3_95c7_2f11 };
const BENCH_TAG: napi_type_tag = napi_type_tag { lower: 0x6a0f_1b2c_3d4e_5f60, upper: 0x7182_93a4_b5c6_d7e8 };

js_fn! {
    async js_x2i_write => x2i_write;
    js_x2i_open => x2i_open;
    js_x2i_lookup => x2i_lookup;
    js_x2i_info => x2i_info;
    js_x2i_verify => x2i_verify;
    js_hash_bench_build => hash_bench_build;
    js_hash_bench_lookup => hash_bench_lookup;
    js_hash_bench_apcl => hash_bench_apcl;
    async js_x2i_compute => x2i_compute;
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
            export(c"hashBenchBuild", Some(js_hash_bench_build)),
            export(c"hashBenchLookup", Some(js_hash_bench_lookup)),
            export(c"hashBenchApcl", Some(js_hash_bench_apcl)),
            export(c"x2iCompute", Some(js_x2i_compute)),
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

/// x2iOpen(path): handle
fn x2i_open(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    env.external(Arc::new(X2iIndex::open(&path)?), &INDEX_TAG)
}

/// x2iLookup(handle, keys: BigUint64Array, top = 0): {found, counts, items, scores}
fn x2i_lookup(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<3>::get(env, info)?;
    let idx = index(env, a.argv[0])?;
    let keys = unsafe { env.typed_array::<u64>(a.argv[1], "keys")? };
    let top = if env.is_nullish(a.argv[2])? { 0 } else { env.index(a.argv[2], "top")? as usize };
    let r = idx.lookup(keys, top, neighborhash::DEFAULT_RING);
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

struct BenchTable {
    slots: SlotBuf,
    seed: u64,
    linear: bool,
}

/// hashBenchBuild(keys: BigUint64Array, payloads: BigUint64Array, kind: 'neighbor' | 'linear', capacity): handle
fn hash_bench_build(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<4>::get(env, info)?;
    let keys = unsafe { env.typed_array::<u64>(a.argv[0], "keys")? };
    let payloads = unsafe { env.typed_array::<u64>(a.argv[1], "payloads")? };
    if keys.len() != payloads.len() {
        return Err(recall_core::Error::LengthMismatch { what: "payloads", expected: keys.len(), got: payloads.len() }.into());
    }
    let kind = env.string_arg(a.argv[2], "kind")?;
    let cap = env.index(a.argv[3], "capacity")? as usize;
    let pairs: Vec<(u64, u64)> = keys.iter().copied().zip(payloads.iter().copied()).collect();
    let seed = 0x5eed;
    let t = match kind.as_str() {
        "neighbor" => BenchTable { slots: SlotBuf::from_slots(&neighborhash::build(&pairs, seed)?.0), seed, linear: false },
        "linear" if cap.is_power_of_two() && cap > keys.len() => {
            BenchTable { slots: SlotBuf::from_slots(&baseline::linear_build(&pairs, cap, seed)), seed, linear: true }
        }
        _ => {
            return Err(err(
                "ERR_RECALL_INVALID_ARG",
                format!("kind must be 'neighbor' or 'linear' (with a power-of-two capacity above the key count), got {kind}"),
            ));
        }
    };
    env.external(t, &BENCH_TAG)
}

/// hashBenchLookup(handle, keys, out: BigUint64Array, mode: 'scalar' | 'amac' | 'amac-scalar' | 'amac-avx512' | 'random', ring = 16): number of hits (or a checksum for 'random')
fn hash_bench_lookup(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<5>::get(env, info)?;
    let t = env.external_ref::<BenchTable>(a.argv[0], &BENCH_TAG, "table")?;
    let keys = unsafe { env.typed_array::<u64>(a.argv[1], "keys")? };
    let out = unsafe { env.typed_array_mut::<u64>(a.argv[2], "out")? };
    if out.len() != keys.len() {
        return Err(recall_core::Error::LengthMismatch { what: "out", expected: keys.len(), got: out.len() }.into());
    }
    let mode = env.string_arg(a.argv[3], "mode")?;
    let ring = if env.is_nullish(a.argv[4])? { neighborhash::DEFAULT_RING } else { env.index(a.argv[4], "ring")? as usize };
    let slots = t.slots.as_slice();
    let table = Table::new(slots, t.seed);
    let hits = match (mode.as_str(), t.linear) {
        ("random", _) => return env.double((baseline::random_access(slots, keys, t.seed) & ((1 << 52) - 1)) as f64),
        ("scalar", false) => fill(out, keys, |k| table.get(k)),
        ("scalar", true) => fill(out, keys, |k| baseline::linear_get(slots, k, t.seed)),
        ("amac", false) => {
            let mut found = vec![0u8; keys.len()];
            neighborhash::get_batch(&table, keys, out, &mut found, ring);
            found.iter().filter(|&&f| f == 1).count()
        }
        ("amac-scalar", false) => {
            let mut found = vec![0u8; keys.len()];
            neighborhash::get_batch_scalar(&table, keys, out, &mut found, ring);
            found.iter().filter(|&&f| f == 1).count()
        }
        ("amac-avx512", false) if neighborhash::simd::available() => {
            let mut found = vec![0u8; keys.len()];
            neighborhash::simd::get_batch_avx512(&table, keys, out, &mut found, ring);
            found.iter().filter(|&&f| f == 1).count()
        }
        _ => return Err(err("ERR_RECALL_INVALID_ARG", format!("mode {mode} is not available for this table"))),
    };
    env.double(hits as f64)
}

fn fill(out: &mut [u64], keys: &[u64], get: impl Fn(u64) -> Option<u64>) -> usize {
    let mut hits = 0;
    for (o, &k) in out.iter_mut().zip(keys) {
        match get(k) {
            Some(v) => {
                *o = v;
                hits += 1;
            }
            None => *o = 0,
        }
    }
    hits
}

/// hashBenchApcl(handle): average cache lines per hit lookup
fn hash_bench_apcl(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let t = env.external_ref::<BenchTable>(a.argv[0], &BENCH_TAG, "table")?;
    let slots = t.slots.as_slice();
    let v = if t.linear { baseline::linear_apcl(slots, t.seed) } else { neighborhash::apcl(&Table::new(slots, t.seed)).lines };
    env.double(v)
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
    opts: CfOptions,
    cancel: recall_core::CancelToken,
}

impl Task for Compute {
    type Output = Rows;
    fn compute(&mut self) -> Result<Rows, JsError> {
        let d = Interactions {
            user: &self.user,
            item: &self.item,
            ts: &self.ts,
            weight: self.weight.as_deref(),
            users: self.users,
            items: self.items,
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
///            users, items, options, token?): Promise<{rowOff, nb, sc, work, keptInteractions}>
fn x2i_compute(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<8>::get(env, info)?;
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
    let o = a.argv[6];
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
    let opts = CfOptions {
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
    };
    let cancel = crate::cancel::token_arg(env, a.argv[7])?;
    spawn(env, "recall.x2iCompute", Compute { user, item, ts, weight, users, items, opts, cancel })
}
