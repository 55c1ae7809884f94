//! What the delivery stage remembers: which events were delivered (idempotency) and, per
//! shipment, the newest status delivered (so a late, older status is not sent).
//!
//! Production: the state table (its items and keys: `crate::aws::table`; the store: `crate::aws::DynamoState`): `event#…` for
//! delivered events, the last delivery of each shipment, return and order (what
//! `bridge-admin trace` reads; for a shipment, the newest status delivered), and the
//! long-lived ledger `status#…` (see [`Envelope::status_key`]), kept [`LEDGER_TTL`]: a
//! status delivered live is not sent again by a backfill a year later, nor by
//! reconciliation, though their event ids differ.
//!
//! ## A delivery is recorded whole or not at all
//!
//! The three records of a delivery (its `event#`, its `status#` ledger entry, its shipment's
//! newest status) decide what is sent next: a redelivery is a duplicate only by `event#`, and
//! an older status is superseded only by the newest status. So they are one DynamoDB
//! transaction (`TransactWriteItems`), and at every point of failure the state is one of two:
//!
//! - **nothing written** (the worker died or the table refused before the commit): the
//!   message is not acknowledged (the worker reports it failed, and its group waits behind
//!   it), comes back fresh, and is sent again — a duplicate of the documented kind
//!   "delivered, then the worker failed before recording", never an older status;
//! - **everything written**: a redelivery is a duplicate, an older status is superseded, a
//!   repeat is a repeat.
//!
//! The newest-status put holds only if it moves forward; when a newer status is stored its
//! condition fails, the transaction writes nothing, and the event and ledger are then
//! written alone (again one transaction): the newer status stays.

use super::Envelope;
use crate::qapla::time::{parse_time, too_far_ahead};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// What the state says about an envelope before delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Not delivered yet, and not older than what was delivered for its shipment; with the
    /// time the shipment left, if a status delivered before said so (`shippedAt`).
    Fresh { shipped_at: Option<String> },
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
    /// Count a failed try of the envelope's delivery: the failed tries so far (1 for the
    /// first), remembered [`TRIES_TTL`]. Hold-backs and redeliveries are not tries.
    async fn failed_try(&self, envelope: &Envelope) -> Result<u32, StateError>;
    /// Remember that Qapla' posts events of this envelope's kind and channel to the bridge.
    async fn saw_live(&self, envelope: &Envelope) -> Result<(), StateError>;
    /// Whether a live post of `kind` on `channel` was ever seen (see [`StateStore::saw_live`]).
    async fn is_live(&self, kind: crate::Kind, channel: &str) -> Result<bool, StateError>;
}

/// How long the failed tries of an event are counted: beyond the worker's delivery budget.
pub const TRIES_TTL: Duration = Duration::from_secs(5 * 86_400);

/// How long the ledger remembers a delivered status: more than the longest backfill range.
pub const LEDGER_TTL: Duration = Duration::from_secs(400 * 86_400);

use crate::clock::epoch_secs as now_secs;

/// The memory's keys: an item family and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Event(String),
    Status(String),
    /// A shipment's newest status: channel, tracking number.
    Newest(String, String),
}

/// The key of a shipment's newest status delivered (only shipments order their events; a
/// stall is checked against it, never written to it).
fn newest_key(e: &Envelope) -> Option<Key> {
    (e.kind == crate::Kind::Shipment)
        .then(|| Key::Newest(e.channel.as_str().to_owned(), e.key.clone()))
}

/// The newest status delivered for a shipment: its time and its `status/detail` key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Newest {
    pub at: String,
    pub status: String,
    pub shipped_at: Option<String>,
}

/// The decision, given what is stored.
pub fn decide(envelope: &Envelope, delivered: bool, newest: Option<Newest>) -> Seen {
    if delivered {
        return Seen::Duplicate;
    }
    let Some(newest) = newest else {
        return Seen::Fresh { shipped_at: None };
    };
    // A past status of a backfill's whole history (`order-status-history`, oldest first)
    // is older than what was delivered live by nature: sent once (its ledger), never
    // superseded nor a repeat. The record never moves the newest status back.
    if envelope.reception() == crate::Reception::ShipmentHistory {
        return Seen::Fresh {
            shipped_at: newest.shipped_at,
        };
    }
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
        _ => Seen::Fresh {
            shipped_at: newest.shipped_at,
        },
    }
}

/// In memory: for local runs and tests.
#[derive(Default)]
pub struct MemoryState {
    ttl: Option<Duration>,
    items: Mutex<HashMap<Key, (Newest, u64)>>,
    tries: Mutex<HashMap<String, u32>>,
    live: Mutex<std::collections::HashSet<(crate::Kind, String)>>,
}

impl MemoryState {
    pub fn with_ttl(ttl: Duration) -> Self {
        MemoryState {
            ttl: Some(ttl),
            ..MemoryState::default()
        }
    }

    fn get(&self, key: &Key) -> Option<Newest> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items
            .get(key)
            .filter(|(_, expires)| *expires > now_secs())
            .map(|(v, _)| v.clone())
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn check(&self, envelope: &Envelope) -> Result<Seen, StateError> {
        let delivered = self.get(&Key::Event(envelope.event_id.clone())).is_some()
            || envelope
                .status_key()
                .is_some_and(|key| self.get(&Key::Status(key)).is_some());
        let newest = newest_key(envelope).and_then(|key| self.get(&key));
        Ok(decide(envelope, delivered, newest))
    }

    async fn status_delivered(&self, status_key: &str) -> Result<bool, StateError> {
        Ok(self.get(&Key::Status(status_key.to_owned())).is_some())
    }

    async fn handled(&self, envelope: &Envelope) -> Result<(), StateError> {
        if let Some(key) = envelope.status_key() {
            let expires = now_secs() + LEDGER_TTL.as_secs();
            let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
            items.insert(Key::Status(key), (Newest::default(), expires));
        }
        Ok(())
    }

    async fn saw_live(&self, envelope: &Envelope) -> Result<(), StateError> {
        let pk = (envelope.kind, envelope.channel.as_str().to_owned());
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pk);
        Ok(())
    }

    async fn is_live(&self, kind: crate::Kind, channel: &str) -> Result<bool, StateError> {
        let pk = (kind, channel.to_owned());
        Ok(self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&pk))
    }

    async fn failed_try(&self, envelope: &Envelope) -> Result<u32, StateError> {
        let mut tries = self.tries.lock().unwrap_or_else(|e| e.into_inner());
        let count = tries.entry(envelope.event_id.clone()).or_default();
        *count += 1;
        Ok(*count)
    }

    async fn record(&self, envelope: &Envelope) -> Result<(), StateError> {
        self.handled(envelope).await?;
        let ttl = self.ttl.unwrap_or(Duration::from_secs(30 * 86_400));
        let expires = now_secs() + ttl.as_secs();
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.insert(
            Key::Event(envelope.event_id.clone()),
            (Newest::default(), expires),
        );
        let newest = newest_key(envelope).filter(|_| !envelope.is_stall());
        if let (Some(pk), Some(at)) = (newest, &envelope.occurred_at) {
            let newest = Newest {
                at: at.clone(),
                status: envelope.repeat_key.clone().unwrap_or_default(),
                shipped_at: envelope.shipped_at().map(str::to_owned),
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
