//! Measures candidate encodings of the x2i LISTS section on real lists
//! (item-CF cosine top-50 over the synthetic interactions of
//! shared/tools/x2i-data), in one run: bytes per edge, and nanoseconds to
//! decode a key's top 10 into (u64 item, f32 score) for random keys.
//! cargo run --release --example x2i_encodings -- bench/data/x2i-1000000.bin
use recall_core::CancelToken;
use recall_core::kernels::{f16_to_f32, f32_to_f16};
use recall_core::x2i::cf::{self, Algo, CfOptions, Interactions, Prep};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("path to an x2i-data .bin file");
    let buf = std::fs::read(&path).unwrap();
    let nl = buf.iter().position(|&b| b == b'\n').unwrap();
    let head = std::str::from_utf8(&buf[..nl]).unwrap();
    let num = |k: &str| -> usize { head.split(&format!("\"{k}\":")).nth(1).unwrap().split([',', '}']).next().unwrap().parse().unwrap() };
    let (n, users, items) = (num("interactions"), num("users"), num("items"));
    let col = |c: usize| -> Vec<u32> {
        buf[nl + 1 + 4 * n * c..nl + 1 + 4 * n * (c + 1)].chunks_exact(4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).collect()
    };
    let (u, i, t) = (col(0), col(1), col(2));
    let d = Interactions { user: &u, item: &i, ts: &t, weight: None, users, items, user_hash: &[], item_ids: &[] };
    let o = CfOptions { algo: Algo::Cosine, prep: Prep::default(), top_k: 50, min_score: 0.0, min_common: 1, threads: 2 };
    let rows = cf::compute(&d, &o, &CancelToken::new()).unwrap();
    // external ids: sparse 64-bit values, as real item ids are
    let ext = |ord: u32| (ord as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 8;
    let edges = rows.nb.len();
    let keys = items;
    let list = |k: usize| (rows.row_off[k] as usize, rows.row_off[k + 1] as usize);

    // 1. u64 ids + f32 scores (what v1 files store)
    let mut e1: Vec<u64> = Vec::new();
    let mut off1 = Vec::new();
    // 2. u64 ids + f16 scores
    let mut e2: Vec<u64> = Vec::new();
    let mut off2 = Vec::new();
    // 3. u32 ordinals + f16 scores, plus an ordinal -> id dictionary
    let mut e3: Vec<u32> = Vec::new();
    let mut off3 = Vec::new();
    // 4. LEB128 varint ordinals + f16 scores, plus the dictionary
    let mut e4: Vec<u8> = Vec::new();
    let mut off4 = Vec::new();
    for k in 0..keys {
        let (s, e) = list(k);
        let len = e - s;
        off1.push(e1.len());
        e1.push(len as u64);
        e1.extend(rows.nb[s..e].iter().map(|&j| ext(j)));
        e1.extend(rows.sc[s..e].chunks(2).map(|p| p[0].to_bits() as u64 | (p.get(1).map_or(0, |x| x.to_bits()) as u64) << 32));
        off2.push(e2.len());
        e2.push(len as u64);
        e2.extend(rows.nb[s..e].iter().map(|&j| ext(j)));
        e2.extend(rows.sc[s..e].chunks(4).map(|p| p.iter().enumerate().fold(0u64, |w, (q, x)| w | (f32_to_f16(*x) as u64) << (16 * q))));
        off3.push(e3.len());
        e3.push(len as u32);
        e3.extend_from_slice(&rows.nb[s..e]);
        e3.extend(rows.sc[s..e].chunks(2).map(|p| f32_to_f16(p[0]) as u32 | (p.get(1).map_or(0, |x| f32_to_f16(*x)) as u32) << 16));
        off4.push(e4.len());
        e4.push(len.min(255) as u8);
        for &j in &rows.nb[s..e] {
            let mut v = j;
            while v >= 0x80 {
                e4.push((v as u8) | 0x80);
                v >>= 7;
            }
            e4.push(v as u8);
        }
        for x in &rows.sc[s..e] {
            e4.extend_from_slice(&f32_to_f16(*x).to_le_bytes());
        }
    }
    let dict = items * 8;
    let per_edge = |bytes: usize| bytes as f64 / edges as f64;
    let sizes = [e1.len() * 8, e2.len() * 8, e3.len() * 4 + dict, e4.len() + dict];
    let dict_ids: Vec<u64> = (0..items as u32).map(ext).collect();

    let mut r = 1u64;
    let queries: Vec<usize> = (0..200_000)
        .map(|_| {
            r = r.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (r >> 33) as usize % keys
        })
        .collect();
    let top = 10;
    let mut items_out = vec![0u64; top];
    let mut scores_out = vec![0f32; top];
    let time = |f: &mut dyn FnMut(usize)| {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t0 = Instant::now();
            for &k in &queries {
                f(k);
            }
            best = best.min(t0.elapsed().as_nanos() as f64 / queries.len() as f64);
        }
        best
    };
    let t1 = time(&mut |k| {
        let w = off1[k];
        let len = e1[w] as usize;
        let n = len.min(top);
        items_out[..n].copy_from_slice(&e1[w + 1..w + 1 + n]);
        for q in 0..n {
            scores_out[q] = f32::from_bits((e1[w + 1 + len + q / 2] >> (32 * (q % 2))) as u32);
        }
        black_box((&items_out, &scores_out));
    });
    let t2 = time(&mut |k| {
        let w = off2[k];
        let len = e2[w] as usize;
        let n = len.min(top);
        items_out[..n].copy_from_slice(&e2[w + 1..w + 1 + n]);
        for q in 0..n {
            scores_out[q] = f16_to_f32((e2[w + 1 + len + q / 4] >> (16 * (q % 4))) as u16);
        }
        black_box((&items_out, &scores_out));
    });
    let t3 = time(&mut |k| {
        let w = off3[k];
        let len = e3[w] as usize;
        let n = len.min(top);
        for q in 0..n {
            items_out[q] = dict_ids[e3[w + 1 + q] as usize];
            scores_out[q] = f16_to_f32((e3[w + 1 + len + q / 2] >> (16 * (q % 2))) as u16);
        }
        black_box((&items_out, &scores_out));
    });
    let t4 = time(&mut |k| {
        let mut p = off4[k];
        let len = e4[p] as usize;
        p += 1;
        let n = len.min(top);
        #[allow(clippy::needless_range_loop)] // every varint is decoded, only the first n are kept
        for q in 0..len {
            let (mut v, mut sh) = (0u32, 0);
            loop {
                let b = e4[p];
                p += 1;
                v |= ((b & 0x7f) as u32) << sh;
                if b < 0x80 {
                    break;
                }
                sh += 7;
            }
            if q < n {
                items_out[q] = dict_ids[v as usize];
            }
        }
        for q in 0..n {
            scores_out[q] = f16_to_f32(u16::from_le_bytes([e4[p + 2 * q], e4[p + 2 * q + 1]]));
        }
        black_box((&items_out, &scores_out));
    });
    println!("{keys} keys, {edges} edges (cosine top-50 of {n} interactions)");
    let names = ["u64 ids + f32 scores (v1)", "u64 ids + f16 scores", "u32 ordinals + f16 + id dict", "varint ordinals + f16 + id dict"];
    for (q, name) in names.iter().enumerate() {
        println!(
            "{name:32} {:6.2} B/edge  {:6.1} MB  top-10 decode {:6.1} ns/key",
            per_edge(sizes[q]),
            sizes[q] as f64 / 1e6,
            [t1, t2, t3, t4][q]
        );
    }
}
