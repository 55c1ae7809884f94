//! Between "accepted" and "delivered": the hand-off port, the retry policy, and delivery of
//! one event to Connectif.
//!
//! A webhook answers Qapla' OK once its events are handed off. The in-process hand-off
//! (the embedded default for local runs and tests) delivers right away with a short,
//! bounded retry; a durable queue implements the same port for production.

mod in_process;
mod memory_queue;
mod queue;
pub mod replay;
mod retry;
pub mod state;
mod worker;

pub use in_process::InProcessHandOff;
pub use memory_queue::MemoryQueue;
pub use queue::{QueueControl, QueueError, QueueMessage, SqsQueue, from_sdk, group_id};
pub use retry::RetryPolicy;
pub use worker::{Worker, WorkerPolicy};

use crate::Kind;
use crate::channel::{AuthError, Authenticator, ChannelId, StoreError};
use crate::connectif::{ConnectifClient, ConnectifEvent, DeliveryError, Reception};
use crate::enrich::{Enrich, Enricher};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One event on its way to Connectif: what the hand-off carries. It holds no secret: the
/// delivery side reads the channel's Connectif settings itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Stable id of the Qapla' event (see `webhook::event_id`): deduplication key.
    pub event_id: String,
    pub channel: ChannelId,
    pub kind: Kind,
    /// Tracking number (shipments) or order reference (orders, returns).
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
    /// What must still be filled in from Qapla's API before delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrich: Option<Enrich>,
    pub event: ConnectifEvent,
}

impl Envelope {
    /// The reception event it is for.
    pub fn reception(&self) -> Reception {
        self.event.reception.unwrap_or(Reception::of(self.kind))
    }

    /// FIFO message group: one per shipment (or order), so its events stay in order.
    pub fn group(&self) -> String {
        format!("{}:{}:{}", self.channel, self.kind.as_str(), self.key)
    }
}

/// What became of a handed-off event, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored durably; delivery happens later.
    Queued,
    /// Delivered to Connectif (in-process), after `tries` attempts.
    Delivered { tries: u32 },
    /// Not delivered (in-process): retries exhausted or a permanent refusal.
    Failed { tries: u32, error: DeliveryError },
    /// Not sent, and rightly so (in-process): e.g. a shipment Qapla' itself does not know.
    Skipped { reason: String },
}

impl Accepted {
    pub fn outcome(&self) -> &'static str {
        match self {
            Accepted::Queued => "received",
            Accepted::Delivered { .. } => "delivered",
            Accepted::Failed { .. } => "delivery_failed",
            Accepted::Skipped { .. } => "skipped",
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
    async fn hand_off(&self, envelope: Envelope) -> Result<Accepted, HandOffError>;

    /// Every event of one post, results in the same order. The default hands them off one
    /// after another; a queue sends them in batches.
    async fn hand_off_all(&self, envelopes: Vec<Envelope>) -> Vec<Result<Accepted, HandOffError>> {
        let mut results = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            results.push(self.hand_off(envelope).await);
        }
        results
    }
}

/// Delivers one envelope once, with the channel's current settings: completes it from
/// Qapla's API if needed, then posts it to Connectif.
#[derive(Clone)]
pub struct Deliverer {
    channels: Arc<Authenticator>,
    client: ConnectifClient,
    enricher: Arc<Enricher>,
}

impl Deliverer {
    pub fn new(channels: Arc<Authenticator>, client: ConnectifClient) -> Self {
        let enricher = Arc::new(Enricher::new(
            client.http().clone(),
            std::time::Duration::from_secs(3600),
        ));
        Deliverer {
            channels,
            client,
            enricher,
        }
    }

    /// Qapla' API calls made so far by this deliverer.
    pub fn qapla_calls(&self) -> u64 {
        self.enricher.calls()
    }

    pub async fn deliver(&self, envelope: &Envelope) -> Result<(), DeliveryError> {
        let settings = match self.channels.settings(&envelope.channel).await {
            Ok(Some(settings)) => settings,
            Ok(None) => {
                return Err(DeliveryError::Permanent {
                    reason: "channel settings no longer exist".into(),
                });
            }
            Err(AuthError::Store(StoreError::Invalid(e))) => {
                return Err(DeliveryError::Retryable {
                    reason: format!("channel settings invalid: {e}"),
                    retry_after: None,
                });
            }
            Err(e) => {
                return Err(DeliveryError::Retryable {
                    reason: e.to_string(),
                    retry_after: None,
                });
            }
        };
        let completed;
        let event = match &envelope.enrich {
            None => &envelope.event,
            Some(enrich) => {
                completed = self
                    .enricher
                    .complete(&envelope.channel, &settings, &envelope.event, enrich)
                    .await?;
                &completed
            }
        };
        let reception = envelope.reception();
        if let Some(field) = event.missing_required(reception) {
            return Err(DeliveryError::Permanent {
                reason: format!("required field `{field}` is empty"),
            });
        }
        self.client
            .send(&settings.connectif, reception, event)
            .await
    }
}
