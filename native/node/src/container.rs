//! The index container: write (tests and tools), verify (async, cancellable)
//! and read one section.

use crate::cancel::token_arg;
use crate::napi::{Args, Env, JsError, JsResult, Task, define, export, spawn};
use crate::sys::*;
use recall_core::CancelToken;
use recall_core::container::{self, HeaderFields, SectionEntry, VerifyReport, verify::ProblemKind};
use std::ffi::CStr;
use std::path::PathBuf;

js_fn! {
    js_container_write => container_write;
    async js_container_verify => container_verify;
    js_container_read_section => container_read_section;
}

pub fn register(env: Env, exports: napi_value) -> JsResult<()> {
    define(
        env,
        exports,
        &[
            export(c"containerWrite", Some(js_container_write)),
            export(c"containerVerify", Some(js_container_verify)),
            export(c"containerReadSection", Some(js_container_read_section)),
        ],
    )
}

fn field_u32(env: Env, obj: napi_value, name: &CStr, default: Option<u32>) -> JsResult<u32> {
    let v = env.get(obj, name)?;
    let what = name.to_string_lossy();
    match default {
        Some(d) if env.is_nullish(v)? => Ok(d),
        _ => env.u32_in(v, &what, 0),
    }
}

fn u16_of(x: u32, what: &str) -> JsResult<u16> {
    u16::try_from(x).map_err(|_| crate::napi::err("ERR_OUT_OF_RANGE", format!("{what} must fit in 16 bits, got {x}")))
}

/// `{version, shard, shardCount}` of an index build (the writer sets kind and format): the header
/// fields every build export takes.
pub(crate) fn build_header(env: Env, h: napi_value) -> JsResult<HeaderFields> {
    Ok(HeaderFields {
        version: field_u32(env, h, c"version", Some(0))?,
        shard: field_u32(env, h, c"shard", Some(0))?,
        shard_count: field_u32(env, h, c"shardCount", Some(0))?,
        ..Default::default()
    })
}

/// containerWrite(path, header, sections): number (file length)
fn container_write(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<3>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let h = a.argv[1];
    let build_id = env.get(h, c"buildId")?;
    let fields = HeaderFields {
        kind: u16_of(field_u32(env, h, c"kind", None)?, "kind")?,
        major: u16_of(field_u32(env, h, c"major", None)?, "major")?,
        minor: u16_of(field_u32(env, h, c"minor", Some(0))?, "minor")?,
        flags: field_u32(env, h, c"flags", Some(0))?,
        build_id: if env.is_nullish(build_id)? { 0 } else { env.bigint_u64_arg(build_id, "buildId")? },
        version: field_u32(env, h, c"version", Some(0))?,
        shard: field_u32(env, h, c"shard", Some(0))?,
        shard_count: field_u32(env, h, c"shardCount", Some(0))?,
    };
    let mut w = container::ContainerWriter::create(&path, fields)?;
    for s in env.array_items(a.argv[2], "sections")? {
        let kind = field_u32(env, s, c"kind", None)?;
        let version = field_u32(env, s, c"version", Some(1))?;
        // SAFETY: the view is used before any further JS runs.
        let data = unsafe { env.typed_array::<u8>(env.get(s, c"data")?, "section data")? };
        w.add_section(kind, version, data)?;
    }
    env.double(w.finish()? as f64)
}

/// containerReadSection(path, kind): Uint8Array | null (checksum-checked)
fn container_read_section(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let kind = env.u32_in(a.argv[1], "kind", 0)?;
    match container::Container::open(&path)?.read_section(kind)? {
        Some(bytes) => env.typed_array_from_vec(bytes),
        None => env.null(),
    }
}

struct Verify {
    path: PathBuf,
    cancel: CancelToken,
}

impl Task for Verify {
    type Output = VerifyReport;
    fn compute(&mut self) -> Result<VerifyReport, JsError> {
        Ok(container::verify_file(&self.path, &self.cancel)?)
    }
    fn resolve(self, env: Env, r: VerifyReport) -> JsResult<napi_value> {
        let o = env.object()?;
        env.set(o, c"fileLength", env.double(r.file_length as f64)?)?;
        let header = match &r.header {
            None => env.null()?,
            Some(h) => {
                let f = &h.fields;
                let ho = env.object()?;
                for (name, v) in [
                    (c"kind", f.kind as u32),
                    (c"major", f.major as u32),
                    (c"minor", f.minor as u32),
                    (c"flags", f.flags),
                    (c"version", f.version),
                    (c"shard", f.shard),
                    (c"shardCount", f.shard_count),
                    (c"sectionCount", h.section_count),
                ] {
                    env.set(ho, name, env.uint32(v)?)?;
                }
                env.set(ho, c"buildId", env.bigint_u64(f.build_id)?)?;
                env.set(ho, c"tableOffset", env.double(h.table_offset as f64)?)?;
                ho
            }
        };
        env.set(o, c"header", header)?;
        env.set(o, c"sections", env.array(r.sections.iter().map(|s| section(env, s)))?)?;
        let problems = r.problems.iter().map(|p| {
            let po = env.object()?;
            let kind = match p.kind {
                ProblemKind::NotAnIndex => "not-an-index",
                ProblemKind::Unsupported => "unsupported",
                ProblemKind::Corrupt => "corrupt",
            };
            env.set(po, c"kind", env.string(kind)?)?;
            env.set(po, c"offset", env.double(p.offset as f64)?)?;
            env.set(po, c"length", env.double(p.length as f64)?)?;
            env.set(po, c"region", env.string(&p.region)?)?;
            env.set(po, c"message", env.string(&p.message)?)?;
            Ok(po)
        });
        env.set(o, c"problems", env.array(problems)?)?;
        Ok(o)
    }
}

fn section(env: Env, s: &SectionEntry) -> JsResult<napi_value> {
    let o = env.object()?;
    env.set(o, c"kind", env.uint32(s.kind)?)?;
    env.set(o, c"version", env.uint32(s.version)?)?;
    env.set(o, c"offset", env.double(s.offset as f64)?)?;
    env.set(o, c"length", env.double(s.length as f64)?)?;
    env.set(o, c"crc32c", env.uint32(s.crc)?)?;
    Ok(o)
}

/// containerVerify(path, token?): Promise<VerifyReport> (runs off the JS thread)
fn container_verify(env: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let a = Args::<2>::get(env, info)?;
    let path = PathBuf::from(env.string_arg(a.argv[0], "path")?);
    let cancel = token_arg(env, a.argv[1])?;
    spawn(env, "recall.containerVerify", Verify { path, cancel })
}
