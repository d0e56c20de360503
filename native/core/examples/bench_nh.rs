//! Quick in-process check of NeighborHash lookup cost (no Node):
//! cargo run --release --example bench_nh -- 18
use recall_core::neighborhash::{self, Table, baseline};
use std::time::Instant;

fn main() {
    let bits: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(22);
    let cap = 1usize << bits;
    let n = (cap as f64 * 0.79) as usize;
    let mut s = 12345u64;
    let mut next = || {
        s = s.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    };
    let pairs: Vec<(u64, u64)> = (0..n).map(|_| (next() | 1, next() >> 12)).collect();
    let (slots, _) = neighborhash::build(&pairs, 7).unwrap();
    let t = Table::new(&slots, 7);
    let q: Vec<u64> = (0..1 << 22).map(|i| if i % 10 == 9 { next() | 1 } else { pairs[(next() % n as u64) as usize].0 }).collect();
    let mut out = vec![0u64; q.len()];
    for round in 0..3 {
        let t0 = Instant::now();
        let r = baseline::random_access(&slots, &q, 7);
        let ra = t0.elapsed().as_nanos() as f64 / q.len() as f64;
        let t0 = Instant::now();
        let mut acc = 0u64;
        for &k in &q {
            acc ^= t.get(k).unwrap_or(0);
        }
        let sc = t0.elapsed().as_nanos() as f64 / q.len() as f64;
        let t0 = Instant::now();
        neighborhash::get_batch(&t, &q, &mut out, 16);
        let am = t0.elapsed().as_nanos() as f64 / q.len() as f64;
        println!("round {round}: random {ra:.1} ns, scalar {sc:.1} ns, amac16 {am:.1} ns ({} {})", r & 1, acc & 1);
    }
}
