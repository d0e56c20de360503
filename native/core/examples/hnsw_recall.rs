//! An HNSW graph's quality without Node: build over a `recall bench vector` data set (M 16, 2
//! threads) and print the build's CPU, then recall@10 and single-thread QPS per ef:
//! `cargo run --release --example hnsw_recall -- bench/data/ann/synth1m SEED EF_CONSTRUCTION 80,320,1280`
//! Graphs of different seeds differ by up to 0.013 in recall at one ef on the 1M set: compare
//! changes to the build over several seeds.
use recall_core::CancelToken;
use recall_core::cputime::process_cpu_seconds;
use recall_core::vector::{BuildOptions, IndexType, SearchParams, VectorIndex};
use std::fs;

fn f32s(p: &str) -> Vec<f32> {
    fs::read(p).unwrap().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = &a[1];
    let seed: u64 = a[2].parse().unwrap();
    let efc: usize = a[3].parse().unwrap();
    let efs: Vec<usize> = a[4].split(',').map(|s| s.parse().unwrap()).collect();
    let meta = fs::read_to_string(format!("{dir}/meta.json")).unwrap();
    let dim: usize = meta.split("\"dim\":").nth(1).and_then(|t| t.split([',', '}']).next()).unwrap().trim().parse().unwrap();
    let base = f32s(&format!("{dir}/base.f32"));
    let q = f32s(&format!("{dir}/queries.f32"));
    let gt: Vec<i32> =
        fs::read(format!("{dir}/gt.i32")).unwrap().chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap())).collect();
    let n = base.len() / dim;
    let nq = q.len() / dim;
    let gk = gt.len() / nq;
    let ids: Vec<u64> = (0..n as u64).collect();
    let o = BuildOptions { kind: IndexType::Hnsw, m: 16, ef_construction: efc, seed, threads: 2, ..Default::default() };
    let c0 = process_cpu_seconds();
    let t0 = std::time::Instant::now();
    let idx = VectorIndex::build(&base, &ids, dim, &o, &CancelToken::new()).unwrap();
    println!("build wall {:.1}s cpu {:.1}s", t0.elapsed().as_secs_f64(), process_cpu_seconds() - c0);
    for ef in efs {
        let mut best = f64::MAX;
        let mut rec = 0.0;
        for _ in 0..2 {
            let c = process_cpu_seconds();
            let r = idx.search(&q, &SearchParams { k: 10, ef, nprobe: 0, rerank: 0, threads: 1 }, &CancelToken::new()).unwrap();
            best = best.min(process_cpu_seconds() - c);
            let mut hit = 0;
            for i in 0..nq {
                let t = &gt[i * gk..i * gk + 10];
                hit += r.ids[i * 10..(i + 1) * 10].iter().filter(|&&id| t.contains(&(id as i32))).count();
            }
            rec = hit as f64 / (nq * 10) as f64;
        }
        println!("ef {ef}: recall {rec:.4} qps {:.0}", nq as f64 / best);
    }
}
