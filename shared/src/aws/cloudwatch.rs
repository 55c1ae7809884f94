//! The refused posts of the last day, read from CloudWatch (`crate::refusals`): the webhooks'
//! `Posts` metric (`outcome` `rejected`, per `channel`), summed by the hour.

use crate::channel::ChannelId;
use crate::refusals::RefusedPosts;
use crate::telemetry::error_chain;
use async_trait::async_trait;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use std::time::{Duration, SystemTime};

/// The window counted: Qapla's "a day".
const DAY: Duration = Duration::from_secs(86_400);
/// The period summed: an hour, so the window is 24 whole periods.
const HOUR: i32 = 3600;
/// `GetMetricData` takes at most 500 queries.
const QUERIES_PER_CALL: usize = 500;

/// Reads refused posts from CloudWatch.
pub struct CloudWatchRefusals {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchRefusals {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        CloudWatchRefusals { client }
    }
}

#[async_trait]
impl RefusedPosts for CloudWatchRefusals {
    async fn refused(
        &self,
        channels: &[ChannelId],
        now: SystemTime,
    ) -> Result<Vec<(ChannelId, u64)>, String> {
        let mut counted = Vec::with_capacity(channels.len());
        for chunk in channels.chunks(QUERIES_PER_CALL) {
            counted.extend(self.refused_of(chunk, now).await?);
        }
        Ok(counted)
    }
}

impl CloudWatchRefusals {
    /// One `GetMetricData` for at most [`QUERIES_PER_CALL`] channels.
    async fn refused_of(
        &self,
        channels: &[ChannelId],
        now: SystemTime,
    ) -> Result<Vec<(ChannelId, u64)>, String> {
        let queries = channels.iter().enumerate().map(|(i, channel)| {
            let dimension =
                |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
            let metric = Metric::builder()
                .namespace(crate::telemetry::metrics::namespace())
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
        let out = self
            .client
            .get_metric_data()
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
        Ok(channels
            .iter()
            .enumerate()
            .map(|(i, channel)| (channel.clone(), sum(i).round() as u64))
            .collect())
    }
}
