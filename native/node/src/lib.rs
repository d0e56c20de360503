//! recall's Node-API addon over recall-core, written against the raw C ABI.
//!
//! Layers: `sys` (C declarations) -> `napi` (all unsafe helpers, error and
//! panic mapping, async work) -> the export files, which parse arguments,
//! call recall-core and convert results; they never compute.
//!
//! Node calls `napi_register_module_v1` once per environment (the main
//! thread and every worker that loads the addon); nothing here keeps
//! per-environment state, and Rust statics hold only `Sync` data.

#[macro_use]
mod napi;
mod cancel;
mod container;
mod duckdb_route;
mod filelock;
mod hash;
mod hash_bench;
mod kernels;
mod merge;
mod sys;
mod text;
mod vector;
mod wal;
mod x2i;
mod x2i_stream;

use napi::{Args, Env, JsResult, define, export};
use std::ptr::null_mut;
use sys::*;

/// The Node-API version this addon is written against.
#[unsafe(no_mangle)]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}

/// What `process.dlopen` looks up (what NAPI_MODULE_INIT expands to).
///
/// # Safety
/// Called by Node once per environment with a live `env` and `exports` object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let env = Env(env);
    napi::install_panic_hook();
    match std::panic::catch_unwind(|| init(env, exports)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            env.throw(e);
            null_mut()
        }
        Err(p) => {
            env.throw(napi::err("ERR_RECALL_PANIC", napi::panic_message(&*p)));
            null_mut()
        }
    }
}

js_fn! {
    js_build_info => build_info;
    js_panic_for_test => panic_for_test;
}

fn init(env: Env, exports: napi_value) -> JsResult<napi_value> {
    define(env, exports, &[export(c"buildInfo", Some(js_build_info)), export(c"panicForTest", Some(js_panic_for_test))])?;
    kernels::register(env, exports)?;
    hash::register(env, exports)?;
    duckdb_route::register(env, exports)?;
    hash_bench::register(env, exports)?;
    cancel::register(env, exports)?;
    container::register(env, exports)?;
    filelock::register(env, exports)?;
    merge::register(env, exports)?;
    x2i::register(env, exports)?;
    x2i_stream::register(env, exports)?;
    wal::register(env, exports)?;
    vector::register(env, exports)?;
    text::register(env, exports)?;
    Ok(exports)
}

/// buildInfo(): {version, napiVersion, profile}
fn build_info(env: Env, _info: napi_callback_info) -> JsResult<napi_value> {
    let o = env.object()?;
    env.set(o, c"version", env.string(env!("CARGO_PKG_VERSION"))?)?;
    env.set(o, c"napiVersion", env.uint32(node_api_module_get_api_version_v1() as u32)?)?;
    env.set(o, c"profile", env.string(if cfg!(debug_assertions) { "debug" } else { "release" })?)?;
    Ok(o)
}

/// panicForTest(): panics inside Rust, to prove a panic becomes a JS error.
fn panic_for_test(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let at = if env.is_nullish(a.argv[0])? { 3 } else { env.index(a.argv[0], "index")? as usize };
    let empty: Vec<u8> = Vec::new();
    env.uint32(empty[std::hint::black_box(at)] as u32)
}
