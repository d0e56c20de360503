use super::*;
use crate::testutil::*;

fn rng_data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n * dim)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

fn brute(data: &[f32], n: usize, dim: usize, q: &[f32], k: usize, metric: Metric) -> Vec<u64> {
    let mut v: Vec<(f64, u64)> = (0..n)
        .map(|r| {
            let row = &data[r * dim..(r + 1) * dim];
            let d = match metric {
                Metric::L2 => row.iter().zip(q).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>(),
                _ => -row.iter().zip(q).map(|(a, b)| (a * b) as f64).sum::<f64>(),
            };
            (d, r as u64)
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v.into_iter().take(k).map(|x| x.1).collect()
}

fn recall(idx: &VectorIndex, data: &[f32], n: usize, dim: usize, qs: &[f32], p: &SearchParams, metric: Metric) -> f64 {
    let r = idx.search(qs, p, &CancelToken::new()).unwrap();
    let nq = qs.len() / dim;
    let mut hit = 0;
    for q in 0..nq {
        let truth = brute(data, n, dim, &qs[q * dim..(q + 1) * dim], p.k, metric);
        hit += r.ids[q * p.k..(q + 1) * p.k].iter().filter(|&&id| truth.contains(&(id as u64))).count();
    }
    hit as f64 / (nq * p.k) as f64
}

fn params(k: usize, ef: usize, nprobe: usize, rerank: usize) -> SearchParams {
    SearchParams { k, ef, nprobe, rerank, threads: 2 }
}

#[test]
fn flat_equals_brute_force_exactly() {
    let (n, dim) = (500, 37);
    let data = rng_data(n, dim, 1);
    let ids: Vec<u64> = (0..n as u64).collect();
    let qs = rng_data(20, dim, 2);
    for metric in [Metric::L2, Metric::Ip] {
        let idx = VectorIndex::build(
            &data,
            &ids,
            dim,
            &BuildOptions { kind: IndexType::Flat, metric, ..Default::default() },
            &CancelToken::new(),
        )
        .unwrap();
        assert_eq!(recall(&idx, &data, n, dim, &qs, &params(10, 0, 0, 0), metric), 1.0, "{metric:?}");
    }
}

#[test]
fn hnsw_and_ivf_find_the_neighbours_and_rebuild_identically() {
    let (n, dim) = (3000, 24);
    let data = rng_data(n, dim, 3);
    let ids: Vec<u64> = (0..n as u64).map(|i| i * 7 + 1).collect();
    let qs = rng_data(50, dim, 4);
    let dir = scratch("vector");
    for (kind, quant) in [
        (IndexType::Hnsw, Quant::F32),
        (IndexType::Hnsw, Quant::F16),
        (IndexType::Hnsw, Quant::Sq8),
        (IndexType::Ivf, Quant::F32),
        (IndexType::Ivf, Quant::Sq8),
    ] {
        let mk = |threads| BuildOptions {
            kind,
            quant,
            m: 12,
            ef_construction: 100,
            nlist: 40,
            seed: 9,
            threads,
            keep_f32: true,
            ..Default::default()
        };
        let a = VectorIndex::build(&data, &ids, dim, &mk(1), &CancelToken::new()).unwrap();
        let b = VectorIndex::build(&data, &ids, dim, &mk(3), &CancelToken::new()).unwrap();
        let (pa, pb) = (dir.join("a.rvec"), dir.join("b.rvec"));
        a.write(&pa, Default::default(), "{}").unwrap();
        b.write(&pb, Default::default(), "{}").unwrap();
        assert_eq!(std::fs::read(&pa).unwrap(), std::fs::read(&pb).unwrap(), "{kind:?} {quant:?}: thread count changed the bytes");
        let loaded = VectorIndex::open(&pa).unwrap();
        let mapped: Vec<f32> = data.clone();
        let p = params(10, 200, 40, 40);
        let r = loaded.search(&qs, &p, &CancelToken::new()).unwrap();
        let nq = qs.len() / dim;
        let mut hit = 0;
        for q in 0..nq {
            let truth: Vec<u64> =
                brute(&mapped, n, dim, &qs[q * dim..(q + 1) * dim], 10, Metric::L2).into_iter().map(|r| r * 7 + 1).collect();
            hit += r.ids[q * 10..(q + 1) * 10].iter().filter(|&&id| truth.contains(&(id as u64))).count();
        }
        let rec = hit as f64 / (nq * 10) as f64;
        assert!(rec >= 0.97, "{kind:?} {quant:?}: recall {rec}");
    }
}

#[test]
fn bad_input_is_refused_with_the_row() {
    let data = vec![0.0, 1.0, f32::NAN, 2.0];
    let e = VectorIndex::build(&data, &[1, 2], 2, &BuildOptions::default(), &CancelToken::new()).err().unwrap();
    assert!(e.to_string().contains("row 1: element 0"), "{e}");
    let ok = VectorIndex::build(
        &[0.0, 1.0, 2.0, 3.0],
        &[1, 2],
        2,
        &BuildOptions { kind: IndexType::Flat, ..Default::default() },
        &CancelToken::new(),
    )
    .unwrap();
    assert!(
        ok.search(&[0.0, 1.0], &params(3, 0, 0, 0), &CancelToken::new())
            .err()
            .unwrap()
            .to_string()
            .contains("k 3 is larger than the index")
    );
    assert!(ok.search(&[0.0, 1.0, 2.0], &params(1, 0, 0, 0), &CancelToken::new()).is_err());
}

#[test]
fn sq8_round_trips_within_half_a_step_and_scores_like_f32() {
    let (n, dim) = (400, 50);
    let mut data = rng_data(n, dim, 11);
    // anisotropic: dimension j scaled by 1/(j+1), one flat dimension
    for r in 0..n {
        for j in 0..dim {
            data[r * dim + j] /= (j + 1) as f32;
        }
        data[r * dim + 3] = 0.25;
    }
    let s = store::Store::encode(&data, n, dim, Quant::Sq8);
    let q = s.sq8.as_ref().unwrap();
    for r in 0..n {
        let codes = s.u8_row(r);
        for j in 0..dim {
            let back = q.decode(codes[j], j);
            assert!((back - data[r * dim + j]).abs() <= q.step[j] / 2.0 + 1e-6, "row {r} dim {j}");
        }
    }
    // the SQ8 distance equals the f32 distance to the decoded row, up to the query's i16 rounding
    for metric in [Metric::L2, Metric::Ip] {
        let sc = store::Scorer::new(&s, metric);
        let query: Vec<f32> = rng_data(1, dim, 12);
        let prepared = sc.prepare(&query);
        for r in 0..20 {
            let decoded: Vec<f32> = (0..dim).map(|j| q.decode(s.u8_row(r)[j], j)).collect();
            let exact: f32 = if metric == Metric::L2 {
                decoded.iter().zip(&query).map(|(a, b)| (a - b) * (a - b)).sum()
            } else {
                -decoded.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>()
            };
            let got = sc.dist(&prepared, r);
            assert!((got - exact).abs() <= 1e-3 * exact.abs().max(1.0), "{metric:?} row {r}: {got} vs {exact}");
        }
    }
}

#[test]
fn hnsw_and_ivf_with_inner_product_and_cosine() {
    let (n, dim) = (2000, 16);
    let data = rng_data(n, dim, 21);
    let ids: Vec<u64> = (0..n as u64).collect();
    let qs = rng_data(30, dim, 22);
    for metric in [Metric::Ip, Metric::Cosine] {
        // the truth: inner product of (normalised, for cosine) vectors
        let prep = |v: &[f32]| -> Vec<f32> {
            let mut v = v.to_vec();
            if metric == Metric::Cosine {
                for r in 0..v.len() / dim {
                    store::normalize(&mut v[r * dim..(r + 1) * dim]);
                }
            }
            v
        };
        let (d2, q2) = (prep(&data), prep(&qs));
        for kind in [IndexType::Hnsw, IndexType::Ivf] {
            let idx = VectorIndex::build(
                &data,
                &ids,
                dim,
                &BuildOptions { kind, metric, m: 12, ef_construction: 100, nlist: 20, ..Default::default() },
                &CancelToken::new(),
            )
            .unwrap();
            let rec = recall(&idx, &d2, n, dim, &q2, &params(10, 200, 20, 0), Metric::Ip);
            assert!(rec >= 0.95, "{metric:?} {kind:?}: recall {rec}");
        }
    }
}

fn opened(idx: &VectorIndex, name: &str) -> (std::path::PathBuf, VectorIndex) {
    let d = scratch(name);
    let p = d.join("v.rvec");
    idx.write(&p, HeaderFields::default(), "{}").unwrap();
    let o = VectorIndex::open(&p).unwrap();
    (p, o)
}

/// The f32 re-rank rows are mapped, not read at open: a flipped byte there is found by the row's
/// checksum when a query re-ranks that row (exit 3), never a silently different answer.
#[test]
fn a_damaged_rerank_row_is_refused_when_used() {
    let (n, dim) = (300, 24);
    let data = rng_data(n, dim, 11);
    let ids: Vec<u64> = (0..n as u64).collect();
    let o = BuildOptions { kind: IndexType::Flat, quant: Quant::Sq8, keep_f32: true, ..Default::default() };
    let idx = VectorIndex::build(&data, &ids, dim, &o, &CancelToken::new()).unwrap();
    let (p, good) = opened(&idx, "f32-flip");
    let qs = rng_data(5, dim, 12);
    let want = good.search(&qs, &params(5, 0, 0, n), &CancelToken::new()).unwrap();
    let c = Container::open(&p).unwrap();
    let f32s = *c.sections.iter().find(|s| s.kind == SECTION_F32).unwrap();
    let orig = std::fs::read(&p).unwrap();
    let mut rng = crate::testutil::Rng(77);
    for case in 0..40 {
        let mut b = orig.clone();
        let at = f32s.offset as usize + rng.below(f32s.length) as usize;
        b[at] ^= 1 << rng.below(8);
        std::fs::write(&p, &b).unwrap();
        let idx = VectorIndex::open(&p).expect("the f32 rows are not read at open");
        match idx.search(&qs, &params(5, 0, 0, n), &CancelToken::new()) {
            Err(Error::Corrupt { message, offset, length, .. }) => {
                assert!(message.contains("f32 row"), "{message}");
                assert!((offset..offset + length).contains(&(at as u64)), "case {case}: {offset}+{length} does not hold {at}");
            }
            Err(e) => panic!("case {case}: {e}"),
            Ok(r) => panic!("case {case}: a damaged row was used (same ids: {})", r.ids == want.ids),
        }
    }
    // a file written before the row checksums (their section renamed to a kind this reader skips):
    // the whole section's checksum is checked on first use
    let mut b = orig.clone();
    let crc_at = c.sections.iter().position(|s| s.kind == SECTION_F32_CRC).unwrap();
    let t = c.header.table_offset as usize + 32 * crc_at;
    b[t..t + 4].copy_from_slice(&999u32.to_le_bytes());
    crate::testutil::reseal(&mut b);
    std::fs::write(&p, &b).unwrap();
    let old = VectorIndex::open(&p).unwrap();
    assert_eq!(old.search(&qs, &params(5, 0, 0, n), &CancelToken::new()).unwrap().ids, want.ids);
    b[f32s.offset as usize + 5] ^= 4;
    std::fs::write(&p, &b).unwrap();
    let old = VectorIndex::open(&p).unwrap();
    let e = old.search(&qs, &params(5, 0, 0, n), &CancelToken::new()).err().expect("refused");
    assert!(e.to_string().contains("f32 section: checksum mismatch"), "{e}");
    assert!(old.rows_f32().is_err());
}

/// Re-sealed damage of every section of HNSW / IVF / flat files at each precision: refused as
/// corrupt at open, or searches run to the end (no panic, no endless walk).
#[test]
fn resealed_damage_is_refused_or_harmless() {
    use crate::testutil::{Rng, resealed_edit};
    let (n, dim) = (200, 20);
    let data = rng_data(n, dim, 21);
    let ids: Vec<u64> = (0..n as u64).map(|i| i * 3).collect();
    let qs = rng_data(4, dim, 22);
    let mut rng = Rng(0xfa17);
    let all = [
        SECTION_META,
        SECTION_IDS,
        SECTION_VECTORS,
        SECTION_SQ8,
        SECTION_F32,
        SECTION_F32_CRC,
        SECTION_HNSW_LEVELS,
        SECTION_HNSW_L0,
        SECTION_HNSW_UPPER_OFF,
        SECTION_HNSW_UPPER,
        SECTION_IVF_CENTROIDS,
        SECTION_IVF_OFFSETS,
    ];
    for (kind, quant) in
        [(IndexType::Hnsw, Quant::Sq8), (IndexType::Ivf, Quant::F16), (IndexType::Flat, Quant::F32), (IndexType::Hnsw, Quant::F32)]
    {
        let o = BuildOptions { kind, quant, keep_f32: quant != Quant::F32, m: 6, nlist: 8, ..Default::default() };
        let idx = VectorIndex::build(&data, &ids, dim, &o, &CancelToken::new()).unwrap();
        let (p, _) = opened(&idx, &format!("reseal-{}-{}", kind.name(), quant.name()));
        let orig = std::fs::read(&p).unwrap();
        let mut refused = 0;
        for i in 0..400 {
            let (bytes, what) = resealed_edit(&orig, &all, &mut rng);
            std::fs::write(&p, &bytes).unwrap();
            let r = std::panic::catch_unwind(|| match VectorIndex::open(&p) {
                Err(Error::Corrupt { .. }) => true,
                Err(e) => panic!("{e}"),
                Ok(idx) => match idx.search(&qs, &params(5, 32, 4, 20), &CancelToken::new()) {
                    Ok(_) | Err(Error::Corrupt { .. }) => false,
                    Err(e) => panic!("{e}"),
                },
            });
            refused += r.unwrap_or_else(|_| panic!("{} {}: case {i} ({what}) panicked", kind.name(), quant.name())) as u32;
        }
        assert!(refused > 100, "{} {}: refused {refused}", kind.name(), quant.name());
    }
}

/// The k nearest of the rows `allow` admits (row numbers), by brute force.
fn brute_allowed(data: &[f32], n: usize, dim: usize, q: &[f32], k: usize, allow: &dyn Fn(usize) -> bool) -> Vec<u64> {
    let mut v: Vec<(f64, u64)> = (0..n)
        .filter(|&r| allow(r))
        .map(|r| (data[r * dim..(r + 1) * dim].iter().zip(q).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>(), r as u64))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v.into_iter().take(k).map(|x| x.1).collect()
}

/// Which input rows a filter case admits.
type Allow<'a> = Box<dyn Fn(usize) -> bool + 'a>;

#[test]
fn filtered_search_returns_only_allowed_rows_and_finds_their_neighbours() {
    let (n, dim, k) = (4000, 16, 10);
    let data = rng_data(n, dim, 11);
    // ids are row * 3 + 5, attributes 0..100 spread by a hash: a filter `attr < s` keeps s%
    let ids: Vec<u64> = (0..n as u64).map(|r| r * 3 + 5).collect();
    let attrs: Vec<i64> = (0..n as u64).map(|r| (crate::rand::splitmix(r) % 100) as i64).collect();
    let qs = rng_data(40, dim, 12);
    let nq = qs.len() / dim;
    let dir = scratch("vector-filter");
    for kind in [IndexType::Hnsw, IndexType::Ivf, IndexType::Flat] {
        let o = BuildOptions { kind, m: 12, ef_construction: 100, nlist: 64, threads: 2, ..Default::default() };
        let built = VectorIndex::build_with_attrs(&data, &ids, Some(&attrs), dim, &o, &CancelToken::new()).unwrap();
        let path = dir.join(format!("{kind:?}.rvec"));
        built.write(&path, HeaderFields::default(), "{}").unwrap();
        let idx = VectorIndex::open(&path).unwrap();
        // the attributes follow their rows through the IVF reordering and the file
        for r in 0..n {
            let input_row = ((idx.ids[r] - 5) / 3) as usize;
            assert_eq!(idx.attrs.as_ref().unwrap()[r], attrs[input_row], "{kind:?} row {r}");
        }
        let allow_list: Vec<u64> = (0..n as u64).filter(|r| r % 7 == 0).map(|r| r * 3 + 5).collect();
        let cases: Vec<(String, RowFilter, Allow)> = vec![
            ("attr < 1".into(), idx.row_filter(None, Some(&[(i64::MIN, 0)])).unwrap(), Box::new(|r| attrs[r] < 1)),
            ("attr < 10".into(), idx.row_filter(None, Some(&[(0, 9)])).unwrap(), Box::new(|r| attrs[r] < 10)),
            (
                "attr in [20, 69]".into(),
                idx.row_filter(None, Some(&[(20, 44), (45, 69)])).unwrap(),
                Box::new(|r| (20..70).contains(&attrs[r])),
            ),
            ("ids".into(), idx.row_filter(Some(&allow_list), None).unwrap(), Box::new(|r| r % 7 == 0)),
            (
                "ids and attr < 50".into(),
                idx.row_filter(Some(&allow_list), Some(&[(i64::MIN, 49)])).unwrap(),
                Box::new(|r| r % 7 == 0 && attrs[r] < 50),
            ),
        ];
        for (name, f, allow) in &cases {
            for mode in [FilterMode::Auto, FilterMode::Index, FilterMode::Scan] {
                let p = params(k, 64, 16, 0);
                let r = idx.search_filtered(&qs, &p, Some(f), mode, &CancelToken::new()).unwrap();
                let mut hit = 0;
                let mut want = 0;
                for q in 0..nq {
                    let truth = brute_allowed(&data, n, dim, &qs[q * dim..(q + 1) * dim], k, allow.as_ref());
                    let got: Vec<u64> = r.ids[q * k..(q + 1) * k].iter().filter(|&&id| id >= 0).map(|&id| (id as u64 - 5) / 3).collect();
                    // never a row the filter refuses; as many as exist
                    assert!(got.iter().all(|&row| allow(row as usize)), "{kind:?} {name} {mode:?}: a refused row");
                    assert_eq!(got.len(), truth.len(), "{kind:?} {name} {mode:?}: query {q}");
                    if mode == FilterMode::Scan || kind == IndexType::Flat {
                        assert_eq!(got, truth, "{kind:?} {name} {mode:?}: an exact scan is exact");
                    }
                    hit += got.iter().filter(|x| truth.contains(x)).count();
                    want += truth.len();
                }
                let recall = hit as f64 / want as f64;
                assert!(recall >= 0.9, "{kind:?} {name} {mode:?}: recall {recall}");
            }
        }
        // no filter: the same as a plain search
        let all = idx.row_filter(None, None).unwrap();
        let plain = idx.search(&qs, &params(k, 64, 8, 0), &CancelToken::new()).unwrap();
        let filtered = idx.search_filtered(&qs, &params(k, 64, 8, 0), Some(&all), FilterMode::Index, &CancelToken::new()).unwrap();
        if kind != IndexType::Ivf {
            assert_eq!(plain.ids, filtered.ids, "{kind:?}");
        }
    }
    // an index built without attributes refuses an attribute filter
    let plain = VectorIndex::build(&data, &ids, dim, &BuildOptions::default(), &CancelToken::new()).unwrap();
    assert!(plain.row_filter(None, Some(&[(0, 1)])).is_err());
}

#[test]
fn a_very_selective_filter_is_scanned_and_a_wide_one_walked() {
    let f1 = RowFilter::from_fn(60_000, |r| r % 100 == 0);
    let f50 = RowFilter::from_fn(60_000, |r| r % 2 == 0);
    assert!(filter::prefer_scan(&f1, 64, 32));
    assert!(!filter::prefer_scan(&f50, 64, 32));
    assert_eq!(f1.iter().count(), 600);
    assert_eq!(f1.iter().nth(3), Some(300));
    assert_eq!(f50.and(&f1).allowed(), 600);
}

#[test]
fn ivf_batch_scan_equals_one_query_at_a_time_bit_for_bit() {
    // 40 dims (padded rows), an odd number of queries and of rows per list, and every 10th row a
    // copy of the one before (ties, broken by row).
    let (n, dim) = (3000, 40);
    let mut data = rng_data(n, dim, 31);
    for r in (10..n).step_by(10) {
        data.copy_within((r - 1) * dim..r * dim, r * dim);
    }
    let ids: Vec<u64> = (0..n as u64).collect();
    let nq = 301;
    let qs = rng_data(nq, dim, 32);
    for (metric, quant) in [(Metric::L2, Quant::F32), (Metric::Ip, Quant::F32), (Metric::L2, Quant::F16), (Metric::L2, Quant::Sq8)] {
        let idx = VectorIndex::build(
            &data,
            &ids,
            dim,
            &BuildOptions { kind: IndexType::Ivf, metric, quant, nlist: 30, ..Default::default() },
            &CancelToken::new(),
        )
        .unwrap();
        for threads in [1, 2] {
            let p = SearchParams { k: 10, ef: 0, nprobe: 5, rerank: 0, threads };
            let batch = idx.search(&qs, &p, &CancelToken::new()).unwrap();
            for q in 0..nq {
                let one = idx.search(&qs[q * dim..(q + 1) * dim], &p, &CancelToken::new()).unwrap();
                let at = q * 10..(q + 1) * 10;
                assert_eq!(batch.ids[at.clone()], one.ids[..], "{metric:?} {quant:?} query {q}: ids");
                let bits = |d: &[f32]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&batch.distances[at]), bits(&one.distances), "{metric:?} {quant:?} query {q}: distances");
            }
        }
        // and each query's candidates are exactly those of a scan of its own lists
        let ivf = idx.ivf.as_ref().unwrap();
        let scorer = Scorer::new(&idx.store, metric);
        let prepared: Vec<_> = (0..nq).map(|q| scorer.prepare(&qs[q * dim..(q + 1) * dim])).collect();
        let padded: Vec<&[f32]> = prepared.iter().map(|q| q.padded()).collect();
        let probes = ivf.probes(metric, &padded, 5);
        let got = ivf.scan_batch(
            &probes,
            &|q: usize, r: u32| scorer.dist(&prepared[q], r as usize),
            &|q: [usize; 2], r: [u32; 2]| scorer.dist_2x2([&prepared[q[0]], &prepared[q[1]]], [r[0] as usize, r[1] as usize]),
            10,
        );
        for q in 0..nq {
            let want = ivf.scan(&probes[q], &|r: u32| scorer.dist(&prepared[q], r as usize), 10);
            assert_eq!(got[q], want, "{metric:?} {quant:?} query {q}: the batch scan's candidates");
        }
    }
}

#[test]
fn hnsw_search_that_stops_distances_early_finds_the_same_rows_and_bits() {
    // 300 dims (padded to 320): the bounded L2 sum looks at its partial sum after 256.
    let (n, dim) = (2500, 300);
    let data = rng_data(n, dim, 41);
    let ids: Vec<u64> = (0..n as u64).collect();
    let qs = rng_data(60, dim, 42);
    let idx = VectorIndex::build(
        &data,
        &ids,
        dim,
        &BuildOptions { kind: IndexType::Hnsw, m: 8, ef_construction: 64, ..Default::default() },
        &CancelToken::new(),
    )
    .unwrap();
    let hnsw = idx.hnsw.as_ref().unwrap();
    let scorer = Scorer::new(&idx.store, Metric::L2);
    let mut vis = Visited::new(n);
    let stopped = std::cell::Cell::new(0);
    for q in 0..qs.len() / dim {
        let pq = scorer.prepare(&qs[q * dim..(q + 1) * dim]);
        let dist = |r: u32| scorer.dist(&pq, r as usize);
        let below = |r: u32, bound: f32| {
            let d = scorer.dist_below(&pq, r as usize, bound);
            if d.to_bits() != dist(r).to_bits() {
                assert!(d >= bound && dist(r) >= bound, "a stopped sum {d} must mean a distance at or above {bound}");
                stopped.set(stopped.get() + 1);
            }
            d
        };
        for ef in [10, 40] {
            let fast = hnsw.search(&dist, &below, &idx.store, 10, ef, &mut vis);
            let whole = hnsw.search(&dist, &|r: u32, _| dist(r), &idx.store, 10, ef, &mut vis);
            assert_eq!(fast, whole, "query {q} ef {ef}");
        }
    }
    #[cfg(target_arch = "x86_64")]
    if crate::isa::selected() == crate::isa::Isa::Avx512 {
        assert!(stopped.get() > 0, "some distances stopped early");
    }
}

/// Rows in tight clusters of 32 around random centres, one row in every 97 far off on its own.
fn clustered_data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let centres = rng_data(n / 32 + 1, dim, seed);
    let noise = rng_data(n, dim, seed + 1);
    (0..n * dim)
        .map(|x| (x / dim, x % dim))
        .map(|(r, c)| centres[(r / 32) * dim + c] + noise[r * dim + c] * if r % 97 == 0 { 2.0 } else { 0.05 })
        .collect()
}

/// `h`'s `k` nearest to query `qv` with `ef`, scored by `scorer` over `store`.
fn walk(h: &Hnsw, scorer: &Scorer, store: &Store, qv: &[f32], k: usize, ef: usize, vis: &mut Visited) -> Vec<Cand> {
    let q = scorer.prepare(qv);
    h.search(&|x: u32| scorer.dist(&q, x as usize), &|x: u32, b: f32| scorer.dist_below(&q, x as usize, b), store, k, ef, vis)
}

/// The nodes a level-0 walk from the entry point cannot reach.
fn unreached(h: &Hnsw) -> usize {
    let n = h.levels.len();
    let mut seen = vec![false; n];
    let mut stack = vec![h.entry];
    seen[h.entry as usize] = true;
    while let Some(c) = stack.pop() {
        for &nb in h.links(c, 0) {
            if !seen[nb as usize] {
                seen[nb as usize] = true;
                stack.push(nb);
            }
        }
    }
    seen.iter().filter(|&&s| !s).count()
}

#[test]
fn every_node_of_a_built_graph_is_reachable_from_the_entry_point() {
    // Pruning can drop every link into a row (clustered data, small M), and such a row is never
    // found; the build links each one in from a reached neighbour.
    for (n, dim, m, seed) in [(6000, 24, 4, 81), (4000, 16, 3, 82), (5000, 32, 8, 83)] {
        let data = clustered_data(n, dim, seed);
        let store = Store::encode(&data, n, dim, Quant::F32);
        let scorer = Scorer::new(&store, Metric::L2);
        let h = Hnsw::build(&scorer, m, 24, seed, 2, &CancelToken::new()).unwrap();
        assert_eq!(unreached(&h), 0, "n {n} dim {dim} m {m}");
        for c in 0..n as u32 {
            assert!(h.links(c, 0).len() <= h.m0, "node {c} keeps at most 2M links");
        }
        // and a search as wide as the graph finds every row (a search of an unreached row cannot)
        let mut vis = Visited::new(n);
        for r in (0..n).step_by(7) {
            let found = walk(&h, &scorer, &store, &data[r * dim..(r + 1) * dim], 1, n, &mut vis);
            assert_eq!(found[0].d, 0.0, "row {r} found itself");
        }
    }
}

#[test]
fn inner_product_graphs_reach_every_row_when_norms_differ() {
    // Under inner product the rows of largest norm are every row's "nearest", so a graph on dot
    // products gives them the links and cuts small rows off (on Fashion-MNIST 56,743 of 60,000
    // rows, and recall@10 stopped at 0.67 at any ef). Rows whose norms span 100x, as two-tower
    // embeddings' can: every row reachable, and the search as good as before (0.99).
    let (n, dim) = (4000, 24);
    let dirs = clustered_data(n, dim, 91);
    let scale = rng_data(n, 1, 92);
    let data: Vec<f32> = (0..n * dim).map(|x| dirs[x] * 10f32.powf(2.0 * scale[x / dim] - 1.0)).collect();
    let store = Store::encode(&data, n, dim, Quant::F32);
    let scorer = Scorer::new(&store, Metric::Ip);
    let h = Hnsw::build(&scorer, 8, 64, 91, 2, &CancelToken::new()).unwrap();
    assert_eq!(unreached(&h), 0, "rows a walk from the entry point cannot reach");
    let qs = rng_data(50, dim, 93);
    let mut vis = Visited::new(n);
    let mut hit = 0;
    for qv in qs.chunks_exact(dim) {
        let found = walk(&h, &scorer, &store, qv, 10, 100, &mut vis);
        let truth = brute(&data, n, dim, qv, 10, Metric::Ip);
        hit += found.iter().filter(|c| truth.contains(&(c.id as u64))).count();
    }
    let recall = hit as f64 / (qs.len() / dim * 10) as f64;
    assert!(recall >= 0.95, "recall@10 {recall} at ef 100");
}

#[test]
fn a_renumbered_graph_finds_the_same_rows_at_the_same_distances() {
    // A graph over rows in input order, as `Hnsw::build` makes it, against the same graph
    // renumbered in breadth-first order (as a built index holds it) over the moved rows.
    let (n, dim) = (3000, 20);
    let data = rng_data(n, dim, 61);
    let qs = rng_data(40, dim, 62);
    let store = Store::encode(&data, n, dim, Quant::F32);
    let a = Scorer::new(&store, Metric::L2);
    let h = Hnsw::build(&a, 8, 64, 7, 2, &CancelToken::new()).unwrap();
    let order = h.bfs_order();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n as u32).collect::<Vec<_>>(), "a permutation of the rows");
    assert_eq!(order[0], h.entry, "the walk starts at the entry point");
    assert!(order.iter().enumerate().filter(|&(i, &o)| i as u32 != o).count() > n / 2, "most rows move");
    let r = h.renumbered(&order);
    let moved: Vec<f32> = order.iter().flat_map(|&old| data[old as usize * dim..(old as usize + 1) * dim].to_vec()).collect();
    let moved_store = Store::encode(&moved, n, dim, Quant::F32);
    let b = Scorer::new(&moved_store, Metric::L2);
    let (mut va, mut vb) = (Visited::new(n), Visited::new(n));
    for q in 0..qs.len() / dim {
        let qv = &qs[q * dim..(q + 1) * dim];
        let found = walk(&h, &a, &store, qv, 10, 40, &mut va);
        let again = walk(&r, &b, &moved_store, qv, 10, 40, &mut vb);
        let back: Vec<Cand> = again.iter().map(|c| Cand { d: c.d, id: order[c.id as usize] }).collect();
        assert_eq!(back, found, "query {q}");
    }
    // a built index holds its rows in that order: its ids and attributes follow them
    let ids: Vec<u64> = (0..n as u64).map(|i| 1000 + i).collect();
    let attrs: Vec<i64> = (0..n as i64).map(|i| i % 97 - 40).collect();
    let o = BuildOptions { kind: IndexType::Hnsw, m: 8, ef_construction: 64, seed: 7, threads: 2, ..Default::default() };
    let idx = VectorIndex::build_with_attrs(&data, &ids, Some(&attrs), dim, &o, &CancelToken::new()).unwrap();
    assert_eq!(idx.ids, order.iter().map(|&old| ids[old as usize]).collect::<Vec<_>>());
    assert_eq!(idx.attrs, Some(order.iter().map(|&old| attrs[old as usize]).collect::<Vec<_>>()));
    assert_eq!(idx.rows_f32().unwrap().unwrap(), moved);
}

#[test]
fn an_ivf_batch_holds_at_most_32_mib_of_queries_in_whole_panels() {
    let panel = crate::kernels::PANEL_ROWS;
    assert_eq!(ivf_batch(800), 64 * panel, "Fashion-MNIST rows: the most queries");
    assert_eq!(ivf_batch(1 << 16), 128, "65,536 dims: 32 MiB of queries");
    assert_eq!(ivf_batch(1 << 22), panel, "never less than a panel");
    for stride in [32, 800, 4096, 1 << 16] {
        assert_eq!(ivf_batch(stride) % panel, 0);
    }
}

#[test]
fn hnsw_finds_as_much_in_rows_sorted_by_cluster_as_in_shuffled_ones() {
    // Rows that arrive cluster by cluster (an export sorted by category, say): inserted in input
    // order, a batch of the parallel build holds one cluster's rows, which cannot link to each
    // other. The build inserts in a seeded order instead, so the input's order does not matter.
    let (clusters, per, dim) = (48usize, 250usize, 16usize);
    let n = clusters * per;
    let centers = rng_data(clusters, dim, 11);
    let noise = rng_data(n, dim, 12);
    let mut sorted = vec![0f32; n * dim];
    for r in 0..n {
        for j in 0..dim {
            sorted[r * dim + j] = centers[(r / per) * dim + j] * 4.0 + noise[r * dim + j];
        }
    }
    // The same rows shuffled (a seeded permutation), each keeping its id.
    let mut perm: Vec<usize> = (0..n).collect();
    let mut s = 99u64;
    for i in (1..n).rev() {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        perm.swap(i, ((s >> 33) as usize) % (i + 1));
    }
    let shuffled: Vec<f32> = perm.iter().flat_map(|&r| sorted[r * dim..(r + 1) * dim].iter().copied()).collect();
    let qs: Vec<f32> = (0..100).flat_map(|q| (0..dim).map(move |j| (q, j))).map(|(q, j)| sorted[(q * 37 % n) * dim + j] + 0.01).collect();
    let opts = BuildOptions { kind: IndexType::Hnsw, m: 8, ef_construction: 64, seed: 3, threads: 2, ..Default::default() };
    let p = params(10, 40, 0, 0);
    let build = |rows: &[f32], ids: &[u64]| VectorIndex::build(rows, ids, dim, &opts, &CancelToken::new()).unwrap();
    let sorted_ids: Vec<u64> = (0..n as u64).collect();
    let shuffled_ids: Vec<u64> = perm.iter().map(|&r| r as u64).collect();
    let a = recall(&build(&sorted, &sorted_ids), &sorted, n, dim, &qs, &p, Metric::L2);
    // Searched with the sorted rows' ids: the shuffled index returns each row's own id.
    let b = recall(&build(&shuffled, &shuffled_ids), &sorted, n, dim, &qs, &p, Metric::L2);
    assert!(a >= 0.9 && b >= 0.9, "recall@10 at ef 40: sorted input {a}, shuffled {b}");
    assert!(a >= b - 0.02, "rows sorted by cluster found less: {a} against {b} shuffled");
}

/// An HNSW index of 4,000 x 160 random f32 rows (seeded): 2.56 MB of rows, past the 2 MiB below
/// which an opened index's rows always stay mapped. Returns the rows too.
fn hnsw_past_2mib(seed: u64) -> (Vec<f32>, VectorIndex) {
    let (n, dim) = (4000, 160);
    let data = rng_data(n, dim, seed);
    let ids: Vec<u64> = (0..n as u64).collect();
    let opts = BuildOptions { kind: IndexType::Hnsw, m: 8, ef_construction: 48, ..Default::default() };
    let idx = VectorIndex::build(&data, &ids, dim, &opts, &CancelToken::new()).unwrap();
    (data, idx)
}

/// Once the searches of an opened index may have read 32 times its rows, its rows are copied into
/// huge-page memory; before that they stay mapped. Either way a query finds the same rows with
/// the same bits.
#[test]
fn hnsw_rows_become_resident_after_enough_searches_and_find_the_same_rows() {
    let (n, dim) = (4000, 160);
    let (data, idx) = hnsw_past_2mib(51);
    let (path, mapped) = opened(&idx, "resident");
    let nq = 120;
    let qs = rng_data(nq, dim, 52);
    let p = params(10, 40, 0, 0);
    // one query at a time: 120 x 40 x 16 = 76,800 rows at most, under 32 x 4,000 = 128,000
    let one_by_one: Vec<Results> = (0..nq).map(|q| mapped.search(&qs[q * dim..(q + 1) * dim], &p, &CancelToken::new()).unwrap()).collect();
    assert!(!mapped.store.is_resident(), "120 single queries leave the rows mapped");
    let resident = VectorIndex::open(&path).unwrap();
    for round in 0..2 {
        let batch = resident.search(&qs, &p, &CancelToken::new()).unwrap();
        assert_eq!(resident.store.is_resident(), round == 1, "round {round}: resident after 153,600 rows, not after 76,800");
        for (q, r) in one_by_one.iter().enumerate() {
            assert_eq!(r.ids, batch.ids[q * 10..(q + 1) * 10], "round {round} query {q}: ids");
            let bits = |d: &[f32]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&r.distances), bits(&batch.distances[q * 10..(q + 1) * 10]), "round {round} query {q}: distance bits");
        }
    }
    // and the resident rows find the true neighbours (uniform data in 160 dimensions needs a wide beam)
    let rec = recall(&resident, &data, n, dim, &qs, &params(10, 400, 0, 0), Metric::L2);
    assert!(rec >= 0.9, "recall {rec}");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// `make_resident` copies an opened index's rows into memory at once (no searches first), and the
/// copy finds the same rows with the same bits; an index built in memory counts as resident.
#[test]
fn make_resident_copies_the_rows_of_an_opened_index_and_finds_the_same_rows() {
    let dim = 160;
    let (_, built) = hnsw_past_2mib(53);
    assert!(built.is_resident(), "rows built in memory");
    let (path, mapped) = opened(&built, "make-resident");
    let qs = rng_data(5, dim, 54);
    let p = params(10, 40, 0, 0);
    // five queries: far under 32 times the rows, so the searches alone leave the rows mapped
    let before = mapped.search(&qs, &p, &CancelToken::new()).unwrap();
    assert!(!mapped.is_resident());
    let copied = VectorIndex::open(&path).unwrap();
    assert!(!copied.is_resident(), "opened: read through the mapping");
    copied.make_resident();
    assert!(copied.is_resident());
    let after = copied.search(&qs, &p, &CancelToken::new()).unwrap();
    assert_eq!(before.ids, after.ids);
    let bits = |d: &[f32]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&before.distances), bits(&after.distances));
    assert_eq!(copied.store.raw(), built.store.raw(), "the copy holds the rows as built");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// Whole-number rows (pixels, counts) whose SQ8 codes decode to them bit for bit: the index keeps
/// no f32 copy and re-ranks from the codes, with the same ids and distance bits as f32 rows give.
#[test]
fn sq8_of_whole_numbers_reranks_from_its_codes_as_f32_rows_would() {
    let (n, dim) = (500, 40);
    let mut rng = crate::testutil::Rng(5);
    // dimensions of 0..=255, of -100..=100, of 0..=3, and one constant
    let data: Vec<f32> = (0..n * dim)
        .map(|i| match i % dim {
            0..=19 => rng.below(256) as f32,
            20..=29 => rng.below(201) as f32 - 100.0,
            30..=38 => rng.below(4) as f32,
            _ => 7.0,
        })
        .collect();
    let ids: Vec<u64> = (0..n as u64).collect();
    let qs: Vec<f32> = (0..6 * dim).map(|_| rng.below(2560) as f32 / 10.0 - 20.0).collect();
    let cancel = CancelToken::new();
    let exact = VectorIndex::build(&data, &ids, dim, &BuildOptions { kind: IndexType::Flat, ..Default::default() }, &cancel).unwrap();
    for metric in [Metric::L2, Metric::Ip] {
        let o = BuildOptions { kind: IndexType::Flat, metric, ..Default::default() };
        let exact = if metric == Metric::L2 {
            exact.search(&qs, &params(10, 0, 0, 0), &cancel).unwrap()
        } else {
            VectorIndex::build(&data, &ids, dim, &o, &cancel).unwrap().search(&qs, &params(10, 0, 0, 0), &cancel).unwrap()
        };
        let sq8 = VectorIndex::build(&data, &ids, dim, &BuildOptions { quant: Quant::Sq8, keep_f32: true, ..o.clone() }, &cancel).unwrap();
        assert!(matches!(sq8.f32, Some(F32Rows::Codes)), "{metric:?}: whole numbers keep no f32 copy");
        let (p, opened) = opened(&sq8, &format!("sq8-codes-{}", metric.name()));
        assert!(matches!(opened.f32, Some(F32Rows::Codes)));
        assert!(Container::open(&p).unwrap().sections.iter().all(|s| s.kind != SECTION_F32 && s.kind != SECTION_F32_CRC));
        // the same index re-ranking from kept f32 rows
        let mut kept = VectorIndex::build(&data, &ids, dim, &BuildOptions { quant: Quant::Sq8, ..o.clone() }, &cancel).unwrap();
        kept.f32 = Some(F32Rows::Owned(store::Store::encode(&data, n, dim, Quant::F32)));
        let from_rows = kept.search(&qs, &params(10, 0, 0, n), &cancel).unwrap();
        assert_eq!(from_rows.ids, exact.ids, "{metric:?}");
        let bits = |d: &[f32]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for idx in [&sq8, &opened] {
            // every row re-ranked: the exact search's ids, and the distance bits of f32 rows
            let got = idx.search(&qs, &params(10, 0, 0, n), &cancel).unwrap();
            assert_eq!(got.ids, exact.ids, "{metric:?}");
            assert_eq!(bits(&got.distances), bits(&from_rows.distances), "{metric:?}");
            assert_eq!(idx.rows_f32().unwrap().unwrap(), data, "the rows come back from the codes");
        }
        // an HNSW index re-ranks the same way
        let h = BuildOptions { kind: IndexType::Hnsw, quant: Quant::Sq8, keep_f32: true, m: 8, ..o.clone() };
        let hnsw = VectorIndex::build(&data, &ids, dim, &h, &cancel).unwrap();
        assert!(matches!(hnsw.f32, Some(F32Rows::Codes)));
        // a search as wide as the graph (every row is reachable) re-ranking every row it finds
        let got = hnsw.search(&qs, &params(10, n, 0, n), &cancel).unwrap();
        assert_eq!(got.ids, exact.ids, "{metric:?}: ef {n} over {n} rows finds the exact top 10");
    }
    // one value that the codes cannot hold (a dimension spanning 256, or a fraction): f32 rows are kept
    for (at, v) in [(0, 256.0), (dim + 5, 0.5)] {
        let mut d = data.clone();
        d[at] = v;
        let o = BuildOptions { kind: IndexType::Flat, quant: Quant::Sq8, keep_f32: true, ..Default::default() };
        let idx = VectorIndex::build(&d, &ids, dim, &o, &cancel).unwrap();
        assert!(matches!(idx.f32, Some(F32Rows::Owned(_))), "value {v}");
        assert_eq!(idx.rows_f32().unwrap().unwrap(), d);
    }
}

/// An opened index holds each page of its file once: the sections copied out at open (graph, ids)
/// leave the mapping, and so do the rows once they are made resident.
#[cfg(target_os = "linux")]
#[test]
fn an_opened_index_keeps_no_mapped_pages_of_what_it_copied() {
    let (_, built) = hnsw_past_2mib(55);
    let (path, idx) = opened(&built, "mapped-pages");
    let rows_kib = idx.store.raw().len() / 1024;
    let copied_kib = (4 * idx.hnsw.as_ref().unwrap().links0.len() + 8 * idx.n) / 1024;
    assert!(copied_kib >= 256, "the graph and ids are {copied_kib} KiB: enough to tell");
    let at = idx.store.raw().as_ptr() as usize;
    // the rows were read at open (their checksum) and are searched through the mapping; the
    // copied sections are not held, but for pages they share with a neighbour
    let held = mapping_rss_kib(at);
    assert!(held <= rows_kib + 64, "{held} KiB mapped after open; the rows are {rows_kib} KiB, the copies {copied_kib} KiB");
    idx.make_resident();
    let held = mapping_rss_kib(at);
    assert!(held <= 64, "{held} KiB still mapped once the rows are resident");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn a_link_list_that_overflows_is_pruned_with_room_left_and_one_with_room_only_grows() {
    // Row 0 at the origin, the others at random on the unit sphere around it: each is nearer to
    // row 0 (1) than to any other (about 1.4), so the heuristic keeps every one.
    let (n, dim, cap) = (40, 64, 32);
    let mut data = rng_data(n, dim, 91);
    data[..dim].fill(0.0);
    for row in data[dim..].chunks_exact_mut(dim) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        row.iter_mut().for_each(|x| *x /= norm);
    }
    let store = Store::encode(&data, n, dim, Quant::F32);
    let scorer = Scorer::new(&store, Metric::L2);
    let ids = |r: std::ops::RangeInclusive<u32>| r.collect::<Vec<u32>>();
    // room left: the new links are appended, nothing else changes
    assert_eq!(Hnsw::with_links_in(&scorer, 0, &ids(1..=20), &ids(21..=22), cap), ids(1..=22));
    assert_eq!(Hnsw::with_links_in(&scorer, 0, &ids(1..=30), &ids(31..=32), cap), ids(1..=32));
    // one more than fits: the heuristic's choice over all of them, cut to 28 (0.9 of 32), so the
    // next 4 links in need no prune
    let mut c: Vec<Cand> = (1..=33u32).map(|j| Cand { d: scorer.dist_rows(0, j as usize), id: j }).collect();
    c.sort_unstable();
    let full = Hnsw::select(&scorer, &c, cap);
    assert_eq!(full.len(), 32, "the heuristic keeps every row");
    let pruned = Hnsw::with_links_in(&scorer, 0, &ids(1..=32), &[33], cap);
    assert_eq!(pruned, full[..28]);
}
