//! Backfill: a channel's past statuses, read from Qapla' window by window
//! (`trackingByTimeFrame`, each shipment completed once with `getShipment`) and put on the
//! webhooks' own queue (so delivery, order, retries and idempotency are the live path's), to
//! the channel's history alias unless asked live. Progress is saved after each window
//! ([`runs`]), failures are kept as the run's report ([`report`]).
//!
//! The same [`Backfill::step`] runs in the operator's console (`bridge-admin backfill`, with
//! progress) and in the stack ([`background`], one SQS work message per slice of windows).

pub mod background;
pub mod report;
pub mod runs;

use super::{Failure, PullOptions, Pulled, Puller, Window, parse_date, windows};
use crate::channel::{ChannelId, ChannelSettings};
use crate::connectif::Reception;
use crate::delivery::{Envelope, HandOff};
use crate::qapla::time::time_text;
use crate::telemetry::error_chain;
use runs::{Run, Runs, State};
use std::sync::Arc;
use std::time::Instant;

const DAY: i64 = 86_400;
/// The longest range one run may read, and how far back it may start.
const MAX_RANGE: i64 = 366 * DAY;
const MAX_AGE: i64 = 5 * 365 * DAY + 2 * DAY;
/// Hours per window unless asked.
pub const WINDOW_HOURS: u32 = 6;

/// The range in Qapla's time: `to` as a date includes that day; `to` later than `now` stops
/// at now. Errors say what is wrong.
pub fn range(from: &str, to: &str, now: i64) -> Result<(i64, i64), String> {
    let start = parse_date(from).map_err(|e| e.to_string())?;
    let mut end = parse_date(to).map_err(|e| e.to_string())?;
    if to.trim().len() == 10 {
        end += DAY;
    }
    let end = end.min(now);
    if start >= end {
        return Err("the range is empty: --from must be before --to (and before now)".into());
    }
    if end - start > MAX_RANGE {
        return Err("the range is longer than a year: split it into runs of a year at most".into());
    }
    if start < now - MAX_AGE {
        return Err("--from is more than 5 years ago: Qapla' keeps no older history".into());
    }
    Ok((start, end))
}

/// What a run is asked.
#[derive(Debug, Clone)]
pub struct Ask {
    pub channel: ChannelId,
    /// The range in Qapla's time ([`range`]).
    pub range: (i64, i64),
    /// Only these Qapla' status ids (empty: all).
    pub statuses: Vec<String>,
    /// To the live reception event (fires live workflows) instead of the history one.
    pub live: bool,
    /// Every status of each shipment's history (`--statuses all`), not only the current.
    pub history: bool,
    pub window_hours: u32,
    pub background: bool,
}

impl Ask {
    /// A new run of this ask for `settings`' channel, started `now` (epoch seconds).
    pub fn run(&self, settings: &ChannelSettings, now: u64) -> Run {
        let alias = settings.aliases.get(self.reception()).to_owned();
        let (from, to) = self.range;
        let mut run = Run {
            started_at: now,
            updated_at: now,
            channel: self.channel.as_str().to_owned(),
            from: time_text(from),
            to: time_text(to),
            statuses: self.statuses.clone(),
            alias,
            live: self.live,
            history: self.history,
            window_hours: self.window_hours,
            next: time_text(from),
            background: self.background,
            state: Some(match self.background {
                true => State::Queued,
                false => State::Running,
            }),
            ..Run::default()
        };
        run.windows = todo(&run).map_or(0, |w| w.len() as u64);
        run
    }

    fn reception(&self) -> Reception {
        match self.live {
            true => Reception::ShipmentStatus,
            false => Reception::ShipmentHistory,
        }
    }

    /// The unfinished run of `past` that asked the same (stopped, to resume), else a new one.
    pub fn resume_or_start(&self, past: &[Run], settings: &ChannelSettings, now: u64) -> Run {
        let fresh = self.run(settings, now);
        match past
            .iter()
            .rev()
            .find(|r| r.state(now) == State::Stopped && r.same_ask(&fresh))
        {
            Some(stopped) => Run {
                channel: fresh.channel.clone(),
                background: self.background,
                state: fresh.state,
                tries: 0,
                problem: String::new(),
                cancel: false,
                ..stopped.clone()
            },
            None => fresh,
        }
    }
}

/// The windows of `run` left to do.
pub fn todo(run: &Run) -> Result<Vec<Window>, String> {
    let (from, to) = (parse_date(&run.from), parse_date(&run.to));
    let (from, to) = (
        from.map_err(|e| e.to_string())?,
        to.map_err(|e| e.to_string())?,
    );
    let hours = match run.window_hours {
        0 => WINDOW_HOURS,
        h => h.clamp(1, 24),
    };
    let all = windows(from, to, i64::from(hours) * 3600).map_err(|e| e.to_string())?;
    let next = parse_date(&run.next).unwrap_or(from);
    Ok(all.into_iter().filter(|w| w.from >= next).collect())
}

/// How a run's windows are completed and sent.
pub fn pull_options(run: &Run, reserve: f64) -> PullOptions {
    PullOptions {
        complete: true,
        statuses: run.statuses.clone(),
        reception: (!run.live).then_some(Reception::ShipmentHistory),
        reserve,
        history: run.history,
    }
}

/// One channel's backfill: what reads Qapla', the queue, the runs' record.
pub struct Backfill {
    pub puller: Puller,
    pub queue: Arc<dyn HandOff>,
    pub runs: Runs,
}

impl Backfill {
    /// One window of `run`: pulled, queued, counted, its failures kept in the table, and the
    /// run's progress saved. Its failures (for a local copy of the report). An error leaves
    /// the saved progress before this window: the window is done again on resuming (the
    /// ledger and the queue's deduplication keep its events from going out twice).
    pub async fn step(&self, run: &mut Run, window: &Window) -> Result<Vec<Failure>, String> {
        let began = Instant::now();
        let pulled = self.puller.window(window).await.map_err(|e| {
            let (from, _) = window.texts();
            format!("window from {from}: {}", error_chain(&e))
        })?;
        let mut envelopes: Vec<Envelope> = Vec::new();
        let mut failures = Vec::new();
        let mut counted = (0, 0);
        for p in pulled {
            match p {
                Pulled::Send(envelope) => envelopes.push(*envelope),
                Pulled::Delivered => counted.0 += 1,
                Pulled::Filtered => {}
                Pulled::Skipped { .. } => counted.1 += 1,
                Pulled::Failed(failure) => failures.push(failure),
            }
        }
        let queued = envelopes.len() as u64;
        let shipments: std::collections::HashSet<&str> =
            envelopes.iter().map(|e| e.key.as_str()).collect();
        let shipments = shipments.len() as u64;
        for result in self.queue.hand_off_all(envelopes).await {
            if let Err(e) = result {
                return Err(format!("the queue refused an event: {}", error_chain(&e)));
            }
        }
        report::keep(self.runs.store(), run, &failures)
            .await
            .map_err(|e| format!("report not saved: {e}"))?;
        run.sent += queued;
        run.shipments += shipments;
        run.delivered_before += counted.0;
        run.skipped += counted.1;
        run.failed += failures.len() as u64;
        run.next = time_text(window.to);
        run.windows_done += 1;
        run.busy_ms += began.elapsed().as_millis() as u64;
        run.updated_at = crate::clock::epoch_secs();
        (run.tries, run.problem) = (0, String::new());
        self.runs.save(run).await.map_err(|e| e.to_string())?;
        crate::telemetry::metrics::count_backfill_window(self.runs.channel().as_str());
        Ok(failures)
    }

    /// End `run` in `state` (why in `problem`), saved.
    pub async fn end(&self, run: &mut Run, state: State, problem: &str) -> Result<(), String> {
        run.state = Some(state);
        run.finished = state == State::Finished;
        run.problem = problem.to_owned();
        run.updated_at = crate::clock::epoch_secs();
        self.runs.save(run).await.map_err(|e| e.to_string())
    }
}
