//! The delivery worker: takes a batch of queued envelopes and delivers them to Connectif,
//! in order per message group, exactly once.
//!
//! Per message: already delivered → done (`duplicate`); older than the newest status
//! delivered for its shipment → done (`superseded`); delivered → remembered, done;
//! permanently refused (4xx other than 429, channel gone, unreadable) → dead-letter queue at
//! once with the reason; retryable (429, 5xx, timeout, connection) → hidden for a backoff and
//! reported failed, and **every later message of its group in the batch is reported failed
//! too** so order holds; retryable but older than the delivery budget (`max_age`, counted
//! from the first enqueue) → dead-letter queue.

use super::state::{Seen, StateStore};
use super::{Deliverer, Envelope, QueueControl, QueueMessage, RetryPolicy};
use crate::connectif::DeliveryError;
use crate::telemetry::metrics;
use crate::telemetry::{describe_json_error, error_chain};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tracing::Instrument;

/// How long and how often the worker retries.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerPolicy {
    /// Backoff by try number; beyond the schedule its last delay repeats.
    pub backoff: RetryPolicy,
    /// A message older than this (since first enqueued) that fails again is dead-lettered.
    pub max_age: Duration,
}

impl WorkerPolicy {
    /// 30 s doubling up to 1 h, for 96 h: rides out a 72-hour Connectif outage with margin,
    /// well inside SQS's 14-day retention.
    pub fn production() -> Self {
        WorkerPolicy {
            backoff: RetryPolicy::exponential(Duration::from_secs(30), Duration::from_secs(3600)),
            max_age: Duration::from_secs(96 * 3600),
        }
    }
}

pub struct Worker {
    deliverer: Deliverer,
    state: Arc<dyn StateStore>,
    queue: Arc<dyn QueueControl>,
    policy: WorkerPolicy,
}

/// What happened to one message (the log's `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    Duplicate,
    Superseded,
    Repeat,
    Skipped,
    Retried,
    HeldBack,
    DeadLettered,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Duplicate => "duplicate",
            Outcome::Superseded => "superseded",
            Outcome::Repeat => "repeat",
            Outcome::Skipped => "skipped",
            Outcome::Retried => "retried",
            Outcome::HeldBack => "held_back",
            Outcome::DeadLettered => "dead_lettered",
        }
    }

    /// Reported to the queue as failed (stays queued).
    fn failed(self) -> bool {
        matches!(self, Outcome::Retried | Outcome::HeldBack)
    }
}

impl Worker {
    pub fn new(
        deliverer: Deliverer,
        state: Arc<dyn StateStore>,
        queue: Arc<dyn QueueControl>,
        policy: WorkerPolicy,
    ) -> Self {
        Worker {
            deliverer,
            state,
            queue,
            policy,
        }
    }

    /// Process one batch in order; returns the ids of the messages to report failed.
    pub async fn process(&self, batch: &[QueueMessage]) -> Vec<String> {
        let mut failed_groups: HashSet<&str> = HashSet::new();
        let mut failed = Vec::new();
        for msg in batch {
            let outcome = if failed_groups.contains(msg.group.as_str()) {
                // Behind a failed message of its group: not tried, visible again as soon as
                // the group's head is (FIFO keeps it behind).
                let _ = self.queue.retry_later(msg, Duration::ZERO).await;
                self.log(
                    msg,
                    None,
                    Outcome::HeldBack,
                    "behind a failed message of its group",
                );
                Outcome::HeldBack
            } else {
                self.process_one(msg).await
            };
            if outcome.failed() {
                failed_groups.insert(msg.group.as_str());
                failed.push(msg.id.clone());
            }
        }
        failed
    }

    async fn process_one(&self, msg: &QueueMessage) -> Outcome {
        let envelope: Envelope = match serde_json::from_str(&msg.body) {
            Ok(e) => e,
            Err(e) => {
                let reason = format!("unreadable message: {}", describe_json_error(&e));
                return self.dead_letter(msg, None, &reason).await;
            }
        };
        // Every line logged while handling it (enrichment, budget, state) names its key.
        let span =
            tracing::info_span!("event", channel = %envelope.channel, key = %envelope.subject);
        self.process_envelope(msg, &envelope).instrument(span).await
    }

    async fn process_envelope(&self, msg: &QueueMessage, envelope: &Envelope) -> Outcome {
        let settled = match self.state.check(envelope).await {
            Ok(Seen::Fresh) => None,
            Ok(Seen::Duplicate) => Some((Outcome::Duplicate, "already delivered".to_owned())),
            Ok(Seen::Superseded { newest }) => Some((
                Outcome::Superseded,
                format!("a newer status ({newest}) was delivered already"),
            )),
            Ok(Seen::Repeat) => Some((
                Outcome::Repeat,
                "same status as the last one sent".to_owned(),
            )),
            Err(e) => return self.retry(msg, envelope, &error_chain(&e), None).await,
        };
        if let Some((outcome, reason)) = settled {
            self.handled(envelope).await;
            self.log(msg, Some(envelope), outcome, &reason);
            return outcome;
        }
        self.deliver(msg, envelope).await
    }

    /// Deliver a fresh envelope and act on the result.
    async fn deliver(&self, msg: &QueueMessage, envelope: &Envelope) -> Outcome {
        match self.deliverer.deliver(envelope).await {
            Ok(()) => {
                if let Err(e) = self.state.record(envelope).await {
                    // Delivered all the same; only a later re-post could now be sent twice.
                    tracing::error!(channel = %envelope.channel, key = %envelope.subject, event_id = %envelope.event_id, error = %error_chain(&e), "delivered but not recorded");
                }
                self.log(msg, Some(envelope), Outcome::Delivered, "");
                Outcome::Delivered
            }
            Err(DeliveryError::Skip { reason }) => {
                self.handled(envelope).await;
                self.log(msg, Some(envelope), Outcome::Skipped, reason);
                Outcome::Skipped
            }
            Err(DeliveryError::Permanent { reason }) => {
                self.dead_letter(msg, Some(envelope), &reason).await
            }
            Err(DeliveryError::Retryable {
                reason,
                retry_after,
            }) => self.retry(msg, envelope, &reason, retry_after).await,
        }
    }

    /// A status settled without a delivery goes in the ledger too (see
    /// [`StateStore::handled`]); failing that costs at most one reconciliation repeat.
    async fn handled(&self, envelope: &Envelope) {
        if let Err(e) = self.state.handled(envelope).await {
            tracing::warn!(channel = %envelope.channel, key = %envelope.subject, error = %error_chain(&e), "settled but not in the ledger");
        }
    }

    async fn retry(
        &self,
        msg: &QueueMessage,
        envelope: &Envelope,
        reason: &str,
        retry_after: Option<Duration>,
    ) -> Outcome {
        let age = SystemTime::now()
            .duration_since(msg.sent_at)
            .unwrap_or_default();
        if age >= self.policy.max_age {
            let reason = format!("gave up after {} h: {reason}", age.as_secs() / 3600);
            return self.dead_letter(msg, Some(envelope), &reason).await;
        }
        let retry = msg.receive_count.saturating_sub(1) as usize;
        let delay = self.policy.backoff.delay_for(retry, retry_after);
        if let Err(e) = self.queue.retry_later(msg, delay).await {
            tracing::warn!(channel = %envelope.channel, key = %envelope.subject, error = %error_chain(&e), "could not set the retry delay: the queue's visibility timeout applies");
        }
        let reason = format!("{reason}; next try in {} ms", delay.as_millis());
        self.log(msg, Some(envelope), Outcome::Retried, &reason);
        Outcome::Retried
    }

    async fn dead_letter(
        &self,
        msg: &QueueMessage,
        envelope: Option<&Envelope>,
        reason: &str,
    ) -> Outcome {
        match self.queue.dead_letter(msg, reason).await {
            Ok(()) => {
                self.log(msg, envelope, Outcome::DeadLettered, reason);
                Outcome::DeadLettered
            }
            Err(e) => {
                // Not moved: keep it in the queue rather than lose it.
                let why = format!(
                    "{reason}; dead-letter queue unavailable: {}",
                    error_chain(&e)
                );
                let _ = self
                    .queue
                    .retry_later(msg, self.policy.backoff.delay_for(0, None))
                    .await;
                self.log(msg, envelope, Outcome::Retried, &why);
                Outcome::Retried
            }
        }
    }

    fn log(&self, msg: &QueueMessage, envelope: Option<&Envelope>, outcome: Outcome, reason: &str) {
        let age_ms = SystemTime::now()
            .duration_since(msg.sent_at)
            .unwrap_or_default()
            .as_millis() as u64;
        let (channel, kind, key, status) = envelope.map_or(("", "", "", ""), Envelope::names);
        tracing::info!(
            channel,
            kind,
            key,
            status_id = status,
            outcome = outcome.as_str(),
            reason,
            tries = msg.receive_count,
            latency_ms = age_ms,
            message_id = %msg.id,
            "delivery"
        );
        if let Some(e) = envelope {
            metrics::count_event(e.channel.as_str(), e.kind, outcome.as_str());
            if matches!(outcome, Outcome::Delivered | Outcome::Retried) {
                metrics::event_age(e.channel.as_str(), Duration::from_millis(age_ms));
            }
        }
    }
}
