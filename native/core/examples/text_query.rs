//! Time a query (or `@FILE`: every line of a file) against a text index, with K=hits from the
//! environment: cargo run --release --example text_query -- FILE QUERY|@FILE [REPS]
use recall_core::text::reader::TextIndex;
use recall_core::text::search::{SearchParams, search};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let idx = TextIndex::open(std::path::Path::new(&a[1])).expect("open");
    let reps: usize = a.get(3).map_or(10000, |s| s.parse().unwrap());
    let p = SearchParams { k: std::env::var("K").map_or(10, |v| v.parse().unwrap()), ..SearchParams::default() };
    if let Some(file) = a[2].strip_prefix('@') {
        // a file of queries, one per line: mean time per query over `reps` passes
        let qs: Vec<String> = std::fs::read_to_string(file).unwrap().lines().map(String::from).collect();
        if std::env::var("LOOKUP").is_ok() {
            // the dictionary lookups alone (every word of every line, cold): mean µs per line
            let keys: Vec<Vec<Vec<u8>>> = qs
                .iter()
                .map(|q| q.split(' ').filter(|w| *w != "AND" && *w != "OR").map(|w| [&[0u8][..], w.as_bytes()].concat()).collect())
                .collect();
            let t0 = std::time::Instant::now();
            let mut found = 0;
            for _ in 0..reps {
                for ks in &keys {
                    for k in ks {
                        found += idx.lookup(k).is_some() as usize;
                    }
                }
            }
            println!("{} lines, {:.2} us/line ({found} found)", qs.len(), t0.elapsed().as_secs_f64() * 1e6 / (reps * qs.len()) as f64);
            return;
        }
        if std::env::var("COLDQ").is_ok() {
            // per query, as the batch runs it (every other query in between): the median of
            // `reps` passes, µs, one line each
            let mut t = vec![Vec::new(); qs.len()];
            for _ in 0..reps {
                for (i, q) in qs.iter().enumerate() {
                    let t0 = std::time::Instant::now();
                    std::hint::black_box(search(&idx, q, &p).unwrap());
                    t[i].push(t0.elapsed().as_secs_f64() * 1e6);
                }
            }
            for (ti, q) in t.iter_mut().zip(&qs) {
                ti.sort_by(f64::total_cmp);
                println!("{:.2}\t{}", ti[ti.len() / 2], q);
            }
            return;
        }
        if std::env::var("PERQ").is_ok() {
            // per query: mean µs over `reps` runs and the hit count, one line each
            for q in &qs {
                let h = search(&idx, q, &p).unwrap();
                let t0 = std::time::Instant::now();
                for _ in 0..reps {
                    std::hint::black_box(search(&idx, q, &p).unwrap());
                }
                println!("{:.2}\t{}\t{}", t0.elapsed().as_secs_f64() * 1e6 / reps as f64, h.total, q);
            }
            return;
        }
        let t0 = std::time::Instant::now();
        for _ in 0..reps {
            for q in &qs {
                std::hint::black_box(search(&idx, q, &p).unwrap());
            }
        }
        println!("{} queries, {:.2} us/query", qs.len(), t0.elapsed().as_secs_f64() * 1e6 / (reps * qs.len()) as f64);
        return;
    }
    let h = search(&idx, &a[2], &p).unwrap();
    let t0 = std::time::Instant::now();
    for _ in 0..reps {
        std::hint::black_box(search(&idx, &a[2], &p).unwrap());
    }
    println!("{} hits, {:.2} us/query", h.total, t0.elapsed().as_secs_f64() * 1e6 / reps as f64);
    // the phases: lookup alone, then walking the list
    let mut key = vec![0u8];
    key.extend_from_slice(a[2].as_bytes());
    if let Some(t) = idx.lookup(&key) {
        let t0 = std::time::Instant::now();
        for _ in 0..reps {
            std::hint::black_box(idx.lookup(std::hint::black_box(&key)));
        }
        let lk = t0.elapsed().as_secs_f64() * 1e6 / reps as f64;
        let t0 = std::time::Instant::now();
        let mut sum = 0u64;
        for _ in 0..reps {
            let mut c = idx.term_cursor(&t);
            while c.doc != recall_core::text::NO_MORE {
                sum += c.tf(0) as u64;
                c.next();
            }
        }
        println!("lookup {lk:.2} us, walk {:.2} us ({sum})", t0.elapsed().as_secs_f64() * 1e6 / reps as f64);
    }
}
