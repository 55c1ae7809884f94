//! The record of a channel's backfill runs, in the state table (item `backfill#<channel>`:
//! its runs as JSON, newest last, the last 50 kept, and a `version` every write checks, so
//! that the console, a foreground run and the background function never overwrite each
//! other): what `--history` lists, where a stopped run resumes, and the one-run-per-channel
//! rule.

use crate::channel::ChannelId;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where runs and their reports are kept (the state table in the stack:
/// `crate::aws::Table`). Errors are described, never carry customer data.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// The channel's runs (JSON) and the version of their record; `None`: no record yet.
    async fn read_runs(&self, channel: &ChannelId) -> Result<Option<(String, u64)>, String>;
    /// Write the runs as version `version + 1` if the record is still at `version` (0: none
    /// yet); `Ok(false)` when another writer came first.
    async fn write_runs(
        &self,
        channel: &ChannelId,
        runs: &str,
        version: u64,
    ) -> Result<bool, String>;
    /// Keep part `part` of run `run`'s report (CSV lines), for [`super::report::KEPT_DAYS`].
    async fn keep_part(&self, channel: &str, run: u64, part: u32, csv: &str) -> Result<(), String>;
    /// Parts `0..parts` of run `run`'s report, in order; `None` if one is gone.
    async fn parts(
        &self,
        channel: &str,
        run: u64,
        parts: u32,
    ) -> Result<Option<Vec<String>>, String>;
}

const KEPT: usize = 50;
/// Writes tried when another writer keeps winning the version check.
const WRITES: usize = 8;
/// A foreground run not heard of for this long is stopped (its machine slept or quit).
pub const FOREGROUND_SILENCE: u64 = 30 * 60;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Started in the background, not picked up yet.
    Queued,
    Running,
    Finished,
    /// Stopped before the end (interrupted, or failing): the same command resumes it.
    Stopped,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Finished => "finished",
            State::Stopped => "stopped",
            State::Cancelled => "cancelled",
        }
    }

    /// Queued or running: the channel's one run.
    pub fn active(self) -> bool {
        matches!(self, State::Queued | State::Running)
    }
}

/// One run: what it was asked and how far it got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Run {
    /// When it started (epoch seconds, UTC); also its id.
    pub started_at: u64,
    pub updated_at: u64,
    /// The channel (absent in records older than 0.3).
    pub channel: String,
    /// The range in Qapla's time, `YYYY-MM-DD HH:MM:SS`.
    pub from: String,
    pub to: String,
    /// `--status` (empty: all).
    pub statuses: Vec<String>,
    /// The Connectif alias the events went to.
    pub alias: String,
    /// Every status of each shipment's tracking history, not only its current one
    /// (`--statuses all`).
    pub history: bool,
    /// To the live reception event (`--alias live`).
    pub live: bool,
    /// Hours per window (0 in records older than 0.3: 6).
    pub window_hours: u32,
    /// Where the next window starts (Qapla's time): a resumed run goes on from here.
    pub next: String,
    pub windows_done: u64,
    pub windows: u64,
    pub sent: u64,
    /// Shipments with at least one status sent (`sent / shipments`: statuses per shipment).
    pub shipments: u64,
    /// Delivered already (live or by an earlier run).
    pub delivered_before: u64,
    /// Not sent by the channel's settings, as a post would not be (e.g. child shipments).
    pub skipped: u64,
    pub failed: u64,
    /// Absent in records older than 0.3 (then `finished` says).
    pub state: Option<State>,
    pub finished: bool,
    /// Run by the stack (`--background`), not by a console.
    pub background: bool,
    /// `--cancel` asked: the run stops after its current window.
    pub cancel: bool,
    /// Why it stopped, or the last failure it is retrying.
    pub problem: String,
    /// Failed attempts since the last window done (background).
    pub tries: u32,
    /// Milliseconds spent on the windows done, for the ETA.
    pub busy_ms: u64,
    /// Parts of the failure report kept in the table ([`super::report`]).
    pub report_parts: u32,
    /// The foreground run's local copy of the report.
    pub report: String,
}

impl Run {
    /// The run's id.
    pub fn id(&self) -> u64 {
        self.started_at
    }

    /// Where it is at `now` (epoch seconds).
    pub fn state(&self, now: u64) -> State {
        match self.state {
            Some(State::Running)
                if !self.background && now.saturating_sub(self.updated_at) > FOREGROUND_SILENCE =>
            {
                State::Stopped
            }
            Some(state) => state,
            None if self.finished => State::Finished,
            None => State::Stopped,
        }
    }

    /// Whether `other` asks the same as this run (so it resumes it).
    pub fn same_ask(&self, other: &Run) -> bool {
        (
            &self.from,
            &self.to,
            &self.statuses,
            &self.alias,
            self.history,
        ) == (
            &other.from,
            &other.to,
            &other.statuses,
            &other.alias,
            other.history,
        )
    }

    /// The time the windows left should take, from the pace of those done.
    pub fn eta_secs(&self) -> Option<u64> {
        let left = self.windows.checked_sub(self.windows_done)?;
        if self.windows_done == 0 || self.busy_ms == 0 {
            return None;
        }
        Some(self.busy_ms * left / self.windows_done / 1000)
    }

    /// Percent of the windows done.
    pub fn percent(&self) -> u64 {
        (self.windows_done * 100)
            .checked_div(self.windows)
            .unwrap_or(0)
    }
}

/// Why the runs could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    #[error("backfill history unreadable: {0}")]
    Unreadable(String),
    #[error("backfill progress not saved: {0}")]
    NotSaved(String),
    #[error("run {} of this channel is {}: one run per channel at a time (`--cancel {}` stops it)", .0.id(), .0.state(crate::clock::epoch_secs()).as_str(), .0.id())]
    Busy(Box<Run>),
    #[error("no run {0} for this channel (`--history` lists them)")]
    NoRun(u64),
}

/// The runs of one channel.
#[derive(Clone)]
pub struct Runs {
    store: Arc<dyn RunStore>,
    channel: ChannelId,
}

impl Runs {
    pub fn new(store: Arc<dyn RunStore>, channel: &ChannelId) -> Self {
        Runs {
            store,
            channel: channel.clone(),
        }
    }

    pub fn channel(&self) -> &ChannelId {
        &self.channel
    }

    /// Where the runs and their reports are kept.
    pub fn store(&self) -> &dyn RunStore {
        &*self.store
    }

    /// The runs and the version of their record (0: none yet).
    async fn read(&self) -> Result<(Vec<Run>, u64), RunsError> {
        let read = self
            .store
            .read_runs(&self.channel)
            .await
            .map_err(RunsError::Unreadable)?;
        let Some((text, version)) = read else {
            return Ok((Vec::new(), 0));
        };
        let runs = serde_json::from_str(&text).map_err(|e| RunsError::Unreadable(e.to_string()))?;
        Ok((runs, version))
    }

    /// Every run, oldest first.
    pub async fn list(&self) -> Result<Vec<Run>, RunsError> {
        Ok(self.read().await?.0)
    }

    /// The run `id`.
    pub async fn get(&self, id: u64) -> Result<Run, RunsError> {
        let runs = self.list().await?;
        runs.into_iter()
            .find(|r| r.id() == id)
            .ok_or(RunsError::NoRun(id))
    }

    /// Change the runs with `change` and write them if the record is still the one read
    /// (else read again and redo: another writer came first).
    async fn change<T>(
        &self,
        mut change: impl FnMut(&mut Vec<Run>) -> Result<T, RunsError>,
    ) -> Result<T, RunsError> {
        for _ in 0..WRITES {
            let (mut runs, version) = self.read().await?;
            let out = change(&mut runs)?;
            runs.sort_by_key(|r| r.started_at);
            let excess = runs.len().saturating_sub(KEPT);
            runs.drain(..excess);
            let text =
                serde_json::to_string(&runs).map_err(|e| RunsError::NotSaved(e.to_string()))?;
            match self.store.write_runs(&self.channel, &text, version).await {
                Ok(true) => return Ok(out),
                Ok(false) => continue,
                Err(e) => return Err(RunsError::NotSaved(e)),
            }
        }
        Err(RunsError::NotSaved("the record kept changing".into()))
    }

    /// Store `run` (replacing the run of the same id); a cancel asked meanwhile is kept and
    /// copied into `run`.
    pub async fn save(&self, run: &mut Run) -> Result<(), RunsError> {
        let cancel = self
            .change(|runs| {
                let asked = runs.iter().any(|r| r.id() == run.id() && r.cancel);
                let mut mine = run.clone();
                mine.cancel |= asked;
                runs.retain(|r| r.id() != run.id());
                runs.push(mine);
                Ok(asked)
            })
            .await?;
        run.cancel |= cancel;
        Ok(())
    }

    /// Store `run` as the channel's active run: refused with the other one while another is
    /// queued or running. A new run whose id (its second) another run has takes the next
    /// free one; a stopped run of the same ask and id is resumed.
    pub async fn start(&self, run: &mut Run) -> Result<(), RunsError> {
        let now = crate::clock::epoch_secs();
        self.change(|runs| {
            if let Some(other) = runs.iter().find(|r| r.state(now).active()) {
                return Err(RunsError::Busy(Box::new(other.clone())));
            }
            let resumed = |r: &Run| r.same_ask(run) && r.state(now) == State::Stopped;
            if runs.iter().any(|r| r.id() == run.id() && !resumed(r)) {
                run.started_at = runs.iter().map(Run::id).max().unwrap_or(0) + 1;
            }
            runs.retain(|r| r.id() != run.id());
            runs.push(run.clone());
            Ok(())
        })
        .await
    }

    /// Cancel run `id`: an active run is asked to stop after its window (its runner marks it
    /// cancelled); a stopped one is cancelled at once (never resumed). The run as it is now.
    pub async fn cancel(&self, id: u64) -> Result<Run, RunsError> {
        let now = crate::clock::epoch_secs();
        self.change(|runs| {
            let run = runs
                .iter_mut()
                .find(|r| r.id() == id)
                .ok_or(RunsError::NoRun(id))?;
            match run.state(now) {
                State::Queued | State::Running => run.cancel = true,
                State::Stopped => run.state = Some(State::Cancelled),
                State::Finished | State::Cancelled => {}
            }
            Ok(run.clone())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_foreground_run_is_stopped_and_old_records_read() {
        let run = Run {
            updated_at: 1_000,
            state: Some(State::Running),
            ..Run::default()
        };
        assert_eq!(run.state(1_000 + FOREGROUND_SILENCE), State::Running);
        assert_eq!(run.state(1_001 + FOREGROUND_SILENCE), State::Stopped);
        let background = Run {
            background: true,
            ..run.clone()
        };
        assert_eq!(background.state(1_000_000), State::Running);
        let old: Run = serde_json::from_str(r#"{"started_at":1,"finished":true}"#).expect("old");
        assert_eq!(old.state(2), State::Finished);
        let old: Run = serde_json::from_str(r#"{"started_at":1}"#).expect("old");
        assert_eq!(old.state(2), State::Stopped);
    }

    #[test]
    fn eta_follows_the_pace_of_the_windows_done() {
        let run = Run {
            windows: 100,
            windows_done: 25,
            busy_ms: 50_000,
            ..Run::default()
        };
        assert_eq!(run.eta_secs(), Some(150));
        assert_eq!(run.percent(), 25);
        assert_eq!(Run::default().eta_secs(), None);
    }
}
