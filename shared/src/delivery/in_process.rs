//! The in-process hand-off: deliver now, retry briefly, never fail the webhook.
//!
//! It answers `HandedOff` even when delivery fails, because a KO to Qapla' for a Connectif
//! problem burns the channel's failure budget; the failure is logged instead. It does not
//! survive a Connectif outage longer than its retry schedule: that is the durable queue's job.

use super::{Deliverer, Envelope, HandOff, HandOffError, HandedOff, RetryPolicy};
use async_trait::async_trait;

pub struct InProcessHandOff {
    deliverer: Deliverer,
    policy: RetryPolicy,
}

impl InProcessHandOff {
    pub fn new(deliverer: Deliverer, policy: RetryPolicy) -> Self {
        InProcessHandOff { deliverer, policy }
    }
}

#[async_trait]
impl HandOff for InProcessHandOff {
    async fn hand_off(&self, envelope: Envelope) -> Result<HandedOff, HandOffError> {
        let (handed, update) = self.deliver(envelope.with_shipped_at(None)).await;
        // The contact's fields (`contactFields`) after the event, retried the same way.
        if let Some(update) = update {
            let (channel, key) = (update.channel.clone(), update.key.clone());
            if let (Ok(HandedOff::Failed { error, .. }), _) = self.deliver(update).await {
                tracing::warn!(%channel, %key, %error, "contact fields not set");
            }
        }
        handed
    }
}

impl InProcessHandOff {
    /// Deliver with the bounded retry; what it became, and the contact update to follow.
    async fn deliver(
        &self,
        envelope: Envelope,
    ) -> (Result<HandedOff, HandOffError>, Option<Envelope>) {
        let mut tries = 0u32;
        loop {
            tries += 1;
            let error = match self.deliverer.deliver(&envelope).await {
                Ok(update) => return (Ok(HandedOff::Delivered { tries }), update),
                Err(error) => error,
            };
            let retry = tries as usize - 1;
            let wait = match &error {
                crate::connectif::DeliveryError::Retryable { retry_after, .. }
                | crate::connectif::DeliveryError::Throttled { retry_after, .. } => {
                    self.policy.next_delay(retry, *retry_after)
                }
                crate::connectif::DeliveryError::Permanent { .. } => None,
                crate::connectif::DeliveryError::Skip { reason } => {
                    let reason = (*reason).to_owned();
                    return (Ok(HandedOff::Skipped { reason }), None);
                }
                crate::connectif::DeliveryError::Suppressed { rule } => {
                    let reason = rule.as_str().to_owned();
                    return (Ok(HandedOff::Skipped { reason }), None);
                }
            };
            match wait {
                Some(wait) => {
                    tracing::warn!(channel = %envelope.channel, key = %envelope.key, tries, %error, wait_ms = wait.as_millis() as u64, "Connectif delivery failed, retrying");
                    tokio::time::sleep(wait).await;
                }
                None => return (Ok(HandedOff::Failed { tries, error }), None),
            }
        }
    }
}
