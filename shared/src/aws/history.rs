//! What reconciliation, stalls and backfill keep in the state table: each channel's cursor
//! (`reconcile#<channel>`), the stall index's silent shipments, the backfill runs and their
//! reports (the item families of [`super::table`]).

use super::table::{Pk, STALL_INDEX, Table, attr, condition_failed, expires_at, number, text};
use crate::Kind;
use crate::channel::ChannelId;
use crate::history::backfill::report::KEPT_DAYS;
use crate::history::backfill::runs::RunStore;
use crate::history::reconcile::Cursors;
use crate::stalls::{Silent, StallIndex};
use crate::telemetry::error_chain;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::Duration;

fn described(e: super::table::TableError) -> String {
    error_chain(&*e)
}

#[async_trait]
impl Cursors for Table {
    async fn cursor(&self, channel: &ChannelId) -> Result<Option<String>, String> {
        let item = self.get(Pk::Reconcile(channel.as_str())).await;
        Ok(item.map_err(described)?.and_then(|i| text(&i, attr::UNTIL)))
    }

    async fn set_cursor(&self, channel: &ChannelId, until: &str) -> Result<(), String> {
        self.put(Pk::Reconcile(channel.as_str()))
            .item(attr::UNTIL, AttributeValue::S(until.to_owned()))
            .send()
            .await
            .map(drop)
            .map_err(|e| error_chain(&e))
    }
}

#[async_trait]
impl StallIndex for Table {
    async fn silent(
        &self,
        channel: &ChannelId,
        from: &str,
        to: &str,
    ) -> Result<(Vec<Silent>, u32), String> {
        let (items, calls) = self
            .watched(channel.as_str(), from, to)
            .await
            .map_err(|e| format!("{STALL_INDEX}: {}", described(e)))?;
        let silent = items.iter().filter_map(|item| {
            Some(Silent {
                at: text(item, attr::VALUE)?,
                fields: text(item, attr::FIELDS),
                status: text(item, attr::STATUS),
                courier: text(item, attr::COURIER),
            })
        });
        Ok((silent.collect(), calls))
    }

    async fn told(&self, channel: &ChannelId, tracking: &str, at: &str) -> Result<(), String> {
        let pk = Pk::Last(Kind::Shipment, channel.as_str(), tracking);
        let now = crate::clock::epoch_secs().to_string();
        let update = self
            .update(pk)
            .update_expression("REMOVE #w, #wa SET #s = :now")
            .condition_expression("#v = :at")
            .expression_attribute_names("#w", attr::WATCH)
            .expression_attribute_names("#wa", attr::WATCH_AT)
            .expression_attribute_names("#s", attr::STALLED_AT)
            .expression_attribute_names("#v", attr::VALUE)
            .expression_attribute_values(":at", AttributeValue::S(at.to_owned()))
            .expression_attribute_values(":now", AttributeValue::N(now));
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(error_chain(&e)),
        }
    }
}

#[async_trait]
impl RunStore for Table {
    async fn read_runs(&self, channel: &ChannelId) -> Result<Option<(String, u64)>, String> {
        let item = self.get(Pk::Backfill(channel.as_str())).await;
        let Some(item) = item.map_err(described)? else {
            return Ok(None);
        };
        let version = number(&item, attr::VERSION).unwrap_or(0.0) as u64;
        let runs = text(&item, attr::RUNS).unwrap_or_else(|| "[]".to_owned());
        Ok(Some((runs, version)))
    }

    async fn write_runs(
        &self,
        channel: &ChannelId,
        runs: &str,
        version: u64,
    ) -> Result<bool, String> {
        let put = self
            .put(Pk::Backfill(channel.as_str()))
            .item(attr::RUNS, AttributeValue::S(runs.to_owned()))
            .item(attr::VERSION, AttributeValue::N((version + 1).to_string()))
            .expression_attribute_names("#v", attr::VERSION);
        let put = match version {
            0 => put.condition_expression("attribute_not_exists(#v)"),
            v => put
                .condition_expression("#v = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(error_chain(&e)),
        }
    }

    async fn keep_part(&self, channel: &str, run: u64, part: u32, csv: &str) -> Result<(), String> {
        let ttl = Duration::from_secs(KEPT_DAYS * 86_400);
        self.put(Pk::BackfillReport(channel, run, part))
            .item(attr::CSV, AttributeValue::S(csv.to_owned()))
            .item(
                attr::EXPIRES_AT,
                expires_at(crate::clock::epoch_secs(), ttl),
            )
            .send()
            .await
            .map(drop)
            .map_err(|e| error_chain(&e))
    }

    async fn parts(
        &self,
        channel: &str,
        run: u64,
        parts: u32,
    ) -> Result<Option<Vec<String>>, String> {
        let pks: Vec<Pk> = (0..parts)
            .map(|n| Pk::BackfillReport(channel, run, n))
            .collect();
        let items = self.get_all(&pks).await.map_err(described)?;
        if items.len() < pks.len() {
            return Ok(None);
        }
        let mut found: Vec<(u32, String)> = items
            .iter()
            .filter_map(|item| {
                let pk = text(item, attr::PK)?;
                let n = pk.rsplit('#').next()?.parse().ok()?;
                Some((n, text(item, attr::CSV).unwrap_or_default()))
            })
            .collect();
        found.sort();
        Ok(Some(found.into_iter().map(|(_, csv)| csv).collect()))
    }
}
