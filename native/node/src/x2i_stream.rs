//! The x2i stream state (incremental item-CF and Swing): create, load, apply a micro-batch
//! (returning the WAL records of the changed lists), set lists, save, info.

use crate::napi::{Args, Env, JsError, JsResult, Task, define, export, spawn};
use crate::sys::*;
use recall_core::x2i::stream::{Batch, Changed, StreamState};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const STATE_TAG: napi_type_tag = napi_type_tag { lower: 0x7a21_c3e4_5b90_1d36, upper: 0x4f88_02ab_e61c_93d7 };

type Shared = Arc<Mutex<StreamState>>;

js_fn! {
    js_new => new_state;
    async js_load => load;
    async js_apply => apply;
    js_set_lists => set_lists;
    async js_save => save;
    js_info => info;
    js_lists => lists;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"x2iStreamNew", Some(js_new)),
            export(c"x2iStreamLoad", Some(js_load)),
            export(c"x2iStreamApply", Some(js_apply)),
            export(c"x2iStreamSetLists", Some(js_set_lists)),
            export(c"x2iStreamSave", Some(js_save)),
            export(c"x2iStreamInfo", Some(js_info)),
            export(c"x2iStreamLists", Some(js_lists)),
        ],
    )
}

fn state(env: Env, v: napi_value) -> JsResult<Shared> {
    Ok(env.external_ref::<Shared>(v, &STATE_TAG, "state")?.clone())
}

fn locked(s: &Shared) -> std::sync::MutexGuard<'_, StreamState> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// x2iStreamNew(options): handle (an empty state)
fn new_state(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let opts = crate::x2i::cf_options(env, a.argv[0])?;
    env.external::<Shared>(Arc::new(Mutex::new(StreamState::new(opts))), &STATE_TAG)
}

struct Load {
    path: PathBuf,
    opts: Option<recall_core::x2i::cf::CfOptions>,
}

impl Task for Load {
    type Output = (StreamState, String);
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        Ok(StreamState::load(&self.path, self.opts.take().expect("options"))?)
    }
    fn resolve(self, env: Env, (s, meta): Self::Output) -> JsResult<napi_value> {
        let o = env.object()?;
        env.set(o, c"handle", env.external::<Shared>(Arc::new(Mutex::new(s)), &STATE_TAG)?)?;
        env.set(o, c"meta", env.string(&meta)?)?;
        Ok(o)
    }
}

/// x2iStreamLoad(path, options): Promise<{handle, meta}>
fn load(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let opts = Some(crate::x2i::cf_options(env, a.argv[1])?);
    spawn(env, "recall.x2iStreamLoad", Load { path, opts })
}

struct Apply {
    s: Shared,
    user_off: Vec<u32>,
    user_bytes: Vec<u8>,
    item: Vec<u64>,
    ts: Vec<u32>,
    weight: Option<Vec<f32>>,
    recompute: bool,
    tag: Vec<u8>,
    cancel: recall_core::CancelToken,
}

impl Task for Apply {
    type Output = (Changed, (Vec<u8>, Vec<u32>, Vec<u8>), f64);
    fn compute(&mut self) -> Result<Self::Output, JsError> {
        let t0 = std::time::Instant::now();
        let b = Batch {
            user_off: &self.user_off,
            user_bytes: &self.user_bytes,
            item: &self.item,
            ts: &self.ts,
            weight: self.weight.as_deref(),
        };
        let c = locked(&self.s).apply(&b, self.recompute, &self.cancel)?;
        let records = c.wal_records(&self.tag);
        Ok((c, records, t0.elapsed().as_secs_f64()))
    }
    fn resolve(self, env: Env, (c, (ops, ends, payloads), seconds): Self::Output) -> JsResult<napi_value> {
        let o = env.object()?;
        env.set(o, c"keys", env.typed_array_from_vec(c.keys)?)?;
        env.set(o, c"ops", env.typed_array_from_vec(ops)?)?;
        env.set(o, c"ends", env.typed_array_from_vec(ends)?)?;
        env.set(o, c"payloads", env.typed_array_from_vec(payloads)?)?;
        env.set(o, c"touched", env.double(c.touched as f64)?)?;
        env.set(o, c"touchedByUsers", env.double(c.touched_by_users as f64)?)?;
        env.set(o, c"usersChanged", env.double(c.users_changed as f64)?)?;
        env.set(o, c"work", env.double(c.work as f64)?)?;
        env.set(o, c"seconds", env.double(seconds)?)?;
        Ok(o)
    }
}

/// x2iStreamApply(handle, userOff: Uint32Array, userBytes: Uint8Array, item: BigUint64Array,
///   ts: Uint32Array, weight: Float32Array | null, {recompute}, tag: Uint8Array, token?):
///   Promise<{keys, ops, ends, payloads, touched, usersChanged, work, seconds}>
fn apply(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<9>::get(env, info)?;
    let s = state(env, a.argv[0])?;
    let (user_off, user_bytes, item, ts, tag) = unsafe {
        (
            env.typed_array::<u32>(a.argv[1], "userOff")?.to_vec(),
            env.typed_array::<u8>(a.argv[2], "userBytes")?.to_vec(),
            env.typed_array::<u64>(a.argv[3], "item")?.to_vec(),
            env.typed_array::<u32>(a.argv[4], "ts")?.to_vec(),
            env.typed_array::<u8>(a.argv[7], "tag")?.to_vec(),
        )
    };
    let weight = if env.is_nullish(a.argv[5])? { None } else { Some(unsafe { env.typed_array::<f32>(a.argv[5], "weight")? }.to_vec()) };
    let recompute = env.opt_bool(a.argv[6], c"recompute")?;
    let cancel = crate::cancel::token_arg(env, a.argv[8])?;
    spawn(env, "recall.x2iStreamApply", Apply { s, user_off, user_bytes, item, ts, weight, recompute, tag, cancel })
}

/// x2iStreamSetLists(handle, keys: BigUint64Array, offsets: BigUint64Array, items: BigUint64Array, scores: Float32Array)
fn set_lists(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<5>::get(env, info)?;
    let s = state(env, a.argv[0])?;
    let (keys, offsets, items, scores) = unsafe {
        (
            env.typed_array::<u64>(a.argv[1], "keys")?,
            env.typed_array::<u64>(a.argv[2], "offsets")?,
            env.typed_array::<u64>(a.argv[3], "items")?,
            env.typed_array::<f32>(a.argv[4], "scores")?,
        )
    };
    locked(&s).set_lists(keys, offsets, items, scores)?;
    env.undefined()
}

struct Save {
    s: Shared,
    path: PathBuf,
    meta: String,
}

impl Task for Save {
    type Output = ();
    fn compute(&mut self) -> Result<(), JsError> {
        Ok(locked(&self.s).save(&self.path, &self.meta)?)
    }
    fn resolve(self, env: Env, _: ()) -> JsResult<napi_value> {
        env.undefined()
    }
}

/// x2iStreamSave(handle, path, meta: string): Promise<void> (temp name, fsync, rename)
fn save(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<3>::get(env, info)?;
    let s = state(env, a.argv[0])?;
    let path = PathBuf::from(env.string_arg(a.argv[1], "path")?);
    let meta = env.string_arg(a.argv[2], "meta")?;
    spawn(env, "recall.x2iStreamSave", Save { s, path, meta })
}

/// x2iStreamInfo(handle): {items, users, interactions, pairs, heapBytes}
fn info(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let s = state(env, a.argv[0])?;
    let s = locked(&s);
    let o = env.object()?;
    env.set(o, c"items", env.double(s.items() as f64)?)?;
    env.set(o, c"users", env.double(s.users() as f64)?)?;
    env.set(o, c"interactions", env.double(s.interactions() as f64)?)?;
    env.set(o, c"pairs", env.double(s.pairs() as f64)?)?;
    env.set(o, c"heapBytes", env.double(s.heap_bytes() as f64)?)?;
    Ok(o)
}

/// x2iStreamLists(handle): {keys, offsets, items, scores}: every non-empty list, by key
fn lists(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let s = state(env, a.argv[0])?;
    let c = locked(&s).all_lists();
    let o = env.object()?;
    env.set(o, c"keys", env.typed_array_from_vec(c.keys)?)?;
    env.set(o, c"offsets", env.typed_array_from_vec(c.offsets)?)?;
    env.set(o, c"items", env.typed_array_from_vec(c.items)?)?;
    env.set(o, c"scores", env.typed_array_from_vec(c.scores)?)?;
    Ok(o)
}
