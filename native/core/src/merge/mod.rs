//! Multi-channel merge on integer ids, for batches of requests: each channel's ranked candidates
//! filtered, de-duplicated, cut to the channel's quota and fused (weighted min-max or reciprocal
//! rank), and every list scored against the request's truth. The TypeScript merge is the reference:
//! the same arithmetic in the same order, so the lists and the metrics are equal to the last bit.

pub mod batch;
pub mod order;
