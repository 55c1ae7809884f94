//! The backfill function's work queue (`crate::history::backfill::background`): an SQS
//! FIFO queue, one message group per channel, sent to by [`SignedSend`].

use super::send::{Entry, SignedSend};
use crate::history::backfill::background::{Work, WorkQueue};
use crate::history::backfill::runs::Run;
use crate::telemetry::error_chain;
use async_trait::async_trait;
use std::sync::Arc;

/// The work queue at `url`.
pub struct SqsWork {
    send: Arc<SignedSend>,
    url: String,
}

impl SqsWork {
    pub fn new(send: Arc<SignedSend>, url: impl Into<String>) -> Self {
        SqsWork {
            send,
            url: url.into(),
        }
    }
}

#[async_trait]
impl WorkQueue for SqsWork {
    async fn send(&self, run: &Run, step: &str) -> Result<(), String> {
        let work = Work {
            channel: run.channel.clone(),
            run: run.id(),
        };
        let body = serde_json::to_string(&work).map_err(|e| e.to_string())?;
        let dedup = format!("{}-{step}", run.id());
        let entry = Entry {
            id: "",
            message_body: &body,
            message_group_id: &run.channel,
            message_deduplication_id: &dedup,
            message_attributes: &[],
        };
        self.send
            .send_message(&self.url, &entry)
            .await
            .map_err(|e| format!("the backfill queue refused the work: {}", error_chain(&e)))
    }
}
