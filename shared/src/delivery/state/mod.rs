//! What the delivery stage remembers: which events were delivered (idempotency) and, per
//! shipment, the newest status delivered (so a late, older status is not sent).
//!
//! Production: one DynamoDB table, key `pk` (string), TTL attribute `expires_at` (epoch
//! seconds). DynamoDB deletes expired items up to ~48 h late, so expiry is checked in code.
//! Items: `event#<event id>` (delivered), `shipment#<channel>#<tracking number>` (the newest
//! status delivered: its time, id, alias and when), and `return#<channel>#<reference>`,
//! `order#<channel>#<reference>` (the last delivery): the last three are what
//! `bridge-admin trace` reads. And the long-lived ledger `status#<status key>` (see
//! [`Envelope::status_key`]), kept [`LEDGER_TTL`]: a status delivered live is not sent again
//! by a backfill a year later, nor by reconciliation, though their event ids differ.

mod dynamo;

pub use dynamo::{DynamoState, LastDelivered};

use super::Envelope;
use crate::qapla::time::{parse_time, too_far_ahead};
use async_trait::async_trait;
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
    /// Whether a status ([`Envelope::status_key`]) was handled (delivered, or settled as a
    /// repeat, superseded or skipped), by any path, within the ledger's memory ([`LEDGER_TTL`]).
    async fn status_delivered(&self, status_key: &str) -> Result<bool, StateError>;
    /// Remember in the ledger that an envelope's status was handled without a delivery
    /// (a repeat, superseded, skipped): reconciliation must not find it again.
    async fn handled(&self, envelope: &Envelope) -> Result<(), StateError>;
}

/// How long the ledger remembers a delivered status: more than the longest backfill range.
pub const LEDGER_TTL: Duration = Duration::from_secs(400 * 86_400);

/// The ledger item of an envelope's status.
pub fn status_pk(e: &Envelope) -> Option<String> {
    e.status_key().map(|k| format!("status#{k}"))
}

pub(super) fn now_secs() -> u64 {
    super::message::epoch_now().as_secs()
}

pub(super) fn shipment_pk(e: &Envelope) -> Option<String> {
    (e.kind == crate::Kind::Shipment).then(|| format!("shipment#{}#{}", e.channel, e.key))
}

/// The newest status delivered for a shipment: its time and its `status/detail` key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Newest {
    pub(super) at: String,
    pub(super) status: String,
}

/// The decision, given what is stored.
pub(super) fn decide(envelope: &Envelope, delivered: bool, newest: Option<Newest>) -> Seen {
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
        let delivered = self.get(&format!("event#{}", envelope.event_id)).is_some()
            || status_pk(envelope).is_some_and(|pk| self.get(&pk).is_some());
        let newest = shipment_pk(envelope).and_then(|pk| self.get(&pk));
        Ok(decide(envelope, delivered, newest))
    }

    async fn status_delivered(&self, status_key: &str) -> Result<bool, StateError> {
        Ok(self.get(&format!("status#{status_key}")).is_some())
    }

    async fn handled(&self, envelope: &Envelope) -> Result<(), StateError> {
        if let Some(pk) = status_pk(envelope) {
            let expires = now_secs() + LEDGER_TTL.as_secs();
            let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
            items.insert(pk, (Newest::default(), expires));
        }
        Ok(())
    }

    async fn record(&self, envelope: &Envelope) -> Result<(), StateError> {
        self.handled(envelope).await?;
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
