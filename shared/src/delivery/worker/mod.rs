//! The delivery worker: takes a batch of queued envelopes and delivers them to Connectif,
//! in order per message group, exactly once.
//!
//! Per message: already delivered → done (`duplicate`); older than the newest status
//! delivered for its shipment → done (`superseded`); delivered → remembered, done;
//! delivered but not recorded (the state table refused) → retried like a failure, the
//! record only if this process sent it (see `state`'s module doc);
//! permanently refused (4xx other than 429, channel gone, unreadable) → dead-letter queue at
//! once with the reason; retryable (429, 5xx, timeout, connection) → hidden for a backoff and
//! reported failed, and **every later message of its group in the batch is reported failed
//! too** so order holds; a 429 (Connectif, or Qapla's API) pauses every send of its channel
//! for the rest of the batch; the backoff counts real tries only (kept in the state table);
//! a message the invocation's time left cannot cover is not started, and comes back at once; retryable but older than the delivery budget (`max_age`, counted
//! from the first enqueue) → dead-letter queue.

mod settle;

use super::state::{Seen, StateStore};
use super::{Deliverer, Envelope, QueueControl, QueueMessage, RetryPolicy};
use crate::connectif::DeliveryError;
use crate::telemetry::{describe_json_error, error_chain};
use settle::{Outcome, Paused};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
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
    /// Events this process delivered but could not record (see [`Worker::record`]).
    unrecorded: std::sync::Mutex<HashSet<String>>,
    /// Kinds and channels whose live posts this process has recorded (`None`; see
    /// [`StateStore::saw_live`]): one write per process and channel, not per event; or when
    /// it last could not ask Qapla' (`Some`), not to ask again at once.
    live: std::sync::Mutex<HashMap<(crate::Kind, String), Option<std::time::Instant>>>,
    /// See [`Worker::with_send_budget`].
    send_budget: Duration,
}

/// The send budget with the default timeouts: two calls of 2 s to connect and 8 s in all,
/// and 2 s for the state calls.
const DEFAULT_SEND_BUDGET: Duration = Duration::from_secs(22);

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
            unrecorded: Default::default(),
            live: Default::default(),
            send_budget: DEFAULT_SEND_BUDGET,
        }
    }

    /// Time kept for one message: the longest a send can take (`getShipment` and
    /// Connectif, each a connect and a request timeout) and the state calls around it.
    pub fn with_send_budget(mut self, budget: Duration) -> Self {
        self.send_budget = budget;
        self
    }

    /// Process one batch in order; returns the ids of the messages to report failed.
    pub async fn process(&self, batch: &[QueueMessage]) -> Vec<String> {
        self.process_until(batch, None).await
    }

    /// [`Worker::process`] within an invocation that ends at `deadline`: after the first, a
    /// message is started only while the time left covers its send budget; the rest are
    /// reported failed and visible again at once (not after the queue's visibility timeout,
    /// and not sent a second time by an invocation Lambda stopped halfway).
    pub async fn process_until(
        &self,
        batch: &[QueueMessage],
        deadline: Option<Instant>,
    ) -> Vec<String> {
        let mut failed_groups: HashSet<&str> = HashSet::new();
        let mut paused = Paused::default();
        let mut failed = Vec::new();
        for (n, msg) in batch.iter().enumerate() {
            let time_left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            // The first message is always started: a function whose timeout is shorter than
            // the budget (or an emulator's deadline) still makes progress.
            let out_of_time = n > 0 && time_left.is_some_and(|left| left < self.send_budget);
            let outcome = if out_of_time {
                let _ = self.queue.retry_later(msg, Duration::ZERO).await;
                let reason = "not started: the invocation's time left cannot cover a send";
                self.log(msg, None, Outcome::Deferred, reason);
                Outcome::Deferred
            } else if failed_groups.contains(msg.group.as_str()) {
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
                self.process_one(msg, &mut paused).await
            };
            if outcome.failed() {
                failed_groups.insert(msg.group.as_str());
                failed.push(msg.id.clone());
            }
        }
        failed
    }

    async fn process_one(&self, msg: &QueueMessage, paused: &mut Paused) -> Outcome {
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
        async {
            let outcome = self.process_envelope(msg, &envelope, paused).await;
            if outcome.settled_as_posted() {
                self.saw_live(&envelope).await;
            }
            outcome
        }
        .instrument(span)
        .await
    }

    async fn process_envelope(
        &self,
        msg: &QueueMessage,
        envelope: &Envelope,
        paused: &mut Paused,
    ) -> Outcome {
        let sent_before = self.unrecorded().contains(&envelope.event_id);
        if sent_before {
            // Sent by this process already; only its record failed.
            let envelope = envelope.clone().with_shipped_at(None);
            return self
                .record(msg, &envelope, "sent earlier, recorded now")
                .await;
        }
        let mut shipped_at = None;
        let settled = match self.state.check(envelope).await {
            Ok(Seen::Fresh { shipped_at: at }) => {
                shipped_at = at;
                None
            }
            Ok(Seen::Duplicate) => Some((Outcome::Duplicate, "already delivered".to_owned())),
            Ok(Seen::Superseded { newest }) => Some((
                Outcome::Superseded,
                format!("a newer status ({newest}) was delivered already"),
            )),
            Ok(Seen::Repeat) => Some((
                Outcome::Repeat,
                "same status as the last one sent".to_owned(),
            )),
            Err(e) => return self.retry(msg, envelope, &error_chain(&e), None).await.0,
        };
        if let Some((outcome, reason)) = settled {
            self.handled(envelope).await;
            self.log(msg, Some(envelope), outcome, &reason);
            return outcome;
        }
        if let Some(wait) = paused.left(envelope.channel.as_str()) {
            // Its channel's destination asked to slow down a moment ago in this batch.
            let _ = self.queue.retry_later(msg, wait).await;
            let reason = format!(
                "channel paused: its destination asked to slow down; next try in {} ms",
                wait.as_millis()
            );
            self.log(msg, Some(envelope), Outcome::HeldBack, &reason);
            return Outcome::HeldBack;
        }
        let envelope = envelope.clone().with_shipped_at(shipped_at);
        self.deliver(msg, &envelope, paused).await
    }

    /// Deliver a fresh envelope and act on the result.
    async fn deliver(
        &self,
        msg: &QueueMessage,
        envelope: &Envelope,
        paused: &mut Paused,
    ) -> Outcome {
        match self.deliverer.deliver(envelope).await {
            Ok(()) => self.record(msg, envelope, "").await,
            Err(DeliveryError::Suppressed { rule }) => {
                // Recorded as handled: the shipment's newest status moves on all the same
                // (ordering, repeats, stalls), though the customer hears nothing of it.
                let outcome = self
                    .record_as(msg, envelope, Outcome::Suppressed, rule.as_str())
                    .await;
                if outcome == Outcome::Suppressed {
                    crate::telemetry::metrics::count_suppressed(
                        envelope.channel.as_str(),
                        rule.as_str(),
                    );
                }
                outcome
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
            }) => self.retry(msg, envelope, &reason, retry_after).await.0,
            Err(DeliveryError::Throttled {
                reason,
                retry_after,
            }) => {
                let (outcome, delay) = self.retry(msg, envelope, &reason, retry_after).await;
                paused.pause(envelope.channel.as_str(), delay);
                outcome
            }
        }
    }
}
