//! The write-ahead log (append through a writer handle, scan, truncate); the x2i replay and
//! dump built on it are exported from `x2i.rs`.

use crate::napi::{Args, Env, JsResult, define, err, export};
use crate::sys::*;
use recall_core::wal::{self, Fsync, Issue, ScanOptions, ScanReport, Writer, WriterOptions};
use std::path::PathBuf;
use std::sync::Mutex;

const WRITER_TAG: napi_type_tag = napi_type_tag { lower: 0x5a17_c0de_2b4e_9f31, upper: 0x0d8e_61f4_a7b2_c905 };

js_fn! {
    js_wal_open => wal_open;
    js_wal_append => wal_append;
    js_wal_close => wal_close;
    js_wal_scan => wal_scan;
    js_wal_truncate => wal_truncate;
    js_wal_drop => wal_drop;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"walOpen", Some(js_wal_open)),
            export(c"walAppend", Some(js_wal_append)),
            export(c"walClose", Some(js_wal_close)),
            export(c"walScan", Some(js_wal_scan)),
            export(c"walTruncate", Some(js_wal_truncate)),
            export(c"walDrop", Some(js_wal_drop)),
        ],
    )
}

fn issue(env: Env, i: &Issue) -> JsResult<napi_value> {
    let o = env.object()?;
    env.set(o, c"segment", env.string(&i.segment.display().to_string())?)?;
    env.set(o, c"offset", env.double(i.offset as f64)?)?;
    env.set(o, c"bytes", env.double(i.bytes as f64)?)?;
    env.set(o, c"message", env.string(&i.message)?)?;
    Ok(o)
}

fn opt_issue(env: Env, i: &Option<Issue>) -> JsResult<napi_value> {
    match i {
        Some(i) => issue(env, i),
        None => env.null(),
    }
}

pub(crate) fn report(env: Env, r: &ScanReport) -> JsResult<napi_value> {
    let o = env.object()?;
    for (name, v) in [
        (c"segments", r.segments as f64),
        (c"read", r.read as f64),
        (c"visited", r.visited as f64),
        (c"lastSeq", r.last_seq as f64),
        (c"firstSeq", r.first_seq as f64),
    ] {
        env.set(o, name, env.double(v)?)?;
    }
    env.set(o, c"torn", opt_issue(env, &r.torn)?)?;
    env.set(o, c"corrupt", env.array(r.corrupt.iter().map(|i| issue(env, i)))?)?;
    Ok(o)
}

/// {after, upto, skipCorrupt}; seqs are numbers (exact below 2^53).
pub(crate) fn scan_options(env: Env, o: napi_value) -> JsResult<ScanOptions> {
    Ok(ScanOptions {
        after: env.opt_number(o, c"after")?.unwrap_or(0.0) as u64,
        upto: env.opt_number(o, c"upto")?.map_or(u64::MAX, |x| x as u64),
        skip_corrupt: env.opt_bool(o, c"skipCorrupt")?,
    })
}

fn writer<'a>(env: Env, v: napi_value) -> JsResult<&'a Mutex<Option<Writer>>> {
    env.external_ref::<Mutex<Option<Writer>>>(v, &WRITER_TAG, "writer")
}

/// walOpen(dir, {segmentBytes, fsync: 'always'|'batch'|'off'}): {handle, nextSeq, recovered}
fn wal_open(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let dir = PathBuf::from(env.string_arg(a.argv[0], "dir")?);
    let mut opts = WriterOptions::default();
    if let Some(b) = env.opt_number(a.argv[1], c"segmentBytes")? {
        opts.segment_bytes = b as u64;
    }
    if !env.is_nullish(a.argv[1])? {
        let f = env.get(a.argv[1], c"fsync")?;
        if !env.is_nullish(f)? {
            let s = env.string_arg(f, "fsync")?;
            opts.fsync =
                Fsync::parse(&s).ok_or_else(|| err("ERR_RECALL_INVALID_ARG", format!("fsync must be always, batch or off, not {s:?}")))?;
        }
    }
    let w = Writer::open(&dir, opts)?;
    let o = env.object()?;
    env.set(o, c"nextSeq", env.double(w.next_seq() as f64)?)?;
    env.set(o, c"recovered", opt_issue(env, &w.recovered)?)?;
    env.set(o, c"handle", env.external(Mutex::new(Some(w)), &WRITER_TAG)?)?;
    Ok(o)
}

/// walAppend(handle, ops: Uint8Array, ends: Uint32Array, payloads: Uint8Array): {first, last}.
/// Record i is `ops[i]` with payload `payloads[ends[i-1]..ends[i]]`.
fn wal_append(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<4>::get(env, info)?;
    let m = writer(env, a.argv[0])?;
    let (ops, ends, bytes) = unsafe {
        (
            env.typed_array::<u8>(a.argv[1], "ops")?,
            env.typed_array::<u32>(a.argv[2], "ends")?,
            env.typed_array::<u8>(a.argv[3], "payloads")?,
        )
    };
    if ops.len() != ends.len() || ends.last().is_some_and(|&e| e as usize > bytes.len()) || ends.windows(2).any(|w| w[0] > w[1]) {
        return Err(err("ERR_RECALL_INVALID_ARG", "walAppend: ends must rise, one per op, within the payload bytes"));
    }
    let mut g = m.lock().map_err(|_| err("ERR_RECALL_INTERNAL", "WAL writer lock poisoned"))?;
    let w = g.as_mut().ok_or_else(|| err("ERR_RECALL_INVALID_ARG", "the WAL writer was closed"))?;
    let recs = ops.iter().enumerate().map(|(i, &op)| (op, &bytes[if i == 0 { 0 } else { ends[i - 1] as usize }..ends[i] as usize]));
    let (first, last) = w.append(recs)?;
    let o = env.object()?;
    env.set(o, c"first", env.double(first as f64)?)?;
    env.set(o, c"last", env.double(last as f64)?)?;
    Ok(o)
}

/// walClose(handle): releases the writer lock now (the GC would later).
fn wal_close(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<1>::get(env, info)?;
    if let Ok(mut g) = writer(env, a.argv[0])?.lock() {
        g.take();
    }
    env.undefined()
}

/// walScan(dir, {after, upto, skipCorrupt}): {seqs: Float64Array, ops: Uint8Array, ends: Uint32Array, payloads: Uint8Array, report}
fn wal_scan(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let dir = PathBuf::from(env.string_arg(a.argv[0], "dir")?);
    let (mut seqs, mut ops, mut ends, mut bytes) = (Vec::<f64>::new(), Vec::<u8>::new(), Vec::<u32>::new(), Vec::<u8>::new());
    let r = wal::scan(&dir, &scan_options(env, a.argv[1])?, |seq, op, p| {
        seqs.push(seq as f64);
        ops.push(op);
        bytes.extend_from_slice(p);
        ends.push(
            u32::try_from(bytes.len())
                .map_err(|_| recall_core::Error::InvalidArgument("the scanned range holds over 4 GiB; scan a smaller range".into()))?,
        );
        Ok(())
    })?;
    let o = env.object()?;
    env.set(o, c"seqs", env.typed_array_from_vec(seqs)?)?;
    env.set(o, c"ops", env.typed_array_from_vec(ops)?)?;
    env.set(o, c"ends", env.typed_array_from_vec(ends)?)?;
    env.set(o, c"payloads", env.typed_array_from_vec(bytes)?)?;
    env.set(o, c"report", report(env, &r)?)?;
    Ok(o)
}

/// walTruncate(dir, before): string[] (removed segment files)
fn wal_truncate(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let dir = PathBuf::from(env.string_arg(a.argv[0], "dir")?);
    let removed = wal::truncate_before(&dir, env.number(a.argv[1], "before")? as u64)?;
    env.array(removed.iter().map(|p| env.string(&p.display().to_string())))
}

/// walDrop(dir, seq): {segment, op} (the record's original op)
fn wal_drop(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let dir = PathBuf::from(env.string_arg(a.argv[0], "dir")?);
    let (segment, op) = wal::drop_record(&dir, env.number(a.argv[1], "seq")? as u64)?;
    let o = env.object()?;
    env.set(o, c"segment", env.string(&segment.display().to_string())?)?;
    env.set(o, c"op", env.double(op as f64)?)?;
    Ok(o)
}
