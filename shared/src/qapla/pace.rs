//! Qapla's API budget: a bucket of 120 calls refilled at 2 per second, **per API key**.
//!
//! Every process that calls the API with a key (each delivery worker instance, a backfill,
//! the reconciler) must spend from one bucket, or two of them spend twice the budget and
//! the key gets throttled or banned. `crate::aws::DynamoPace` keeps the bucket in the state table
//! (item `qapla-budget#<hash of the key>`, optimistic concurrency on its last update) so
//! it is shared by every process; [`LocalPace`] keeps it in memory (local runs, tests).
//!
//! A caller may keep a `reserve`: a backfill takes a call only while more than 20 are left,
//! so a year of history never starves live enrichment of its burst.

use crate::clock::epoch_millis;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Qapla's bucket: its size and its refill rate.
pub const BURST: f64 = 120.0;
pub const PER_SECOND: f64 = 2.0;

/// A key's bucket: Qapla's ([`QAPLA`]) unless `QAPLA_API_BUDGET` says otherwise (see
/// [`Config`](crate::config::Config)) — for a Qapla' stand-in in tests and benchmarks.
pub use crate::bucket::Bucket;

/// Qapla's own bucket.
pub const QAPLA: Bucket = Bucket {
    burst: BURST,
    per_second: PER_SECOND,
};

/// `QAPLA_API_BUDGET`'s text (`<burst>,<per second>`) as a bucket; `None` if malformed.
pub fn parse_bucket(text: &str) -> Option<Bucket> {
    let mut parts = text.split(',').map(|p| p.trim().parse::<f64>());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(burst)), Some(Ok(per_second)), None) if burst >= 1.0 && per_second > 0.0 => {
            Some(Bucket { burst, per_second })
        }
        _ => None,
    }
}

/// Calls a backfill leaves in the bucket for live enrichment.
pub const BACKFILL_RESERVE: f64 = 20.0;

/// Where a key's budget is kept.
#[async_trait]
pub trait Pace: Send + Sync {
    /// Take one call from `key`'s bucket, leaving at least `reserve` calls in it; else how
    /// long to wait before there is one.
    async fn take(&self, key: &SecretString, reserve: f64) -> Result<(), Duration>;
}

/// A key's hash: what names its bucket.
pub fn key_hash(key: &SecretString) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(key.expose_secret().trim().as_bytes());
    hash.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// In memory, per process.
pub struct LocalPace {
    bucket: Bucket,
    buckets: Mutex<HashMap<String, (f64, u64)>>,
}

impl Default for LocalPace {
    fn default() -> Self {
        LocalPace {
            bucket: QAPLA,
            buckets: Mutex::default(),
        }
    }
}

#[async_trait]
impl Pace for LocalPace {
    async fn take(&self, key: &SecretString, reserve: f64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = epoch_millis();
        let b = self.bucket;
        let (tokens, at) = buckets.entry(key_hash(key)).or_insert((b.burst, now));
        let elapsed = Duration::from_millis(now.saturating_sub(*at));
        *tokens = b.take(*tokens, elapsed, reserve)?;
        *at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_qaplas_unless_a_valid_override_is_given() {
        assert_eq!(
            parse_bucket("5, 0.5"),
            Some(Bucket {
                burst: 5.0,
                per_second: 0.5
            })
        );
        for bad in ["", "5", "0,1", "5,0", "a,b", "5,1,2"] {
            assert_eq!(parse_bucket(bad), None, "{bad}");
        }
    }
}
