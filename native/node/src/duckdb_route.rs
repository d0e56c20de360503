//! `recall_shard(key)` as a native DuckDB scalar function, registered through DuckDB's C API on
//! a connection of `@duckdb/node-api`, so DuckDB's scan threads route each key vector without a
//! round trip to the JS thread (that round trip, per 2048 rows, took `recall shard` from
//! 1.26-1.31x of DuckDB's own partitioned COPY to 1.5x at 2M and 5M rows). The C API comes from
//! the libduckdb.so that `@duckdb/node-bindings` already loaded (looked up, never loaded anew),
//! and the connection from its type-tagged external (a holder of the `duckdb_connection`, as
//! node-bindings 1.5 makes it; test/shard-route.test.mjs pins that). When either is not what this
//! expects, or DuckDB refuses the function, registration answers null and the caller keeps its JS
//! function. The routing itself is `recall_core::hash::route_rows`.
//!
//! `duckdbRouteRegister(libduckdbPath, connection, encoding: 'int64' | 'uint64' | 'utf8', shardCount): handle | null`
//! `duckdbRouteCounts(handle): {rows, nullKeys, perShard: Float64Array}`

use crate::napi::{Args, Env, JsResult, define, err, export};
use crate::sys::*;
use recall_core::hash;
use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::{Arc, Mutex, OnceLock};

/// The tag `@duckdb/node-bindings` puts on its connection externals (its ConnectionTypeTag).
const CONNECTION_TAG: napi_type_tag = napi_type_tag { lower: 0x922B_9BF5_4AB0_4DFC, upper: 0x8A25_8578_D371_DB71 };
const COUNTS_TAG: napi_type_tag = napi_type_tag { lower: 0x2f6b_0c91_d7e4_3a58, upper: 0x6c13_a8e2_5b90_f47d };

js_fn! {
    js_register => register_route;
    js_counts => counts;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(env, exports, &[export(c"duckdbRouteRegister", Some(js_register)), export(c"duckdbRouteCounts", Some(js_counts))])
}

type Ptr = *mut c_void;
const TYPE_BIGINT: c_int = 5;
const TYPE_USMALLINT: c_int = 7;
const TYPE_UBIGINT: c_int = 9;
const TYPE_VARCHAR: c_int = 17;

/// The C API functions used here, as `duckdb.h` declares them.
struct Api {
    create_scalar_function: unsafe extern "C" fn() -> Ptr,
    destroy_scalar_function: unsafe extern "C" fn(*mut Ptr),
    set_name: unsafe extern "C" fn(Ptr, *const c_char),
    add_parameter: unsafe extern "C" fn(Ptr, Ptr),
    set_return_type: unsafe extern "C" fn(Ptr, Ptr),
    set_volatile: unsafe extern "C" fn(Ptr),
    set_special_handling: unsafe extern "C" fn(Ptr),
    set_extra_info: unsafe extern "C" fn(Ptr, Ptr, Option<unsafe extern "C" fn(Ptr)>),
    set_function: unsafe extern "C" fn(Ptr, Option<unsafe extern "C" fn(Ptr, Ptr, Ptr)>),
    register_scalar_function: unsafe extern "C" fn(Ptr, Ptr) -> c_int,
    create_logical_type: unsafe extern "C" fn(c_int) -> Ptr,
    destroy_logical_type: unsafe extern "C" fn(*mut Ptr),
    get_extra_info: unsafe extern "C" fn(Ptr) -> Ptr,
    set_error: unsafe extern "C" fn(Ptr, *const c_char),
    chunk_size: unsafe extern "C" fn(Ptr) -> u64,
    chunk_vector: unsafe extern "C" fn(Ptr, u64) -> Ptr,
    vector_data: unsafe extern "C" fn(Ptr) -> Ptr,
    vector_validity: unsafe extern "C" fn(Ptr) -> *mut u64,
    ensure_validity_writable: unsafe extern "C" fn(Ptr),
    string_length: unsafe extern "C" fn(StringT) -> u32,
    string_data: unsafe extern "C" fn(*mut StringT) -> *const c_char,
}

/// `duckdb_string_t`: 16 bytes, read only through the C API's accessors.
#[repr(C)]
#[derive(Clone, Copy)]
struct StringT([u64; 2]);

unsafe extern "C" {
    fn dlopen(filename: *const c_char, flag: c_int) -> Ptr;
    fn dlsym(handle: Ptr, symbol: *const c_char) -> Ptr;
}
const RTLD_NOW: c_int = 2;
const RTLD_NOLOAD: c_int = 4;

static API: OnceLock<Option<Api>> = OnceLock::new();

/// A symbol's address as the function pointer type `F` of its declaration.
///
/// # Safety
/// `p` must be the address of a function of type `F` (a function pointer, the size of a pointer).
unsafe fn as_fn<F: Copy>(p: Ptr) -> F {
    const { assert!(size_of::<F>() == size_of::<Ptr>()) };
    // SAFETY: same size (checked above); the caller vouches for the type.
    unsafe { std::mem::transmute_copy::<Ptr, F>(&p) }
}

/// The C API of the libduckdb.so at `path`, only if that library is already loaded.
fn api(path: &str) -> Option<&'static Api> {
    API.get_or_init(|| {
        let c = CString::new(path).ok()?;
        // SAFETY: RTLD_NOLOAD only returns a handle to a library this process already loaded.
        let lib = unsafe { dlopen(c.as_ptr(), RTLD_NOW | RTLD_NOLOAD) };
        if lib.is_null() {
            return None;
        }
        macro_rules! sym {
            ($name:literal) => {{
                // SAFETY: a symbol of the loaded libduckdb, typed as duckdb.h declares it.
                let p = unsafe { dlsym(lib, concat!($name, "\0").as_ptr().cast()) };
                if p.is_null() {
                    return None;
                }
                unsafe { as_fn(p) }
            }};
        }
        Some(Api {
            create_scalar_function: sym!("duckdb_create_scalar_function"),
            destroy_scalar_function: sym!("duckdb_destroy_scalar_function"),
            set_name: sym!("duckdb_scalar_function_set_name"),
            add_parameter: sym!("duckdb_scalar_function_add_parameter"),
            set_return_type: sym!("duckdb_scalar_function_set_return_type"),
            set_volatile: sym!("duckdb_scalar_function_set_volatile"),
            set_special_handling: sym!("duckdb_scalar_function_set_special_handling"),
            set_extra_info: sym!("duckdb_scalar_function_set_extra_info"),
            set_function: sym!("duckdb_scalar_function_set_function"),
            register_scalar_function: sym!("duckdb_register_scalar_function"),
            create_logical_type: sym!("duckdb_create_logical_type"),
            destroy_logical_type: sym!("duckdb_destroy_logical_type"),
            get_extra_info: sym!("duckdb_scalar_function_get_extra_info"),
            set_error: sym!("duckdb_scalar_function_set_error"),
            chunk_size: sym!("duckdb_data_chunk_get_size"),
            chunk_vector: sym!("duckdb_data_chunk_get_vector"),
            vector_data: sym!("duckdb_vector_get_data"),
            vector_validity: sym!("duckdb_vector_get_validity"),
            ensure_validity_writable: sym!("duckdb_vector_ensure_validity_writable"),
            string_length: sym!("duckdb_string_t_length"),
            string_data: sym!("duckdb_string_t_data"),
        })
    })
    .as_ref()
}

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Int64,
    Uint64,
    Utf8,
}

/// What the scan threads write and JS reads: rows routed per shard, null keys, rows seen.
struct Counts {
    per_shard: Vec<u64>,
    null_keys: u64,
    rows: u64,
}

/// The function's extra info (owned by DuckDB; dropped by `drop_route`).
struct Route {
    encoding: Encoding,
    shard_count: u32,
    counts: Arc<Mutex<Counts>>,
}

unsafe extern "C" fn drop_route(p: Ptr) {
    // SAFETY: `p` is the Box<Route> given to set_extra_info; DuckDB calls this once.
    drop(unsafe { Box::from_raw(p.cast::<Route>()) });
}

/// Bit `r` of a DuckDB validity mask (null: every row valid).
fn valid(mask: *const u64, r: usize) -> bool {
    // SAFETY: a non-null mask has a bit for each of the vector's rows.
    mask.is_null() || unsafe { (*mask.add(r >> 6) >> (r & 63)) & 1 == 1 }
}

/// The scalar function body, on a DuckDB thread: it never touches JS.
unsafe extern "C" fn route_vector(info: Ptr, input: Ptr, output: Ptr) {
    let Some(api) = API.get().and_then(Option::as_ref) else { return };
    // SAFETY: DuckDB passes the extra info set at registration, a live input chunk with one flat
    // column of the registered type, and a flat USMALLINT output vector with a row for each input row.
    unsafe {
        let route = &*((api.get_extra_info)(info) as *const Route);
        let rows = (api.chunk_size)(input) as usize;
        let key = (api.chunk_vector)(input, 0);
        let mask = (api.vector_validity)(key);
        let data = (api.vector_data)(key);
        let out = std::slice::from_raw_parts_mut((api.vector_data)(output).cast::<u16>(), rows);
        let mut guard = route.counts.lock().unwrap_or_else(|p| p.into_inner());
        let counts = &mut *guard;
        let routed = match route.encoding {
            Encoding::Int64 | Encoding::Uint64 => {
                let keys = std::slice::from_raw_parts(data.cast::<u64>(), rows);
                hash::route_rows(
                    rows,
                    |r| valid(mask, r).then(|| hash::xxh64_u64(keys[r], 0)),
                    route.shard_count,
                    out,
                    &mut counts.per_shard,
                )
            }
            Encoding::Utf8 => {
                let strings = data.cast::<StringT>();
                let bytes_of = |r: usize| {
                    let s = strings.add(r);
                    std::slice::from_raw_parts((api.string_data)(s).cast::<u8>(), (api.string_length)(*s) as usize)
                };
                hash::route_rows(
                    rows,
                    |r| valid(mask, r).then(|| hash::xxh64(bytes_of(r), 0)),
                    route.shard_count,
                    out,
                    &mut counts.per_shard,
                )
            }
        };
        match routed {
            Ok(nulls) => {
                counts.null_keys += nulls;
                counts.rows += rows as u64;
                if nulls > 0 {
                    // a null key routes nowhere: its shard is NULL
                    (api.ensure_validity_writable)(output);
                    let out_mask = (api.vector_validity)(output);
                    for r in (0..rows).filter(|&r| !valid(mask, r)) {
                        *out_mask.add(r >> 6) &= !(1u64 << (r & 63));
                    }
                }
            }
            Err(e) => {
                let message = CString::new(e.to_string()).unwrap_or_default();
                (api.set_error)(info, message.as_ptr());
            }
        }
    }
}

/// duckdbRouteRegister(libduckdbPath, connection, encoding, shardCount): a counts handle, or null
/// when the connection or the library is not the kind this registers on, or DuckDB refuses it.
fn register_route(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<4>::get(env, info)?;
    let path = env.string_arg(a.argv[0], "libduckdbPath")?;
    let encoding = match env.string_arg(a.argv[2], "encoding")?.as_str() {
        "int64" => Encoding::Int64,
        "uint64" => Encoding::Uint64,
        "utf8" => Encoding::Utf8,
        other => return Err(err("ERR_RECALL_INVALID_ARG", format!("duckdbRouteRegister: unknown key encoding {other}"))),
    };
    let shard_count = env.u32_in(a.argv[3], "shardCount", 1)?;
    if shard_count > 1 << 16 {
        return Err(err("ERR_RECALL_INVALID_ARG", "duckdbRouteRegister: at most 65536 shards"));
    }
    if env.type_of(a.argv[1])? != napi_external {
        return env.null();
    }
    let mut tagged = false;
    // SAFETY: a live external value of this call.
    env.check(unsafe { napi_check_object_type_tag(env.0, a.argv[1], &CONNECTION_TAG, &mut tagged) })?;
    let Some(api) = api(&path).filter(|_| tagged) else { return env.null() };
    let mut holder = std::ptr::null_mut();
    env.check(unsafe { napi_get_value_external(env.0, a.argv[1], &mut holder) })?;
    // SAFETY: the tag proves node-bindings made this external, around its connection holder
    // (`struct { duckdb_connection connection; }`, null once disconnected).
    let connection = if holder.is_null() { holder } else { unsafe { *holder.cast::<Ptr>() } };
    if connection.is_null() {
        return Err(err("ERR_RECALL_INVALID_ARG", "duckdbRouteRegister: the connection is closed"));
    }
    let counts = Arc::new(Mutex::new(Counts { per_shard: vec![0; shard_count as usize], null_keys: 0, rows: 0 }));
    let route = Box::new(Route { encoding, shard_count, counts: Arc::clone(&counts) });
    // SAFETY: C API calls on a function object made here and on a live connection; the extra info
    // is a Box that DuckDB frees through drop_route when the function goes.
    let state = unsafe {
        let mut f = (api.create_scalar_function)();
        (api.set_name)(f, c"recall_shard".as_ptr());
        let mut param = (api.create_logical_type)(match encoding {
            Encoding::Int64 => TYPE_BIGINT,
            Encoding::Uint64 => TYPE_UBIGINT,
            Encoding::Utf8 => TYPE_VARCHAR,
        });
        (api.add_parameter)(f, param);
        (api.destroy_logical_type)(&mut param);
        let mut ret = (api.create_logical_type)(TYPE_USMALLINT);
        (api.set_return_type)(f, ret);
        (api.destroy_logical_type)(&mut ret);
        // volatile: evaluated once per row, never copied into a pushed-down filter; special
        // handling: null keys reach the function (which makes their shard NULL)
        (api.set_volatile)(f);
        (api.set_special_handling)(f);
        (api.set_extra_info)(f, Box::into_raw(route).cast(), Some(drop_route));
        (api.set_function)(f, Some(route_vector));
        let state = (api.register_scalar_function)(connection, f);
        (api.destroy_scalar_function)(&mut f);
        state
    };
    // DuckDB refusing it (say, another recall_shard already on the connection): the caller's JS
    // function meets the same refusal and reports it
    if state != 0 {
        return env.null();
    }
    env.external(counts, &COUNTS_TAG)
}

/// duckdbRouteCounts(handle): {rows, nullKeys, perShard: Float64Array} so far.
fn counts(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let counts = env.external_ref::<Arc<Mutex<Counts>>>(a.argv[0], &COUNTS_TAG, "handle")?;
    let c = counts.lock().unwrap_or_else(|p| p.into_inner());
    let o = env.object()?;
    env.set(o, c"rows", env.double(c.rows as f64)?)?;
    env.set(o, c"nullKeys", env.double(c.null_keys as f64)?)?;
    env.set(o, c"perShard", env.typed_array_from_vec(c.per_shard.iter().map(|&x| x as f64).collect::<Vec<f64>>())?)?;
    Ok(o)
}
