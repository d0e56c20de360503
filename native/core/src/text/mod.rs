//! The text channel: an inverted index with BM25 top-k,
//! stored in the shared container (kind INVERTED) rather than a format of its
//! own: header, section table, footer and CRCs are the container's;
//! the sections' contents are the text index's. Section kinds:
//!
//! | kind | section | contents |
//! |---|---|---|
//! | 16 | FIELDS | counts, flags, per-field totals / BM25 defaults / weight, analyzer JSON |
//! | 17 | DICT_INDEX | block offsets + first keys (binary search) |
//! | 18 | DICT_BLOCKS | front-coded 64-term blocks with TermInfo |
//! | 19 | POSTINGS | per non-singleton term: skip table, 128-doc packed blocks, VInt tail |
//! | 20 | DOC_LENS | the 256-entry length table, then one code per doc and field |
//! | 21 | FORWARD | doc -> (ord gap, tf) lists, 128-doc groups (optional) |
//! | 22 | PAIR_DICT | 24-byte records, sorted by (ordA, ordB) (optional) |
//! | 23 | PAIR_POSTINGS | pair lists with two tf streams (optional) |
//! | 24 | EXT_IDS | external ids (u64 or strings) + the permutation sorted by them |
//! | 25 | TOMBSTONES | deleted internal ids, Roaring portable serialization (optional) |

pub mod analyzer;
pub mod batch;
pub mod bm25;
pub mod build;
pub mod codec;
pub mod dense;
pub mod dict;
pub mod doc_lens;
pub mod ext_ids;
pub mod format;
pub mod pair_lists;
pub mod postings;
pub mod query;
pub mod reader;
pub mod retombstone;
pub mod roaring;
pub mod search;
pub mod unicode_tables;

#[cfg(test)]
mod tests;

pub use format::*;
