//! Cancel tokens: `cancelToken()` makes one, `cancel(token)` trips it, and
//! async work that was given the token stops at its next check.

use crate::napi::{Args, Env, JsResult, define, export};
use crate::sys::*;
use recall_core::CancelToken;

pub(crate) const TAG: napi_type_tag = napi_type_tag { lower: 0x8f1c_2a6e_41d3_07b5, upper: 0x5e0b_93c4_7a21_d86f };

js_fn! {
    js_cancel_token => cancel_token;
    js_cancel => cancel;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(env, exports, &[export(c"cancelToken", Some(js_cancel_token)), export(c"cancel", Some(js_cancel))])
}

fn cancel_token(env: Env, _info: napi_callback_info) -> JsResult<napi_value> {
    env.external(CancelToken::new(), &TAG)
}

fn cancel(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    env.external_ref::<CancelToken>(a.argv[0], &TAG, "token")?.cancel();
    env.undefined()
}

/// An optional token argument: a clone shares the flag with the JS handle.
pub fn token_arg(env: Env, v: napi_value) -> JsResult<CancelToken> {
    if env.is_nullish(v)? { Ok(CancelToken::new()) } else { Ok(env.external_ref::<CancelToken>(v, &TAG, "cancel token")?.clone()) }
}
