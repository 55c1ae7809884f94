//! Qapla's API budget in the state table (`crate::qapla::pace`): item
//! `qapla-budget#<hash of the key>`, optimistic concurrency on its last update, so that every
//! process using a key spends from one bucket.

use super::table::{self, Pk, Table};
use crate::clock::epoch_millis;
use crate::qapla::pace::{Bucket, Pace, QAPLA, key_hash};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use secrecy::SecretString;
use std::time::Duration;

/// The bucket's name for a key: a hash, never the key.
pub fn bucket_id(key: &SecretString) -> String {
    Pk::Budget(&key_hash(key)).to_string()
}

/// In the state table, shared by every process using the key.
pub struct DynamoPace {
    table: Table,
    bucket: Bucket,
}

/// Concurrent takers that lose the race read again; past this many, the caller waits.
const CONTENDED_TRIES: usize = 8;

impl DynamoPace {
    pub fn new(table: Table) -> Self {
        DynamoPace {
            table,
            bucket: QAPLA,
        }
    }

    /// With another bucket than Qapla's (`QAPLA_API_BUDGET`).
    pub fn with_bucket(self, bucket: Bucket) -> Self {
        DynamoPace { bucket, ..self }
    }

    /// The bucket as stored: tokens and the time of the last take (epoch ms).
    async fn read(&self, hash: &str) -> Result<Option<(f64, u64)>, String> {
        let item = self
            .table
            .get(Pk::Budget(hash))
            .await
            .map_err(|e| crate::telemetry::error_chain(&*e))?;
        Ok(item.and_then(|item| {
            Some((
                table::number(&item, table::attr::TOKENS)?,
                table::number(&item, table::attr::AT_MS)? as u64,
            ))
        }))
    }
}

#[async_trait]
impl Pace for DynamoPace {
    async fn take(&self, key: &SecretString, reserve: f64) -> Result<(), Duration> {
        let hash = key_hash(key);
        for _ in 0..CONTENDED_TRIES {
            let stored = match self.read(&hash).await {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::warn!(%error, "Qapla' API budget unreadable: waiting");
                    return Err(Duration::from_secs(1));
                }
            };
            let now = epoch_millis();
            let (tokens, at) = stored.unwrap_or((self.bucket.burst, now));
            let elapsed = Duration::from_millis(now.saturating_sub(at));
            let left = self.bucket.take(tokens, elapsed, reserve)?;
            let mut put = self
                .table
                .put(Pk::Budget(&hash))
                .item(table::attr::TOKENS, AttributeValue::N(format!("{left:.3}")))
                .item(table::attr::AT_MS, AttributeValue::N(now.to_string()))
                .item(
                    table::attr::EXPIRES_AT,
                    table::expires_at(now / 1000, Duration::from_secs(86_400)),
                );
            put = match stored {
                None => put
                    .condition_expression("attribute_not_exists(#k)")
                    .expression_attribute_names("#k", table::attr::PK),
                Some((_, at)) => put
                    .condition_expression("#a = :at")
                    .expression_attribute_names("#a", table::attr::AT_MS)
                    .expression_attribute_values(":at", AttributeValue::N(at.to_string())),
            };
            match put.send().await {
                Ok(_) => return Ok(()),
                Err(e) if table::condition_failed(&e) => {}
                Err(e) => {
                    let error = crate::telemetry::error_chain(&e);
                    tracing::warn!(%error, "Qapla' API budget not updated: waiting");
                    return Err(Duration::from_secs(1));
                }
            }
        }
        Err(Duration::from_secs_f64(1.0 / self.bucket.per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_named_by_a_hash_of_the_key() {
        let id = bucket_id(&SecretString::from("secret-key"));
        assert!(id.starts_with("qapla-budget#") && !id.contains("secret"));
        assert_eq!(id, bucket_id(&SecretString::from(" secret-key ")));
        assert_ne!(id, bucket_id(&SecretString::from("other")));
    }
}
