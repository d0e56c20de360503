//! The routing hash (xxHash64) over single values and whole key columns.

use crate::napi::{Args, Env, JsResult, define, err, export};
use crate::sys::*;
use recall_core::hash;

js_fn! {
    js_xxh64 => xxh64;
    js_hash_int64 => hash_int64;
    js_hash_strings => hash_strings;
    js_shards_of => shards_of;
    js_route_int64 => route_int64;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"xxh64", Some(js_xxh64)),
            export(c"hashInt64", Some(js_hash_int64)),
            export(c"hashStrings", Some(js_hash_strings)),
            export(c"shardsOf", Some(js_shards_of)),
            export(c"routeInt64", Some(js_route_int64)),
        ],
    )
}

fn seed(env: Env, v: napi_value) -> JsResult<u64> {
    if env.is_nullish(v)? { Ok(0) } else { env.bigint_u64_arg(v, "seed") }
}

/// xxh64(data: Uint8Array | string, seed?: bigint): bigint
fn xxh64(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let s = seed(env, a.argv[1])?;
    let h = if env.type_of(a.argv[0])? == napi_string {
        hash::xxh64(env.string_arg(a.argv[0], "data")?.as_bytes(), s)
    } else {
        hash::xxh64(unsafe { env.typed_array::<u8>(a.argv[0], "data")? }, s)
    };
    env.bigint_u64(h)
}

/// hashInt64(keys: BigInt64Array, seed?: bigint): BigUint64Array
fn hash_int64(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let keys = unsafe { env.typed_array::<i64>(a.argv[0], "keys")? };
    let mut out = vec![0u64; keys.len()];
    hash::hash_i64(keys, seed(env, a.argv[1])?, &mut out)?;
    env.typed_array_from_vec(out)
}

/// hashStrings(offsets: Int32Array | BigInt64Array, data: Uint8Array, seed?: bigint): BigUint64Array
/// An Arrow Utf8 / LargeUtf8 column as it sits in memory: row r is
/// data[offsets[r] .. offsets[r+1]].
fn hash_strings(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<3>::get(env, info)?;
    let data = unsafe { env.typed_array::<u8>(a.argv[1], "data")? };
    let s = seed(env, a.argv[2])?;
    let mut out;
    match env.typed_array_type(a.argv[0])? {
        Some(t) if t == napi_int32_array => {
            let off = unsafe { env.typed_array::<i32>(a.argv[0], "offsets")? };
            out = vec![0u64; off.len().saturating_sub(1)];
            hash::hash_strings(off, data, s, &mut out)?;
        }
        Some(t) if t == napi_bigint64_array => {
            let off = unsafe { env.typed_array::<i64>(a.argv[0], "offsets")? };
            out = vec![0u64; off.len().saturating_sub(1)];
            hash::hash_strings(off, data, s, &mut out)?;
        }
        _ => return Err(err("ERR_INVALID_ARG_TYPE", "offsets must be an Int32Array or BigInt64Array")),
    }
    env.typed_array_from_vec(out)
}

/// shardsOf(hashes: BigUint64Array, shardCount: number): Uint32Array
fn shards_of(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let hashes = unsafe { env.typed_array::<u64>(a.argv[0], "hashes")? };
    let n = env.u32_in(a.argv[1], "shardCount", 1)?;
    let mut out = vec![0u32; hashes.len()];
    hash::shards_of(hashes, n, &mut out)?;
    env.typed_array_from_vec(out)
}

/// routeInt64(keys: BigInt64Array, validity: Uint8Array | null, shardCount, out: Uint16Array, counts: Float64Array): number
/// One call per key vector for `recall shard`: hash, route into `out`, add to
/// `counts[shard]`; rows whose validity bit is 0 (null keys) are skipped and
/// counted in the return value (their `out` entry is left as is).
fn route_int64(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<5>::get(env, info)?;
    let keys = unsafe { env.typed_array::<i64>(a.argv[0], "keys")? };
    let validity = if env.is_nullish(a.argv[1])? { None } else { Some(unsafe { env.typed_array::<u8>(a.argv[1], "validity")? }) };
    let n = env.u32_in(a.argv[2], "shardCount", 1)?;
    let out = unsafe { env.typed_array_mut::<u16>(a.argv[3], "out")? };
    let counts = unsafe { env.typed_array_mut::<f64>(a.argv[4], "counts")? };
    if out.len() < keys.len() || counts.len() < n as usize || n > 65536 || validity.is_some_and(|v| v.len() * 8 < keys.len()) {
        return Err(err("ERR_RECALL_INVALID_ARG", "routeInt64: out, counts or validity is too short, or more than 65536 shards"));
    }
    let mut nulls = 0u32;
    for (r, &k) in keys.iter().enumerate() {
        if validity.is_some_and(|v| (v[r >> 3] >> (r & 7)) & 1 == 0) {
            nulls += 1;
            continue;
        }
        let s = (hash::xxh64_u64(k as u64, 0) % n as u64) as usize;
        out[r] = s as u16;
        counts[s] += 1.0;
    }
    env.uint32(nulls)
}
