//! The webhook's log line (and metric) per event of a post.

use crate::channel::ChannelId;
use crate::delivery::{Envelope, HandOffError, HandedOff};
use crate::telemetry::error_chain;
use crate::telemetry::metrics;
use std::time::Instant;

/// The log's `outcome` and `reason` of one hand-off.
pub(super) fn outcome_of(result: &Result<HandedOff, HandOffError>) -> (&'static str, String) {
    match result {
        Ok(accepted @ HandedOff::Failed { error, .. }) => (accepted.outcome(), error.to_string()),
        Ok(accepted @ HandedOff::Skipped { reason }) => (accepted.outcome(), reason.clone()),
        Ok(accepted) => (accepted.outcome(), String::new()),
        Err(e) => ("hand_off_failed", error_chain(e)),
    }
}

/// Which event of a post a log line is about (the envelope itself moves into the queue).
pub(super) struct EventRef {
    key: String,
    status_id: Option<String>,
    /// The masked e-mail, once known.
    customer: String,
}

impl EventRef {
    pub(super) fn of(envelope: &Envelope) -> Self {
        EventRef {
            key: envelope.key.clone(),
            status_id: envelope.status_id.clone(),
            customer: envelope
                .event
                .fields
                .customer_email()
                .map(|e| e.masked())
                .unwrap_or_default(),
        }
    }

    pub(super) fn skipped(key: String, status_id: Option<String>) -> Self {
        EventRef {
            key,
            status_id,
            customer: String::new(),
        }
    }
}

/// One log line (and one metric) per event of a post.
pub(super) struct EventLog<'a> {
    pub(super) channel: &'a ChannelId,
    pub(super) kind: crate::Kind,
    pub(super) started: Instant,
}

impl EventLog<'_> {
    pub(super) fn emit(&self, event: &EventRef, outcome: &str, reason: &str) {
        tracing::info!(
            channel = %self.channel,
            kind = self.kind.as_str(),
            key = event.key,
            status_id = event.status_id.as_deref().unwrap_or(""),
            customer = event.customer,
            outcome,
            reason,
            latency_ms = self.started.elapsed().as_millis() as u64,
            "event"
        );
        metrics::count_event(self.channel.as_str(), self.kind, outcome);
    }
}
