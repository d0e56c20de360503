use super::analyzer::{Analyzer, Segmentation};
use super::build::{BuildOptions, ExtIds, FieldInput, PairOptions, build, encode_list};
use super::codec::BLOCK;
use super::postings::Cursor;
use super::reader::TextIndex;
use super::search::{SearchParams, search};
use super::*;
use crate::CancelToken;
use crate::container::HeaderFields;

fn opts(pairs: PairKind) -> BuildOptions {
    BuildOptions {
        analyzer: Analyzer::new(Segmentation::Standard, 255),
        analyzer_desc: "{\"name\":\"test\"}".into(),
        pairs: PairOptions { kind: pairs, min_df: 2, min_pair_df: 2, ..Default::default() },
        forward: true,
        threads: 2,
        k1: 1.2,
        b: 0.75,
    }
}

fn concat(texts: &[&str]) -> (Vec<u8>, Vec<u32>) {
    let mut b = Vec::new();
    let mut o = vec![0u32];
    for t in texts {
        b.extend_from_slice(t.as_bytes());
        o.push(b.len() as u32);
    }
    (b, o)
}

fn build_index(dir: &std::path::Path, name: &str, texts: &[&str], ids: &[u64], pairs: PairKind) -> TextIndex {
    let (b, o) = concat(texts);
    let f = [FieldInput { name: "body".into(), weight: 1.0, text: &b, offsets: &o }];
    let path = dir.join(name);
    build(&path, HeaderFields::default(), "{}", &ExtIds::U64(ids), &f, &ExtIds::U64(&[]), &opts(pairs), &CancelToken::new()).unwrap();
    TextIndex::open(&path).unwrap()
}

fn corpus(n: usize) -> Vec<String> {
    // deterministic pseudo-random docs over a Zipf-ish vocabulary
    let mut s = 7u64;
    (0..n)
        .map(|_| {
            let len = 1 + (s % 13) as usize;
            (0..len)
                .map(|_| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let r = (s >> 33) % 1000;
                    format!("w{}", (r * r) / 4000)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn intersect_finds_exactly_the_listed_candidates_whatever_the_buffers_held() {
    for df in [1usize, 2, 9, 127, 128, 129, 300, 1000] {
        let docs: Vec<u32> = (0..df as u32).map(|i| 10 + i * 7).collect();
        let tfs: Vec<u32> = (0..df as u32).map(|i| 1 + i % 3).collect();
        let mut b = Vec::new();
        encode_list(&mut b, &docs, &[&tfs], &[]);
        // candidates: every 3rd listed doc and the doc after every 5th (never listed), ascending,
        // in leader-sized batches; few and many per block, so both lookup branches run
        let mut all: Vec<u32> = docs.iter().step_by(3).copied().chain(docs.iter().step_by(5).map(|d| d + 1)).collect();
        all.sort_unstable();
        for batch in [1usize, 3, 16, 128] {
            for fresh in [false, true] {
                // recycled buffers hold stale docs: zeros, below every candidate
                Cursor::poison_spare_bufs_for_test();
                let mut c = match (df, fresh) {
                    (1, _) => Cursor::singleton_for_test(docs[0], tfs[0]),
                    (_, true) => Cursor::unloaded_for_test(&b, df as u32),
                    _ => Cursor::new_for_test(&b, df as u32),
                };
                let mut got = Vec::new();
                for chunk in all.chunks(batch) {
                    let mut cand = [0u32; BLOCK];
                    let mut sel = [0u8; BLOCK];
                    let mut tf = [0u32; BLOCK];
                    cand[..chunk.len()].copy_from_slice(chunk);
                    for (j, s) in sel[..chunk.len()].iter_mut().enumerate() {
                        *s = j as u8;
                    }
                    let k = c.intersect(&mut cand, &mut sel, chunk.len(), &mut tf);
                    got.extend((0..k).map(|m| (cand[m], tf[sel[m] as usize])));
                }
                let want: Vec<(u32, u32)> = all.iter().filter_map(|d| docs.binary_search(d).ok().map(|i| (*d, tfs[i]))).collect();
                assert_eq!(got, want, "df {df}, batches of {batch}, unloaded {fresh}");
            }
        }
    }
}

#[test]
fn cursors_walk_blocks_and_skip_near_the_top_of_the_id_space() {
    let top = (1u32 << 31) - 2;
    for df in [1usize, 2, 127, 128, 129, 256, 300] {
        let docs: Vec<u32> = (0..df as u32).map(|i| top - (df as u32 - 1 - i) * 3).collect();
        let tfs: Vec<u32> = (0..df as u32).map(|i| 1 + (i % 7) * 50).collect();
        let mut b = Vec::new();
        encode_list(&mut b, &docs, &[&tfs], &[]);
        if df == 128 || df == 256 {
            // no tail: the skip table has df / 128 entries and the blocks end the list
            let n_full = df / 128;
            let e = &b[(n_full - 1) * SKIP_ENTRY..];
            let end = codec::u32_at(e, 4) as usize + 16 * (e[8] as usize + e[9] as usize);
            assert_eq!(b.len(), n_full * SKIP_ENTRY + end);
        }
        let mut c = Cursor::new_for_test(&b, df as u32);
        let mut got = Vec::new();
        while c.doc != NO_MORE {
            got.push((c.doc, c.tf(0)));
            c.next();
        }
        assert_eq!(got, docs.iter().copied().zip(tfs.iter().copied()).collect::<Vec<_>>(), "df {df}");
        for (i, &d) in docs.iter().enumerate() {
            let mut c = Cursor::new_for_test(&b, df as u32);
            assert_eq!(c.advance(d - 1), d);
            assert_eq!(c.tf(0), tfs[i]);
            assert_eq!(c.advance(d + 1), docs.get(i + 1).copied().unwrap_or(NO_MORE));
        }
        let mut c = Cursor::new_for_test(&b, df as u32);
        assert_eq!(c.advance(u32::MAX - 1), NO_MORE);
    }
}

#[test]
fn builds_identical_bytes_for_any_thread_count_and_finds_every_term() {
    let dir = crate::testutil::scratch("text-build");
    let docs = corpus(3000);
    let texts: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
    let ids: Vec<u64> = (0..docs.len() as u64).map(|i| i * 10).collect();
    let (b, o) = concat(&texts);
    let f = [FieldInput { name: "body".into(), weight: 1.0, text: &b, offsets: &o }];
    let mut bytes = Vec::new();
    for threads in [1, 3] {
        let mut op = opts(PairKind::Cooc);
        op.threads = threads;
        let p = dir.join(format!("t{threads}.rti"));
        build(&p, HeaderFields::default(), "{}", &ExtIds::U64(&ids), &f, &ExtIds::U64(&[]), &op, &CancelToken::new()).unwrap();
        bytes.push(std::fs::read(&p).unwrap());
    }
    assert_eq!(bytes[0], bytes[1]);
    let idx = TextIndex::open(&dir.join("t1.rti")).unwrap();
    assert_eq!(idx.n, 3000);
    for o in 0..idx.num_terms as u32 {
        let k = idx.term_key(o).unwrap();
        assert_eq!(idx.lookup(&k).unwrap().ord, o);
    }
    assert!(idx.lookup(b"\x00zzz").is_none());
    assert_eq!(idx.internal_id("20"), Some(2));
    assert_eq!(idx.internal_id("21"), None);
    // forward list of doc 5 = its distinct tokens with counts
    let fw = idx.forward(5).unwrap();
    let mut want: Vec<(Vec<u8>, u32)> = Vec::new();
    for t in docs[5].split(' ') {
        let mut k = vec![0u8];
        k.extend_from_slice(t.as_bytes());
        match want.iter_mut().find(|x| x.0 == k) {
            Some(x) => x.1 += 1,
            None => want.push((k, 1)),
        }
    }
    want.sort();
    assert_eq!(fw.iter().map(|&(o, tf)| (idx.term_key(o).unwrap(), tf)).collect::<Vec<_>>(), want);
}

#[test]
fn pairs_do_not_change_results() {
    let dir = crate::testutil::scratch("text-pairs");
    let docs = corpus(4000);
    let texts: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
    let ids: Vec<u64> = (0..docs.len() as u64).collect();
    let with = build_index(&dir, "p.rti", &texts, &ids, PairKind::Cooc);
    let without = build_index(&dir, "n.rti", &texts, &ids, PairKind::Off);
    let mut used = 0;
    for q in ["w0 w1", "w0 w2", "w1 w3 w0", "w0 OR w1", "w2 -w0", "(w0 OR w5) w1", "w0", "w7 AND w0"] {
        for k in [0, 1, 10, 5000] {
            let p = SearchParams { k, ..Default::default() };
            let a = search(&with, q, &p).unwrap();
            let b = search(&without, q, &p).unwrap();
            used += a.pairs_used;
            assert_eq!((a.docs, a.scores, a.total), (b.docs, b.scores, b.total), "{q} k={k}");
        }
    }
    assert!(used > 0, "the planner never used a pair");
}

#[test]
fn add_tombstones_hides_documents_and_keeps_everything_else() {
    let d = crate::testutil::scratch("text-retomb");
    let docs = ["apple pie", "apple tart", "apple crumble", "pear tart"];
    let idx = build_index(&d, "a.rti", &docs, &[10, 20, 30, 40], PairKind::Off);
    let p = SearchParams::default();
    assert_eq!(search(&idx, "apple", &p).unwrap().total, 3);
    let src = d.join("a.rti");
    let dst = d.join("b.rti");
    let r = retombstone::add_tombstones(&src, &dst, 7, 0, 1, &["20".into(), "99".into(), "nope".into()]).unwrap();
    assert_eq!((r.tombstones, r.added, r.unknown), (1, 1, 2));
    let b = TextIndex::open(&dst).unwrap();
    let h = search(&b, "apple", &p).unwrap();
    assert_eq!(h.docs.iter().map(|&x| b.ext_id_string(x)).collect::<Vec<_>>().len(), 2);
    assert!(h.docs.iter().all(|&x| b.ext_id_string(x) != "20"));
    // statistics are those of the file (deleted documents still count), so the scores do not move
    let a = search(&idx, "apple", &p).unwrap();
    for (i, &doc) in h.docs.iter().enumerate() {
        let j = a.docs.iter().position(|&x| x == doc).unwrap();
        assert_eq!(h.scores[i], a.scores[j]);
    }
    // again on the result: the union
    let e = d.join("c.rti");
    let r2 = retombstone::add_tombstones(&dst, &e, 8, 0, 1, &["30".into(), "20".into()]).unwrap();
    assert_eq!((r2.tombstones, r2.added), (2, 1));
    assert_eq!(search(&TextIndex::open(&e).unwrap(), "apple", &p).unwrap().total, 1);
    assert_eq!(crate::container::Container::open(&e).unwrap().header.fields.version, 8);
}

/// AND and OR over a dense term (its doc bitset answers the probes) rank like the sum of the
/// single-term scores over the docs both (AND) or either (OR) hold.
#[test]
fn dense_terms_answer_and_or_like_brute_force() {
    let d = crate::testutil::scratch("text-dense");
    let n = 6000usize;
    let texts: Vec<String> = (0..n)
        .map(|i| {
            let mut t = vec!["filler"; 1 + i % 7];
            if i % 2 == 0 {
                t.push("common");
            }
            if i % 19 == 0 {
                t.push("rare");
            }
            if i % 3 == 0 && i % 4 == 0 {
                t.push("common");
            }
            if i % 3 != 1 {
                t.push("also");
            }
            t.join(" ")
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let ids: Vec<u64> = (0..n as u64).collect();
    let idx = build_index(&d, "dense.rti", &refs, &ids, PairKind::Off);
    let common = idx.lookup(b"\0common").unwrap();
    assert!(idx.dense_bits(&common).is_some(), "df {} makes a dense term", common.df);
    let all = SearchParams { k: n, ..SearchParams::default() };
    let single = |q: &str| -> std::collections::HashMap<u32, f64> {
        let h = search(&idx, q, &all).unwrap();
        h.docs.into_iter().zip(h.scores).collect()
    };
    let (c, r, a) = (single("common"), single("rare"), single("also"));
    assert!(idx.dense_bits(&idx.lookup(b"\0also").unwrap()).is_some());
    for (q, and) in [("rare AND common", true), ("rare OR common", false), ("also AND common", true)] {
        let r = if q.starts_with("also") { &a } else { &r };
        let mut want: Vec<(f64, u32)> = if and {
            r.iter().filter_map(|(doc, s)| c.get(doc).map(|cs| (s + cs, *doc))).collect()
        } else {
            let mut m = c.clone();
            for (doc, s) in r.iter() {
                *m.entry(*doc).or_insert(0.0) += s;
            }
            m.into_iter().map(|(doc, s)| (s, doc)).collect()
        };
        want.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let got = search(&idx, q, &SearchParams { k: 10, ..SearchParams::default() }).unwrap();
        assert_eq!(got.docs.len(), 10, "{q}");
        for (i, (&doc, &s)) in got.docs.iter().zip(&got.scores).enumerate() {
            assert!((s - want[i].0).abs() < 1e-9, "{q}: rank {i}: {s} vs {}", want[i].0);
            // equal scores may list their docs in either order only if they tie
            if (want[i].0 - want.get(i + 1).map_or(f64::MIN, |w| w.0)).abs() > 1e-12
                && (i == 0 || (want[i - 1].0 - want[i].0).abs() > 1e-12)
            {
                assert_eq!(doc, want[i].1, "{q}: rank {i}");
            }
        }
    }
}

/// Conjunctions of 2 and 3 terms, some with a NOT, over terms of every kind (dense with a bitset,
/// merged blocks, a short tail) rank like the sum of the single-term scores over the docs all hold;
/// disjunctions like the sum over the docs any holds.
#[test]
fn conjunctions_and_disjunctions_rank_like_brute_force() {
    let d = crate::testutil::scratch("text-and");
    let n = 20000;
    let mut texts = corpus(n);
    // rare terms too: two singletons in one doc, lists of 2, 7 and 207 docs (one full block and
    // a tail), so followers that are singletons and tails are merged as well
    for (doc, w) in [(5, "s0 s1 s2 s5"), (77, "s2"), (6000, "s5")] {
        texts[doc] += &format!(" {w}");
    }
    for i in (0..n).step_by(97) {
        texts[i] += " s3";
    }
    for i in (0..n).step_by(3001) {
        texts[i] += " s4";
    }
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let ids: Vec<u64> = (0..n as u64).collect();
    let idx = build_index(&d, "and.rti", &refs, &ids, PairKind::Off);
    let all = SearchParams { k: n, ..SearchParams::default() };
    let words: Vec<String> = (0..60).map(|i| format!("w{i}")).chain((0..6).map(|i| format!("s{i}"))).collect();
    let single: Vec<std::collections::HashMap<u32, f64>> = words
        .iter()
        .map(|w| {
            let h = search(&idx, w, &all).unwrap();
            h.docs.into_iter().zip(h.scores).collect()
        })
        .collect();
    let dense = words.iter().filter(|w| idx.lookup(format!("\0{w}").as_bytes()).is_some_and(|t| idx.dense_bits(&t).is_some())).count();
    assert!((2..30).contains(&dense), "{dense} dense terms: the test needs pairs of them and other terms");
    let mut s = 99u64;
    let mut pick = |m: usize| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 33) as usize % m
    };
    let mut checked = 0;
    // rare terms as leader and follower: singletons, tails, one block
    let fixed: [&[usize]; 8] = [&[60, 61], &[61, 60], &[60, 62], &[62, 65], &[63, 1], &[64, 63], &[62, 63, 0], &[61, 65, 62]];
    for q in 0..300 + fixed.len() {
        let mut terms: Vec<usize> = fixed.get(q.wrapping_sub(300)).map_or(Vec::new(), |f| f.to_vec());
        let k = if terms.is_empty() { 2 + q % 2 } else { terms.len() };
        while terms.len() < k {
            let t = match q % 4 {
                0 => pick(8),
                // a rare term with any other
                1 if terms.is_empty() => 60 + pick(6),
                1 => pick(66),
                _ => pick(60),
            };
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        let not = (q % 5 == 0 && q < 300).then(|| {
            loop {
                let t = pick(20);
                if !terms.contains(&t) {
                    break t;
                }
            }
        });
        let mut text = terms.iter().map(|&t| words[t].as_str()).collect::<Vec<_>>().join(" AND ");
        if let Some(t) = not {
            text = format!("{text} NOT {}", words[t]);
        }
        let mut want: Vec<(f64, u32)> = single[terms[0]]
            .iter()
            .filter(|(doc, _)| terms[1..].iter().all(|&t| single[t].contains_key(doc)) && not.is_none_or(|t| !single[t].contains_key(doc)))
            .map(|(doc, _)| (terms.iter().map(|&t| single[t][doc]).sum(), *doc))
            .collect();
        want.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let got = search(&idx, &text, &SearchParams { k: 10, ..SearchParams::default() }).unwrap();
        // the plain-word fast path gives exactly what the general path (parentheses) gives
        assert_eq!(got, search(&idx, &format!("({text})"), &SearchParams { k: 10, ..SearchParams::default() }).unwrap(), "{text}");
        assert_eq!(got.docs.len(), want.len().min(10), "{text}");
        if got.total_exact {
            assert_eq!(got.total, want.len() as u64, "{text}");
        }
        for (i, (&doc, &sc)) in got.docs.iter().zip(&got.scores).enumerate() {
            assert!((sc - want[i].0).abs() < 1e-9, "{text}: rank {i}: {sc} vs {}", want[i].0);
            let tie = |j: usize| want.get(j).is_some_and(|w| (w.0 - want[i].0).abs() < 1e-12);
            if !tie(i + 1) && (i == 0 || !tie(i - 1)) {
                assert_eq!(doc, want[i].1, "{text}: rank {i}");
            }
        }
        checked += !want.is_empty() as usize;
    }
    assert!(checked > 200, "only {checked} queries matched anything");
    // disjunctions of the same mix (MaxScore, dense terms judged by membership)
    for q in 0..200 {
        let k = 2 + q % 2;
        let mut terms: Vec<usize> = Vec::new();
        while terms.len() < k {
            let t = pick(if q % 3 == 0 { 6 } else { 40 });
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        let text = terms.iter().map(|&t| words[t].as_str()).collect::<Vec<_>>().join(" OR ");
        let mut sum: std::collections::HashMap<u32, f64> = std::collections::HashMap::new();
        for &t in &terms {
            for (doc, s) in &single[t] {
                *sum.entry(*doc).or_insert(0.0) += s;
            }
        }
        let mut want: Vec<(f64, u32)> = sum.into_iter().map(|(d, s)| (s, d)).collect();
        want.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let got = search(&idx, &text, &SearchParams { k: 10, ..SearchParams::default() }).unwrap();
        assert_eq!(got.docs.len(), want.len().min(10), "{text}");
        for (i, &sc) in got.scores.iter().enumerate() {
            assert!((sc - want[i].0).abs() < 1e-9, "{text}: rank {i}: {sc} vs {}", want[i].0);
        }
    }
}

/// Plain-word queries (the fast path of `normalize`) give the tree the parser and analyzer give,
/// with one field and with two; anything else falls through to the general path.
#[test]
fn plain_word_queries_normalize_like_the_parser() {
    use super::query::{Norm, normalize, normalize_general};
    let d = crate::testutil::scratch("text-plain");
    let one = build_index(&d, "one.rti", &["alpha beta", "gamma"], &[1, 2], PairKind::Off);
    let (b, o) = concat(&["alpha", "beta"]);
    let f = [
        FieldInput { name: "title".into(), weight: 2.0, text: &b, offsets: &o },
        FieldInput { name: "body".into(), weight: 1.0, text: &b, offsets: &o },
    ];
    let path = d.join("two.rti");
    build(&path, HeaderFields::default(), "{}", &ExtIds::U64(&[1, 2]), &f, &ExtIds::U64(&[]), &opts(PairKind::Off), &CancelToken::new())
        .unwrap();
    let two = TextIndex::open(&path).unwrap();
    let long = "x".repeat(300);
    let queries = [
        "alpha",
        "Alpha BETA",
        "a AND b",
        "a OR b OR c",
        "a AND b AND a",
        "a OR A",
        "x y z",
        "  spaced   words ",
        "a AND b OR c",
        "a b AND c",
        "AND a",
        "a AND",
        "a OR",
        "a NOT b",
        "NOT a",
        "e-mail",
        "a\tb",
        "title:a",
        "\"a b\"",
        "a^2",
        "(a)",
        "é",
        "a AND AND b",
        "OR",
        "",
        "12 AND 3x",
        long.as_str(),
        "and or",
    ];
    for idx in [&one, &two] {
        for q in queries {
            for default_or in [false, true] {
                let fast: Result<Option<Norm>, _> = normalize(q, default_or, false, idx);
                let general = normalize_general(q, default_or, false, idx);
                assert_eq!(fast, general, "{q:?} (default_or {default_or}, {} fields)", idx.fields.len());
            }
        }
    }
}

#[test]
fn batch_search_matches_one_query_at_a_time_on_one_index_and_on_shards() {
    use super::batch::search_batch;
    use super::search::search_shards;
    let dir = crate::testutil::scratch("text-batch");
    let docs = corpus(3000);
    let texts: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
    let ids: Vec<u64> = (0..docs.len() as u64).collect();
    let whole = build_index(&dir, "w.rti", &texts, &ids, PairKind::Cooc);
    let a = build_index(&dir, "a.rti", &texts[..1500], &ids[..1500], PairKind::Cooc);
    let b = build_index(&dir, "b.rti", &texts[1500..], &ids[1500..], PairKind::Cooc);
    let queries: Vec<String> =
        ["w0 w1", "w0 OR w1", "w2 -w0", "-w0", "(w0 OR w5) w1", "w7 AND w0", "zzz", "w1 w3 w0"].iter().map(|s| s.to_string()).collect();
    let p = SearchParams { k: 7, ..Default::default() };
    let cancel = CancelToken::new();
    assert!(search_batch(&[&whole], &[], &p, 4, &cancel).unwrap().is_empty());
    for threads in [1, 3] {
        let one = search_batch(&[&whole], &queries, &p, threads, &cancel).unwrap();
        assert_eq!(one.len(), queries.len());
        for (q, (r, us)) in queries.iter().zip(&one) {
            assert!(*us >= 0.0);
            match (r, search(&whole, q, &p)) {
                (Ok((h, shards)), Ok(want)) => {
                    assert_eq!(h, &want, "{q}");
                    assert_eq!(shards, &vec![0; want.docs.len()], "{q}");
                }
                (Err(e), Err(want)) => assert_eq!(e, &want, "{q}"),
                (got, want) => panic!("{q}: {got:?} vs {want:?}"),
            }
        }
        assert!(one[3].0.is_err(), "a pure NOT query is an error unless allowed");
        let both = search_batch(&[&a, &b], &queries, &p, threads, &cancel).unwrap();
        for (q, (r, _)) in queries.iter().zip(&both) {
            match (r, search_shards(&[&a, &b], q, &p)) {
                (Ok((h, shards)), Ok((hits, total, exact, pairs))) => {
                    assert_eq!(h.docs, hits.iter().map(|x| x.1).collect::<Vec<_>>(), "{q}");
                    assert_eq!(h.scores, hits.iter().map(|x| x.2).collect::<Vec<_>>(), "{q}");
                    assert_eq!(shards, &hits.iter().map(|x| x.0).collect::<Vec<_>>(), "{q}");
                    assert_eq!((h.total, h.total_exact, h.pairs_used), (total, exact, pairs), "{q}");
                }
                (Err(e), Err(want)) => assert_eq!(e, &want, "{q}"),
                (got, want) => panic!("{q}: {got:?} vs {want:?}"),
            }
        }
    }
    let stop = CancelToken::new();
    stop.cancel();
    assert!(search_batch(&[&whole], &queries, &p, 2, &stop).is_err());
}

/// Recompute every CRC of a container image (sections, table, header, footer), as a writer bug or
/// a bad copy that re-sealed damaged bytes would leave it: only the structure can tell.
fn reseal(b: &mut [u8]) {
    use crate::checksum::crc32c;
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
    let (count, table) = (u32_at(b, 20) as usize, u64_at(b, 24) as usize);
    for s in 0..count {
        let e = table + 32 * s;
        let (off, len) = (u64_at(b, e + 8) as usize, u64_at(b, e + 16) as usize);
        if let Some(body) = b.get(off..off.saturating_add(len)) {
            let c = crc32c(body);
            b[e + 24..e + 28].copy_from_slice(&c.to_le_bytes());
        }
    }
    let tc = crc32c(&b[table..table + 32 * count]);
    b[52..56].copy_from_slice(&tc.to_le_bytes());
    let f = b.len() - 32;
    b[f + 16..f + 20].copy_from_slice(&tc.to_le_bytes());
    let hc = crc32c(&b[..60]);
    b[60..64].copy_from_slice(&hc.to_le_bytes());
}

/// Where each section's body lies: (kind, offset, length).
fn sections(b: &[u8]) -> Vec<(u32, usize, usize)> {
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap()) as usize;
    let (count, table) = (u32::from_le_bytes(b[20..24].try_into().unwrap()) as usize, u64_at(24));
    (0..count)
        .map(|s| {
            (u32::from_le_bytes(b[table + 32 * s..][..4].try_into().unwrap()), u64_at(table + 32 * s + 8), u64_at(table + 32 * s + 16))
        })
        .collect()
}

/// One query's (docs, scores, total) or its error message.
type Answer = Result<(Vec<u32>, Vec<f64>, u64), String>;

/// What queries return, for comparing a damaged copy with the original.
fn answers(idx: &TextIndex, queries: &[&str]) -> Vec<Answer> {
    queries
        .iter()
        .map(|q| search(idx, q, &SearchParams { k: 7, ..Default::default() }).map(|h| (h.docs, h.scores, h.total)).map_err(|e| e.message()))
        .collect()
}

#[test]
fn resealed_damage_is_a_corrupt_error_or_a_well_formed_answer_never_a_panic() {
    let d = crate::testutil::scratch("text-reseal");
    let texts = corpus(3000);
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let ids: Vec<u64> = (0..refs.len() as u64).map(|i| 1000 + 3 * i).collect();
    let queries = ["w0", "w1 w2", "w0 OR w5 OR w30", "w3 AND NOT w0", "\"w1 w2\"", "w0 w1 w2 w3", "w200", "w7 OR w249"];
    for pairs in [PairKind::Off, PairKind::Cooc] {
        let idx = build_index(&d, "good.rti", &refs, &ids, pairs);
        let want = answers(&idx, &queries);
        let good = std::fs::read(d.join("good.rti")).unwrap();
        let secs: Vec<_> = sections(&good).into_iter().filter(|s| s.2 > 0).collect();
        let (mut corrupt, mut same, mut other) = (0, 0, 0);
        let mut seed = 18u64 + pairs as u64;
        let mut next = || {
            seed = crate::rand::splitmix(seed);
            seed
        };
        for round in 0..300 {
            let mut b = good.clone();
            let (kind, off, len) = secs[next() as usize % secs.len()];
            // 1-3 bytes: random values, or +-1 (a near miss that keeps most structure)
            for _ in 0..1 + next() % 3 {
                let at = off + next() as usize % len;
                b[at] = match next() % 3 {
                    0 => next() as u8,
                    1 => b[at].wrapping_add(1),
                    _ => b[at].wrapping_sub(1),
                };
            }
            if b == good {
                continue;
            }
            reseal(&mut b);
            let path = d.join("bad.rti");
            std::fs::write(&path, &b).unwrap();
            let opened = std::panic::catch_unwind(|| TextIndex::open(&path));
            let idx = match opened {
                Err(_) => panic!("round {round}: open panicked on an edit of section {kind}"),
                Ok(Err(crate::error::Error::Corrupt { path: p, .. })) => {
                    assert!(p.ends_with("bad.rti"));
                    corrupt += 1;
                    continue;
                }
                Ok(Err(e)) => panic!("round {round}: section {kind}: not a corrupt-file error: {e}"),
                Ok(Ok(idx)) => idx,
            };
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answers(&idx, &queries)))
                .unwrap_or_else(|_| panic!("round {round}: a query panicked on an edit of section {kind}"));
            for h in got.iter().flatten() {
                assert!(h.0.iter().all(|&doc| doc < idx.n), "round {round}: a hit is not a document");
            }
            if got == want { same += 1 } else { other += 1 }
        }
        // most edits are caught; the rest (a tf, a length code, a block maximum, an id's digits)
        // leave a well-formed index that no check can tell from the one the writer meant
        eprintln!("{pairs:?}: {corrupt} corrupt, {same} same answers, {other} other well-formed answers");
        assert!(corrupt > 100, "{corrupt} of 300 edits caught");
    }
}

#[test]
fn structural_damage_is_caught_at_open() {
    let d = crate::testutil::scratch("text-structure");
    let texts = corpus(1000);
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let ids: Vec<u64> = (0..refs.len() as u64).collect();
    build_index(&d, "good.rti", &refs, &ids, PairKind::Off);
    let good = std::fs::read(d.join("good.rti")).unwrap();
    let body = |b: &[u8], k: u32| sections(b).into_iter().find(|s| s.0 == k).map(|s| (s.1, s.2)).unwrap();
    let (post, _) = body(&good, SECTION_POSTINGS);
    let (fields, _) = body(&good, SECTION_FIELDS);
    let (blocks, _) = body(&good, SECTION_DICT_BLOCKS);
    type Edit = Box<dyn Fn(&mut [u8])>;
    let cases: Vec<(&str, Edit)> = vec![
        // the first list's first skip entry: its last doc past the documents
        ("a block's last doc", Box::new(move |b| b[post..post + 4].copy_from_slice(&5000u32.to_le_bytes()))),
        // its doc bit width above 32 (a panic in the unpacker before)
        ("a block's bit width", Box::new(move |b| b[post + 8] = 40)),
        // its block offset
        ("blocks are not back to back", Box::new(move |b| b[post + 4] ^= 0x10)),
        // the document count far above the doc-lens section
        ("doc-lens", Box::new(move |b| b[fields..fields + 4].copy_from_slice(&u32::MAX.to_le_bytes()))),
        // k1 = NaN
        ("BM25 parameters", Box::new(move |b| b[fields + 28 + 2 + 4 + 12..][..8].copy_from_slice(&f64::NAN.to_le_bytes()))),
        // the first dictionary block's term count
        ("wrong number of terms", Box::new(move |b| b[blocks + 8] ^= 1)),
    ];
    for (what, edit) in cases {
        let mut b = good.clone();
        edit(&mut b);
        reseal(&mut b);
        let path = d.join("bad.rti");
        std::fs::write(&path, &b).unwrap();
        match std::panic::catch_unwind(|| TextIndex::open(&path)) {
            Ok(Err(crate::error::Error::Corrupt { message, .. })) => eprintln!("{what}: {message}"),
            Ok(Err(e)) => panic!("{what}: {e}"),
            Ok(Ok(_)) => panic!("{what}: opened"),
            Err(_) => panic!("{what}: panicked"),
        }
    }
}

#[test]
fn top_terms_are_the_highest_df_terms_of_a_brute_force_count() {
    let dir = crate::testutil::scratch("text-top-terms");
    let texts = corpus(3000);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ids: Vec<u64> = (0..texts.len() as u64).collect();
    let idx = build_index(&dir, "t.rti", &refs, &ids, PairKind::Off);
    let mut df = std::collections::HashMap::<&str, u32>::new();
    for t in &texts {
        let mut seen: Vec<&str> = t.split(' ').collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1;
        }
    }
    let mut want: Vec<(String, u32)> = df.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for n in [0usize, 1, 7, 40, want.len() + 5] {
        let got = idx.top_terms(n);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], want[..n.min(want.len())].to_vec(), "top {n}");
    }
}
