//! Qapla's API budget: a bucket of 120 calls refilled at 2 per second, **per API key**.
//!
//! Every process that calls the API with a key (each delivery worker instance, a backfill,
//! the reconciler) must spend from one bucket, or two of them spend twice the budget and
//! the key gets throttled or banned. [`DynamoPace`] keeps the bucket in the state table
//! (item `qapla-budget#<hash of the key>`, optimistic concurrency on its last update) so
//! it is shared by every process; [`LocalPace`] keeps it in memory (local runs, tests).
//!
//! A caller may keep a `reserve`: a backfill takes a call only while more than 20 are left,
//! so a year of history never starves live enrichment of its burst.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Qapla's bucket: its size and its refill rate.
pub const BURST: f64 = 120.0;
pub const PER_SECOND: f64 = 2.0;

/// A bucket's size and refill rate: Qapla's ([`Budget::QAPLA`]) unless `QAPLA_API_BUDGET`
/// (`<burst>,<per second>`) says otherwise — for a Qapla' stand-in in tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub burst: f64,
    pub per_second: f64,
}

impl Budget {
    pub const QAPLA: Budget = Budget {
        burst: BURST,
        per_second: PER_SECOND,
    };

    pub fn from_env() -> Budget {
        let text = std::env::var("QAPLA_API_BUDGET").unwrap_or_default();
        let mut parts = text.split(',').map(|p| p.trim().parse::<f64>());
        match (parts.next(), parts.next()) {
            (Some(Ok(burst)), Some(Ok(per_second))) if burst >= 1.0 && per_second > 0.0 => {
                Budget { burst, per_second }
            }
            _ => Budget::QAPLA,
        }
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

/// The bucket's name for a key: a hash, never the key.
pub fn bucket_id(key: &SecretString) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(key.expose_secret().trim().as_bytes());
    let hex: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("qapla-budget#{hex}")
}

/// The bucket `tokens` (as of `elapsed` ago) after one call is taken, or how long to wait.
pub fn take_from(b: Budget, tokens: f64, elapsed: Duration, reserve: f64) -> Result<f64, Duration> {
    let tokens = (tokens + elapsed.as_secs_f64() * b.per_second).min(b.burst);
    let needed = 1.0 + reserve.clamp(0.0, b.burst - 1.0);
    if tokens >= needed {
        Ok(tokens - 1.0)
    } else {
        Err(Duration::from_secs_f64((needed - tokens) / b.per_second))
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// In memory, per process.
pub struct LocalPace {
    budget: Budget,
    buckets: Mutex<HashMap<String, (f64, u64)>>,
}

impl Default for LocalPace {
    fn default() -> Self {
        LocalPace {
            budget: Budget::QAPLA,
            buckets: Mutex::default(),
        }
    }
}

#[async_trait]
impl Pace for LocalPace {
    async fn take(&self, key: &SecretString, reserve: f64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = now_ms();
        let b = self.budget;
        let (tokens, at) = buckets.entry(bucket_id(key)).or_insert((b.burst, now));
        let elapsed = Duration::from_millis(now.saturating_sub(*at));
        *tokens = take_from(b, *tokens, elapsed, reserve)?;
        *at = now;
        Ok(())
    }
}

/// In the state table, shared by every process using the key.
pub struct DynamoPace {
    client: aws_sdk_dynamodb::Client,
    table: String,
    budget: Budget,
}

/// Concurrent takers that lose the race read again; past this many, the caller waits.
const CONTENDED_TRIES: usize = 8;

impl DynamoPace {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoPace {
            client,
            table: table.into(),
            budget: Budget::QAPLA,
        }
    }

    /// With another bucket than Qapla's (see [`Budget::from_env`]).
    pub fn with_budget(self, budget: Budget) -> Self {
        DynamoPace { budget, ..self }
    }

    /// The bucket as stored: tokens and the time of the last take (epoch ms).
    async fn read(&self, pk: &str) -> Result<Option<(f64, u64)>, String> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::telemetry::error_chain(&e))?;
        let number = |item: &HashMap<String, AttributeValue>, k: &str| {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<f64>().ok())
        };
        Ok(out
            .item
            .and_then(|item| Some((number(&item, "tokens")?, number(&item, "at_ms")? as u64))))
    }
}

#[async_trait]
impl Pace for DynamoPace {
    async fn take(&self, key: &SecretString, reserve: f64) -> Result<(), Duration> {
        let pk = bucket_id(key);
        for _ in 0..CONTENDED_TRIES {
            let stored = match self.read(&pk).await {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::warn!(%error, "Qapla' API budget unreadable: waiting");
                    return Err(Duration::from_secs(1));
                }
            };
            let now = now_ms();
            let (tokens, at) = stored.unwrap_or((self.budget.burst, now));
            let elapsed = Duration::from_millis(now.saturating_sub(at));
            let left = take_from(self.budget, tokens, elapsed, reserve)?;
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(pk.clone()))
                .item("tokens", AttributeValue::N(format!("{left:.3}")))
                .item("at_ms", AttributeValue::N(now.to_string()))
                .item(
                    "expires_at",
                    AttributeValue::N((now / 1000 + 86_400).to_string()),
                );
            put = match stored {
                None => put.condition_expression("attribute_not_exists(pk)"),
                Some((_, at)) => put
                    .condition_expression("at_ms = :at")
                    .expression_attribute_values(":at", AttributeValue::N(at.to_string())),
            };
            match put.send().await {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => {
                    let error = crate::telemetry::error_chain(&e);
                    tracing::warn!(%error, "Qapla' API budget not updated: waiting");
                    return Err(Duration::from_secs(1));
                }
            }
        }
        Err(Duration::from_secs_f64(1.0 / self.budget.per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Budget = Budget::QAPLA;

    #[test]
    fn the_bucket_refills_at_two_per_second_up_to_its_size() {
        assert_eq!(take_from(Q, 120.0, Duration::ZERO, 0.0), Ok(119.0));
        assert_eq!(take_from(Q, 0.0, Duration::from_secs(1), 0.0), Ok(1.0));
        assert_eq!(take_from(Q, 119.0, Duration::from_secs(60), 0.0), Ok(119.0));
        assert_eq!(
            take_from(Q, 0.0, Duration::ZERO, 0.0),
            Err(Duration::from_millis(500))
        );
    }

    #[test]
    fn a_reserve_is_left_for_others() {
        assert_eq!(
            take_from(Q, 20.0, Duration::ZERO, BACKFILL_RESERVE),
            Err(Duration::from_millis(500))
        );
        assert_eq!(
            take_from(Q, 21.0, Duration::ZERO, BACKFILL_RESERVE),
            Ok(20.0)
        );
        assert_eq!(take_from(Q, 1.0, Duration::ZERO, 0.0), Ok(0.0));
    }

    #[test]
    fn the_bucket_is_named_by_a_hash_of_the_key() {
        let id = bucket_id(&SecretString::from("secret-key"));
        assert!(id.starts_with("qapla-budget#") && !id.contains("secret"));
        assert_eq!(id, bucket_id(&SecretString::from(" secret-key ")));
        assert_ne!(id, bucket_id(&SecretString::from("other")));
    }
}
