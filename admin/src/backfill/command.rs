//! The `backfill` command line: its arguments, and what it prints.

use super::{Ask, Done};
use crate::args::{Printout, channel_id};
use crate::stack::Stack;
use bridge_core::history::backfill::runs::Run;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(clap::Args)]
pub struct Args {
    channel: String,
    /// First day (YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS), Qapla's (Italian) time.
    #[arg(long, required_unless_present_any = ["history", "watch", "cancel", "report"])]
    from: Option<String>,
    /// Last day, included (or a time, excluded).
    #[arg(long, required_unless_present_any = ["history", "watch", "cancel", "report"])]
    to: Option<String>,
    /// Only these Qapla' status ids, comma-separated (e.g. 99: delivered).
    #[arg(long, value_delimiter = ',')]
    status: Vec<String>,
    /// Count and show a sample of what would be sent; send nothing.
    #[arg(long, conflicts_with = "background")]
    dry_run: bool,
    /// `history` (default): the channel's `aliases.history` event, which fires no live
    /// workflow. `live`: the live status event — customers may get e-mails about old
    /// parcels.
    #[arg(long, default_value = "history", value_parser = ["history", "live"])]
    alias: String,
    /// `latest` (default): each shipment's current status, as `trackingByTimeFrame` gives
    /// it. `all`: every status it passed through, oldest first (`getShipment` with
    /// `data=history`: one more call per shipment), each sent once.
    #[arg(long, default_value = "latest", value_parser = ["latest", "all"])]
    statuses: String,
    /// Run in the stack (the backfill function) and return at once with the run's id: the
    /// run goes on with this machine off. `--watch RUN` follows it.
    #[arg(long)]
    background: bool,
    /// Where to write the CSV of the statuses that could not be sent (a run here), or the
    /// report `--report RUN` downloads.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Hours per `trackingByTimeFrame` window.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=24))]
    window_hours: u32,
    /// List the channel's runs (background and here): state, counts, progress, ETA.
    #[arg(long)]
    history: bool,
    /// Follow run RUN (its id, from `--history`) with a progress bar until it ends.
    #[arg(long, value_name = "RUN")]
    watch: Option<u64>,
    /// Stop run RUN after its current window.
    #[arg(long, value_name = "RUN")]
    cancel: Option<u64>,
    /// Download run RUN's CSV of failures, as the stack keeps it (to `--out`, else printed).
    #[arg(long, value_name = "RUN")]
    report: Option<u64>,
    /// How often `--watch` reads the run, in milliseconds.
    #[arg(long, default_value_t = 5000, hide = true)]
    every_ms: u64,
}

/// Run the command: a look at the runs, a dry run, a run here, or a run in the background.
pub async fn command(
    aws: &aws_config::SdkConfig,
    stack: &Stack,
    args: Args,
    json: bool,
) -> Result<Printout, String> {
    let ask = ask(&args, json)?;
    let parts = super::parts(aws, stack, &ask).await?;
    if args.history {
        return super::watch::history(&parts, json).await;
    }
    if let Some(id) = args.watch {
        let every = std::time::Duration::from_millis(args.every_ms.max(100));
        return super::watch::watch(&parts, id, json, every).await;
    }
    if let Some(id) = args.cancel {
        return super::watch::cancel(&parts, id, json).await;
    }
    if let Some(id) = args.report {
        return super::watch::report(&parts, id, args.out.as_deref()).await;
    }
    if ask.background {
        return background(&parts, &ask, json).await;
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

/// `--background`: the run's id and how to follow it.
async fn background(parts: &super::Parts, ask: &Ask, json: bool) -> Result<Printout, String> {
    let run = super::start_background(parts, ask).await?;
    let (id, channel) = (run.id(), &ask.channel);
    let text = match json {
        true => super::watch::run_json(&run, run.started_at).to_string(),
        false => format!(
            "Run {id} started in the stack: {} → {}, {} windows, to alias {}.\nFollow it: bridge-admin backfill {channel} --watch {id}\nStop it:   bridge-admin backfill {channel} --cancel {id}",
            run.from, run.to, run.windows, run.alias
        ),
    };
    Ok(Printout {
        text,
        problem: false,
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
        history: args.statuses == "all",
        out: args.out.clone(),
        window_hours: args.window_hours,
        progress: !json,
        background: args.background,
    })
}

pub(super) fn counts(run: &Run) -> String {
    let per = match run.shipments {
        0 => String::new(),
        n => format!(
            " · {:.1} statuses per shipment ({n} shipments)",
            run.sent as f64 / n as f64
        ),
    };
    format!(
        "queued {} · delivered before {} · skipped {} · failed {}{per}",
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
