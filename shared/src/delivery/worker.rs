//! The delivery worker: takes a batch of queued envelopes and delivers them to Connectif,
//! in order per message group, once each (the duplicates that can happen are the ones
//! section below documents).
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
//! a message the invocation's time left cannot cover is not started, and comes back at once; retryable but older than the age limit (`max_age`, counted
//! from the first enqueue) → dead-letter queue.

use super::state::{Seen, StateStore};
use super::{Deliverer, Envelope, QueueControl, QueueMessage, RetryPolicy};
use crate::connectif::DeliveryError;
use crate::telemetry::metrics;
use crate::telemetry::{describe_json_error, error_chain};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
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
    /// See [`Worker::with_send_time`].
    send_time: Duration,
}

/// The send time with the default timeouts: two calls of 2 s to connect and 8 s in all,
/// and 2 s for the state calls.
const DEFAULT_SEND_TIME: Duration = Duration::from_secs(22);

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
            send_time: DEFAULT_SEND_TIME,
        }
    }

    /// Time kept for one message: the longest a send can take (`getShipment` and
    /// Connectif, each a connect and a request timeout) and the state calls around it.
    pub fn with_send_time(mut self, send_time: Duration) -> Self {
        self.send_time = send_time;
        self
    }

    /// Process one batch in order; returns the ids of the messages to report failed.
    pub async fn process(&self, batch: &[QueueMessage]) -> Vec<String> {
        self.process_until(batch, None).await
    }

    /// [`Worker::process`] within an invocation that ends at `deadline`: after the first, a
    /// message is started only while the time left covers its send time; the rest are
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
            // the send time (or an emulator's deadline) still makes progress.
            let out_of_time = n > 0 && time_left.is_some_and(|left| left < self.send_time);
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
        // Every line logged while handling it (enrichment, pace, state) names its key.
        let span = tracing::info_span!("event", channel = %envelope.channel, key = %envelope.key);
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
        if envelope.contact_update {
            // Its event is delivered (and recorded): no state to check, the update alone.
            return self.deliver(msg, envelope, paused).await;
        }
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
            Ok(_) if envelope.contact_update => {
                self.log(msg, Some(envelope), Outcome::ContactUpdated, "");
                Outcome::ContactUpdated
            }
            Ok(update) => {
                let outcome = self.record(msg, envelope, "").await;
                if let (Outcome::Delivered, Some(update)) = (outcome, update) {
                    self.follow_up(update).await;
                }
                outcome
            }
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

// What becomes of one message once tried: recorded, retried after a backoff by its real
// tries, dead-lettered, held back — and the log line and metrics of each outcome.

/// The channels whose destination asked to slow down during a batch, and until when.
#[derive(Default)]
struct Paused(HashMap<String, Instant>);

impl Paused {
    fn pause(&mut self, channel: &str, wait: Duration) {
        self.0.insert(channel.to_owned(), Instant::now() + wait);
    }

    /// The time left of `channel`'s pause, if paused.
    fn left(&self, channel: &str) -> Option<Duration> {
        let until = self.0.get(channel)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }
}

/// How long a process waits before it asks Qapla' again whether a channel's posts are real,
/// after Qapla' could not tell (busy, away, refusing): not one more call per event meanwhile.
const LIVE_RECHECK: Duration = Duration::from_secs(600);

/// Bound of [`Worker::unrecorded`] (a table down for long; forgetting costs a re-send).
const UNRECORDED_MAX: usize = 10_000;

/// What happened to one message (the log's `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// A delivered event's contact update made (`contactFields`).
    ContactUpdated,
    Duplicate,
    Superseded,
    Repeat,
    Skipped,
    Suppressed,
    Retried,
    HeldBack,
    Deferred,
    DeadLettered,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::ContactUpdated => "contact_updated",
            Outcome::Duplicate => "duplicate",
            Outcome::Superseded => "superseded",
            Outcome::Repeat => "repeat",
            Outcome::Skipped => "skipped",
            Outcome::Suppressed => "suppressed",
            Outcome::Retried => "retried",
            Outcome::HeldBack => "held_back",
            Outcome::Deferred => "deferred",
            Outcome::DeadLettered => "dead_lettered",
        }
    }

    /// Done with as Qapla' posted it (sent, or rightly not sent again): what may show that
    /// Qapla' posts to the bridge ([`Worker::saw_live`]). A skip, a retry or a dead letter
    /// shows nothing, and asks Qapla' nothing more.
    fn settled_as_posted(self) -> bool {
        matches!(
            self,
            Outcome::Delivered
                | Outcome::Duplicate
                | Outcome::Superseded
                | Outcome::Repeat
                | Outcome::Suppressed
        )
    }

    /// Reported to the queue as failed (stays queued).
    fn failed(self) -> bool {
        matches!(
            self,
            Outcome::Retried | Outcome::HeldBack | Outcome::Deferred
        )
    }
}

impl Worker {
    /// Remember a delivered envelope. When the state table refuses, the message is not
    /// done: it and its group wait (an older status must not pass a newer one that is not
    /// recorded), and this process retries only the record, not the send; another process
    /// (after a crash, a cold start) sends it again, a documented duplicate.
    async fn record(&self, msg: &QueueMessage, envelope: &Envelope, note: &str) -> Outcome {
        self.record_as(msg, envelope, Outcome::Delivered, note)
            .await
    }

    /// [`Worker::record`], the message's outcome `outcome` once recorded (delivered, or
    /// suppressed by a channel's rule: handled as if delivered).
    async fn record_as(
        &self,
        msg: &QueueMessage,
        envelope: &Envelope,
        outcome: Outcome,
        note: &str,
    ) -> Outcome {
        match self.state.record(envelope).await {
            Ok(()) => {
                self.unrecorded().remove(&envelope.event_id);
                self.log(msg, Some(envelope), outcome, note);
                outcome
            }
            Err(e) => {
                self.remember_unrecorded(&envelope.event_id);
                let reason = format!("delivered but not recorded: {}", error_chain(&e));
                self.retry(msg, envelope, &reason, None).await.0
            }
        }
    }

    /// Record, once per process, that Qapla' posts this kind on this channel to the bridge
    /// (reconciliation `auto` waits for it). Only a real post counts: never one of
    /// `bridge-admin check`'s, nor (for shipments) one Qapla' does not know, as its panel's
    /// "Test" button posts; else a proof would turn the reconciler on while Qapla's own
    /// connector still sends, and every customer would hear everything twice. A failure
    /// costs a try on the next event.
    async fn saw_live(&self, envelope: &Envelope) {
        if envelope.pulled || envelope.is_proof() {
            return;
        }
        let key = (envelope.kind, envelope.channel.as_str().to_owned());
        let lock = || self.live.lock().unwrap_or_else(|e| e.into_inner());
        match lock().get(&key) {
            Some(None) => return,
            Some(Some(asked)) if asked.elapsed() < LIVE_RECHECK => return,
            _ => {}
        }
        let channel = envelope.channel.as_str();
        if let Ok(true) = self.state.is_live(envelope.kind, channel).await {
            lock().insert(key, None);
            return;
        }
        if envelope.kind == crate::Kind::Shipment {
            let real = self.deliverer.known_to_qapla(envelope).await;
            match real {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(channel = %envelope.channel, "a shipment Qapla' does not know (the panel's Test button?): the channel is not marked live");
                    return;
                }
                Err(e) => {
                    tracing::warn!(channel = %envelope.channel, error = %e, "could not ask Qapla' whether the shipment is real: the channel is not marked live yet");
                    lock().insert(key, Some(Instant::now()));
                    return;
                }
            }
        }
        match self.state.saw_live(envelope).await {
            Ok(()) => {
                lock().insert(key, None);
            }
            Err(e) => {
                tracing::warn!(channel = %envelope.channel, error = %error_chain(&e), "could not record the channel's live posts");
            }
        }
    }

    /// Queue a delivered event's contact update behind it. Should the queue refuse, the
    /// update is lost (logged): the event itself is delivered and recorded.
    async fn follow_up(&self, update: Envelope) {
        let (channel, key) = (update.channel.clone(), update.key.clone());
        if let Err(e) = self.queue.follow_up(update).await {
            tracing::warn!(%channel, %key, error = %error_chain(&e), "contact update not queued: the contact's fields stay as they were");
        }
    }

    fn remember_unrecorded(&self, event_id: &str) {
        let mut unrecorded = self.unrecorded();
        if unrecorded.len() >= UNRECORDED_MAX {
            unrecorded.clear();
        }
        unrecorded.insert(event_id.to_owned());
    }

    fn unrecorded(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.unrecorded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A status settled without a delivery goes in the ledger too (see
    /// [`StateStore::handled`]); failing that costs at most one reconciliation repeat.
    async fn handled(&self, envelope: &Envelope) {
        if let Err(e) = self.state.handled(envelope).await {
            tracing::warn!(channel = %envelope.channel, key = %envelope.key, error = %error_chain(&e), "settled but not in the ledger");
        }
    }

    /// A failed try: retried after a backoff by the number of real tries (a hold-back, a
    /// deferral or a crash redelivery counts none), or dead-lettered past the age limit. The
    /// outcome and the delay.
    async fn retry(
        &self,
        msg: &QueueMessage,
        envelope: &Envelope,
        reason: &str,
        retry_after: Option<Duration>,
    ) -> (Outcome, Duration) {
        let age = SystemTime::now()
            .duration_since(msg.sent_at)
            .unwrap_or_default();
        if age >= self.policy.max_age {
            let reason = format!("gave up after {} h: {reason}", age.as_secs() / 3600);
            let outcome = self.dead_letter(msg, Some(envelope), &reason).await;
            return (outcome, Duration::ZERO);
        }
        let tries = match self.state.failed_try(envelope).await {
            Ok(tries) => tries,
            Err(e) => {
                tracing::warn!(channel = %envelope.channel, key = %envelope.key, error = %error_chain(&e), "could not count the try: SQS's receive count applies");
                msg.receive_count
            }
        };
        let delay = self
            .policy
            .backoff
            .delay_for(tries.saturating_sub(1) as usize, retry_after);
        if let Err(e) = self.queue.retry_later(msg, delay).await {
            tracing::warn!(channel = %envelope.channel, key = %envelope.key, error = %error_chain(&e), "could not set the retry delay: the queue's visibility timeout applies");
        }
        let reason = format!(
            "{reason}; try {tries} failed, next in {} ms",
            delay.as_millis()
        );
        self.log(msg, Some(envelope), Outcome::Retried, &reason);
        (Outcome::Retried, delay)
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
        if envelope.is_none() && outcome == Outcome::DeadLettered {
            metrics::count_unreadable(outcome.as_str());
        }
        if let Some(e) = envelope {
            metrics::count_event(e.channel.as_str(), e.kind, outcome.as_str());
            if matches!(outcome, Outcome::Delivered | Outcome::Retried) {
                metrics::event_age(e.channel.as_str(), Duration::from_millis(age_ms));
            }
        }
    }
}
