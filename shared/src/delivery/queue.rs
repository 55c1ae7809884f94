//! The durable hand-off: an SQS FIFO queue (one message group per shipment or order, the
//! event id as deduplication id) with a FIFO dead-letter queue. (The in-memory queue with
//! the same group semantics is in `memory_queue.rs`.)

use super::message::{QueueControl, QueueError, QueueMessage, dead_letter_attr, group_id, sqs_id};
use super::sqs_send::Entry;
use super::{Envelope, HandOff, HandOffError, HandedOff, SignedSend};
use crate::telemetry::error_chain;
use async_trait::async_trait;
use aws_sdk_sqs::types::MessageAttributeValue;
use std::time::Duration;

/// The SQS FIFO queue and its dead-letter queue.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dead_letter_url: Option<String>,
    /// The webhooks' sends, without the SDK's orchestrator.
    signed: Option<SignedSend>,
}

impl SqsQueue {
    pub fn new(
        client: aws_sdk_sqs::Client,
        queue_url: String,
        dead_letter_url: Option<String>,
    ) -> Self {
        SqsQueue {
            client,
            queue_url,
            dead_letter_url,
            signed: None,
        }
    }

    /// The hand-off's sends (`SendMessageBatch`, and `SendMessage` for single messages and
    /// retried entries) go through `signed`; the worker's calls and dead letters keep the SDK.
    pub fn with_signed_send(mut self, signed: SignedSend) -> Self {
        self.signed = Some(signed);
        self
    }
}

fn text_attr(value: &str) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(if value.is_empty() { "-" } else { value })
        .build()
        .map_err(|e| QueueError(Box::new(e)))
}

#[async_trait]
impl HandOff for SqsQueue {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn hand_off(&self, envelope: Envelope) -> Result<HandedOff, HandOffError> {
        let body = serde_json::to_string(&envelope).map_err(|e| HandOffError(Box::new(e)))?;
        self.send_one(&group_id(&envelope), &envelope.event_id, &body)
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
        let entry = (i, group_id(envelope), envelope.event_id.clone(), body);
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
        let entries: Vec<Entry> = (batch.iter().zip(&ids))
            .map(|((_, group, dedup, body), id)| Entry {
                id,
                message_body: body,
                message_group_id: group,
                message_deduplication_id: dedup,
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
        if let Some(signed) = &self.signed {
            return (signed.send_message_batch(&self.queue_url, entries).await)
                .map_err(|e| HandOffError(Box::new(e)));
        }
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        let entries = entries.iter().map(|e| {
            SendMessageBatchRequestEntry::builder()
                .id(e.id)
                .message_group_id(e.message_group_id)
                .message_deduplication_id(e.message_deduplication_id)
                .message_body(e.message_body)
                .build()
        });
        let entries = entries
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| HandOffError(Box::new(e)))?;
        let answer = (self.client.send_message_batch())
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| HandOffError(Box::new(e)))?;
        Ok(answer.successful.into_iter().map(|r| r.id).collect())
    }

    async fn send_one(&self, group: &str, dedup: &str, body: &str) -> Result<(), HandOffError> {
        if let Some(signed) = &self.signed {
            let entry = Entry {
                id: "",
                message_body: body,
                message_group_id: group,
                message_deduplication_id: dedup,
            };
            return (signed.send_message(&self.queue_url, &entry).await)
                .map_err(|e| HandOffError(Box::new(e)));
        }
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(group)
            .message_deduplication_id(dedup)
            .message_body(body)
            .send()
            .await
            .map_err(|e| HandOffError(Box::new(e)))?;
        Ok(())
    }
}

/// How long a message being dead-lettered stays hidden: inside SQS's 5-minute
/// deduplication window (see [`SqsQueue::dead_letter`]), with room for the batch to end.
const DEAD_LETTER_REDELIVERY: Duration = Duration::from_secs(240);

#[async_trait]
impl QueueControl for SqsQueue {
    async fn retry_later(&self, msg: &QueueMessage, delay: Duration) -> Result<(), QueueError> {
        // SQS counts whole seconds, 12 hours at most.
        let secs = delay.as_secs_f64().ceil().min(43_200.0) as i32;
        self.client
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
        self.client
            .send_message()
            .queue_url(url)
            // One group per dead letter, so listing sees them all (FIFO would hide the rest
            // of a group behind its head); redrive restores per-shipment order.
            .message_group_id(&msg.id)
            .message_deduplication_id(sqs_id(&format!("dead-{}", msg.id)))
            .message_body(&msg.body)
            .message_attributes(
                dead_letter_attr::REASON,
                text_attr(&reason.chars().take(500).collect::<String>())?,
            )
            .message_attributes(
                dead_letter_attr::FAILED_AT,
                text_attr(&failed_at.to_string())?,
            )
            .message_attributes(
                dead_letter_attr::RECEIVE_COUNT,
                text_attr(&msg.receive_count.to_string())?,
            )
            .send()
            .await
            .map_err(|e| QueueError(Box::new(e)))?;
        Ok(())
    }
}
