//! Distance kernels and f16 conversion. Each kernel takes an optional tier
//! name (`"scalar" | "avx2" | "avx512"`) so tests and benchmarks can compare
//! tiers in one process; without it the process-wide tier is used.

use crate::napi::{Args, Elem, Env, JsResult, define, err, export};
use crate::sys::*;
use recall_core::isa::{self, Isa};
use recall_core::kernels::{self, Kernels};

js_fn! {
    js_cpu_info => cpu_info;
    js_dot_f32 => dot_f32;
    js_l2sq_f32 => l2sq_f32;
    js_dot_f16 => dot_f16;
    js_l2sq_f16 => l2sq_f16;
    js_dot_i8 => dot_i8;
    js_l2sq_i8 => l2sq_i8;
    js_f32_to_f16 => f32_to_f16;
    js_f16_to_f32 => f16_to_f32;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"cpuInfo", Some(js_cpu_info)),
            export(c"dotF32", Some(js_dot_f32)),
            export(c"l2sqF32", Some(js_l2sq_f32)),
            export(c"dotF16", Some(js_dot_f16)),
            export(c"l2sqF16", Some(js_l2sq_f16)),
            export(c"dotI8", Some(js_dot_i8)),
            export(c"l2sqI8", Some(js_l2sq_i8)),
            export(c"f32ToF16", Some(js_f32_to_f16)),
            export(c"f16ToF32", Some(js_f16_to_f32)),
        ],
    )
}

/// cpuInfo(): {selected, detected, supported: string[]}
fn cpu_info(env: Env, _info: napi_callback_info) -> JsResult<napi_value> {
    let o = env.object()?;
    env.set(o, c"selected", env.string(isa::selected().name())?)?;
    env.set(o, c"detected", env.string(isa::detected().name())?)?;
    let tiers: Vec<Isa> = Isa::ALL.into_iter().filter(|&i| isa::supported(i)).collect();
    env.set(o, c"supported", env.array(tiers.into_iter().map(|i| env.string(i.name())))?)?;
    Ok(o)
}

fn table(env: Env, v: napi_value) -> JsResult<&'static Kernels> {
    if env.is_nullish(v)? {
        return Ok(kernels::kernels());
    }
    let name = env.string_arg(v, "isa")?;
    let tier =
        Isa::parse(&name).ok_or_else(|| err("ERR_RECALL_INVALID_ARG", format!("unknown ISA tier '{name}' (scalar, avx2, avx512)")))?;
    kernels::kernels_for(tier).ok_or_else(|| err("ERR_RECALL_ISA_UNSUPPORTED", format!("this CPU cannot run the {name} tier")))
}

/// (a, b, isa?) -> the two same-length views and the kernel table.
fn pair<'a, T: Elem>(env: Env, info: napi_callback_info) -> JsResult<(&'a [T], &'a [T], &'static Kernels)> {
    let a = Args::<3>::get(env, info)?;
    // SAFETY: used only within this call; no JS runs meanwhile.
    let (x, y) = unsafe { (env.typed_array::<T>(a.argv[0], "a")?, env.typed_array::<T>(a.argv[1], "b")?) };
    if x.len() != y.len() {
        return Err(recall_core::Error::LengthMismatch { what: "b", expected: x.len(), got: y.len() }.into());
    }
    Ok((x, y, table(env, a.argv[2])?))
}

fn dot_f32(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let (x, y, k) = pair::<f32>(env, info)?;
    env.double((k.dot_f32)(x, y) as f64)
}
fn l2sq_f32(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let (x, y, k) = pair::<f32>(env, info)?;
    env.double((k.l2sq_f32)(x, y) as f64)
}
fn dot_f16(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let (x, y, k) = pair::<u16>(env, info)?;
    env.double((k.dot_f16)(x, y) as f64)
}
fn l2sq_f16(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let (x, y, k) = pair::<u16>(env, info)?;
    env.double((k.l2sq_f16)(x, y) as f64)
}
fn dot_i8(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let (x, y, k) = pair::<i8>(env, info)?;
    env.double((k.dot_i8)(x, y) as f64)
}
fn l2sq_i8(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let (x, y, k) = pair::<i8>(env, info)?;
    env.double((k.l2sq_i8)(x, y) as f64)
}

/// f32ToF16(Float32Array): Uint16Array (round to nearest even)
fn f32_to_f16(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let x = unsafe { env.typed_array::<f32>(a.argv[0], "values")? };
    env.typed_array_from_vec(x.iter().map(|&v| kernels::f32_to_f16(v)).collect())
}

/// f16ToF32(Uint16Array): Float32Array
fn f16_to_f32(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    let x = unsafe { env.typed_array::<u16>(a.argv[0], "values")? };
    env.typed_array_from_vec(x.iter().map(|&v| kernels::f16_to_f32(v)).collect())
}
