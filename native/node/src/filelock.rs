//! File locks (recall_core::filelock): `lockTry(path)` takes the lock or says who holds it,
//! `lockRelease(handle)` removes the lock file and drops the lock (the process ending drops it too).

use crate::napi::{Args, Env, JsResult, define, export};
use crate::sys::*;
use recall_core::filelock::{FileLock, TryLock};
use std::path::PathBuf;
use std::sync::Mutex;

const LOCK_TAG: napi_type_tag = napi_type_tag { lower: 0x3c71_9e04_d2a8_56bf, upper: 0x81f0_4b6d_e935_2ac7 };

js_fn! {
    js_lock_try => lock_try;
    js_lock_release => lock_release;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(env, exports, &[export(c"lockTry", Some(js_lock_try)), export(c"lockRelease", Some(js_lock_release))])
}

/// lockTry(path): {handle} when taken, {holder: string} when another process holds it.
fn lock_try(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let o = env.object()?;
    match FileLock::try_acquire(&path)? {
        TryLock::Acquired(lock) => env.set(o, c"handle", env.external(Mutex::new(Some(lock)), &LOCK_TAG)?)?,
        TryLock::Held { holder } => env.set(o, c"holder", env.string(&holder)?)?,
    }
    Ok(o)
}

/// lockRelease(handle)
fn lock_release(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    if let Ok(mut g) = env.external_ref::<Mutex<Option<FileLock>>>(a.argv[0], &LOCK_TAG, "lock")?.lock()
        && let Some(lock) = g.take()
    {
        lock.release();
    }
    env.undefined()
}
