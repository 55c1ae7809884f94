//! The record of a channel's backfill runs, in the state table (item `backfill#<channel>`,
//! its runs as JSON, newest last, the last 50 kept): what `--history` lists and where an
//! interrupted run resumes.

use aws_sdk_dynamodb::types::AttributeValue;
use bridge_core::channel::ChannelId;
use bridge_core::qapla::time::time_text;
use bridge_core::table::{self, Pk, Table};
use serde::{Deserialize, Serialize};

const KEPT: usize = 50;

/// One run: what it was asked and how far it got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Run {
    /// When it started (epoch seconds, UTC); also its id.
    pub started_at: u64,
    pub updated_at: u64,
    /// The range in Qapla's time, `YYYY-MM-DD HH:MM:SS`.
    pub from: String,
    pub to: String,
    /// `--status` (empty: all).
    pub statuses: Vec<String>,
    /// The Connectif alias the events went to.
    pub alias: String,
    /// Where the next window starts (Qapla's time): a resumed run goes on from here.
    pub next: String,
    pub windows_done: u64,
    pub windows: u64,
    pub sent: u64,
    /// Delivered already (live or by an earlier run).
    pub delivered_before: u64,
    /// Not sent by the channel's settings, as a post would not be (e.g. child shipments).
    pub skipped: u64,
    pub failed: u64,
    pub finished: bool,
    /// The CSV of the failures.
    pub report: String,
}

impl Run {
    /// Whether `other` asks the same as this run (so it resumes it).
    pub fn same_ask(&self, other: &Run) -> bool {
        (&self.from, &self.to, &self.statuses, &self.alias)
            == (&other.from, &other.to, &other.statuses, &other.alias)
    }

    /// One line of `--history`.
    pub fn line(&self) -> String {
        let filter = match self.statuses.is_empty() {
            true => "all statuses".to_owned(),
            false => format!("status {}", self.statuses.join(",")),
        };
        let state = match self.finished {
            true => "finished".to_owned(),
            false => format!(
                "stopped at {} ({}/{} windows): run it again to resume",
                self.next, self.windows_done, self.windows
            ),
        };
        format!(
            "{} UTC  {} → {}  {filter}  alias {}  sent {}  skipped {} (delivered before {}, by settings {})  failed {}  {state}",
            time_text(self.started_at as i64),
            self.from,
            self.to,
            self.alias,
            self.sent,
            self.delivered_before + self.skipped,
            self.delivered_before,
            self.skipped,
            self.failed,
        )
    }
}

/// The runs of one channel.
pub struct Runs {
    table: Table,
    channel: ChannelId,
}

impl Runs {
    pub fn new(table: Table, channel: &ChannelId) -> Self {
        Runs {
            table,
            channel: channel.clone(),
        }
    }

    fn pk(&self) -> Pk<'_> {
        Pk::Backfill(self.channel.as_str())
    }

    pub async fn list(&self) -> Result<Vec<Run>, String> {
        let item = self
            .table
            .get(self.pk())
            .await
            .map_err(|e| format!("backfill history unreadable: {}", error_chain(&*e)))?;
        let text = item.and_then(|i| table::text(&i, "runs"));
        match text {
            None => Ok(Vec::new()),
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| format!("backfill history unreadable: {e}"))
            }
        }
    }

    /// Store `run` (replacing the run that started at the same second).
    pub async fn save(&self, run: &Run) -> Result<(), String> {
        let mut runs = self.list().await?;
        runs.retain(|r| r.started_at != run.started_at);
        runs.push(run.clone());
        runs.sort_by_key(|r| r.started_at);
        let excess = runs.len().saturating_sub(KEPT);
        runs.drain(..excess);
        let text = serde_json::to_string(&runs).map_err(|e| e.to_string())?;
        self.table
            .put(self.pk())
            .item("runs", AttributeValue::S(text))
            .send()
            .await
            .map_err(|e| format!("backfill progress not saved: {}", error_chain(&e)))?;
        Ok(())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    bridge_core::telemetry::error_chain(e)
}
