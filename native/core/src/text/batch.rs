//! Many queries on a thread pool: one index, or the shards of one collection (searched with
//! the collection's statistics and merged).

use super::query::QueryError;
use super::reader::TextIndex;
use super::search::{Hits, SearchParams, search, search_shards};
use crate::{CancelToken, Result};

/// One query's outcome: its hits with the shard of each hit (all 0 for one index), or its
/// error; and the microseconds it took.
pub type QueryOutcome = (std::result::Result<(Hits, Vec<u32>), QueryError>, f64);

/// Run `queries` against `idx` (one index, or several shards) on up to `threads` threads, one
/// query at a time per thread (a thread takes the next query when done); outcomes in query
/// order. Checks `cancel` every 256 queries.
pub fn search_batch(
    idx: &[&TextIndex],
    queries: &[String],
    params: &SearchParams,
    threads: usize,
    cancel: &CancelToken,
) -> Result<Vec<QueryOutcome>> {
    let n = queries.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let threads = threads.clamp(1, n);
    let run = |i: usize| -> QueryOutcome {
        let s = std::time::Instant::now();
        let q = &queries[i];
        let r = if idx.len() == 1 {
            search(idx[0], q, params).map(|h| {
                let shards = vec![0; h.docs.len()];
                (h, shards)
            })
        } else {
            search_shards(idx, q, params).map(|(hits, total, exact, pairs)| {
                let h = Hits {
                    docs: hits.iter().map(|x| x.1).collect(),
                    scores: hits.iter().map(|x| x.2).collect(),
                    total,
                    total_exact: exact,
                    pairs_used: pairs,
                };
                (h, hits.iter().map(|x| x.0).collect())
            })
        };
        (r, s.elapsed().as_secs_f64() * 1e6)
    };
    // one query per range: a thread takes the next query when done
    crate::parallel::parallel_ranges(n, n, threads, |r| {
        if r.start % 256 == 0 {
            cancel.check()?;
        }
        Ok(run(r.start))
    })
}
