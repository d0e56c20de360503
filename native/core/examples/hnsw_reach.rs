//! Per metric (l2, ip), an HNSW graph's build CPU (M 16, efConstruction 100, 2 threads), the rows
//! a walk from its entry point cannot reach, and recall@10 of 200 queries against brute force:
//! `cargo run --release --example hnsw_reach -- bench/data/ann/fashion 60000 784`
use recall_core::CancelToken;
use recall_core::cputime::process_cpu_seconds;
use recall_core::vector::hnsw::{Hnsw, Visited};
use recall_core::vector::store::{Metric, Quant, Scorer, Store};
use std::fs;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = &a[1];
    let n: usize = a[2].parse().unwrap();
    let dim: usize = a[3].parse().unwrap();
    let base: Vec<f32> = fs::read(format!("{dir}/base.f32"))
        .unwrap()
        .chunks_exact(4)
        .take(n * dim)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    for metric in [Metric::L2, Metric::Ip] {
        let store = Store::encode(&base, n, dim, Quant::F32);
        let scorer = Scorer::new(&store, metric);
        let c0 = process_cpu_seconds();
        let h = Hnsw::build(&scorer, 16, 100, 0, 2, &CancelToken::new()).unwrap();
        let cpu = process_cpu_seconds() - c0;
        let seen = h.reached();
        println!("{metric:?}: build {cpu:.1} CPU-s, {} of {n} rows unreached", seen.iter().filter(|&&s| !s).count());
        let qs: Vec<f32> = fs::read(format!("{dir}/queries.f32"))
            .unwrap()
            .chunks_exact(4)
            .take(200 * dim)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let mut vis = Visited::new(n);
        for ef in [40, 160, 640] {
            let (mut hit, mut unr) = (0, 0);
            for qi in 0..200 {
                let qv = &qs[qi * dim..(qi + 1) * dim];
                let q = scorer.prepare(qv);
                let mut all: Vec<(f32, usize)> = (0..n).map(|r| (scorer.dist(&q, r), r)).collect();
                all.sort_by(|a, b| a.0.total_cmp(&b.0));
                let truth: Vec<usize> = all[..10].iter().map(|x| x.1).collect();
                unr += truth.iter().filter(|&&t| !seen[t]).count();
                let found = h.search(
                    &|x: u32| scorer.dist(&q, x as usize),
                    &|x: u32, b: f32| scorer.dist_below(&q, x as usize, b),
                    &store,
                    10,
                    ef,
                    &mut vis,
                );
                hit += found.iter().filter(|c| truth.contains(&(c.id as usize))).count();
            }
            println!("  ef {ef}: recall@10 {:.4}, true top-10 rows unreached {:.4}", hit as f64 / 2000.0, unr as f64 / 2000.0);
        }
    }
}
