use super::*;
use std::fs;

fn scratch(name: &str) -> std::path::PathBuf {
    crate::testutil::scratch(&format!("x2i-{name}"))
}

#[test]
fn write_open_lookup_round_trip() {
    let d = scratch("rt");
    let keys = [10u64, 0, u64::MAX, 7];
    let offsets = [0u64, 3, 3, 5, 9];
    let items = [5u64, 6, 7, 1, 2, 9, 8, 7, 6];
    let scores = [0.5f32, 0.9, 0.5, 1.0, 2.0, 0.1, 0.2, 0.3, 0.3];
    let lists = Lists { keys: &keys, offsets: &offsets, items: &items, scores: &scores };
    let p = d.join("a.rx2i");
    let stats = write(&p, HeaderFields::default(), "{}", &lists, &BuildOptions { seed: 3, top_k: 3, min_score: Some(0.15) }).unwrap();
    assert_eq!((stats.keys, stats.edges, stats.max_len), (4, 8, 3));
    let idx = X2iIndex::open(&p).unwrap();
    idx.verify().unwrap();
    let r = idx.lookup(&[10, 0, 99, u64::MAX, 7], 0, 4);
    assert_eq!(r.found, vec![1, 1, 0, 1, 1]);
    assert_eq!(r.counts, vec![3, 0, 0, 2, 3]);
    // score desc, item asc; min_score dropped 0.1; top_k kept 3
    assert_eq!(r.items, vec![6, 5, 7, 2, 1, 6, 7, 8]);
    assert_eq!(r.scores, vec![0.9, 0.5, 0.5, 2.0, 1.0, 0.3, 0.3, 0.2]);
    assert_eq!(idx.lookup(&[10], 1, 16).items, vec![6]);
    // byte-reproducible
    let q = d.join("b.rx2i");
    write(&q, HeaderFields::default(), "{}", &lists, &BuildOptions { seed: 3, top_k: 3, min_score: Some(0.15) }).unwrap();
    assert_eq!(fs::read(&p).unwrap(), fs::read(&q).unwrap());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_lists_name_the_row() {
    let d = scratch("bad");
    let p = d.join("x.rx2i");
    let nan = write(&p, HeaderFields::default(), "{}", &Lists { keys: &[1, 2], offsets: &[0, 1, 2], items: &[5, 6], scores: &[1.0, f32::NAN] }, &BuildOptions::default());
    assert!(nan.unwrap_err().to_string().contains("row 1: score 0 of key 2 is NaN"));
    let dup = write(&p, HeaderFields::default(), "{}", &Lists { keys: &[4, 9, 4], offsets: &[0, 0, 0, 0], items: &[], scores: &[] }, &BuildOptions::default());
    assert!(dup.unwrap_err().to_string().contains("row 0: key 4 appears twice"), "duplicate key");
    assert!(!p.exists());
    fs::remove_dir_all(&d).unwrap();
}
