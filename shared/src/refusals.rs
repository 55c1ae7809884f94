//! Qapla's failure budget, watched per channel. Qapla' switches a channel's webhook off after
//! 100 failed posts; the webhooks count each refused post (`Posts`, `outcome` `rejected`, per
//! `channel`), but a CloudWatch alarm cannot sum a rolling day per channel for channels the
//! stack does not know by name. So each reconciler run reads the last 24 hours of refusals of
//! every channel with a secret (one `GetMetricData`) and writes the figure back as
//! `RejectedPostsLastDay`, per channel and as a total whose maximum is the worst channel's:
//! the stack alarms on that maximum at 20, 50 and 90.

use crate::channel::ChannelId;
use crate::telemetry::metrics;
use async_trait::async_trait;
use std::time::SystemTime;

/// Where the refused posts are counted (CloudWatch in the stack: `crate::aws::CloudWatchRefusals`).
#[async_trait]
pub trait RefusedPosts: Send + Sync {
    /// Each channel's refused posts of the 24 hours up to `now`.
    async fn refused(
        &self,
        channels: &[ChannelId],
        now: SystemTime,
    ) -> Result<Vec<(ChannelId, u64)>, String>;
}

/// Each channel's refused posts of the last 24 hours up to `now`, also written as
/// `RejectedPostsLastDay` (see the module doc), with a warning from 20.
pub async fn report(
    watch: &dyn RefusedPosts,
    channels: &[ChannelId],
    now: SystemTime,
) -> Result<Vec<(ChannelId, u64)>, String> {
    let counted = watch.refused(channels, now).await?;
    for (channel, refused) in &counted {
        metrics::rejected_last_day(channel.as_str(), *refused);
        if *refused >= 20 {
            tracing::warn!(channel = %channel, refused, "Qapla' failure budget: this many posts refused in 24 h (Qapla' switches the webhook off at 100)");
        }
    }
    Ok(counted)
}
