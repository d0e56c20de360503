//! The hash-table benchmark entry points behind `recall bench hash`: NeighborHash against a
//! linear-probing baseline (build, lookup modes, APCL).

use crate::napi::{Args, Env, JsResult, define, err, export};
use crate::sys::*;
use recall_core::neighborhash::{self, SlotBuf, Table, baseline};

const BENCH_TAG: napi_type_tag = napi_type_tag { lower: 0x6a0f_1b2c_3d4e_5f60, upper: 0x7182_93a4_b5c6_d7e8 };

js_fn! {
    js_hash_bench_build => hash_bench_build;
    js_hash_bench_lookup => hash_bench_lookup;
    js_hash_bench_apcl => hash_bench_apcl;
    js_hash_bench_lines_read => hash_bench_lines_read;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"hashBenchBuild", Some(js_hash_bench_build)),
            export(c"hashBenchLookup", Some(js_hash_bench_lookup)),
            export(c"hashBenchApcl", Some(js_hash_bench_apcl)),
            export(c"hashBenchLinesRead", Some(js_hash_bench_lines_read)),
        ],
    )
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

/// hashBenchLookup(handle, keys, out: BigUint64Array, mode: 'scalar' | 'amac' | 'amac-scalar' | 'amac-avx512' | 'random' | 'bound' | 'bound-ring' | 'bound-lines', ring = 16, offsets?: BigUint64Array): number of hits for 'scalar' and 'amac' (a checksum for 'random'; 0 for the timed batch rows and the bounds: 'bound' reads through as many lookups in flight as 'amac' with `ring`, 'bound-ring' through exactly `ring`, 'bound-lines' the plan of hashBenchLinesRead, `keys` and `offsets`, through exactly `ring`). Batch modes leave MISSING (2^64 - 1) in `out` for a key not in the table.
fn hash_bench_lookup(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<6>::get(env, info)?;
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
        ("bound", _) => {
            baseline::random_access_ring(slots, keys, out, t.seed, neighborhash::in_flight(ring));
            0
        }
        ("bound-ring", _) => {
            baseline::random_access_ring(slots, keys, out, t.seed, ring);
            0
        }
        ("bound-lines", _) => {
            let offsets = unsafe { env.typed_array::<u64>(a.argv[5], "offsets")? };
            if offsets.len() != keys.len() {
                return Err(recall_core::Error::LengthMismatch { what: "offsets", expected: keys.len(), got: offsets.len() }.into());
            }
            baseline::random_access_lines(slots, keys, offsets, out, t.seed, ring);
            0
        }
        ("random", _) => return env.double((baseline::random_access(slots, keys, t.seed) & ((1 << 52) - 1)) as f64),
        ("scalar", false) => fill(out, keys, |k| table.get(k)),
        ("scalar", true) => fill(out, keys, |k| baseline::linear_get(slots, k, t.seed)),
        ("amac", false) => {
            neighborhash::get_batch(&table, keys, out, ring);
            out.iter().filter(|&&w| w != neighborhash::MISSING).count()
        }
        // The timed rows: the lookups alone, as the bound (no counting pass).
        ("amac-scalar", false) => {
            neighborhash::get_batch_scalar(&table, keys, out, ring);
            0
        }
        ("amac-avx512", false) if neighborhash::simd::available() => {
            neighborhash::simd::get_batch_avx512(&table, keys, out, ring);
            0
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

/// hashBenchLinesRead(handle, keys: BigUint64Array): { keys, offsets } (BigUint64Arrays), one entry
/// per cache line the NeighborHash lookups of `keys` read: the plan of the 'bound-lines' bound.
fn hash_bench_lines_read(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let t = env.external_ref::<BenchTable>(a.argv[0], &BENCH_TAG, "table")?;
    if t.linear {
        return Err(err("ERR_RECALL_INVALID_ARG", "hashBenchLinesRead takes a NeighborHash table"));
    }
    let keys = unsafe { env.typed_array::<u64>(a.argv[1], "keys")? };
    let (line_keys, offsets) = baseline::lines_read(&Table::new(t.slots.as_slice(), t.seed), keys);
    let o = env.object()?;
    env.set(o, c"keys", env.typed_array_from_vec(line_keys)?)?;
    env.set(o, c"offsets", env.typed_array_from_vec(offsets)?)?;
    Ok(o)
}

/// hashBenchApcl(handle): average cache lines per hit lookup
fn hash_bench_apcl(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let t = env.external_ref::<BenchTable>(a.argv[0], &BENCH_TAG, "table")?;
    let slots = t.slots.as_slice();
    let v = if t.linear { baseline::linear_apcl(slots, t.seed) } else { neighborhash::apcl(&Table::new(slots, t.seed)).lines };
    env.double(v)
}
