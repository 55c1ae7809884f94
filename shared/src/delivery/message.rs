//! What the delivery worker gets from the queue and may do with it: one message (from
//! Lambda's SQS event or an SDK receive, one conversion), the control port (retry later,
//! dead-letter), and the SQS naming rules both the queue and the replay command follow.

use super::Envelope;
use async_trait::async_trait;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The message attributes a dead letter carries (written by the worker, read by `replay`).
pub mod dead_letter_attr {
    pub const REASON: &str = "reason";
    pub const FAILED_AT: &str = "failed_at";
    pub const RECEIVE_COUNT: &str = "receive_count";
}

/// An SQS deduplication id: at most 128 characters.
pub fn sqs_id(id: &str) -> String {
    id.chars().take(128).collect()
}

/// One message as the delivery worker receives it.
#[derive(Debug, Clone)]
pub struct QueueMessage {
    pub id: String,
    pub receipt: String,
    pub body: String,
    pub group: String,
    /// How often SQS handed it out (approximate; inflated by held-back receives).
    pub receive_count: u32,
    /// When it was first enqueued: the age limit (`max_age`) counts from here.
    pub sent_at: SystemTime,
}

impl QueueMessage {
    /// From a record of Lambda's SQS event (what the worker gets in production).
    pub fn from_sqs(m: &aws_lambda_events::event::sqs::SqsMessage) -> Self {
        let attr = |k: &str| m.attributes.get(k).cloned();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self::from_parts(
            text(&m.message_id),
            text(&m.receipt_handle),
            text(&m.body),
            attr,
        )
    }

    /// One conversion for Lambda's records and SDK receives (`crate::aws::message_of`):
    /// system attributes by name, SQS's defaults when absent.
    pub fn from_parts(
        id: String,
        receipt: String,
        body: String,
        attr: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let number = |k: &str| attr(k).and_then(|v| v.parse::<u64>().ok());
        QueueMessage {
            id,
            receipt,
            body,
            group: attr("MessageGroupId").unwrap_or_default(),
            receive_count: number("ApproximateReceiveCount").map_or(1, |n| n as u32),
            sent_at: UNIX_EPOCH + Duration::from_millis(number("SentTimestamp").unwrap_or(0)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("queue operation failed")]
pub struct QueueError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// What the worker does to a message besides reporting it failed.
#[async_trait]
pub trait QueueControl: Send + Sync {
    /// Make a failed message visible again after `delay` (the backoff).
    async fn retry_later(&self, msg: &QueueMessage, delay: Duration) -> Result<(), QueueError>;
    /// Move a message to the dead-letter queue with the reason; the caller then reports
    /// it done so the queue deletes it.
    async fn dead_letter(&self, msg: &QueueMessage, reason: &str) -> Result<(), QueueError>;
    /// Queue `envelope` behind its group's messages (a delivered event's contact update).
    async fn follow_up(&self, envelope: Envelope) -> Result<(), QueueError>;
}

/// SQS group ids allow 128 printable ASCII characters: longer or odder groups are hashed.
pub fn group_id(envelope: &Envelope) -> String {
    let group = envelope.group();
    if group.len() <= 128 && group.bytes().all(|b| b.is_ascii_graphic()) {
        group
    } else {
        Envelope::id_of(&envelope.channel, envelope.kind, &[&envelope.key])
    }
}
