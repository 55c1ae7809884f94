//! The `backfill` command line: its arguments, and what it prints.

use super::{Ask, Done, Run};
use crate::args::{Printout, channel_id};
use crate::stack::Stack;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(clap::Args)]
pub struct Args {
    channel: String,
    /// First day (YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS), Qapla's (Italian) time.
    #[arg(long, required_unless_present = "history")]
    from: Option<String>,
    /// Last day, included (or a time, excluded).
    #[arg(long, required_unless_present = "history")]
    to: Option<String>,
    /// Only these Qapla' status ids, comma-separated (e.g. 99: delivered).
    #[arg(long, value_delimiter = ',')]
    status: Vec<String>,
    /// Count and show a sample of what would be sent; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// `history` (default): the channel's `aliases.history` event, which fires no live
    /// workflow. `live`: the live status event — customers may get e-mails about old
    /// parcels.
    #[arg(long, default_value = "history", value_parser = ["history", "live"])]
    alias: String,
    /// Where to write the CSV of the statuses that could not be sent.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    /// Hours per `trackingByTimeFrame` window.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=24))]
    window_hours: u32,
    /// List the channel's past runs instead.
    #[arg(long)]
    history: bool,
}

/// Run the command: `--history`, a dry run, or a run (resumed if one was interrupted).
pub async fn command(
    aws: &aws_config::SdkConfig,
    stack: &Stack,
    args: Args,
    json: bool,
) -> Result<Printout, String> {
    let ask = ask(&args, json)?;
    let parts = super::parts(aws, stack, &ask).await?;
    if args.history {
        let runs = parts.runs.list().await?;
        let text = match (json, runs.is_empty()) {
            (true, _) => serde_json::to_string(&runs).map_err(|e| e.to_string())?,
            (false, true) => format!("no backfill runs for channel {}", ask.channel),
            (false, false) => runs.iter().map(Run::line).collect::<Vec<_>>().join("\n"),
        };
        return Ok(Printout {
            text,
            problem: false,
        });
    }
    // Ctrl-C stops after the window in progress: the run resumes from the next one.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::Relaxed);
        }
    });
    if ask.dry_run {
        let counted = super::dry_run(&parts, &ask, &stop).await?;
        let text = match json {
            true => counted.json().to_string(),
            false => counted.human(),
        };
        return Ok(Printout {
            text,
            problem: false,
        });
    }
    let done = super::run(&parts, &ask, &stop).await?;
    let text = match json {
        true => serde_json::json!({ "run": done.run, "resumed": done.resumed, "stopped": done.stopped, "apiCalls": done.calls }).to_string(),
        false => human(&ask, &done),
    };
    Ok(Printout {
        text,
        problem: done.stopped.is_some(),
    })
}

fn ask(args: &Args, json: bool) -> Result<Ask, String> {
    Ok(Ask {
        channel: channel_id(&args.channel)?,
        from: args.from.clone().unwrap_or_default(),
        to: args.to.clone().unwrap_or_default(),
        statuses: args
            .status
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        dry_run: args.dry_run,
        live: args.alias == "live",
        report: args.report.clone(),
        window_hours: args.window_hours,
        progress: !json,
    })
}

pub(super) fn counts(run: &Run) -> String {
    format!(
        "queued {} · delivered before {} · skipped {} · failed {}",
        run.sent, run.delivered_before, run.skipped, run.failed
    )
}

pub(super) fn progress_bar(show: bool, run: &Run, todo: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(run.windows);
    bar.set_position(run.windows - todo as u64);
    bar.reset_eta();
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} windows · {msg} · ETA {eta}")
    {
        bar.set_style(style);
    }
    bar.set_message(counts(run));
    bar
}

/// The summary of a run, for people.
fn human(ask: &Ask, done: &Done) -> String {
    let run = &done.run;
    let filter = match run.statuses.is_empty() {
        true => "all statuses".to_owned(),
        false => format!("status {}", run.statuses.join(",")),
    };
    let resumed = if done.resumed { " (resumed)" } else { "" };
    let mut text = format!(
        "Backfill of channel {}: {} → {} ({filter}), to alias {}{resumed}\n{}/{} windows · {}\nQapla' API calls: {}",
        ask.channel,
        run.from,
        run.to,
        run.alias,
        run.windows_done,
        run.windows,
        counts(run),
        done.calls
    );
    if run.failed > 0 {
        text.push_str(&format!(
            "\nThe statuses that could not be sent, with the reason: {}",
            run.report
        ));
    }
    if let Some(why) = &done.stopped {
        text.push_str(&format!(
            "\nStopped: {why}. Run the same command again to resume from {}.",
            run.next
        ));
    }
    text
}
