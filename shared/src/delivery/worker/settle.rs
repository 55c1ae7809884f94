//! What becomes of one message once tried: recorded, retried after a backoff by its real
//! tries, dead-lettered, held back — and the log line and metrics of each outcome.

use super::Worker;
use crate::delivery::{Envelope, QueueMessage};
use crate::telemetry::error_chain;
use crate::telemetry::metrics;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

/// The channels whose destination asked to slow down during a batch, and until when.
#[derive(Default)]
pub(super) struct Paused(HashMap<String, Instant>);

impl Paused {
    pub(super) fn pause(&mut self, channel: &str, wait: Duration) {
        self.0.insert(channel.to_owned(), Instant::now() + wait);
    }

    /// The time left of `channel`'s pause, if paused.
    pub(super) fn left(&self, channel: &str) -> Option<Duration> {
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
pub(super) enum Outcome {
    Delivered,
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
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
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
    pub(super) fn settled_as_posted(self) -> bool {
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
    pub(super) fn failed(self) -> bool {
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
    pub(super) async fn record(
        &self,
        msg: &QueueMessage,
        envelope: &Envelope,
        note: &str,
    ) -> Outcome {
        self.record_as(msg, envelope, Outcome::Delivered, note)
            .await
    }

    /// [`Worker::record`], the message's outcome `outcome` once recorded (delivered, or
    /// suppressed by a channel's rule: handled as if delivered).
    pub(super) async fn record_as(
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
    pub(super) async fn saw_live(&self, envelope: &Envelope) {
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

    pub(super) fn remember_unrecorded(&self, event_id: &str) {
        let mut unrecorded = self.unrecorded();
        if unrecorded.len() >= UNRECORDED_MAX {
            unrecorded.clear();
        }
        unrecorded.insert(event_id.to_owned());
    }

    pub(super) fn unrecorded(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.unrecorded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A status settled without a delivery goes in the ledger too (see
    /// [`StateStore::handled`]); failing that costs at most one reconciliation repeat.
    pub(super) async fn handled(&self, envelope: &Envelope) {
        if let Err(e) = self.state.handled(envelope).await {
            tracing::warn!(channel = %envelope.channel, key = %envelope.subject, error = %error_chain(&e), "settled but not in the ledger");
        }
    }

    /// A failed try: retried after a backoff by the number of real tries (a hold-back, a
    /// deferral or a crash redelivery counts none), or dead-lettered past the budget. The
    /// outcome and the delay.
    pub(super) async fn retry(
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
                tracing::warn!(channel = %envelope.channel, key = %envelope.subject, error = %error_chain(&e), "could not count the try: SQS's receive count applies");
                msg.receive_count
            }
        };
        let delay = self
            .policy
            .backoff
            .delay_for(tries.saturating_sub(1) as usize, retry_after);
        if let Err(e) = self.queue.retry_later(msg, delay).await {
            tracing::warn!(channel = %envelope.channel, key = %envelope.subject, error = %error_chain(&e), "could not set the retry delay: the queue's visibility timeout applies");
        }
        let reason = format!(
            "{reason}; try {tries} failed, next in {} ms",
            delay.as_millis()
        );
        self.log(msg, Some(envelope), Outcome::Retried, &reason);
        (Outcome::Retried, delay)
    }

    pub(super) async fn dead_letter(
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

    pub(super) fn log(
        &self,
        msg: &QueueMessage,
        envelope: Option<&Envelope>,
        outcome: Outcome,
        reason: &str,
    ) {
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
