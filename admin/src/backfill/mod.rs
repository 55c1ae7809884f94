//! `bridge-admin backfill`: past shipment statuses of a channel, read from Qapla' window by
//! window and put on the webhooks' own queue (`bridge_core::history::backfill`), either here
//! with a progress bar, or in the stack (`--background`: the backfill function, fed by its
//! work queue). Every run is recorded in the state table, one run per channel at a time:
//! `--history`, `--watch`, `--cancel` and `--report` read and change that record.

mod command;
mod dry;
mod watch;

use crate::stack::Stack;
use bridge_core::aws::DynamoPace;
use bridge_core::aws::DynamoState;
use bridge_core::aws::SecretsManagerStore;
use bridge_core::aws::SqsQueue;
use bridge_core::aws::connector::CONNECT_TIMEOUT;
use bridge_core::aws::table::Table;
use bridge_core::aws::{SignedSend, SqsWork};
use bridge_core::channel::{ChannelId, ChannelSettings, ChannelStore};
use bridge_core::clock::epoch_secs;
use bridge_core::connectif::Reception;
use bridge_core::history::backfill::background::WorkQueue;
use bridge_core::history::backfill::runs::{Run, Runs, State};
use bridge_core::history::backfill::{self, Backfill, report, todo};
use bridge_core::history::{Failure, PullOptions, Puller};
use bridge_core::qapla::api::QaplaApi;
use bridge_core::qapla::pace::{BACKFILL_RESERVE, PER_SECOND, QAPLA, parse_bucket};
use bridge_core::qapla::time::italian_now;
pub use command::{Args, command};
use command::{counts, progress_bar};
pub use dry::dry_run;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the operator asked.
pub struct Ask {
    pub channel: ChannelId,
    pub from: String,
    pub to: String,
    pub statuses: Vec<String>,
    pub dry_run: bool,
    /// `--alias live`: the live reception event (fires live workflows).
    pub live: bool,
    /// `--statuses all`: every status of each shipment's tracking history.
    pub history: bool,
    /// `--out`: where the CSV of failures goes.
    pub out: Option<PathBuf>,
    pub window_hours: u32,
    pub progress: bool,
    pub background: bool,
}

impl Ask {
    /// How its windows are read and sent.
    fn pull_options(&self) -> PullOptions {
        PullOptions {
            complete: !self.dry_run,
            statuses: self.statuses.clone(),
            reception: (!self.live).then_some(Reception::ShipmentHistory),
            reserve: BACKFILL_RESERVE,
            history: self.history,
        }
    }

    /// The run's ask, its range checked against now.
    fn core(&self) -> Result<backfill::Ask, String> {
        Ok(backfill::Ask {
            channel: self.channel.clone(),
            range: backfill::range(&self.from, &self.to, italian_now())?,
            statuses: self.statuses.clone(),
            live: self.live,
            history: self.history,
            window_hours: self.window_hours,
            background: self.background,
        })
    }
}

/// Everything a run uses.
pub struct Parts {
    pub settings: Arc<ChannelSettings>,
    pub backfill: Backfill,
    /// The stack's backfill work queue (`None`: a stack older than 0.3).
    pub work: Option<SqsWork>,
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
            let name = store.secret_name(&ask.channel);
            return Err(format!(
                "no secret {name}: run `bridge-admin check {}`",
                ask.channel
            ));
        }
        Err(e) => {
            let channel = &ask.channel;
            return Err(format!(
                "the channel's secret is unreadable ({e}): run `bridge-admin check {channel}`"
            ));
        }
    };
    let table = Table::new(aws_sdk_dynamodb::Client::new(aws), table);
    let budget = (std::env::var("QAPLA_API_BUDGET").ok())
        .and_then(|text| parse_bucket(&text))
        .unwrap_or(QAPLA);
    let http = bridge_core::http::tls::client_builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let options = ask.pull_options();
    let puller = Puller::new(
        QaplaApi::new(http),
        Arc::new(DynamoPace::new(table.clone()).with_bucket(budget)),
        Arc::new(DynamoState::new(table.clone(), Duration::ZERO)),
        (ask.channel.clone(), settings.clone()),
        options,
    );
    let http = bridge_core::aws::connector::aws_http(CONNECT_TIMEOUT).map_err(|e| e.to_string())?;
    let send = SignedSend::of_sdk(aws, http);
    let send = Arc::new(send.map_err(|e| format!("SQS: {e}"))?);
    let work = stack
        .backfill_queue_url
        .clone()
        .map(|url| SqsWork::new(send.clone(), url));
    let backfill = Backfill {
        puller,
        queue: Arc::new(SqsQueue::sending(send, queue_url.to_owned())),
        runs: Runs::new(Arc::new(table), &ask.channel),
    };
    Ok(Parts {
        settings,
        backfill,
        work,
    })
}

/// What a run did, for the summary.
pub struct Done {
    pub run: Run,
    pub resumed: bool,
    /// Why it stopped before the end (then it can be resumed).
    pub stopped: Option<String>,
    pub calls: u64,
}

/// The run to go on with (a stopped one that asked the same), recorded as the channel's
/// active run: refused while another is queued or running.
async fn begin(parts: &Parts, ask: &Ask) -> Result<Run, String> {
    let past = parts
        .backfill
        .runs
        .list()
        .await
        .map_err(|e| e.to_string())?;
    let mut run = ask
        .core()?
        .resume_or_start(&past, &parts.settings, epoch_secs());
    run.updated_at = epoch_secs();
    parts
        .backfill
        .runs
        .start(&mut run)
        .await
        .map_err(|e| e.to_string())?;
    Ok(run)
}

/// `--background`: the run is recorded and its first work message sent; the stack does the
/// rest. The run as recorded.
pub async fn start_background(parts: &Parts, ask: &Ask) -> Result<Run, String> {
    let Some(work) = &parts.work else {
        return Err("this stack has no backfill queue (output BackfillQueueUrl): deploy this version's template to run backfills in the background".into());
    };
    let mut run = begin(parts, ask).await?;
    // A start is never a duplicate of an earlier one (a stopped run started again at once).
    let step = format!("start-{}", bridge_core::clock::epoch_millis());
    if let Err(why) = work.send(&run, &step).await {
        let problem = format!("not started: {why}");
        let _ = parts.backfill.end(&mut run, State::Stopped, &problem).await;
        return Err(why);
    }
    Ok(run)
}

/// Run (or resume) a backfill here: window by window, progress saved after each.
pub async fn run(parts: &Parts, ask: &Ask, stop: &AtomicBool) -> Result<Done, String> {
    let mut run = begin(parts, ask).await?;
    let resumed = run.windows_done > 0;
    if run.report.is_empty() {
        let name = format!("backfill-{}-{}.csv", ask.channel, run.id());
        let path = ask.out.clone().unwrap_or(PathBuf::from(name));
        run.report = path.display().to_string();
    }
    let todo = todo(&run)?;
    let bar = progress_bar(ask.progress, &run, todo.len());
    let mut stopped = None;
    for window in &todo {
        if stop.load(Ordering::Relaxed) || run.cancel {
            stopped = Some(
                if run.cancel {
                    "cancelled"
                } else {
                    "interrupted"
                }
                .to_owned(),
            );
            break;
        }
        match parts.backfill.step(&mut run, window).await {
            Ok(failures) => {
                append(&run.report, &failures).map_err(|e| format!("{}: {e}", run.report))?
            }
            Err(why) => {
                stopped = Some(why);
                break;
            }
        }
        bar.set_message(counts(&run));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let state = match (&stopped, run.cancel) {
        (None, _) => State::Finished,
        (Some(_), true) => State::Cancelled,
        (Some(_), false) => State::Stopped,
    };
    let problem = stopped.clone().unwrap_or_default();
    parts.backfill.end(&mut run, state, &problem).await?;
    Ok(Done {
        run,
        resumed,
        stopped,
        calls: parts.backfill.puller.calls(),
    })
}

/// Append `failures` to the CSV at `path` (created with its header when new).
fn append(path: &str, failures: &[Failure]) -> std::io::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let new = !std::path::Path::new(path).exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let header = if new {
        format!("{}\n", report::HEADER)
    } else {
        String::new()
    };
    file.write_all(format!("{header}{}", report::lines(failures)).as_bytes())
}

/// How long the Qapla' budget makes `calls` calls take.
pub fn budget_time(calls: u64) -> Duration {
    Duration::from_secs_f64(calls as f64 / PER_SECOND)
}
