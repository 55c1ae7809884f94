//! Dead letters: list them with their reasons, and redrive them (all, or one channel's)
//! to the hand-off queue once the cause is fixed. Used by the `bridge-admin` command.
//!
//! Redriven events get a fresh delivery budget; the idempotency table still guarantees
//! that an event delivered in the meantime is not sent twice.

use super::message::{dead_letter_attr, sqs_id};
use super::{Envelope, QueueMessage, group_id};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use std::collections::HashSet;

/// One dead letter.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message_id: String,
    receipt: String,
    pub body: String,
    /// Why it was dead-lettered (`-` when SQS's redrive policy moved it).
    pub reason: String,
    /// When (epoch seconds), if the worker moved it.
    pub failed_at: Option<u64>,
    /// The envelope, if the body is one.
    pub envelope: Option<Envelope>,
    /// Sort key: status time (orders a shipment's statuses), then when it was dead-lettered.
    order: (String, u64, u128),
}

#[derive(Debug, thiserror::Error)]
#[error("dead-letter queue operation failed")]
pub struct ReplayError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

fn sdk<E: std::error::Error + Send + Sync + 'static>(e: E) -> ReplayError {
    ReplayError(Box::new(e))
}

/// Receive every dead letter (each stays hidden for `hold_seconds`).
async fn receive_all(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    hold_seconds: i32,
) -> Result<Vec<DeadLetter>, ReplayError> {
    let mut seen = HashSet::new();
    let mut letters = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(hold_seconds)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(sdk)?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for letter in messages.iter().map(DeadLetter::of) {
            if seen.insert(letter.message_id.clone()) {
                letters.push(letter);
            }
        }
    }
    // Oldest first: a shipment's statuses in the order they happened, the rest in the order
    // they were dead-lettered.
    letters.sort_by(|a, b| a.order.cmp(&b.order));
    Ok(letters)
}

impl DeadLetter {
    fn of(m: &Message) -> Self {
        let msg = QueueMessage::from_sdk(m);
        let attr = |k: &str| {
            m.message_attributes()
                .and_then(|a| a.get(k))
                .and_then(|v| v.string_value())
                .map(str::to_owned)
        };
        let system = |k: MessageSystemAttributeName| {
            m.attributes()
                .and_then(|a| a.get(&k))
                .and_then(|v| v.parse::<u128>().ok())
                .unwrap_or(0)
        };
        let envelope: Option<Envelope> = serde_json::from_str(&msg.body).ok();
        let order = (
            envelope
                .as_ref()
                .and_then(|e| e.occurred_at.clone())
                .unwrap_or_default(),
            system(MessageSystemAttributeName::SentTimestamp) as u64,
            system(MessageSystemAttributeName::SequenceNumber),
        );
        DeadLetter {
            envelope,
            message_id: msg.id,
            receipt: msg.receipt,
            body: msg.body,
            reason: attr(dead_letter_attr::REASON).unwrap_or_else(|| "-".into()),
            failed_at: attr(dead_letter_attr::FAILED_AT).and_then(|v| v.parse().ok()),
            order,
        }
    }
}

async fn release(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    letters: &[DeadLetter],
) -> Result<(), ReplayError> {
    for l in letters {
        sqs.change_message_visibility()
            .queue_url(dlq_url)
            .receipt_handle(&l.receipt)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(sdk)?;
    }
    Ok(())
}

/// Every dead letter, oldest first, left in the queue.
pub async fn list(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
) -> Result<Vec<DeadLetter>, ReplayError> {
    let letters = receive_all(sqs, dlq_url, 30).await?;
    release(sqs, dlq_url, &letters).await?;
    Ok(letters)
}

/// Move dead letters (those of `channel`, or all) back to the hand-off queue, oldest first.
/// Returns (moved, left).
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    queue_url: &str,
    channel: Option<&str>,
) -> Result<(usize, usize), ReplayError> {
    let letters = receive_all(sqs, dlq_url, 120).await?;
    let (chosen, left): (Vec<_>, Vec<_>) = letters.into_iter().partition(|l| {
        channel.is_none_or(|c| l.envelope.as_ref().is_some_and(|e| e.channel.as_str() == c))
    });
    let now = crate::clock::epoch_now().as_millis();
    for l in &chosen {
        let (group, dedup) = match &l.envelope {
            Some(e) => (group_id(e), format!("{}-r{now}", e.event_id)),
            None => (l.message_id.clone(), format!("{}-r{now}", l.message_id)),
        };
        sqs.send_message()
            .queue_url(queue_url)
            .message_group_id(group)
            .message_deduplication_id(sqs_id(&dedup))
            .message_body(&l.body)
            .send()
            .await
            .map_err(sdk)?;
        sqs.delete_message()
            .queue_url(dlq_url)
            .receipt_handle(&l.receipt)
            .send()
            .await
            .map_err(sdk)?;
    }
    release(sqs, dlq_url, &left).await?;
    Ok((chosen.len(), left.len()))
}
