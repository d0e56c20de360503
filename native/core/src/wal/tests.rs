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
    for damage in ["truncate", "zeros", "partial"] {
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
            _ => b.extend_from_slice(&[40, 0, 0, 0, 1, 2, 3]), // a length and part of a CRC
        }
        fs::write(&seg, &b).unwrap();
        let (got, r) = all(&d, &ScanOptions::default()).unwrap();
        let torn = r.torn.expect("torn tail reported");
        let expect_last = if damage == "truncate" { 9 } else { 10 };
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

/// Ten records in one segment; returns the folder, the segment and the record size.
fn ten(name: &str) -> (std::path::PathBuf, std::path::PathBuf, usize) {
    let d = scratch(name);
    let mut w = Writer::open(&d, opts(1 << 20)).unwrap();
    append_n(&mut w, 0, 10);
    drop(w);
    let seg = segments(&d).unwrap()[0].1.clone();
    let rec = fs::read(&seg).unwrap().len() / 10;
    (d, seg, rec)
}

#[test]
fn damage_followed_by_valid_records_is_corruption_and_no_writer_reuses_their_seqs() {
    // every byte of the 4th record's length field, and bits low and high
    for byte in 0..4 {
        for bit in [0u8, 3, 7] {
            let (d, seg, rec) = ten(&format!("wal-len-{byte}-{bit}"));
            let mut b = fs::read(&seg).unwrap();
            b[3 * rec + byte] ^= 1 << bit;
            fs::write(&seg, &b).unwrap();
            match all(&d, &ScanOptions::default()) {
                Err(Error::Corrupt { offset, message, .. }) => {
                    assert_eq!(offset, 3 * rec as u64, "{message}");
                    assert!(message.contains(&format!("a valid record follows at offset {}", 4 * rec)), "{message}");
                }
                other => panic!("byte {byte} bit {bit}: {:?}", other.map(|g| g.0)),
            }
            // skipped: the records after it are all read, and the seq lost is named
            let (got, r) = all(&d, &ScanOptions { skip_corrupt: true, ..Default::default() }).unwrap();
            assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![1, 2, 3, 5, 6, 7, 8, 9, 10]);
            assert!(r.torn.is_none());
            assert!(r.corrupt[0].message.contains("(seqs 4..4 lost)"), "{}", r.corrupt[0].message);
            // the writer neither cuts them nor reuses seqs 4..10
            assert!(matches!(Writer::open(&d, opts(1 << 20)), Err(Error::Corrupt { .. })));
            assert_eq!(fs::read(&seg).unwrap(), b, "nothing was cut");
        }
    }
}

#[test]
fn a_whole_last_record_that_fails_its_crc_is_corruption_not_a_torn_tail() {
    for damage in ["payload", "longer length", "impossible length"] {
        let (d, seg, rec) = ten(&format!("wal-last-{damage}"));
        let mut b = fs::read(&seg).unwrap();
        match damage {
            "payload" => b[9 * rec + HEADER + 12] ^= 1,
            "longer length" => b[9 * rec] += 16, // runs past the end, but the bytes there are the whole record
            _ => b[9 * rec + 3] = 0xff,
        }
        fs::write(&seg, &b).unwrap();
        match all(&d, &ScanOptions::default()) {
            Err(Error::Corrupt { offset, .. }) => assert_eq!(offset, 9 * rec as u64, "{damage}"),
            other => panic!("{damage}: {:?}", other.map(|g| g.1.torn)),
        }
        assert!(matches!(Writer::open(&d, opts(1 << 20)), Err(Error::Corrupt { .. })), "{damage}");
        let (got, r) = all(&d, &ScanOptions { skip_corrupt: true, ..Default::default() }).unwrap();
        assert_eq!((got.len(), r.corrupt.len(), r.torn.is_none()), (9, 1, true), "{damage}");
    }
}

#[test]
fn a_missing_segment_is_a_gap_named_by_its_seqs() {
    let d = scratch("wal-gap");
    let mut w = Writer::open(&d, opts(100)).unwrap();
    append_n(&mut w, 0, 12);
    drop(w);
    let segs = segments(&d).unwrap();
    assert!(segs.len() >= 4, "{segs:?}");
    fs::remove_file(&segs[1].1).unwrap();
    let (from, to) = (segs[1].0, segs[2].0 - 1);
    match all(&d, &ScanOptions::default()) {
        Err(Error::Corrupt { path, message, .. }) => {
            assert_eq!(path, segs[2].1.display().to_string());
            assert!(message.contains(&format!("seqs {from}..{to} are missing")), "{message}");
        }
        other => panic!("{:?}", other.map(|g| g.0)),
    }
    let (got, r) = all(&d, &ScanOptions { skip_corrupt: true, ..Default::default() }).unwrap();
    assert_eq!(got.len() as u64, 12 - (to - from + 1));
    assert_eq!(r.corrupt.len(), 1);
    // a range wholly after the gap reads without it
    let (got, _) = all(&d, &ScanOptions { after: to, ..Default::default() }).unwrap();
    assert_eq!(got.first().unwrap().0, to + 1);
    // a segment named for a seq that is not the next one is a gap too
    let segs = segments(&d).unwrap();
    let last = segs.last().unwrap();
    fs::rename(&last.1, d.join(segment_name(last.0 + 3))).unwrap();
    let e = all(&d, &ScanOptions { after: to, ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("are missing"), "{e}");
}

#[test]
fn a_dropped_record_is_skipped_by_every_reader_and_seqs_stay_continuous() {
    let (d, _, _) = ten("wal-drop");
    let (seg, op) = drop_record(&d, 4).unwrap();
    assert_eq!(op, Channel::X2i.op(false));
    assert_eq!(seg, segments(&d).unwrap()[0].1);
    let mut seen = Vec::new();
    scan(&d, &ScanOptions::default(), |seq, op, _| {
        seen.push((seq, decode_op(op).is_some()));
        Ok(())
    })
    .unwrap();
    assert_eq!(seen.len(), 10);
    assert_eq!(seen.iter().filter(|s| !s.1).map(|s| s.0).collect::<Vec<_>>(), vec![4]);
    assert!(matches!(drop_record(&d, 4), Err(Error::InvalidArgument(_))));
    assert!(matches!(drop_record(&d, 11), Err(Error::InvalidArgument(_))));
    let mut w = Writer::open(&d, opts(1 << 20)).unwrap();
    assert_eq!(append_n(&mut w, 0, 1), (11, 11));
}
