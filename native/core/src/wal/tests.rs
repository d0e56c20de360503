use super::*;
use crate::testutil::scratch;
use std::fs;

fn opts(segment_bytes: u64) -> WriterOptions {
    WriterOptions { segment_bytes, fsync: Fsync::Off }
}

/// Append n x2i upserts with keys start.., one item each.
fn append_n(w: &mut Writer, start: u64, n: u64) -> (u64, u64) {
    let payloads: Vec<Vec<u8>> = (start..start + n)
        .map(|k| {
            let mut p = Vec::new();
            payload::x2i_upsert(k, &[k * 10], &[k as f32], &mut p);
            p
        })
        .collect();
    w.append(payloads.iter().map(|p| (Channel::X2i.op(false), p.as_slice()))).unwrap()
}

fn all(dir: &std::path::Path, o: &ScanOptions) -> Result<(Vec<(u64, u64)>, ScanReport)> {
    let mut got = Vec::new();
    let r = scan(dir, o, |seq, op, p| {
        assert_eq!(decode_op(op), Some((Channel::X2i, false)));
        got.push((seq, payload::key(p)?));
        Ok(())
    })?;
    Ok((got, r))
}

#[test]
fn appends_rotate_and_continue_across_reopen() {
    let d = scratch("wal-rotate");
    let mut w = Writer::open(&d, opts(200)).unwrap();
    assert_eq!(append_n(&mut w, 0, 20), (1, 20));
    drop(w);
    let mut w = Writer::open(&d, opts(200)).unwrap();
    assert_eq!(w.next_seq(), 21);
    assert_eq!(append_n(&mut w, 20, 5), (21, 25));
    drop(w);
    let segs = segments(&d).unwrap();
    assert!(segs.len() > 3, "a 200-byte segment size rotates: {segs:?}");
    assert_eq!(segs[0].0, 1);
    let (got, r) = all(&d, &ScanOptions::default()).unwrap();
    assert_eq!(got, (0..25).map(|k| (k + 1, k)).collect::<Vec<_>>());
    assert_eq!((r.last_seq, r.torn.is_none(), r.corrupt.len()), (25, true, 0));
    // a range: only the records in it, and whole segments before it are not read
    let (got, r) = all(&d, &ScanOptions { after: 18, upto: 22, skip_corrupt: false }).unwrap();
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![19, 20, 21, 22]);
    assert!(r.read < 25, "segments wholly before seq 18 were skipped ({} read)", r.read);
    assert_eq!(r.last_seq, 25);
    // truncate: segments below seq 10 go, the rest reads the same
    let removed = truncate_before(&d, 10).unwrap();
    assert!(!removed.is_empty());
    let (got, _) = all(&d, &ScanOptions::default()).unwrap();
    assert!(got[0].0 <= 10 && got.last().unwrap().0 == 25);
    let mut w = Writer::open(&d, opts(200)).unwrap();
    assert_eq!(append_n(&mut w, 99, 1), (26, 26));
}

#[test]
fn a_torn_tail_is_reported_ignored_and_cut_by_the_next_writer() {
    for damage in ["truncate", "zeros", "garbage"] {
        let d = scratch(&format!("wal-torn-{damage}"));
        let mut w = Writer::open(&d, opts(1 << 20)).unwrap();
        append_n(&mut w, 0, 10);
        drop(w);
        let seg = segments(&d).unwrap()[0].1.clone();
        let mut b = fs::read(&seg).unwrap();
        let full = b.len();
        match damage {
            "truncate" => b.truncate(full - 7),
            "zeros" => b.extend_from_slice(&[0u8; 100]),
            _ => {
                let n = b.len();
                b[n - 3] ^= 0x40; // the last record's bytes, as if its page was half written
            }
        }
        fs::write(&seg, &b).unwrap();
        let (got, r) = all(&d, &ScanOptions::default()).unwrap();
        let torn = r.torn.expect("torn tail reported");
        let expect_last = if damage == "zeros" { 10 } else { 9 };
        assert_eq!(got.len() as u64, expect_last, "{damage}");
        assert_eq!(r.last_seq, expect_last);
        assert!(torn.message.starts_with("torn tail"), "{}", torn.message);
        let mut w = Writer::open(&d, opts(1 << 20)).unwrap();
        assert!(w.recovered.is_some());
        assert_eq!(append_n(&mut w, 50, 1), (expect_last + 1, expect_last + 1));
        drop(w);
        let (got, r) = all(&d, &ScanOptions::default()).unwrap();
        assert!(r.torn.is_none());
        assert_eq!(got.last(), Some(&(expect_last + 1, 50)));
    }
}

#[test]
fn a_corrupt_record_in_the_middle_stops_replay_unless_skipped() {
    let d = scratch("wal-corrupt");
    let mut w = Writer::open(&d, opts(1 << 20)).unwrap();
    append_n(&mut w, 0, 10);
    drop(w);
    let seg = segments(&d).unwrap()[0].1.clone();
    let mut b = fs::read(&seg).unwrap();
    let rec = b.len() / 10; // all records have the same size
    b[3 * rec + HEADER + 12] ^= 1; // a payload byte of the 4th record
    fs::write(&seg, &b).unwrap();
    let e = all(&d, &ScanOptions::default()).unwrap_err();
    match &e {
        Error::Corrupt { offset, message, .. } => {
            assert_eq!(*offset, 3 * rec as u64);
            assert!(message.contains("checksum mismatch") && message.contains("replay stopped"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let (got, r) = all(&d, &ScanOptions { skip_corrupt: true, ..Default::default() }).unwrap();
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![1, 2, 3, 5, 6, 7, 8, 9, 10]);
    assert_eq!(r.corrupt.len(), 1);
    assert_eq!(r.corrupt[0].offset, 3 * rec as u64);
    assert!(r.torn.is_none());
    // a writer refuses to append behind corruption in its segment
    assert!(matches!(Writer::open(&d, opts(1 << 20)), Err(Error::Corrupt { .. })));
}

#[test]
fn a_cut_short_older_segment_is_corruption_not_a_torn_tail() {
    let d = scratch("wal-cut-older");
    let mut w = Writer::open(&d, opts(100)).unwrap();
    append_n(&mut w, 0, 6);
    drop(w);
    let segs = segments(&d).unwrap();
    assert!(segs.len() >= 2);
    let b = fs::read(&segs[0].1).unwrap();
    fs::write(&segs[0].1, &b[..b.len() - 5]).unwrap();
    assert!(matches!(all(&d, &ScanOptions::default()), Err(Error::Corrupt { .. })));
    let (got, r) = all(&d, &ScanOptions { skip_corrupt: true, ..Default::default() }).unwrap();
    assert_eq!(r.corrupt.len(), 1);
    assert_eq!(got.last().unwrap().0, 6);
}

#[test]
fn one_writer_at_a_time() {
    let d = scratch("wal-lock");
    let w = Writer::open(&d, opts(1 << 20)).unwrap();
    match Writer::open(&d, opts(1 << 20)) {
        Err(Error::Locked { message, .. }) => assert!(message.contains(&std::process::id().to_string()), "{message}"),
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("second writer got the lock"),
    }
    assert!(matches!(truncate_before(&d, 5), Err(Error::Locked { .. })));
    drop(w);
    assert!(Writer::open(&d, opts(1 << 20)).is_ok());
}

#[test]
fn ops_and_payloads_round_trip() {
    for c in [Channel::X2i, Channel::Vector, Channel::Inverted] {
        for del in [false, true] {
            assert_eq!(decode_op(c.op(del)), Some((c, del)));
        }
        assert_eq!(Channel::parse(c.name()), Some(c));
    }
    assert_eq!(decode_op(0), None);
    assert_eq!(decode_op(7), None);
    let mut p = Vec::new();
    payload::x2i_upsert(u64::MAX, &[1, 2], &[0.5, -1.0], &mut p);
    let (mut items, mut scores) = (vec![9], vec![9.0]);
    assert_eq!(payload::read_x2i_upsert_into(&p, &mut items, &mut scores).unwrap(), u64::MAX);
    assert_eq!((items, scores), (vec![9, 1, 2], vec![9.0, 0.5, -1.0]));
    assert!(payload::read_x2i_upsert_into(&p[..p.len() - 1], &mut Vec::new(), &mut Vec::new()).is_err());
}
