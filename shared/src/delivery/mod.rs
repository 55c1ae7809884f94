//! Between "accepted" and "delivered": the hand-off port and what carries an event through
//! it ([`Envelope`]), then delivery of one event to Connectif (completed from Qapla's API
//! when needed), by the worker of the durable queue.
//!
//! A webhook answers Qapla' OK once its events are handed off. In the stack the hand-off is
//! the SQS FIFO queue (`crate::aws::SqsQueue`) and the delivery worker drains it. Without a queue
//! (local runs, `make demo`) the in-process hand-off delivers right away with a short,
//! bounded retry. [`MemoryQueue`] and [`state::MemoryState`] are the queue and state store
//! of the local worker (`sam local invoke` of the SQS sample) and of the tests.

mod deliver;
pub mod enrich;
pub mod estimate;
mod in_process;
pub mod lambda;
mod memory_queue;
pub mod message;
mod retry;
pub mod state;
mod worker;

pub use deliver::Deliverer;
pub use in_process::InProcessHandOff;
pub use memory_queue::MemoryQueue;
pub use message::{QueueControl, QueueError, QueueMessage, group_id};
pub use retry::RetryPolicy;
pub use worker::{Worker, WorkerPolicy};

use crate::Kind;
use crate::channel::ChannelId;
use crate::connectif::{ConnectifEvent, DeliveryError, Enrich, Reception};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One event on its way to Connectif: what the hand-off carries. It holds no secret: the
/// delivery side reads the channel's Connectif settings itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Stable id of the Qapla' event (see [`Envelope::id_of`]): deduplication key.
    pub event_id: String,
    pub channel: ChannelId,
    pub kind: Kind,
    /// What the event is about: the tracking number (shipments) or the order reference
    /// (orders, returns); `key` on the wire and in log lines too.
    pub key: String,
    /// Qapla' status id (shipments only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
    /// Qapla's status time, `YYYY-MM-DD HH:MM:SS` (shipments only): orders statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
    /// `status id/detail id`: set when the channel notifies only real changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_key: Option<String>,
    /// Qapla's courier code (absent in messages queued by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courier: Option<String>,
    /// The parcel is held at the depot (status 6, detail 1): with `releaseLinks`, its event
    /// carries a release link.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// What must still be filled in from Qapla's API before delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrich: Option<Enrich>,
    /// Read from Qapla's API by the bridge (reconciliation, backfill), not posted by Qapla'.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pulled: bool,
    /// Its event was delivered: only the contact's fields are left to set (`contactFields`;
    /// the event as it was sent, the same `event_id`, so a worker of the version before takes
    /// it for the duplicate it is and sends nothing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contact_update: bool,
    pub event: ConnectifEvent,
}

/// The mark of `bridge-admin check`'s test posts: their tracking numbers and references
/// start with it. Such a post proves the path, never that Qapla' posts to the bridge.
pub const PROOF_MARK: &str = "BRIDGE-CHECK-";

impl Envelope {
    /// Whether this is one of `bridge-admin check`'s test posts ([`PROOF_MARK`]).
    pub fn is_proof(&self) -> bool {
        self.key.trim().starts_with(PROOF_MARK)
    }

    /// SHA-256 (hex) of the channel, the kind and the fields that identify one Qapla' event.
    /// Qapla's own transmission ids are not used: a retried post may not keep them.
    pub fn id_of(channel: &ChannelId, kind: Kind, parts: &[&str]) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in [channel.as_str(), kind.as_str()].iter().chain(parts) {
            hash.update(part.trim().as_bytes());
            hash.update([0x1f]);
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The queue's deduplication id: the event's, and its own for a contact update (else SQS
    /// would drop the update as the event sent a moment before).
    pub fn dedup_id(&self) -> String {
        match self.contact_update {
            true => format!("{}-contact", self.event_id),
            false => self.event_id.clone(),
        }
    }

    /// The contact update that follows this delivered event, as it was sent (`sent`).
    pub fn contact_update_of(&self, sent: ConnectifEvent) -> Envelope {
        Envelope {
            contact_update: true,
            enrich: None,
            event: sent,
            ..self.clone()
        }
    }

    /// What a log line or a listing names it by: (channel, kind, key, status id or `""`).
    pub fn names(&self) -> (&str, &'static str, &str, &str) {
        let status = self.status_id.as_deref().unwrap_or("");
        (self.channel.as_str(), self.kind.as_str(), &self.key, status)
    }

    /// The reception event it is for.
    pub fn reception(&self) -> Reception {
        self.event.reception.unwrap_or(Reception::of(self.kind))
    }

    /// Whether it is a notice about a shipment, not a status of it: a stalled parcel
    /// (`parcel-stalled`, about its last status) or a release (`parcel-release`).
    pub fn is_stall(&self) -> bool {
        matches!(
            self.reception(),
            Reception::ParcelStalled | Reception::ParcelRelease
        )
    }

    /// With `shippedAt` filled in: `stored` (the time a status delivered before gave),
    /// else this status's time if the parcel is with the courier at it.
    pub fn with_shipped_at(mut self, stored: Option<String>) -> Self {
        let shipped = crate::mapping::is_shipped(self.status_id.as_deref().unwrap_or_default());
        let own = self.occurred_at.clone().filter(|_| shipped);
        if let crate::connectif::Fields::ShipmentStatus(f) = &mut self.event.fields
            && f.shipped_at.is_none()
        {
            f.shipped_at = stored.or(own);
        }
        self
    }

    /// When the shipment left (`shippedAt`), as the event carries it, if known.
    pub fn shipped_at(&self) -> Option<&str> {
        let at = match &self.event.fields {
            crate::connectif::Fields::ShipmentStatus(f) => f.shipped_at.as_deref(),
            crate::connectif::Fields::ParcelStalled(f) => f.shipped_at.as_deref(),
            _ => None,
        };
        at.filter(|at| !at.is_empty())
    }

    /// The status it tells, however it reached the bridge (a post, a backfill, a
    /// reconciliation): `<channel>#<tracking number>#<status id>#<status time>`, Qapla's
    /// own de-duplication key for pulled statuses (a post carries fields the API does not,
    /// so the event ids of one status differ). Shipments with a status time only, not stalls.
    pub fn status_key(&self) -> Option<String> {
        let (Some(id), Some(at)) = (&self.status_id, &self.occurred_at) else {
            return None;
        };
        (self.kind == Kind::Shipment && !self.is_stall())
            .then(|| status_key(&self.channel, &self.key, id, at))
    }

    /// FIFO message group: one per shipment (or order), so its events stay in order.
    pub fn group(&self) -> String {
        format!("{}:{}:{}", self.channel, self.kind.as_str(), self.key)
    }
}

/// The key of one status of a shipment (see [`Envelope::status_key`]): also what backfill
/// and reconciliation look up before they queue a status.
pub fn status_key(channel: &ChannelId, tracking: &str, status_id: &str, at: &str) -> String {
    format!("{channel}#{}#{}#{at}", tracking.trim(), status_id.trim())
}

/// What became of a handed-off event, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandedOff {
    /// Stored durably; delivery happens later.
    Queued,
    /// Delivered to Connectif (in-process), after `tries` attempts.
    Delivered { tries: u32 },
    /// Not delivered (in-process): retries exhausted or a permanent refusal.
    Failed { tries: u32, error: DeliveryError },
    /// Not sent, and rightly so (in-process): e.g. a shipment Qapla' itself does not know.
    Skipped { reason: String },
}

impl HandedOff {
    pub fn outcome(&self) -> &'static str {
        match self {
            HandedOff::Queued => "received",
            HandedOff::Delivered { .. } => "delivered",
            HandedOff::Failed { .. } => "delivery_failed",
            HandedOff::Skipped { .. } => "skipped",
        }
    }
}

/// The hand-off could not take the event: the webhook must answer KO so Qapla' retries.
#[derive(Debug, thiserror::Error)]
#[error("hand-off failed")]
pub struct HandOffError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// The port between a webhook and delivery.
#[async_trait]
pub trait HandOff: Send + Sync {
    async fn hand_off(&self, envelope: Envelope) -> Result<HandedOff, HandOffError>;

    /// Every event of one post, results in the same order. The default hands them off one
    /// after another; a queue sends them in batches.
    async fn hand_off_all(&self, envelopes: Vec<Envelope>) -> Vec<Result<HandedOff, HandOffError>> {
        let mut results = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            results.push(self.hand_off(envelope).await);
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_stable_and_tell_events_apart() {
        let it = ChannelId::try_from("it").expect("id");
        let es = ChannelId::try_from("es").expect("id");
        let id = Envelope::id_of;
        let a = id(&it, Kind::Shipment, &["1", "3", "2024-01-01 10:00:00"]);
        assert_eq!(a.len(), 64);
        assert_eq!(
            a,
            id(&it, Kind::Shipment, &[" 1", "3", "2024-01-01 10:00:00 "])
        );
        assert_ne!(
            a,
            id(&es, Kind::Shipment, &["1", "3", "2024-01-01 10:00:00"])
        );
        assert_ne!(a, id(&it, Kind::Order, &["1", "3", "2024-01-01 10:00:00"]));
        assert_ne!(
            a,
            id(&it, Kind::Shipment, &["1", "3", "2024-01-01 10:00:01"])
        );
        // Field boundaries count: ("13", "") is not ("1", "3").
        assert_ne!(
            id(&it, Kind::Shipment, &["13", ""]),
            id(&it, Kind::Shipment, &["1", "3"])
        );
    }
}
