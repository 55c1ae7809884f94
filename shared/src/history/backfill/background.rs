//! Backfill in the stack (`bridge-admin backfill --background`): the backfill function is
//! fed by an SQS FIFO work queue whose messages name a run ([`Work`]); one message group per
//! channel, so a channel's run is worked on by one invocation at a time. An invocation loads
//! the run, does its windows until the function's time is nearly out, saving progress after
//! each, and sends the next message; the queue deletes the one it was given when it returns.
//! A crash, a timeout or a failed save returns the message after the queue's visibility
//! timeout, and the run resumes from its last saved window; after [`TRIES`] failed attempts
//! in a row it stops (the same command resumes it). `--cancel` is read between windows.
//!
//! The function's schedule (every quarter hour) counts the background runs, and those with
//! no window finished for [`STALL_SECS`] (metrics `BackfillsRunning`, `BackfillsStalled`).

use super::runs::{Run, RunStore, Runs, RunsError, State};
use super::{Backfill, pull_options, todo};
use crate::channel::{ChannelId, ChannelStore};
use crate::delivery::HandOff;
use crate::delivery::state::StateStore;
use crate::history::Puller;
use crate::qapla::api::QaplaApi;
use crate::qapla::pace::{BACKFILL_RESERVE, Pace};
use crate::telemetry::error_chain;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Failed attempts in a row before a run stops.
pub const TRIES: u32 = 5;
/// A background run with no window finished for this long is stalled.
pub const STALL_SECS: u64 = 30 * 60;
/// Time kept at the end of an invocation to save and send the next message.
pub const MARGIN: Duration = Duration::from_secs(20);

/// One work message: the run to go on with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    pub channel: String,
    pub run: u64,
}

/// The backfill function's own queue (SQS FIFO in the stack: `crate::aws::SqsWork`).
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Ask for `run` to be worked on (`step` tells this message from the run's others: the
    /// same step sent twice within SQS's five minutes is one message).
    async fn send(&self, run: &Run, step: &str) -> Result<(), String>;
}

/// What an invocation did with a work message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The run ended (finished, cancelled, or stopped for good reason).
    Ended(State),
    /// Time was nearly out: the next message is sent.
    Continued,
    /// Nothing to do (no such run, or it is not active any more).
    Dropped(&'static str),
}

/// Everything the backfill function uses.
pub struct Backfiller {
    pub store: Arc<dyn ChannelStore>,
    pub http: reqwest::Client,
    pub pace: Arc<dyn Pace>,
    pub state: Arc<dyn StateStore>,
    pub queue: Arc<dyn HandOff>,
    pub runs: Arc<dyn RunStore>,
    pub work: Arc<dyn WorkQueue>,
    /// Time kept at the end of an invocation ([`MARGIN`]).
    pub margin: Duration,
}

impl Backfiller {
    /// Work on `work`'s run until `deadline` nears. An error returns the message to the
    /// queue (the run resumes from its saved progress).
    pub async fn handle(&self, work: &Work, deadline: Instant) -> Result<Outcome, String> {
        let Ok(channel) = ChannelId::try_from(work.channel.as_str()) else {
            return Ok(Outcome::Dropped("not a channel id"));
        };
        let runs = Runs::new(self.runs.clone(), &channel);
        let mut run = match runs.get(work.run).await {
            Ok(run) => run,
            Err(RunsError::NoRun(_)) => return Ok(Outcome::Dropped("no such run")),
            Err(e) => return Err(e.to_string()),
        };
        if !run.state(crate::clock::epoch_secs()).active() {
            return Ok(Outcome::Dropped("the run is not queued or running"));
        }
        let settings = match self.store.load(&channel).await {
            Ok(Some(settings)) => Ok(Arc::new(settings)),
            Ok(None) => Err(format!("no secret {}", self.store.name_of(&channel))),
            Err(e) => Err(format!("the channel's secret is unreadable: {e}")),
        };
        let puller = settings.map(|settings| {
            let api = QaplaApi::new(self.http.clone());
            let options = pull_options(&run, BACKFILL_RESERVE);
            let pulled = (channel.clone(), settings);
            Puller::new(api, self.pace.clone(), self.state.clone(), pulled, options)
        });
        let backfill = match puller {
            Ok(puller) => Backfill {
                puller,
                queue: self.queue.clone(),
                runs,
            },
            Err(why) => return self.failed(&runs, &run, why).await,
        };
        if run.cancel {
            backfill.end(&mut run, State::Cancelled, "").await?;
            return Ok(Outcome::Ended(State::Cancelled));
        }
        if run.state == Some(State::Queued) {
            // Picked up: the stall clock starts (a retry does not reset it).
            run.state = Some(State::Running);
            run.updated_at = crate::clock::epoch_secs();
        }
        backfill
            .runs
            .save(&mut run)
            .await
            .map_err(|e| e.to_string())?;
        self.windows(&backfill, &mut run, deadline).await
    }

    async fn windows(
        &self,
        b: &Backfill,
        run: &mut Run,
        deadline: Instant,
    ) -> Result<Outcome, String> {
        let mut longest = Duration::ZERO;
        for window in todo(run)? {
            if run.cancel {
                b.end(run, State::Cancelled, "").await?;
                return Ok(Outcome::Ended(State::Cancelled));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left < longest * 2 + self.margin {
                self.work
                    .send(run, &format!("{}-0", run.windows_done))
                    .await?;
                return Ok(Outcome::Continued);
            }
            let began = Instant::now();
            match tokio::time::timeout(left - self.margin, b.step(run, &window)).await {
                Ok(Ok(_)) => longest = longest.max(began.elapsed()),
                Ok(Err(why)) => return self.failed(&b.runs, run, why).await,
                Err(_) => {
                    // Counted as a failed try, and tried again at once by a new message.
                    let why = "a window took longer than the function's time left".to_owned();
                    if let Err(why) = self.failed(&b.runs, run, why).await {
                        let step =
                            format!("{}-t{}", run.windows_done, crate::clock::epoch_millis());
                        self.work.send(run, &step).await?;
                        tracing::warn!(error = %why, "backfill window timed out: continued");
                        return Ok(Outcome::Continued);
                    }
                    return Ok(Outcome::Ended(State::Stopped));
                }
            }
        }
        b.end(run, State::Finished, "").await?;
        Ok(Outcome::Ended(State::Finished))
    }

    /// A failed attempt: counted on the saved run, which stops after [`TRIES`]; else an error,
    /// so that the queue gives the message again.
    async fn failed(&self, runs: &Runs, run: &Run, why: String) -> Result<Outcome, String> {
        let mut saved = runs.get(run.id()).await.map_err(|e| e.to_string())?;
        saved.tries += 1;
        saved.problem = why.clone();
        if saved.tries >= TRIES {
            saved.state = Some(State::Stopped);
            saved.problem = format!("stopped after {TRIES} failed tries: {why}");
            runs.save(&mut saved).await.map_err(|e| e.to_string())?;
            return Ok(Outcome::Ended(State::Stopped));
        }
        runs.save(&mut saved).await.map_err(|e| e.to_string())?;
        Err(why)
    }

    /// One invocation: an SQS event (each record's work in turn) or the schedule's event
    /// (anything else: [`Backfiller::watch`]). An error fails the invocation, so that the
    /// queue gives its message again.
    pub async fn invoke(
        &self,
        event: serde_json::Value,
        deadline: Instant,
    ) -> Result<serde_json::Value, String> {
        let Some(records) = event.get("Records").and_then(|r| r.as_array()) else {
            let (running, stalled) = self.watch(crate::clock::epoch_secs()).await?;
            return Ok(serde_json::json!({ "running": running, "stalled": stalled }));
        };
        let mut outcomes = Vec::new();
        for record in records {
            let body = record
                .get("body")
                .and_then(|b| b.as_str())
                .unwrap_or_default();
            let Ok(work) = serde_json::from_str::<Work>(body) else {
                tracing::warn!("backfill work message unreadable: dropped");
                continue;
            };
            let outcome = self.handle(&work, deadline).await;
            let text = match &outcome {
                Ok(outcome) => format!("{outcome:?}"),
                Err(why) => format!("failed: {why}"),
            };
            tracing::info!(channel = %work.channel, run = work.run, outcome = %text, "backfill work");
            outcomes.push(text);
            outcome?;
        }
        Ok(serde_json::json!({ "outcomes": outcomes }))
    }

    /// Count the background runs of every channel, and the stalled ones (logged).
    pub async fn watch(&self, now: u64) -> Result<(u64, u64), String> {
        let channels = self.store.channels().await.map_err(|e| error_chain(&e))?;
        let (mut running, mut stalled) = (0, 0);
        for channel in &channels {
            let runs = Runs::new(self.runs.clone(), channel).list().await;
            let runs = runs.map_err(|e| e.to_string())?;
            for run in runs
                .iter()
                .filter(|r| r.background && r.state(now).active())
            {
                running += 1;
                let silent = now.saturating_sub(run.updated_at);
                if silent > STALL_SECS {
                    stalled += 1;
                    tracing::warn!(channel = %channel, run = run.id(), silent_secs = silent, problem = %run.problem, "backfill run stalled");
                }
            }
        }
        crate::telemetry::metrics::backfills(running, stalled);
        Ok((running, stalled))
    }
}
