//! The durable hand-off: an SQS FIFO queue (one message group per shipment or order, the
//! event id as deduplication id) with a FIFO dead-letter queue. Every message is sent by
//! [`SignedSend`]; the worker's visibility changes go through the SDK. (The in-memory queue
//! with the same group semantics is `crate::delivery::MemoryQueue`.)

use super::send::{Entry, SignedSend};
use crate::delivery::message::{dead_letter_attr, sqs_id};
use crate::delivery::{
    Envelope, HandOff, HandOffError, HandedOff, QueueControl, QueueError, QueueMessage, group_id,
};
use crate::telemetry::error_chain;
use async_trait::async_trait;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use std::sync::Arc;
use std::time::Duration;

/// The SQS FIFO queue and its dead-letter queue.
pub struct SqsQueue {
    /// The worker's `ChangeMessageVisibility` (None: a queue that only sends).
    client: Option<aws_sdk_sqs::Client>,
    send: Arc<SignedSend>,
    queue_url: String,
    dead_letter_url: Option<String>,
}

impl SqsQueue {
    /// A queue that messages are sent to (the webhooks, reconciliation, backfill).
    pub fn sending(send: Arc<SignedSend>, queue_url: String) -> Self {
        SqsQueue {
            client: None,
            send,
            queue_url,
            dead_letter_url: None,
        }
    }

    /// The worker's queue: its messages' visibility (`client`) and their dead letters.
    pub fn draining(
        client: aws_sdk_sqs::Client,
        send: Arc<SignedSend>,
        queue_url: String,
        dead_letter_url: String,
    ) -> Self {
        SqsQueue {
            client: Some(client),
            send,
            queue_url,
            dead_letter_url: Some(dead_letter_url),
        }
    }
}

/// A message of an SDK `ReceiveMessage` answer (the replay commands and the tests).
pub fn message_of(m: &aws_sdk_sqs::types::Message) -> QueueMessage {
    let attr = |k: &str| {
        let name = MessageSystemAttributeName::from(k);
        m.attributes().and_then(|a| a.get(&name)).cloned()
    };
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    QueueMessage::from_parts(
        text(m.message_id()),
        text(m.receipt_handle()),
        text(m.body()),
        attr,
    )
}

/// A dead letter's attribute value: never empty (SQS refuses an empty one).
fn text_attr(value: &str) -> String {
    if value.is_empty() { "-" } else { value }.to_owned()
}

#[async_trait]
impl HandOff for SqsQueue {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn hand_off(&self, envelope: Envelope) -> Result<HandedOff, HandOffError> {
        let body = serde_json::to_string(&envelope).map_err(|e| HandOffError(Box::new(e)))?;
        self.send_one(&group_id(&envelope), &envelope.dedup_id(), &body)
            .await?;
        Ok(HandedOff::Queued)
    }

    /// In batches of 10, several batches at once; results in the envelopes' order.
    async fn hand_off_all(&self, envelopes: Vec<Envelope>) -> Vec<Result<HandedOff, HandOffError>> {
        use futures_util::StreamExt;
        let count = envelopes.len();
        let sent: Vec<_> = futures_util::stream::iter(batches(&envelopes))
            .map(|batch| self.send_batch(batch))
            .buffer_unordered(BATCHES_IN_FLIGHT)
            .collect()
            .await;
        let mut results: Vec<Option<Result<HandedOff, HandOffError>>> =
            (0..count).map(|_| None).collect();
        for (i, result) in sent.into_iter().flatten() {
            results[i] = Some(result);
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(HandOffError("not sent".into()))))
            .collect()
    }
}

/// SQS takes at most 10 messages and 256 KiB per `SendMessageBatch`.
const BATCH_COUNT: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;
/// Batches in flight at once: 1,000 orders are 100 calls, about 13 round trips.
const BATCHES_IN_FLIGHT: usize = 8;

/// Envelopes (index, group, dedup id, body) split into batches SQS accepts.
fn batches(envelopes: &[Envelope]) -> Vec<Vec<(usize, String, String, String)>> {
    let mut out: Vec<Vec<(usize, String, String, String)>> = Vec::new();
    let mut bytes = 0;
    for (i, envelope) in envelopes.iter().enumerate() {
        let body = serde_json::to_string(envelope).unwrap_or_default();
        let full = out
            .last()
            .is_none_or(|b| b.len() == BATCH_COUNT || bytes + body.len() > BATCH_BYTES);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += body.len();
        let entry = (i, group_id(envelope), envelope.dedup_id(), body);
        out.last_mut().expect("a batch was pushed").push(entry);
    }
    out
}

impl SqsQueue {
    /// One `SendMessageBatch`; entries SQS did not accept are tried once more, singly.
    async fn send_batch(
        &self,
        batch: Vec<(usize, String, String, String)>,
    ) -> Vec<(usize, Result<HandedOff, HandOffError>)> {
        let ids: Vec<String> = batch.iter().map(|(i, ..)| i.to_string()).collect();
        let entries: Vec<Entry> = batch
            .iter()
            .zip(&ids)
            .map(|((_, group, dedup, body), id)| Entry {
                id,
                message_body: body,
                message_group_id: group,
                message_deduplication_id: dedup,
                message_attributes: &[],
            })
            .collect();
        let accepted = match self.send_entries(&entries).await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "SendMessageBatch failed: sending its messages singly");
                Vec::new()
            }
        };
        let mut results = Vec::with_capacity(batch.len());
        for (entry, (i, ..)) in entries.iter().zip(&batch) {
            let result = if accepted.iter().any(|id| id == entry.id) {
                Ok(())
            } else {
                let (group, dedup) = (entry.message_group_id, entry.message_deduplication_id);
                self.send_one(group, dedup, entry.message_body).await
            };
            results.push((*i, result.map(|()| HandedOff::Queued)));
        }
        results
    }

    /// The ids SQS accepted.
    async fn send_entries(&self, entries: &[Entry<'_>]) -> Result<Vec<String>, HandOffError> {
        self.send
            .send_message_batch(&self.queue_url, entries)
            .await
            .map_err(|e| HandOffError(Box::new(e)))
    }

    async fn send_one(&self, group: &str, dedup: &str, body: &str) -> Result<(), HandOffError> {
        let entry = Entry {
            id: "",
            message_body: body,
            message_group_id: group,
            message_deduplication_id: dedup,
            message_attributes: &[],
        };
        self.send
            .send_message(&self.queue_url, &entry)
            .await
            .map_err(|e| HandOffError(Box::new(e)))
    }
}

/// How long a message being dead-lettered stays hidden: inside SQS's 5-minute
/// deduplication window (see [`SqsQueue::dead_letter`]), with room for the batch to end.
const DEAD_LETTER_REDELIVERY: Duration = Duration::from_secs(240);

#[async_trait]
impl QueueControl for SqsQueue {
    async fn follow_up(&self, envelope: Envelope) -> Result<(), QueueError> {
        let handed = HandOff::hand_off(self, envelope).await;
        handed.map(|_| ()).map_err(|e| QueueError(Box::new(e)))
    }

    async fn retry_later(&self, msg: &QueueMessage, delay: Duration) -> Result<(), QueueError> {
        // SQS counts whole seconds, 12 hours at most.
        let secs = delay.as_secs_f64().ceil().min(43_200.0) as i32;
        let Some(client) = &self.client else {
            return Err(QueueError(
                "a sending queue does not receive messages".into(),
            ));
        };
        client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(&msg.receipt)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| QueueError(Box::new(e)))?;
        Ok(())
    }

    async fn dead_letter(&self, msg: &QueueMessage, reason: &str) -> Result<(), QueueError> {
        let Some(url) = &self.dead_letter_url else {
            return Err(QueueError("no DEAD_LETTER_QUEUE_URL configured".into()));
        };
        let failed_at = crate::clock::epoch_secs();
        // One refused event, one dead letter, even when the worker dies between this send
        // and the message's deletion: the message is first hidden for less than SQS's
        // 5-minute deduplication window, so that if it comes back it comes back inside the
        // window, and its second dead letter (same deduplication id) is dropped by SQS.
        if let Err(e) = self.retry_later(msg, DEAD_LETTER_REDELIVERY).await {
            tracing::warn!(error = %error_chain(&e), "could not shorten the message's visibility before dead-lettering it");
        }
        // One group per dead letter, so listing sees them all (FIFO would hide the rest of
        // a group behind its head); redrive restores per-shipment order.
        let attributes = [
            (
                dead_letter_attr::REASON,
                text_attr(&reason.chars().take(500).collect::<String>()),
            ),
            (
                dead_letter_attr::FAILED_AT,
                text_attr(&failed_at.to_string()),
            ),
            (
                dead_letter_attr::RECEIVE_COUNT,
                text_attr(&msg.receive_count.to_string()),
            ),
        ];
        let dedup = sqs_id(&format!("dead-{}", msg.id));
        let entry = Entry {
            id: "",
            message_body: &msg.body,
            message_group_id: &msg.id,
            message_deduplication_id: &dedup,
            message_attributes: &attributes,
        };
        self.send
            .send_message(url, &entry)
            .await
            .map_err(|e| QueueError(Box::new(e)))?;
        Ok(())
    }
}
