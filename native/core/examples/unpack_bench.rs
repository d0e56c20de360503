//! Block unpacking speed: `codec::unpack` against a plain variable-width loop
//! (cargo run --release --example unpack_bench).
use recall_core::text::codec::{BLOCK, pack, unpack};

fn unpack_loop(src: &[u8], w: u8, out: &mut [u32; BLOCK]) {
    let mask: u64 = if w == 32 { u32::MAX as u64 } else { (1u64 << w) - 1 };
    let mut bitpos = 0usize;
    for v in out.iter_mut() {
        let word = u64::from_le_bytes(src[bitpos >> 3..(bitpos >> 3) + 8].try_into().unwrap());
        *v = ((word >> (bitpos & 7)) & mask) as u32;
        bitpos += w as usize;
    }
}

fn main() {
    for w in [3u8, 7, 12, 18] {
        let mut vals = [0u32; BLOCK];
        for (i, v) in vals.iter_mut().enumerate() {
            *v = (i as u32).wrapping_mul(2654435761) & ((1u32 << w) - 1);
        }
        let mut b = Vec::new();
        pack(&mut b, &vals, w);
        b.extend_from_slice(&[0u8; 16]);
        let mut out = [0u32; BLOCK];
        unpack(&b, w, &mut out);
        assert_eq!(out, vals);
        let reps = 2_000_000;
        let mut best = [f64::MAX; 2];
        for _ in 0..3 {
            let t0 = std::time::Instant::now();
            for _ in 0..reps {
                unpack(std::hint::black_box(&b), w, &mut out);
                std::hint::black_box(&out);
            }
            best[0] = best[0].min(t0.elapsed().as_secs_f64());
            let t0 = std::time::Instant::now();
            for _ in 0..reps {
                unpack_loop(std::hint::black_box(&b), w, &mut out);
                std::hint::black_box(&out);
            }
            best[1] = best[1].min(t0.elapsed().as_secs_f64());
        }
        println!(
            "width {w}: unpack {:.1} ns/block, loop {:.1} ns/block ({:.2}x)",
            best[0] * 1e9 / reps as f64,
            best[1] * 1e9 / reps as f64,
            best[1] / best[0]
        );
    }
}
