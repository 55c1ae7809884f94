//! `make bench`: the cold-start and warm benchmark of the real binaries (`coldstart`), the
//! delivery worker's throughput (`throughput`) and the hot path's criterion benches.

pub mod cut;
pub mod fake_aws;
pub mod latency;
pub mod limits;
pub mod measure;
pub mod stands;
pub mod worker;
