use super::*;
use crate::cancel::CancelToken;
use crate::error::Error;
use std::fs;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    crate::testutil::scratch(&format!("container-{name}"))
}

fn fields() -> HeaderFields {
    HeaderFields { kind: kind::SAMPLE, major: 1, minor: 2, flags: 5, build_id: 77, version: 3, shard: 1, shard_count: 4 }
}

fn sample(path: &std::path::Path) -> u64 {
    let params = br#"{"hash":"xxh64","seed":0}"#;
    let body: Vec<u8> = (0..37u8).collect();
    write_container(path, fields(), &[(SECTION_PARAMS, 1, params), (16, 1, &body), (17, 2, b""), (18, 1, b"tail")]).unwrap()
}

#[test]
fn round_trip_and_byte_reproducible() {
    let d = scratch("roundtrip");
    let (a, b) = (d.join("a.rcl"), d.join("b.rcl"));
    let len = sample(&a);
    sample(&b);
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap(), "same input, same bytes");
    assert_eq!(fs::metadata(&a).unwrap().len(), len);
    let c = Container::open(&a).unwrap();
    assert_eq!(c.header.fields, fields());
    assert_eq!(
        c.sections.iter().map(|s| (s.kind, s.version, s.length)).collect::<Vec<_>>(),
        vec![(1, 1, 25), (16, 1, 37), (17, 2, 0), (18, 1, 4)]
    );
    assert!(c.sections.iter().all(|s| s.offset % ALIGN == 0));
    assert_eq!(c.read_section(18).unwrap().unwrap(), b"tail");
    assert_eq!(c.read_section(17).unwrap().unwrap(), b"");
    assert_eq!(c.read_section(99).unwrap(), None);
    assert!(verify_file(&a, &CancelToken::new()).unwrap().problems.is_empty());
    assert_eq!(fs::read_dir(&d).unwrap().count(), 2, "no temp files left");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn every_flipped_byte_is_found_at_its_place() {
    let d = scratch("flip");
    let good = d.join("good.rcl");
    sample(&good);
    let bytes = fs::read(&good).unwrap();
    let bad = d.join("bad.rcl");
    for at in 0..bytes.len() {
        let mut b = bytes.clone();
        b[at] ^= 0x40;
        fs::write(&bad, &b).unwrap();
        let r = verify_file(&bad, &CancelToken::new()).unwrap();
        let first = r.problems.first().unwrap_or_else(|| panic!("flip at {at} not detected"));
        assert!(first.offset <= at as u64 && (at as u64) < first.offset + first.length.max(1), "flip at {at}: first problem {first:?}");
        // A reader never hands out damaged bytes: open fails, or reading the
        // damaged section fails (padding is only checked by verify).
        if let Ok(c) = Container::open(&bad) {
            let reads_fail = [SECTION_PARAMS, 16, 17, 18].iter().any(|&k| c.read_section(k).is_err());
            assert!(reads_fail || first.region.starts_with("padding"), "flip at {at} readable: {first:?}");
        }
    }
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn truncation_and_appended_bytes_are_caught_on_open() {
    let d = scratch("trunc");
    let good = d.join("good.rcl");
    let len = sample(&good) as usize;
    let bytes = fs::read(&good).unwrap();
    let bad = d.join("bad.rcl");
    for cut in [1, 2, 31, 32, 33, len - 64, len - 10] {
        fs::write(&bad, &bytes[..len - cut]).unwrap();
        let err = Container::open(&bad).err().unwrap_or_else(|| panic!("cut {cut} opened"));
        assert_eq!(err.code(), "ERR_RECALL_CORRUPT", "cut {cut}: {err}");
        let r = verify_file(&bad, &CancelToken::new()).unwrap();
        assert!(!r.problems.is_empty(), "cut {cut}");
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"junk");
    fs::write(&bad, &longer).unwrap();
    assert!(Container::open(&bad).unwrap_err().to_string().contains("unexpected bytes"));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn foreign_files_and_versions_are_told_apart() {
    let d = scratch("foreign");
    let p = d.join("x.bin");
    fs::write(&p, vec![b'x'; 500]).unwrap();
    assert_eq!(Container::open(&p).unwrap_err().code(), "ERR_RECALL_NOT_AN_INDEX");
    fs::write(&p, b"short").unwrap();
    assert_eq!(Container::open(&p).unwrap_err().code(), "ERR_RECALL_NOT_AN_INDEX");
    sample(&p);
    let mut b = fs::read(&p).unwrap();
    b[7] = 2;
    fs::write(&p, &b).unwrap();
    assert_eq!(Container::open(&p).unwrap_err().code(), "ERR_RECALL_UNSUPPORTED_FORMAT");
    sample(&p);
    assert!(Container::open_kind(&p, kind::SAMPLE, 1).is_ok());
    assert_eq!(Container::open_kind(&p, kind::SAMPLE, 0).unwrap_err().code(), "ERR_RECALL_UNSUPPORTED_FORMAT");
    assert_eq!(Container::open_kind(&p, kind::X2I, 9).unwrap_err().code(), "ERR_RECALL_UNSUPPORTED_FORMAT");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn writer_misuse_and_cancel() {
    let d = scratch("misuse");
    let p = d.join("w.rcl");
    let mut w = ContainerWriter::create(&p, fields()).unwrap();
    w.add_section(16, 1, b"a").unwrap();
    assert!(matches!(w.add_section(16, 1, b"b"), Err(Error::InvalidArgument(_))));
    assert!(w.write(b"x").is_err());
    drop(w);
    assert!(!p.exists());
    assert_eq!(fs::read_dir(&d).unwrap().count(), 0, "abandoned writer leaves nothing");
    assert!(ContainerWriter::create(&p, HeaderFields { shard: 4, shard_count: 4, ..fields() }).is_err());
    sample(&p);
    let t = CancelToken::new();
    t.cancel();
    assert_eq!(verify_file(&p, &t).unwrap_err(), Error::Cancelled);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sections_are_views_of_the_mapped_file_or_of_one_read() {
    let d = scratch("backing");
    let a = d.join("a.rcl");
    sample(&a);
    for backing in [Backing::Map, Backing::Read] {
        let c = Container::open_with(&a, backing).unwrap();
        let v = c.section(16).unwrap().unwrap();
        assert_eq!(&*v, (0..37u8).collect::<Vec<_>>().as_slice());
        assert_eq!(v.is_mapped(), backing == Backing::Map);
        assert_eq!(v.u64s().len(), 4, "whole words only");
        assert_eq!(&*c.section_unchecked(18).unwrap(), b"tail");
        drop(c); // the view keeps the bytes alive
        assert_eq!(v[36], 36);
    }
    // a damaged section: a checked view fails, an unchecked one does not look
    let mut bytes = fs::read(&a).unwrap();
    let c = Container::open(&a).unwrap();
    let s = *c.sections.iter().find(|s| s.kind == 16).unwrap();
    bytes[s.offset as usize + 3] ^= 1;
    let b = d.join("b.rcl");
    fs::write(&b, &bytes).unwrap();
    let c = Container::open(&b).unwrap();
    assert!(matches!(c.section(16), Err(Error::Corrupt { .. })));
    assert_eq!(c.section_unchecked(16).unwrap()[3], 2);
    fs::remove_dir_all(&d).unwrap();
}
