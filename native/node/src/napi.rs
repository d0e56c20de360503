//! The binding's whole framework, in place of the napi / napi-derive crates:
//! checked wrappers over `sys`, JS <-> Rust conversions, error and panic
//! mapping, externals with type tags, and async work settling a Promise.
//! All `unsafe` FFI of the binding lives in this file.
//!
//! Exported functions are plain `fn(Env, napi_callback_info) -> JsResult<napi_value>`;
//! `js_fn!` wraps each in an `extern "C"` trampoline that runs it through
//! [`entry`], where `Err` becomes a thrown JS `Error` with a stable `.code`
//! and a panic becomes `ERR_RECALL_PANIC` (a panic must never unwind through
//! an `extern "C"` frame: that aborts Node).

use crate::sys::*;
use std::ffi::{CStr, CString, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{self, null_mut};

/// An error to raise in JS. `Pending`: one is already pending in the engine.
#[derive(Debug)]
pub enum JsError {
    Throw(Thrown),
    Pending,
}

/// What becomes a JS `Error`: `.code`, `.message`, and for file problems
/// `.path`, `.offset`, `.length` (so the CLI can name the bad byte range).
#[derive(Debug, Default)]
pub struct Thrown {
    pub code: &'static str,
    pub message: String,
    pub path: Option<String>,
    pub offset: Option<u64>,
    pub length: Option<u64>,
}

pub type JsResult<T> = Result<T, JsError>;

pub fn err(code: &'static str, message: impl Into<String>) -> JsError {
    JsError::Throw(Thrown { code, message: message.into(), ..Default::default() })
}

pub fn type_err(message: impl Into<String>) -> JsError {
    err("ERR_INVALID_ARG_TYPE", message)
}

impl From<recall_core::Error> for JsError {
    fn from(e: recall_core::Error) -> Self {
        let range = e.byte_range();
        JsError::Throw(Thrown {
            code: e.code(),
            message: e.to_string(),
            path: e.path().map(str::to_owned),
            offset: range.map(|r| r.0),
            length: range.map(|r| r.1),
        })
    }
}

// JsError holds only owned data; raw handles never leave the JS thread.
unsafe impl Send for JsError {}

/// Where the last panic happened (set by the hook, read by `panic_message`).
static LAST_PANIC_AT: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Replace Rust's default panic hook, which prints a backtrace to stderr
/// (RUST_BACKTRACE is set on our machines), with one that only remembers the
/// location: every panic here is caught and becomes a JS error carrying it.
/// `RECALL_RUST_BACKTRACE=1` keeps the default hook for debugging.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RECALL_RUST_BACKTRACE").is_some_and(|v| v == "1") {
            return;
        }
        std::panic::set_hook(Box::new(|info| {
            if let (Some(loc), Ok(mut at)) = (info.location(), LAST_PANIC_AT.lock()) {
                *at = format!("{}:{}", loc.file(), loc.line());
            }
        }));
    });
}

pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned());
    let at = LAST_PANIC_AT.lock().map(|s| s.clone()).unwrap_or_default();
    format!("internal error (Rust panic at {at}): {}", what.unwrap_or_else(|| "unknown payload".into()))
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Element types viewed in place from, or returned as, JS typed arrays.
pub trait Elem: Copy + 'static {
    const TYPE: napi_typedarray_type;
    const JS: &'static str;
}
macro_rules! elem {
    ($($t:ty => $c:ident, $js:literal;)*) => {$(
        impl Elem for $t { const TYPE: napi_typedarray_type = $c; const JS: &'static str = $js; }
    )*};
}
elem! {
    i8 => napi_int8_array, "Int8Array";
    u8 => napi_uint8_array, "Uint8Array";
    u16 => napi_uint16_array, "Uint16Array";
    i32 => napi_int32_array, "Int32Array";
    u32 => napi_uint32_array, "Uint32Array";
    f32 => napi_float32_array, "Float32Array";
    f64 => napi_float64_array, "Float64Array";
    i64 => napi_bigint64_array, "BigInt64Array";
    u64 => napi_biguint64_array, "BigUint64Array";
}

#[derive(Clone, Copy)]
pub struct Env(pub napi_env);

impl Env {
    /// Map a Node-API status to `JsResult`, with the engine's own message.
    pub fn check(self, status: napi_status) -> JsResult<()> {
        if status == napi_ok {
            return Ok(());
        }
        let mut pending = false;
        unsafe { napi_is_exception_pending(self.0, &mut pending) };
        if status == napi_pending_exception || pending {
            return Err(JsError::Pending);
        }
        let mut info: *const napi_extended_error_info = ptr::null();
        unsafe { napi_get_last_error_info(self.0, &mut info) };
        let msg = unsafe {
            if !info.is_null() && !(*info).error_message.is_null() {
                CStr::from_ptr((*info).error_message).to_string_lossy().into_owned()
            } else {
                "unknown error".to_owned()
            }
        };
        Err(err("ERR_RECALL_NAPI", format!("Node-API call failed with status {status}: {msg}")))
    }

    /// Build (not throw) the Error object for `e`.
    pub fn make_error(self, e: JsError) -> napi_value {
        let mut out = null_mut();
        match e {
            JsError::Pending => unsafe {
                napi_get_and_clear_last_exception(self.0, &mut out);
            },
            JsError::Throw(t) => {
                let (Ok(code), Ok(msg)) = (self.string(t.code), self.string(&t.message)) else { return out };
                unsafe { napi_create_error(self.0, code, msg, &mut out) };
                // Extra properties are best effort: the error itself stands.
                if let Some(p) = t.path.and_then(|p| self.string(&p).ok()) {
                    let _ = self.set(out, c"path", p);
                }
                for (name, v) in [(c"offset", t.offset), (c"length", t.length)] {
                    if let Some(v) = v.and_then(|v| self.double(v as f64).ok()) {
                        let _ = self.set(out, name, v);
                    }
                }
            }
        }
        out
    }

    pub fn throw(self, e: JsError) {
        if matches!(e, JsError::Pending) {
            return;
        }
        let mut pending = false;
        unsafe { napi_is_exception_pending(self.0, &mut pending) };
        if pending {
            return;
        }
        let error = self.make_error(e);
        if error.is_null() {
            let (c, m) = (cstring("ERR_RECALL_NAPI"), cstring("could not create an error object"));
            unsafe { napi_throw_error(self.0, c.as_ptr(), m.as_ptr()) };
        } else {
            unsafe { napi_throw(self.0, error) };
        }
    }

    // ---- making values

    pub fn undefined(self) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_get_undefined(self.0, &mut v) })?;
        Ok(v)
    }
    pub fn null(self) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_get_null(self.0, &mut v) })?;
        Ok(v)
    }
    pub fn double(self, x: f64) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_create_double(self.0, x, &mut v) })?;
        Ok(v)
    }
    pub fn boolean(self, x: bool) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_get_boolean(self.0, x, &mut v) })?;
        Ok(v)
    }
    pub fn uint32(self, x: u32) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_create_uint32(self.0, x, &mut v) })?;
        Ok(v)
    }
    pub fn bigint_u64(self, x: u64) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_create_bigint_uint64(self.0, x, &mut v) })?;
        Ok(v)
    }
    pub fn string(self, s: &str) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_create_string_utf8(self.0, s.as_ptr().cast(), s.len(), &mut v) })?;
        Ok(v)
    }
    pub fn object(self) -> JsResult<napi_value> {
        let mut v = null_mut();
        self.check(unsafe { napi_create_object(self.0, &mut v) })?;
        Ok(v)
    }
    pub fn array(self, items: impl ExactSizeIterator<Item = JsResult<napi_value>>) -> JsResult<napi_value> {
        let mut a = null_mut();
        self.check(unsafe { napi_create_array_with_length(self.0, items.len(), &mut a) })?;
        for (i, item) in items.enumerate() {
            self.check(unsafe { napi_set_element(self.0, a, i as u32, item?) })?;
        }
        Ok(a)
    }
    pub fn set(self, obj: napi_value, name: &CStr, value: napi_value) -> JsResult<()> {
        self.check(unsafe { napi_set_named_property(self.0, obj, name.as_ptr(), value) })
    }

    // ---- reading values

    pub fn type_of(self, v: napi_value) -> JsResult<napi_valuetype> {
        if v.is_null() {
            return Ok(napi_undefined);
        }
        let mut t = 0;
        self.check(unsafe { napi_typeof(self.0, v, &mut t) })?;
        Ok(t)
    }

    /// `undefined`, `null` or a missing argument.
    pub fn is_nullish(self, v: napi_value) -> JsResult<bool> {
        Ok(matches!(self.type_of(v)?, t if t == napi_undefined || t == napi_null))
    }

    /// `obj[name]` as a number, `None` when `obj` or the property is nullish.
    pub fn opt_number(self, obj: napi_value, name: &CStr) -> JsResult<Option<f64>> {
        if self.is_nullish(obj)? {
            return Ok(None);
        }
        let v = self.get(obj, name)?;
        if self.is_nullish(v)? { Ok(None) } else { self.number(v, &name.to_string_lossy()).map(Some) }
    }

    /// `obj[name]` as a boolean: false when `obj` or the property is nullish.
    pub fn opt_bool(self, obj: napi_value, name: &CStr) -> JsResult<bool> {
        if self.is_nullish(obj)? {
            return Ok(false);
        }
        let v = self.get(obj, name)?;
        if self.is_nullish(v)? {
            return Ok(false);
        }
        let mut b = false;
        match unsafe { napi_get_value_bool(self.0, v, &mut b) } {
            s if s == napi_boolean_expected => Err(type_err(format!("'{}' must be a boolean", name.to_string_lossy()))),
            s => self.check(s).map(|_| b),
        }
    }

    pub fn get(self, obj: napi_value, name: &CStr) -> JsResult<napi_value> {
        let mut v = null_mut();
        match unsafe { napi_get_named_property(self.0, obj, name.as_ptr(), &mut v) } {
            s if s == napi_object_expected => Err(type_err(format!("expected an object with '{}'", name.to_string_lossy()))),
            s => self.check(s).map(|_| v),
        }
    }

    /// A number (one call; the type check is the status code).
    pub fn number(self, v: napi_value, what: &str) -> JsResult<f64> {
        let mut x = 0.0;
        match unsafe { napi_get_value_double(self.0, v, &mut x) } {
            s if s == napi_ok => Ok(x),
            s if s == napi_number_expected || s == napi_invalid_arg => Err(type_err(format!("{what} must be a number"))),
            s => self.check(s).map(|_| x),
        }
    }

    /// A non-negative safe integer.
    pub fn index(self, v: napi_value, what: &str) -> JsResult<u64> {
        let x = self.number(v, what)?;
        if !(x >= 0.0 && x.fract() == 0.0 && x <= 9007199254740991.0) {
            return Err(err("ERR_OUT_OF_RANGE", format!("{what} must be a non-negative integer, got {x}")));
        }
        Ok(x as u64)
    }

    pub fn u32_in(self, v: napi_value, what: &str, min: u32) -> JsResult<u32> {
        let x = self.index(v, what)?;
        if x < min as u64 || x > u32::MAX as u64 {
            return Err(err("ERR_OUT_OF_RANGE", format!("{what} must be an integer in {min}..={}, got {x}", u32::MAX)));
        }
        Ok(x as u32)
    }

    /// A BigInt that fits u64 (negative or wider values are refused).
    pub fn bigint_u64_arg(self, v: napi_value, what: &str) -> JsResult<u64> {
        let (mut x, mut lossless) = (0u64, false);
        match unsafe { napi_get_value_bigint_uint64(self.0, v, &mut x, &mut lossless) } {
            s if s == napi_ok && lossless => Ok(x),
            s if s == napi_ok => Err(err("ERR_OUT_OF_RANGE", format!("{what} must fit in 64 unsigned bits"))),
            s if s == napi_bigint_expected || s == napi_invalid_arg => Err(type_err(format!("{what} must be a bigint"))),
            s => self.check(s).map(|_| x),
        }
    }

    pub fn string_arg(self, v: napi_value, what: &str) -> JsResult<String> {
        let mut len = 0usize;
        match unsafe { napi_get_value_string_utf8(self.0, v, null_mut(), 0, &mut len) } {
            s if s == napi_string_expected || s == napi_invalid_arg => return Err(type_err(format!("{what} must be a string"))),
            s => self.check(s)?,
        }
        let mut buf = vec![0u8; len + 1];
        self.check(unsafe { napi_get_value_string_utf8(self.0, v, buf.as_mut_ptr().cast(), buf.len(), &mut len) })?;
        buf.truncate(len);
        String::from_utf8(buf).map_err(|_| type_err(format!("{what} is not valid UTF-8")))
    }

    /// `string_arg` into a caller's buffer in one Node-API call when the string fits (a query per
    /// call is short: no length probe and no allocation), else the allocated way.
    pub fn str_arg_in<'b>(self, v: napi_value, what: &str, buf: &'b mut [u8], owned: &'b mut String) -> JsResult<&'b str> {
        let mut len = 0usize;
        match unsafe { napi_get_value_string_utf8(self.0, v, buf.as_mut_ptr().cast(), buf.len(), &mut len) } {
            s if s == napi_string_expected || s == napi_invalid_arg => return Err(type_err(format!("{what} must be a string"))),
            s => self.check(s)?,
        }
        // whole unless it came within a character (4 bytes) and the terminator of the end
        if len + 5 <= buf.len() {
            return std::str::from_utf8(&buf[..len]).map_err(|_| type_err(format!("{what} is not valid UTF-8")));
        }
        *owned = self.string_arg(v, what)?;
        Ok(owned)
    }

    /// Elements of a JS array (not array-like objects).
    pub fn array_items(self, v: napi_value, what: &str) -> JsResult<Vec<napi_value>> {
        let mut is = false;
        self.check(unsafe { napi_is_array(self.0, v, &mut is) })?;
        if !is {
            return Err(type_err(format!("{what} must be an array")));
        }
        let mut n = 0u32;
        self.check(unsafe { napi_get_array_length(self.0, v, &mut n) })?;
        (0..n)
            .map(|i| {
                let mut e = null_mut();
                self.check(unsafe { napi_get_element(self.0, v, i, &mut e) }).map(|_| e)
            })
            .collect()
    }

    /// The element type of a typed array, or `None` for anything else.
    pub fn typed_array_type(self, v: napi_value) -> JsResult<Option<napi_typedarray_type>> {
        let (mut ty, mut len) = (0, 0usize);
        match unsafe { napi_get_typedarray_info(self.0, v, &mut ty, &mut len, null_mut(), null_mut(), null_mut()) } {
            s if s == napi_ok => Ok(Some(ty)),
            s if s == napi_invalid_arg => Ok(None),
            s => self.check(s).map(|_| None),
        }
    }

    /// Zero-copy view of a typed array's elements.
    ///
    /// # Safety
    /// The slice aliases JS-owned memory: it must not outlive the current
    /// callback, no JS may run while it is alive (JS could detach the
    /// buffer), and it must never go to another thread (copy instead).
    pub unsafe fn typed_array<'a, T: Elem>(self, v: napi_value, what: &str) -> JsResult<&'a [T]> {
        let (mut ty, mut len, mut data) = (0, 0usize, null_mut::<c_void>());
        // A non-typed-array value answers napi_invalid_arg: no napi_typeof needed.
        match unsafe { napi_get_typedarray_info(self.0, v, &mut ty, &mut len, &mut data, null_mut(), null_mut()) } {
            s if s == napi_ok => {}
            s if s == napi_invalid_arg => return Err(type_err(format!("{what} must be a {}", T::JS))),
            s => self.check(s)?,
        }
        if ty != T::TYPE {
            return Err(type_err(format!("{what} must be a {}", T::JS)));
        }
        if len == 0 {
            return Ok(&[]);
        }
        if data.is_null() {
            return Err(err("ERR_INVALID_STATE", format!("{what} is backed by a detached ArrayBuffer")));
        }
        if !(data as usize).is_multiple_of(std::mem::align_of::<T>()) {
            return Err(err("ERR_RECALL_UNALIGNED", format!("{what} is not aligned to {} bytes", std::mem::align_of::<T>())));
        }
        // `data` already points at element 0 (Node applies the byte offset).
        Ok(unsafe { std::slice::from_raw_parts(data as *const T, len) })
    }

    /// Mutable zero-copy view of a typed array (an output buffer the caller owns).
    ///
    /// # Safety
    /// As [`Env::typed_array`]; in addition no other view of the same buffer
    /// may be alive (pass distinct arrays for distinct outputs).
    pub unsafe fn typed_array_mut<'a, T: Elem>(self, v: napi_value, what: &str) -> JsResult<&'a mut [T]> {
        let view = unsafe { self.typed_array::<T>(v, what)? };
        Ok(unsafe { std::slice::from_raw_parts_mut(view.as_ptr() as *mut T, view.len()) })
    }

    /// Hand a Rust Vec to JS as a typed array. Small results are copied into
    /// a JS-owned buffer (cheaper below ~64 Ki elements); large ones are
    /// moved without a copy and freed by a finalizer.
    pub fn typed_array_from_vec<T: Elem>(self, v: Vec<T>) -> JsResult<napi_value> {
        if v.len() < (64 << 10) {
            return self.typed_array_copy(&v);
        }
        let len = v.len();
        let data = Box::into_raw(v.into_boxed_slice()) as *mut T;
        let mut ab = null_mut();
        let status = unsafe {
            napi_create_external_arraybuffer(
                self.0,
                data.cast(),
                len * size_of::<T>(),
                Some(free_boxed_slice::<T>),
                len as *mut c_void,
                &mut ab,
            )
        };
        if status != napi_ok {
            // No finalizer was registered: take the memory back.
            let boxed = unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(data, len)) };
            return if status == napi_no_external_buffers_allowed {
                self.typed_array_copy(&boxed)
            } else {
                self.check(status).map(|_| null_mut())
            };
        }
        self.typed_array_over(ab, T::TYPE, len)
    }

    pub fn typed_array_copy<T: Elem>(self, src: &[T]) -> JsResult<napi_value> {
        let bytes = size_of_val(src);
        let (mut data, mut ab) = (null_mut::<c_void>(), null_mut());
        self.check(unsafe { napi_create_arraybuffer(self.0, bytes, &mut data, &mut ab) })?;
        if bytes > 0 {
            unsafe { ptr::copy_nonoverlapping(src.as_ptr().cast::<u8>(), data.cast::<u8>(), bytes) };
        }
        self.typed_array_over(ab, T::TYPE, src.len())
    }

    fn typed_array_over(self, ab: napi_value, ty: napi_typedarray_type, len: usize) -> JsResult<napi_value> {
        let mut out = null_mut();
        self.check(unsafe { napi_create_typedarray(self.0, ty, len, ab, 0, &mut out) })?;
        Ok(out)
    }

    // ---- externals: opaque Rust values owned by a JS object

    /// Wrap `value` in a JS external tagged with `tag`; JS's GC drops it.
    pub fn external<T: 'static>(self, value: T, tag: &napi_type_tag) -> JsResult<napi_value> {
        let data = Box::into_raw(Box::new(value));
        let mut v = null_mut();
        let status = unsafe { napi_create_external(self.0, data.cast(), Some(drop_box::<T>), null_mut(), &mut v) };
        if status != napi_ok {
            drop(unsafe { Box::from_raw(data) });
            return self.check(status).map(|_| null_mut());
        }
        self.check(unsafe { napi_type_tag_object(self.0, v, tag) })?;
        Ok(v)
    }

    /// The value inside an external made by [`Env::external`] with the same tag.
    pub fn external_ref<'a, T: 'static>(self, v: napi_value, tag: &napi_type_tag, what: &str) -> JsResult<&'a T> {
        if self.type_of(v)? != napi_external {
            return Err(type_err(format!("{what} must be a handle made by this addon")));
        }
        let mut ok = false;
        self.check(unsafe { napi_check_object_type_tag(self.0, v, tag, &mut ok) })?;
        if !ok {
            return Err(type_err(format!("{what} is a handle of another type")));
        }
        let mut data = null_mut();
        self.check(unsafe { napi_get_value_external(self.0, v, &mut data) })?;
        // SAFETY: the tag proves `data` came from `external::<T>`, and the
        // external keeps it alive while `v` is reachable (during this call).
        Ok(unsafe { &*(data as *const T) })
    }
}

unsafe extern "C" fn free_boxed_slice<T>(_env: napi_env, data: *mut c_void, hint: *mut c_void) {
    // Finalizers only free memory; they never call into JS.
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(data as *mut T, hint as usize)) });
}

unsafe extern "C" fn drop_box<T>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    drop(unsafe { Box::from_raw(data as *mut T) });
}

/// The arguments of one call: up to `N` (missing ones are null, read as
/// `undefined`), and `this`.
pub struct Args<const N: usize> {
    pub argv: [napi_value; N],
    pub argc: usize,
    pub this: napi_value,
}

impl<const N: usize> Args<N> {
    pub fn get(env: Env, info: napi_callback_info) -> JsResult<Self> {
        let mut a = Args { argv: [null_mut(); N], argc: N, this: null_mut() };
        env.check(unsafe { napi_get_cb_info(env.0, info, &mut a.argc, a.argv.as_mut_ptr(), &mut a.this, null_mut()) })?;
        Ok(a)
    }
}

pub type Body = fn(Env, napi_callback_info) -> JsResult<napi_value>;

/// The one door from JS into Rust: errors and panics become JS exceptions.
pub fn entry(env: napi_env, info: napi_callback_info, body: Body) -> napi_value {
    let env = Env(env);
    match catch_unwind(AssertUnwindSafe(|| body(env, info))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            env.throw(e);
            null_mut()
        }
        Err(p) => {
            env.throw(err("ERR_RECALL_PANIC", panic_message(&*p)));
            null_mut()
        }
    }
}

/// Like [`entry`] for Promise-returning functions: bad arguments and panics
/// give a rejected Promise, never a synchronous throw.
pub fn entry_promise(env: napi_env, info: napi_callback_info, body: Body) -> napi_value {
    let env = Env(env);
    let e = match catch_unwind(AssertUnwindSafe(|| body(env, info))) {
        Ok(Ok(v)) => return v,
        Ok(Err(e)) => e,
        Err(p) => err("ERR_RECALL_PANIC", panic_message(&*p)),
    };
    let (mut deferred, mut promise) = (null_mut(), null_mut());
    if unsafe { napi_create_promise(env.0, &mut deferred, &mut promise) } != napi_ok {
        env.throw(e);
        return null_mut();
    }
    unsafe { napi_reject_deferred(env.0, deferred, env.make_error(e)) };
    promise
}

/// `extern "C"` trampolines: `js_fn! { name => body; }` (sync) and
/// `js_fn! { async name => body; }` (returns a Promise).
macro_rules! js_fn {
    () => {};
    (async $name:ident => $body:path; $($rest:tt)*) => {
        unsafe extern "C" fn $name(env: $crate::sys::napi_env, info: $crate::sys::napi_callback_info) -> $crate::sys::napi_value {
            $crate::napi::entry_promise(env, info, $body)
        }
        js_fn! { $($rest)* }
    };
    ($name:ident => $body:path; $($rest:tt)*) => {
        unsafe extern "C" fn $name(env: $crate::sys::napi_env, info: $crate::sys::napi_callback_info) -> $crate::sys::napi_value {
            $crate::napi::entry(env, info, $body)
        }
        js_fn! { $($rest)* }
    };
}

/// A module export: a plain enumerable function property.
pub fn export(name: &'static CStr, cb: napi_callback) -> napi_property_descriptor {
    napi_property_descriptor {
        utf8name: name.as_ptr(),
        name: null_mut(),
        method: cb,
        getter: None,
        setter: None,
        value: null_mut(),
        attributes: napi_default_jsproperty,
        data: null_mut(),
    }
}

pub fn define(env: Env, exports: napi_value, props: &[napi_property_descriptor]) -> JsResult<()> {
    env.check(unsafe { napi_define_properties(env.0, exports, props.len(), props.as_ptr()) })
}

// ------------------------------------------------------------ async work

/// Work for the libuv thread pool that settles a Promise. `compute` runs off
/// the JS thread and gets no `Env`; it must own its inputs (copy typed
/// arrays first) and should check a `CancelToken` between batches.
pub trait Task: Send + Sized + 'static {
    type Output: Send + 'static;
    fn compute(&mut self) -> Result<Self::Output, JsError>;
    fn resolve(self, env: Env, out: Self::Output) -> JsResult<napi_value>;
}

struct Job<T: Task> {
    task: Option<T>,
    result: Option<std::thread::Result<Result<T::Output, JsError>>>,
    deferred: napi_deferred,
    work: napi_async_work,
}

/// Queue `task` and return its Promise.
pub fn spawn<T: Task>(env: Env, name: &str, task: T) -> JsResult<napi_value> {
    let (mut deferred, mut promise) = (null_mut(), null_mut());
    env.check(unsafe { napi_create_promise(env.0, &mut deferred, &mut promise) })?;
    let job = Box::into_raw(Box::new(Job { task: Some(task), result: None, deferred, work: null_mut() }));
    let name = env.string(name)?;
    let mut work = null_mut();
    let status = unsafe { napi_create_async_work(env.0, null_mut(), name, Some(execute::<T>), Some(complete::<T>), job.cast(), &mut work) };
    if status != napi_ok {
        drop(unsafe { Box::from_raw(job) });
        return env.check(status).map(|_| null_mut());
    }
    unsafe { (*job).work = work };
    let status = unsafe { napi_queue_async_work(env.0, work) };
    if status != napi_ok {
        unsafe {
            napi_delete_async_work(env.0, work);
            drop(Box::from_raw(job));
        }
        return env.check(status).map(|_| null_mut());
    }
    Ok(promise)
}

unsafe extern "C" fn execute<T: Task>(_env: napi_env, data: *mut c_void) {
    // Thread-pool thread: no Node-API calls allowed here.
    let job = unsafe { &mut *(data as *mut Job<T>) };
    let task = job.task.as_mut().expect("task present");
    job.result = Some(catch_unwind(AssertUnwindSafe(|| task.compute())));
}

unsafe extern "C" fn complete<T: Task>(env: napi_env, status: napi_status, data: *mut c_void) {
    let mut job = unsafe { Box::from_raw(data as *mut Job<T>) };
    let env = Env(env);
    unsafe { napi_delete_async_work(env.0, job.work) };
    let task = job.task.take().expect("task present");
    let outcome = catch_unwind(AssertUnwindSafe(|| match (status, job.result.take()) {
        (s, _) if s == napi_cancelled => Err(err("ERR_RECALL_CANCELLED", "cancelled before it started")),
        (_, Some(Ok(Ok(out)))) => task.resolve(env, out),
        (_, Some(Ok(Err(e)))) => Err(e),
        (_, Some(Err(p))) => Err(err("ERR_RECALL_PANIC", panic_message(&*p))),
        (s, None) => Err(err("ERR_RECALL_NAPI", format!("async work did not run (status {s})"))),
    }))
    .unwrap_or_else(|p| Err(err("ERR_RECALL_PANIC", panic_message(&*p))));
    unsafe {
        match outcome {
            Ok(v) => napi_resolve_deferred(env.0, job.deferred, v),
            Err(e) => napi_reject_deferred(env.0, job.deferred, env.make_error(e)),
        };
    }
}
