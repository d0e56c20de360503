//! Kernel speed per ISA tier against the textbook loop, in one run:
//! `cargo run --release --example bench_kernels [-- --json]`.
//! Best-of-7 ns per vector pair over a batch that stays in L2 (2 cores,
//! noisy machine: the ratios are what to read).

use recall_core::isa::Isa;
use recall_core::kernels::{self, Kernels, scalar};
use std::hint::black_box;
use std::time::Instant;

fn best_ns(pairs: usize, mut f: impl FnMut() -> f32) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let mut acc = 0f32;
        for _ in 0..20 {
            acc += f();
        }
        black_box(acc);
        best = best.min(t.elapsed().as_nanos() as f64 / (20 * pairs) as f64);
    }
    best
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let mut rows = Vec::new();
    for dim in [128usize, 768, 1536] {
        let n = (256 * 1024 / (dim * 4)).max(8); // ~256 KiB of f32 per side
        let a: Vec<f32> = (0..n * dim).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        let b: Vec<f32> = (0..n * dim).map(|i| ((i * 104729) % 1000) as f32 / 500.0 - 1.0).collect();
        let ah: Vec<u16> = a.iter().map(|&x| kernels::f32_to_f16(x)).collect();
        let bh: Vec<u16> = b.iter().map(|&x| kernels::f32_to_f16(x)).collect();
        let ai: Vec<i8> = a.iter().map(|&x| (x * 127.0) as i8).collect();
        let bi: Vec<i8> = b.iter().map(|&x| (x * 127.0) as i8).collect();
        let naive = best_ns(n, || (0..n).map(|i| scalar::naive_dot_f32(&a[i * dim..][..dim], &b[i * dim..][..dim])).sum());
        rows.push((dim, "dot_f32", "naive-loop", naive));
        for isa in Isa::ALL {
            let Some(k) = kernels::kernels_for(isa) else { continue };
            let k: &Kernels = k;
            let run = |name: &'static str, ns: f64| (dim, name, isa.name(), ns);
            rows.push(run("dot_f32", best_ns(n, || (0..n).map(|i| (k.dot_f32)(&a[i * dim..][..dim], &b[i * dim..][..dim])).sum())));
            rows.push(run("l2sq_f32", best_ns(n, || (0..n).map(|i| (k.l2sq_f32)(&a[i * dim..][..dim], &b[i * dim..][..dim])).sum())));
            rows.push(run("l2sq_f16", best_ns(n, || (0..n).map(|i| (k.l2sq_f16)(&ah[i * dim..][..dim], &bh[i * dim..][..dim])).sum())));
            rows.push(run("dot_i8", best_ns(n, || (0..n).map(|i| (k.dot_i8)(&ai[i * dim..][..dim], &bi[i * dim..][..dim]) as f32).sum())));
        }
    }
    if json {
        let items: Vec<String> =
            rows.iter().map(|(d, k, t, ns)| format!("{{\"dim\":{d},\"kernel\":\"{k}\",\"tier\":\"{t}\",\"nsPerPair\":{ns:.2}}}")).collect();
        println!("[{}]", items.join(","));
    } else {
        for (d, k, t, ns) in rows {
            println!("dim {d:5}  {k:9}  {t:10}  {ns:9.1} ns/pair");
        }
    }
}
