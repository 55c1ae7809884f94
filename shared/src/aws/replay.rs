//! Dead letters: list them with their reasons, redrive them (all, or those a [`Filter`]
//! chooses) to the hand-off queue once the cause is fixed, or discard them. Used by the
//! `bridge-admin` commands.
//!
//! Redriven events start a fresh age limit; the idempotency table still guarantees
//! that an event delivered in the meantime is not sent twice.

use super::queue::message_of;
use crate::delivery::message::{dead_letter_attr, sqs_id};
use crate::delivery::{Envelope, group_id};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};
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
        let msg = message_of(m);
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
    list_where(sqs, dlq_url, &Filter::default()).await
}

/// Which dead letters a command acts on: all, or those matching every given criterion.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this channel's.
    pub channel: Option<String>,
    /// Only these message ids (any of them).
    pub ids: Vec<String>,
    /// Only those dead-lettered at least this long ago (a letter moved by SQS's own redrive
    /// policy has no time and never matches).
    pub older_than: Option<std::time::Duration>,
}

impl Filter {
    /// Whether `letter` matches, at `now` (epoch seconds).
    pub fn matches(&self, letter: &DeadLetter, now: u64) -> bool {
        let channel = self.channel.as_deref().is_none_or(|c| {
            letter
                .envelope
                .as_ref()
                .is_some_and(|e| e.channel.as_str() == c)
        });
        let id = self.ids.is_empty() || self.ids.contains(&letter.message_id);
        let old = self.older_than.is_none_or(|age| {
            letter
                .failed_at
                .is_some_and(|at| at.saturating_add(age.as_secs()) <= now)
        });
        channel && id && old
    }
}

/// The dead letters `filter` chooses, oldest first; the others and these are left in the
/// queue, visible again.
pub async fn list_where(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    filter: &Filter,
) -> Result<Vec<DeadLetter>, ReplayError> {
    let letters = receive_all(sqs, dlq_url, 30).await?;
    release(sqs, dlq_url, &letters).await?;
    let now = crate::clock::epoch_secs();
    Ok(letters
        .into_iter()
        .filter(|l| filter.matches(l, now))
        .collect())
}

/// How long letters are held while a command works through them: a redrive of thousands
/// takes minutes. Letters a stopped command did not reach come back after this.
const HOLD_SECONDS: i32 = 900;

/// SQS's batch size.
const BATCH: usize = 10;

/// Move the dead letters `filter` chooses back to the hand-off queue, oldest first, ten at a
/// time (each batch sent, then deleted from the dead-letter queue: a stopped redrive is
/// resumed by running it again). `progress(done, total)` after each batch. Returns (moved,
/// left).
pub async fn redrive_where(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    queue_url: &str,
    filter: &Filter,
    mut progress: impl FnMut(usize, usize),
) -> Result<(usize, usize), ReplayError> {
    let letters = receive_all(sqs, dlq_url, HOLD_SECONDS).await?;
    let now = crate::clock::epoch_secs();
    let (chosen, left): (Vec<_>, Vec<_>) =
        letters.into_iter().partition(|l| filter.matches(l, now));
    release(sqs, dlq_url, &left).await?;
    let stamp = crate::clock::epoch_now().as_millis();
    let mut moved = 0;
    for batch in chosen.chunks(BATCH) {
        let entries = batch.iter().enumerate().map(|(i, l)| {
            let (group, dedup) = match &l.envelope {
                Some(e) => (group_id(e), format!("{}-r{stamp}", e.dedup_id())),
                None => (l.message_id.clone(), format!("{}-r{stamp}", l.message_id)),
            };
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_group_id(group)
                .message_deduplication_id(sqs_id(&dedup))
                .message_body(&l.body)
                .build()
        });
        let entries = entries.collect::<Result<Vec<_>, _>>().map_err(sdk)?;
        let sent = sqs
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sdk)?;
        if let Some(failed) = sent.failed.first() {
            let why = format!("SQS refused a redriven message: {}", failed.code);
            return Err(ReplayError(why.into()));
        }
        delete(sqs, dlq_url, batch).await?;
        moved += batch.len();
        progress(moved, chosen.len());
    }
    Ok((moved, left.len()))
}

/// Delete the dead letters `filter` chooses, for good. Returns them (what was discarded).
pub async fn discard_where(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    filter: &Filter,
) -> Result<Vec<DeadLetter>, ReplayError> {
    let letters = receive_all(sqs, dlq_url, HOLD_SECONDS).await?;
    let now = crate::clock::epoch_secs();
    let (chosen, left): (Vec<_>, Vec<_>) =
        letters.into_iter().partition(|l| filter.matches(l, now));
    release(sqs, dlq_url, &left).await?;
    for batch in chosen.chunks(BATCH) {
        delete(sqs, dlq_url, batch).await?;
    }
    Ok(chosen)
}

async fn delete(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    batch: &[DeadLetter],
) -> Result<(), ReplayError> {
    let entries = batch.iter().enumerate().map(|(i, l)| {
        DeleteMessageBatchRequestEntry::builder()
            .id(i.to_string())
            .receipt_handle(&l.receipt)
            .build()
    });
    let entries = entries.collect::<Result<Vec<_>, _>>().map_err(sdk)?;
    let deleted = sqs
        .delete_message_batch()
        .queue_url(dlq_url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(sdk)?;
    match deleted.failed.first() {
        Some(failed) => Err(ReplayError(
            format!("SQS did not delete a dead letter: {}", failed.code).into(),
        )),
        None => Ok(()),
    }
}

/// Move dead letters (those of `channel`, or all) back to the hand-off queue, oldest first.
/// Returns (moved, left).
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    dlq_url: &str,
    queue_url: &str,
    channel: Option<&str>,
) -> Result<(usize, usize), ReplayError> {
    let channel = channel.map(str::to_owned);
    let filter = Filter {
        channel,
        ..Filter::default()
    };
    redrive_where(sqs, dlq_url, queue_url, &filter, |_, _| {}).await
}
