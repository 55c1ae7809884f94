//! Qapla's failure budget, watched per channel. Qapla' switches a channel's webhook off after
//! 100 failed posts; the webhooks count each refused post (`Posts`, `outcome` `rejected`, per
//! `channel`), but a CloudWatch alarm cannot sum a rolling day per channel for channels the
//! stack does not know by name. So each reconciler run reads the last 24 hours of refusals of
//! every channel with a secret (one `GetMetricData`) and writes the figure back as
//! `RejectedPostsLastDay`, per channel and as a total whose maximum is the worst channel's:
//! the stack alarms on that maximum at 20, 50 and 90.

use crate::channel::ChannelId;
use crate::telemetry::{error_chain, metrics};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use std::time::{Duration, SystemTime};

/// The window the budget is counted over: Qapla's "a day".
const DAY: Duration = Duration::from_secs(86_400);
/// The period summed: an hour, so the window is 24 whole periods.
const HOUR: i32 = 3600;
/// `GetMetricData` takes at most 500 queries.
const QUERIES_PER_CALL: usize = 500;

/// Reads refused posts from CloudWatch.
pub struct BudgetWatch {
    client: aws_sdk_cloudwatch::Client,
}

impl BudgetWatch {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        BudgetWatch { client }
    }

    /// Each channel's refused posts of the last 24 hours up to `now`, also written as
    /// `RejectedPostsLastDay` (see the module doc).
    pub async fn report(
        &self,
        channels: &[ChannelId],
        now: SystemTime,
    ) -> Result<Vec<(ChannelId, u64)>, String> {
        let mut counted = Vec::with_capacity(channels.len());
        for chunk in channels.chunks(QUERIES_PER_CALL) {
            counted.extend(self.refused(chunk, now).await?);
        }
        for (channel, refused) in &counted {
            metrics::rejected_last_day(channel.as_str(), *refused);
            if *refused >= 20 {
                tracing::warn!(channel = %channel, refused, "Qapla' failure budget: this many posts refused in 24 h (Qapla' switches the webhook off at 100)");
            }
        }
        Ok(counted)
    }

    async fn refused(
        &self,
        channels: &[ChannelId],
        now: SystemTime,
    ) -> Result<Vec<(ChannelId, u64)>, String> {
        let queries = channels.iter().enumerate().map(|(i, channel)| {
            let dimension =
                |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
            let metric = Metric::builder()
                .namespace(metrics::namespace())
                .metric_name("Posts")
                .dimensions(dimension("channel", channel.as_str()))
                .dimensions(dimension("outcome", "rejected"))
                .build();
            let stat = MetricStat::builder()
                .metric(metric)
                .period(HOUR)
                .stat("Sum")
                .build();
            MetricDataQuery::builder()
                .id(format!("c{i}"))
                .metric_stat(stat)
                .return_data(true)
                .build()
        });
        let queries: Vec<MetricDataQuery> = queries.collect();
        let out = (self.client.get_metric_data())
            .set_metric_data_queries(Some(queries))
            .start_time(DateTime::from(now - DAY))
            .end_time(DateTime::from(now))
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        let results = out.metric_data_results.unwrap_or_default();
        let sum = |i: usize| {
            let id = format!("c{i}");
            let found = results
                .iter()
                .find(|r| r.id.as_deref() == Some(id.as_str()));
            found.map_or(0.0, |r| r.values().iter().sum::<f64>())
        };
        Ok((channels.iter().enumerate())
            .map(|(i, channel)| (channel.clone(), sum(i).round() as u64))
            .collect())
    }
}
