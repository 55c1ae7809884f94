//! What the delivery stage remembers: which events were delivered (idempotency) and, per
//! shipment, the newest status delivered (so a late, older status is not sent).
//!
//! Production: one DynamoDB table, key `pk` (string), TTL attribute `expires_at` (epoch
//! seconds). DynamoDB deletes expired items up to ~48 h late, so expiry is checked in code.
//! Items: `event#<event id>` and `shipment#<channel>#<tracking number>`.

use super::Envelope;
use crate::qapla::time::{parse_time, too_far_ahead};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// What the state says about an envelope before delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Not delivered yet, and not older than what was delivered for its shipment.
    Fresh,
    /// This very event was delivered already.
    Duplicate,
    /// A newer status of the same shipment was delivered already.
    Superseded { newest: String },
    /// The same status (id and detail) as the last one delivered for the shipment, and the
    /// channel notifies only real changes.
    Repeat,
}

#[derive(Debug, thiserror::Error)]
#[error("delivery state store unavailable")]
pub struct StateError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

#[async_trait]
pub trait StateStore: Send + Sync {
    async fn check(&self, envelope: &Envelope) -> Result<Seen, StateError>;
    /// Remember a delivered envelope (event id, and its shipment's newest status).
    async fn record(&self, envelope: &Envelope) -> Result<(), StateError>;
}

fn now_secs() -> u64 {
    super::message::epoch_now().as_secs()
}

fn shipment_pk(e: &Envelope) -> Option<String> {
    (e.kind == crate::Kind::Shipment).then(|| format!("shipment#{}#{}", e.channel, e.key))
}

/// The newest status delivered for a shipment: its time and its `status/detail` key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Newest {
    at: String,
    status: String,
}

/// The decision, given what is stored.
fn decide(envelope: &Envelope, delivered: bool, newest: Option<Newest>) -> Seen {
    if delivered {
        return Seen::Duplicate;
    }
    let Some(newest) = newest else {
        return Seen::Fresh;
    };
    // Compared as instants (`T` and space forms alike). A stored time far in the future
    // (a courier's wrong date, or one recorded before this check) orders nothing.
    let stored = parse_time(&newest.at).filter(|t| !too_far_ahead(*t));
    let at = envelope.occurred_at.as_deref().and_then(parse_time);
    if let (Some(at), Some(stored)) = (at, stored)
        && at < stored
    {
        return Seen::Superseded { newest: newest.at };
    }
    match &envelope.repeat_key {
        Some(key) if *key == newest.status => Seen::Repeat,
        _ => Seen::Fresh,
    }
}

/// In memory: for local runs and tests.
#[derive(Default)]
pub struct MemoryState {
    ttl: Option<Duration>,
    items: Mutex<HashMap<String, (Newest, u64)>>,
}

impl MemoryState {
    pub fn with_ttl(ttl: Duration) -> Self {
        MemoryState {
            ttl: Some(ttl),
            items: Mutex::default(),
        }
    }

    fn get(&self, pk: &str) -> Option<Newest> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items
            .get(pk)
            .filter(|(_, expires)| *expires > now_secs())
            .map(|(v, _)| v.clone())
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn check(&self, envelope: &Envelope) -> Result<Seen, StateError> {
        let delivered = self.get(&format!("event#{}", envelope.event_id)).is_some();
        let newest = shipment_pk(envelope).and_then(|pk| self.get(&pk));
        Ok(decide(envelope, delivered, newest))
    }

    async fn record(&self, envelope: &Envelope) -> Result<(), StateError> {
        let ttl = self.ttl.unwrap_or(Duration::from_secs(30 * 86_400));
        let expires = now_secs() + ttl.as_secs();
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.insert(
            format!("event#{}", envelope.event_id),
            (Newest::default(), expires),
        );
        if let (Some(pk), Some(at)) = (shipment_pk(envelope), &envelope.occurred_at) {
            let newest = Newest {
                at: at.clone(),
                status: envelope.repeat_key.clone().unwrap_or_default(),
            };
            let keep = items
                .get(&pk)
                .is_some_and(|(v, _)| parse_time(&v.at) > parse_time(&newest.at));
            if !keep {
                items.insert(pk, (newest, expires));
            }
        }
        Ok(())
    }
}

/// DynamoDB table (see module docs).
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl: Duration,
}

impl DynamoState {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, ttl: Duration) -> Self {
        DynamoState {
            client,
            table: table.into(),
            ttl,
        }
    }

    /// The item's `value` and `status`, if it exists and has not expired.
    async fn get(&self, pk: &str) -> Result<Option<Newest>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StateError(Box::new(e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let expires = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        if expires <= now_secs() {
            return Ok(None);
        }
        let text = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        Ok(Some(Newest {
            at: text("value"),
            status: text("status"),
        }))
    }
}

#[async_trait]
impl StateStore for DynamoState {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn check(&self, envelope: &Envelope) -> Result<Seen, StateError> {
        let delivered = self
            .get(&format!("event#{}", envelope.event_id))
            .await?
            .is_some();
        let newest = match shipment_pk(envelope) {
            Some(pk) if !delivered => self.get(&pk).await?,
            _ => None,
        };
        Ok(decide(envelope, delivered, newest))
    }

    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn record(&self, envelope: &Envelope) -> Result<(), StateError> {
        let now = now_secs();
        let expires = AttributeValue::N((now + self.ttl.as_secs()).to_string());
        self.client
            .put_item()
            .table_name(&self.table)
            .item(
                "pk",
                AttributeValue::S(format!("event#{}", envelope.event_id)),
            )
            .item(
                "value",
                AttributeValue::S(envelope.status_id.clone().unwrap_or_default()),
            )
            .item("expires_at", expires.clone())
            .send()
            .await
            .map_err(|e| StateError(Box::new(e)))?;
        // Without a usable status time the event orders nothing (see `decide`).
        let (Some(pk), Some(at)) = (shipment_pk(envelope), envelope.occurred_at.clone()) else {
            return Ok(());
        };
        // `at` is normalised (`YYYY-MM-DD HH:MM:SS`), so the condition compares as text.
        // Only move forward: an older status never overwrites a newer one.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk))
            .item("value", AttributeValue::S(at.clone()))
            .item(
                "status",
                AttributeValue::S(envelope.repeat_key.clone().unwrap_or_default()),
            )
            .item("expires_at", expires)
            .condition_expression("attribute_not_exists(pk) OR #v <= :at OR expires_at <= :now")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":at", AttributeValue::S(at))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(StateError(Box::new(e))),
        }
    }
}
