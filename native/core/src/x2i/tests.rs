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
    let lists = Lists { keys: &keys, offsets: &offsets, items: &items, scores: &scores, deleted: &[] };
    let p = d.join("a.rx2i");
    let stats = write(&p, HeaderFields::default(), "{}", &lists, &BuildOptions { seed: 3, top_k: 3, min_score: Some(0.15) }).unwrap();
    assert_eq!((stats.keys, stats.edges, stats.max_len), (4, 8, 3));
    let idx = X2iIndex::open(&p).unwrap();
    idx.verify().unwrap();
    let r = idx.lookup(&[10, 0, 99, u64::MAX, 7], 0, 4).unwrap();
    assert_eq!(r.found, vec![1, 1, 0, 1, 1]);
    assert_eq!(r.counts, vec![3, 0, 0, 2, 3]);
    // score desc, item asc; min_score dropped 0.1; top_k kept 3
    assert_eq!(r.items, vec![6, 5, 7, 2, 1, 6, 7, 8]);
    assert_eq!(r.scores, vec![0.9, 0.5, 0.5, 2.0, 1.0, 0.3, 0.3, 0.2]);
    assert_eq!(idx.lookup(&[10], 1, 16).unwrap().items, vec![6]);
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
    let nan = write(
        &p,
        HeaderFields::default(),
        "{}",
        &Lists { keys: &[1, 2], offsets: &[0, 1, 2], items: &[5, 6], scores: &[1.0, f32::NAN], deleted: &[] },
        &BuildOptions::default(),
    );
    assert!(nan.unwrap_err().to_string().contains("row 1: score 0 of key 2 is NaN"));
    let dup = write(
        &p,
        HeaderFields::default(),
        "{}",
        &Lists { keys: &[4, 9, 4], offsets: &[0, 0, 0, 0], items: &[], scores: &[], deleted: &[] },
        &BuildOptions::default(),
    );
    assert!(dup.unwrap_err().to_string().contains("row 0: key 4 appears twice"), "duplicate key");
    assert!(!p.exists());
    fs::remove_dir_all(&d).unwrap();
}

/// Random upserts / deletes through a WAL, dumped as deltas and majors over 3 shards: after every
/// dump, each key's answer through the layers (newest first, tombstones honoured) equals a model.
#[test]
fn dumps_through_the_wal_equal_a_model() {
    use crate::wal::{self, Channel, Fsync, ScanOptions, WriterOptions, payload};
    use dump::{ShardDump, replay, shard_of, write_delta, write_major};
    use std::collections::BTreeMap;
    let d = scratch("dump-model");
    let walp = d.join("wal");
    let shards = 3u32;
    let opts = BuildOptions { seed: 5, top_k: 4, min_score: None };
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    // the model: key -> normalised list (score desc, item asc, top 4)
    let norm = |mut l: Vec<(u64, f32)>| {
        l.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut seen = std::collections::HashSet::new();
        l.retain(|p| seen.insert(p.0)); // a repeated item keeps its best score
        l.truncate(4);
        l
    };
    let mut model: BTreeMap<u64, Vec<(u64, f32)>> = BTreeMap::new();
    // base: keys 0..60 (key 0 included: it lives in the reserved slot)
    type Column = Vec<(u64, Vec<u64>, Vec<f32>)>;
    let mut cols: Vec<Column> = vec![Vec::new(); shards as usize];
    for k in 0..60u64 {
        let l: Vec<(u64, f32)> = (0..1 + k % 5).map(|i| (k * 100 + i, (i * 7 % 5) as f32)).collect();
        model.insert(k, norm(l.clone()));
        cols[shard_of(k, shards) as usize].push((k, l.iter().map(|p| p.0).collect(), l.iter().map(|p| p.1).collect()));
    }
    let mut layers: Vec<Vec<std::path::PathBuf>> = vec![Vec::new(); shards as usize];
    for (s, c) in cols.iter().enumerate() {
        let keys: Vec<u64> = c.iter().map(|x| x.0).collect();
        let mut offsets = vec![0u64];
        let (mut items, mut scores) = (Vec::new(), Vec::new());
        for x in c {
            items.extend_from_slice(&x.1);
            scores.extend_from_slice(&x.2);
            offsets.push(items.len() as u64);
        }
        let p = d.join(format!("base-{s}.rx2i"));
        write(
            &p,
            HeaderFields::default(),
            "{}",
            &Lists { keys: &keys, offsets: &offsets, items: &items, scores: &scores, deleted: &[] },
            &opts,
        )
        .unwrap();
        layers[s].push(p);
    }
    let mut applied = 0u64;
    for round in 0..12 {
        let mut w = wal::Writer::open(&walp, WriterOptions { segment_bytes: 512, fsync: Fsync::Off }).unwrap();
        let mut recs: Vec<(u8, Vec<u8>)> = Vec::new();
        for _ in 0..25 {
            let key = rand(90);
            if rand(3) == 0 {
                recs.push((Channel::X2i.op(true), key.to_le_bytes().to_vec()));
                model.remove(&key);
            } else {
                let l: Vec<(u64, f32)> = (0..rand(7)).map(|_| (rand(1000), rand(10) as f32 / 4.0)).collect();
                let mut p = Vec::new();
                payload::x2i_upsert(key, &l.iter().map(|x| x.0).collect::<Vec<_>>(), &l.iter().map(|x| x.1).collect::<Vec<_>>(), &mut p);
                recs.push((Channel::X2i.op(false), p));
                model.insert(key, norm(l));
            }
        }
        // a record of another channel is skipped by the x2i replay
        recs.push((Channel::Vector.op(true), 5u64.to_le_bytes().to_vec()));
        let (_, last) = w.append(recs.iter().map(|r| (r.0, r.1.as_slice()))).unwrap();
        drop(w);
        let (changes, rep) = replay(&walp, &ScanOptions { after: applied, ..Default::default() }).unwrap();
        assert_eq!((changes.records, rep.last_seq), (25, last));
        applied = last;
        let major = round % 4 == 3;
        for s in 0..shards {
            let idx: Vec<X2iIndex> = layers[s as usize].iter().map(|p| X2iIndex::open(p).unwrap()).collect();
            let sd = ShardDump { shard: s, shard_count: shards, layers: &idx, changes: &changes, opts: opts.clone() };
            let p = d.join(format!("r{round}-{s}.rx2i"));
            if major {
                write_major(&sd, &p, HeaderFields::default(), "{}").unwrap();
                layers[s as usize] = vec![p];
            } else {
                write_delta(&sd, &p, HeaderFields::default(), "{}").unwrap();
                layers[s as usize].push(p);
            }
        }
        // every key 0..100 through the layers, newest first
        for key in 0..100u64 {
            let s = shard_of(key, shards) as usize;
            let mut got = None;
            for p in layers[s].iter().rev() {
                let idx = X2iIndex::open(p).unwrap();
                idx.verify().unwrap();
                let r = idx.lookup(&[key], 0, 4).unwrap();
                match r.found[0] {
                    0 => continue,
                    1 => got = Some(r.items.iter().copied().zip(r.scores.iter().copied()).collect::<Vec<_>>()),
                    _ => got = None,
                }
                break;
            }
            assert_eq!(got.as_ref(), model.get(&key), "round {round} key {key}");
        }
        if major {
            assert!(layers.iter().all(|l| l.len() == 1));
        }
    }
}

#[test]
fn replay_lists_sorts_keys_and_normalises_lists_as_the_index_stores_them() {
    use dump::{Change, Changes, ReplayLists, replay_lists};
    // key 9: two items; key 3: deleted; key 5: a repeated item (best score kept) and one below min_score
    let mut c = Changes { items: vec![1, 2, 7, 7, 8, 4], scores: vec![1.0, 2.0, 0.5, 3.0, 0.1, 2.0], ..Default::default() };
    c.by_key.insert(9, Change::Upsert { start: 0, len: 2 });
    c.by_key.insert(3, Change::Delete);
    c.by_key.insert(5, Change::Upsert { start: 2, len: 4 });
    let opts = BuildOptions { min_score: Some(0.2), ..Default::default() };
    let want = ReplayLists {
        keys: vec![3, 5, 9],
        deleted: vec![1, 0, 0],
        counts: vec![0, 2, 2],
        items: vec![7, 4, 2, 1],
        scores: vec![3.0, 2.0, 2.0, 1.0],
    };
    assert_eq!(replay_lists(&c, &opts).unwrap(), want);
    let top1 = replay_lists(&c, &BuildOptions { top_k: 1, ..Default::default() }).unwrap();
    assert_eq!((top1.counts, top1.items), (vec![0, 1, 1], vec![7, 2]));
    c.scores[3] = f32::NAN;
    assert_eq!(replay_lists(&c, &opts), Err((5, 1)));
}

/// Re-sealed damage (bytes changed, every checksum recomputed): open refuses the file as corrupt
/// or every lookup and walk still runs to the end; never a panic or an endless chain.
#[test]
fn resealed_damage_is_refused_or_harmless() {
    use crate::testutil::{Rng, resealed_edit};
    let d = scratch("reseal");
    let p = d.join("a.rx2i");
    let n = 300u64;
    let keys: Vec<u64> = (0..n).map(|k| k * 7 + (k % 3)).collect();
    let mut offsets = vec![0u64];
    let (mut items, mut scores) = (Vec::new(), Vec::new());
    for k in 0..n {
        for j in 0..(k % 7) {
            items.push(1000 + k + j);
            scores.push(1.0 / (1 + j) as f32);
        }
        offsets.push(items.len() as u64);
    }
    let lists = Lists { keys: &keys, offsets: &offsets, items: &items, scores: &scores, deleted: &[5000, 5001] };
    write(&p, HeaderFields::default(), "{}", &lists, &BuildOptions { seed: 9, ..Default::default() }).unwrap();
    let orig = fs::read(&p).unwrap();
    let good = X2iIndex::open(&p).unwrap().lookup(&keys, 0, 8).unwrap();
    let mut rng = Rng(0x5eed_1234);
    let (mut refused, mut same, mut differ) = (0, 0, 0);
    let q = d.join("damaged.rx2i");
    for i in 0..1500 {
        let (bytes, what) = resealed_edit(&orig, &[SECTION_HASHMETA, SECTION_SLOTS, SECTION_LISTS], &mut rng);
        fs::write(&q, &bytes).unwrap();
        let r = std::panic::catch_unwind(|| match X2iIndex::open(&q) {
            Err(Error::Corrupt { .. }) => None,
            Err(e) => panic!("case {i} ({what}): not reported as corrupt: {e}"),
            Ok(idx) => {
                let mut walked = 0;
                let walk = idx.for_each(|_, _| walked += 1);
                match (walk, idx.lookup(&keys, 0, 8)) {
                    (Ok(()), Ok(f)) => Some(f),
                    (Err(Error::Corrupt { .. }), _) | (_, Err(Error::Corrupt { .. })) => None,
                    (Err(e), _) | (_, Err(e)) => panic!("case {i} ({what}): not reported as corrupt: {e}"),
                }
            }
        });
        match r {
            Err(_) => panic!("case {i} ({what}): panicked"),
            Ok(None) => refused += 1,
            Ok(Some(f)) if f == good => same += 1,
            Ok(Some(_)) => differ += 1,
        }
    }
    // a re-sealed edit of a score or an item id keeps every invariant: only an outside record
    // (the version manifest's header checksum) can tell; the structure edits are all refused
    assert!(refused > 1000, "refused {refused}, same {same}, differ {differ}");
    fs::remove_dir_all(&d).unwrap();
}

/// A chain that loops forever after a re-sealed edit is refused at open (a lookup would never end).
#[test]
fn a_looping_chain_is_refused() {
    let d = scratch("loop");
    let p = d.join("a.rx2i");
    let keys: Vec<u64> = (0..40).collect();
    let offsets: Vec<u64> = vec![0; 41];
    write(
        &p,
        HeaderFields::default(),
        "{}",
        &Lists { keys: &keys, offsets: &offsets, items: &[], scores: &[], deleted: &[] },
        &BuildOptions::default(),
    )
    .unwrap();
    let idx = X2iIndex::open(&p).unwrap();
    // a chain i -> j: point j back at i, so a lookup that misses on this chain never ends
    let (i, s) = idx.slot_slice().iter().enumerate().find(|(_, s)| s.next() != 0).map(|(i, s)| (i, *s)).expect("some chain");
    let j = (i as i64 + s.next()) as usize;
    let mut b = fs::read(&p).unwrap();
    let c = Container::open(&p).unwrap();
    let slots = c.sections.iter().find(|s| s.kind == SECTION_SLOTS).unwrap().offset as usize;
    let w = slots + 16 * j + 8;
    let payload = u64::from_le_bytes(b[w..w + 8].try_into().unwrap()) & crate::neighborhash::PAYLOAD_MASK;
    b[w..w + 8].copy_from_slice(&(payload | ((i as i64 - j as i64) as u64) << 52).to_le_bytes());
    crate::testutil::reseal(&mut b);
    fs::write(&p, &b).unwrap();
    let e = X2iIndex::open(&p).err().expect("refused");
    assert!(matches!(e, Error::Corrupt { .. }) && e.to_string().contains("x2i structure"), "{e}");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn mapped_and_read_all_answer_alike_and_a_bad_payload_is_an_error_not_a_panic() {
    let d = scratch("mapped");
    let keys: Vec<u64> = (0..500).map(|k| k * 7 + 1).collect();
    let offsets: Vec<u64> = (0..=500).map(|i| i * 3).collect();
    let items: Vec<u64> = (0..1500).collect();
    let scores: Vec<f32> = (0..1500).map(|i| (i % 13) as f32).collect();
    let lists = Lists { keys: &keys, offsets: &offsets, items: &items, scores: &scores, deleted: &[] };
    let p = d.join("m.rx2i");
    write(&p, HeaderFields::default(), "{}", &lists, &BuildOptions { seed: 9, ..Default::default() }).unwrap();
    let (mapped, read) = (X2iIndex::open(&p).unwrap(), X2iIndex::open_with(&p, Backing::Read).unwrap());
    let probe: Vec<u64> = (0..4000).collect();
    assert_eq!(mapped.lookup(&probe, 0, 8).unwrap(), read.lookup(&probe, 0, 8).unwrap());
    assert!(matches!(mapped.slots, SlotStore::Mapped(_)) && matches!(read.slots, SlotStore::Copied(_)));
    // point key 8's slot far past the lists (the slots' checksum is not checked when mapped)
    let c = Container::open(&p).unwrap();
    let s = c.sections.iter().find(|s| s.kind == SECTION_SLOTS).unwrap();
    let mut bytes = fs::read(&p).unwrap();
    let at = (0..s.length as usize / 16)
        .map(|i| s.offset as usize + 16 * i)
        .find(|&o| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) == 8)
        .unwrap();
    bytes[at + 8..at + 14].copy_from_slice(&[0xff; 6]);
    let q = d.join("bad.rx2i");
    fs::write(&q, &bytes).unwrap();
    // a small file is checked whole at open; a large mapped one (here: a limit of 0) per lookup
    assert!(matches!(X2iIndex::open(&q), Err(Error::Corrupt { .. })), "small files get every check at open");
    let bad = X2iIndex::open_limited(&q, Backing::Map, 0).unwrap();
    assert_eq!(bad.lookup(&[1, 15], 0, 8).unwrap().found, vec![1, 1], "other keys still answer");
    let e = bad.lookup(&[8], 0, 8).unwrap_err();
    assert!(matches!(&e, Error::Corrupt { message, .. } if message.contains("key 8 points outside the lists")), "{e:?}");
    assert!(bad.for_each(|_, _| {}).is_err());
    assert!(matches!(X2iIndex::open_with(&q, Backing::Read), Err(Error::Corrupt { .. })), "read-all checks the sections on open");
    fs::remove_dir_all(&d).unwrap();
}
