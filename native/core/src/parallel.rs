//! Work split into contiguous ranges, run on a few scoped threads that take the next range
//! when done (uneven ranges balance out), results returned in range order, so the output
//! never depends on the thread count.

use crate::error::Result;

/// Run `f` over `parts` contiguous ranges of `0..n` on up to `threads` threads; results in order.
pub fn parallel_ranges<T: Send>(
    n: usize,
    parts: usize,
    threads: usize,
    f: impl Fn(std::ops::Range<usize>) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let parts = parts.max(1);
    let ranges: Vec<_> = (0..parts).map(|p| (n * p / parts)..(n * (p + 1) / parts)).collect();
    let threads = threads.clamp(1, parts);
    if threads == 1 {
        return ranges.into_iter().map(&f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<T>>> = (0..parts).map(|_| None).collect();
    let slot_ptr = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let p = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if p >= parts {
                        break;
                    }
                    let r = f(ranges[p].clone());
                    slot_ptr.lock().unwrap()[p] = Some(r);
                }
            });
        }
    });
    slots.into_iter().map(|r| r.expect("every part ran")).collect()
}
