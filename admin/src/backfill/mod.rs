//! `bridge-admin backfill`: past shipment statuses of a channel, read from Qapla' window by
//! window (`trackingByTimeFrame`, each shipment completed once with `getShipment`), put on
//! the webhooks' own queue (so delivery, order, retries and idempotency are the live
//! path's), to the channel's history alias unless `--alias live`. Resumable from the last
//! finished window; every run is recorded (`--history`); failures go to a CSV.

mod command;
mod csv;
mod dry;
mod runs;

use crate::stack::Stack;
use bridge_core::channel::{ChannelId, ChannelSettings, ChannelStore, SecretsManagerStore};
use bridge_core::clock::epoch_secs as now_secs;
use bridge_core::connectif::Reception;
use bridge_core::delivery::state::DynamoState;
use bridge_core::delivery::{Envelope, HandOff, SqsQueue};
use bridge_core::history::{PullOptions, Pulled, Puller, Window, parse_date, windows};
use bridge_core::qapla::api::QaplaApi;
use bridge_core::qapla::pace::{BACKFILL_RESERVE, DynamoPace, PER_SECOND, QAPLA, parse_budget};
use bridge_core::qapla::time::{italian_now, time_text};
use bridge_core::table::Table;
pub use command::{Args, command};
use command::{counts, progress_bar};
pub use dry::dry_run;
pub use runs::{Run, Runs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const DAY: i64 = 86_400;
/// The longest range one run may read, and how far back it may start.
const MAX_RANGE: i64 = 366 * DAY;
const MAX_AGE: i64 = 5 * 365 * DAY + 2 * DAY;

/// What the operator asked.
pub struct Ask {
    pub channel: ChannelId,
    pub from: String,
    pub to: String,
    pub statuses: Vec<String>,
    pub dry_run: bool,
    /// `--alias live`: the live reception event (fires live workflows).
    pub live: bool,
    pub report: Option<PathBuf>,
    pub window_hours: u32,
    pub progress: bool,
}

/// The range in Qapla's time: `--to` as a date includes that day; `--to` later than now
/// stops at now. Errors say what is wrong.
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

/// Everything a run uses.
pub struct Parts {
    pub settings: Arc<ChannelSettings>,
    pub puller: Puller,
    pub queue: SqsQueue,
    pub runs: Runs,
}

/// Connect to the channel's settings, the queue and the state table of `stack`.
pub async fn parts(aws: &aws_config::SdkConfig, stack: &Stack, ask: &Ask) -> Result<Parts, String> {
    let prefix = stack.need(&stack.secret_prefix, "SecretPrefix")?;
    let table = stack.need(&stack.state_table, "StateTableName")?;
    let queue_url = stack.need(&stack.queue_url, "EventQueueUrl")?;
    let store = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(aws), prefix);
    let settings = match store.load(&ask.channel).await {
        Ok(Some(settings)) => Arc::new(settings),
        Ok(None) => {
            return Err(format!(
                "no secret {}: run `bridge-admin check {}`",
                store.secret_name(&ask.channel),
                ask.channel
            ));
        }
        Err(e) => {
            return Err(format!(
                "the channel's secret is unreadable ({e}): run `bridge-admin check {}`",
                ask.channel
            ));
        }
    };
    let table = Table::new(aws_sdk_dynamodb::Client::new(aws), table);
    let budget = std::env::var("QAPLA_API_BUDGET")
        .ok()
        .and_then(|text| parse_budget(&text))
        .unwrap_or(QAPLA);
    let http = bridge_core::http::tls::client_builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let options = PullOptions {
        complete: !ask.dry_run,
        statuses: ask.statuses.clone(),
        reception: (!ask.live).then_some(Reception::ShipmentHistory),
        reserve: BACKFILL_RESERVE,
    };
    let puller = Puller::new(
        QaplaApi::new(http),
        Arc::new(DynamoPace::new(table.clone()).with_budget(budget)),
        Arc::new(DynamoState::new(table.clone(), Duration::ZERO)),
        (ask.channel.clone(), settings.clone()),
        options,
    );
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(aws), queue_url.to_owned(), None);
    let runs = Runs::new(table, &ask.channel);
    Ok(Parts {
        settings,
        puller,
        queue,
        runs,
    })
}

/// The run to go on with: the unfinished one that asked the same, else a new one.
fn resume_or_start(past: &[Run], ask: &Ask, (from, to): (i64, i64), alias: &str) -> Run {
    let fresh = Run {
        started_at: now_secs(),
        from: time_text(from),
        to: time_text(to),
        statuses: ask.statuses.clone(),
        alias: alias.to_owned(),
        next: time_text(from),
        ..Run::default()
    };
    past.iter()
        .rev()
        .find(|r| !r.finished && r.same_ask(&fresh))
        .cloned()
        .unwrap_or(fresh)
}

/// What a run did, for the summary.
pub struct Done {
    pub run: Run,
    pub resumed: bool,
    /// Why it stopped before the end (then it can be resumed).
    pub stopped: Option<String>,
    pub calls: u64,
}

/// Run (or resume) a backfill: window by window, progress saved after each.
pub async fn run(parts: &Parts, ask: &Ask, stop: &AtomicBool) -> Result<Done, String> {
    let range = range(&ask.from, &ask.to, italian_now())?;
    let alias = match ask.live {
        true => parts.settings.aliases.get(Reception::ShipmentStatus),
        false => parts.settings.aliases.get(Reception::ShipmentHistory),
    };
    let past = parts.runs.list().await?;
    let mut run = resume_or_start(&past, ask, range, alias);
    let resumed = run.windows_done > 0;
    let size = i64::from(ask.window_hours.clamp(1, 24)) * 3600;
    let all = windows(range.0, range.1, size).map_err(|e| e.to_string())?;
    run.windows = all.len() as u64;
    let next = parse_date(&run.next).unwrap_or(range.0);
    let todo: Vec<Window> = all.into_iter().filter(|w| w.from >= next).collect();
    if run.report.is_empty() {
        let name = format!("backfill-{}-{}.csv", ask.channel, run.started_at);
        run.report = ask
            .report
            .clone()
            .unwrap_or(PathBuf::from(name))
            .display()
            .to_string();
    }
    let bar = progress_bar(ask.progress, &run, todo.len());
    let mut stopped = None;
    for window in &todo {
        if stop.load(Ordering::Relaxed) {
            stopped = Some("interrupted".to_owned());
            break;
        }
        if let Err(why) = one_window(parts, &mut run, window).await {
            stopped = Some(why);
            break;
        }
        run.next = time_text(window.to);
        run.windows_done += 1;
        run.updated_at = now_secs();
        parts.runs.save(&run).await?;
        bar.set_message(counts(&run));
        bar.inc(1);
    }
    bar.finish_and_clear();
    run.finished = stopped.is_none();
    run.updated_at = now_secs();
    parts.runs.save(&run).await?;
    Ok(Done {
        run,
        resumed,
        stopped,
        calls: parts.puller.calls(),
    })
}

/// One window: pulled, queued, counted, failures reported.
async fn one_window(parts: &Parts, run: &mut Run, window: &Window) -> Result<(), String> {
    let pulled = parts.puller.window(window).await.map_err(|e| {
        let (from, _) = window.texts();
        format!(
            "window from {from}: {}",
            bridge_core::telemetry::error_chain(&e)
        )
    })?;
    let mut envelopes: Vec<Envelope> = Vec::new();
    let mut failures = Vec::new();
    for p in pulled {
        match p {
            Pulled::Send(envelope) => envelopes.push(*envelope),
            Pulled::Delivered => run.delivered_before += 1,
            Pulled::Filtered => {}
            Pulled::Skipped { .. } => run.skipped += 1,
            Pulled::Failed(failure) => failures.push(failure),
        }
    }
    let queued = envelopes.len() as u64;
    for result in parts.queue.hand_off_all(envelopes).await {
        if let Err(e) = result {
            return Err(format!(
                "the queue refused an event: {}",
                bridge_core::telemetry::error_chain(&e)
            ));
        }
    }
    csv::append(&run.report, &failures).map_err(|e| format!("{}: {e}", run.report))?;
    run.sent += queued;
    run.failed += failures.len() as u64;
    Ok(())
}

/// How long the Qapla' budget makes `calls` calls take.
pub fn budget_time(calls: u64) -> Duration {
    Duration::from_secs_f64(calls as f64 / PER_SECOND)
}
