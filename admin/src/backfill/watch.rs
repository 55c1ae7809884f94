//! The record of a channel's runs, for the operator: `--history`, `--watch RUN`,
//! `--cancel RUN`, `--report RUN [--out FILE]`.

use super::Parts;
use crate::args::Printout;
use bridge_core::clock::epoch_secs;
use bridge_core::history::backfill::report;
use bridge_core::history::backfill::runs::{Run, State};
use bridge_core::qapla::time::time_text;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

/// A run as JSON: its record, with its state now and its ETA.
pub fn run_json(run: &Run, now: u64) -> Value {
    let mut value = serde_json::to_value(run).unwrap_or_default();
    value["state"] = run.state(now).as_str().into();
    value["percent"] = run.percent().into();
    value["eta_secs"] = run.eta_secs().into();
    value
}

fn printout(text: String, problem: bool) -> Printout {
    Printout { text, problem }
}

/// `--history`: every run, oldest first.
pub async fn history(parts: &Parts, json: bool) -> Result<Printout, String> {
    let runs = parts
        .backfill
        .runs
        .list()
        .await
        .map_err(|e| e.to_string())?;
    let now = epoch_secs();
    let text = match (json, runs.is_empty()) {
        (true, _) => {
            Value::from(runs.iter().map(|r| run_json(r, now)).collect::<Vec<_>>()).to_string()
        }
        (false, true) => format!(
            "no backfill runs for channel {}",
            parts.backfill.runs.channel()
        ),
        (false, false) => runs
            .iter()
            .map(|r| line(r, now))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    Ok(printout(text, false))
}

/// `--watch RUN`: follows the run until it ends (a progress bar on a terminal, else a line
/// per window). A problem unless it finished.
pub async fn watch(
    parts: &Parts,
    id: u64,
    json: bool,
    every: Duration,
) -> Result<Printout, String> {
    let runs = &parts.backfill.runs;
    let mut run = runs.get(id).await.map_err(|e| e.to_string())?;
    let terminal = !json && std::io::stderr().is_terminal();
    let bar = match terminal {
        true => ProgressBar::new(run.windows.max(1)),
        false => ProgressBar::hidden(),
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} windows · {msg}") {
        bar.set_style(style);
    }
    let mut shown = None;
    while run.state(epoch_secs()).active() {
        if shown != Some(run.windows_done) {
            shown = Some(run.windows_done);
            bar.set_position(run.windows_done);
            bar.set_message(status(&run));
            if !terminal && !json {
                println!("{}", progress_line(&run));
            }
        }
        tokio::time::sleep(every).await;
        run = runs.get(id).await.map_err(|e| e.to_string())?;
    }
    bar.finish_and_clear();
    let now = epoch_secs();
    let state = run.state(now);
    let text = match json {
        true => run_json(&run, now).to_string(),
        false => line(&run, now),
    };
    Ok(printout(text, state != State::Finished))
}

fn status(run: &Run) -> String {
    let eta = run.eta_secs().map_or("…".to_owned(), duration_text);
    format!("{} · ETA {eta}", super::counts(run))
}

fn progress_line(run: &Run) -> String {
    let state = run.state(epoch_secs()).as_str();
    format!(
        "{state}: {}/{} windows ({}%) · {}",
        run.windows_done,
        run.windows,
        run.percent(),
        status(run)
    )
}

/// `--cancel RUN`.
pub async fn cancel(parts: &Parts, id: u64, json: bool) -> Result<Printout, String> {
    let run = parts
        .backfill
        .runs
        .cancel(id)
        .await
        .map_err(|e| e.to_string())?;
    let state = run.state(epoch_secs());
    let text = match (json, state, run.cancel) {
        (true, ..) => run_json(&run, epoch_secs()).to_string(),
        (false, State::Queued | State::Running, _) => format!(
            "Run {id} is asked to stop: it stops after its current window (`--watch {id}` follows it)."
        ),
        (false, State::Cancelled, _) => format!("Run {id} is cancelled."),
        (false, state, _) => format!("Run {id} is {} already: nothing to cancel.", state.as_str()),
    };
    Ok(printout(text, false))
}

/// `--report RUN [--out FILE]`: the run's CSV of failures, as the stack keeps it.
pub async fn report(parts: &Parts, id: u64, out: Option<&Path>) -> Result<Printout, String> {
    let runs = &parts.backfill.runs;
    let run = runs.get(id).await.map_err(|e| e.to_string())?;
    let fetched = report::fetch(runs.store(), &run).await;
    let text = fetched.map_err(|e| format!("report unreadable: {e}"))?;
    let Some(text) = text else {
        let kept = report::KEPT_DAYS;
        return Err(format!(
            "the stack no longer has run {id}'s report (kept {kept} days)"
        ));
    };
    match out {
        None => Ok(printout(text.trim_end().to_owned(), false)),
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            let lines = text.lines().count() - 1;
            Ok(printout(
                format!("{lines} failures of run {id} written to {}", path.display()),
                false,
            ))
        }
    }
}

/// One line of `--history`.
pub fn line(run: &Run, now: u64) -> String {
    let filter = match run.statuses.is_empty() {
        true => "all statuses".to_owned(),
        false => format!("status {}", run.statuses.join(",")),
    };
    let state = run.state(now);
    let place = if run.background {
        "background"
    } else {
        "console"
    };
    let mut text = format!(
        "{}  {} ({place})  {} UTC  {} → {}  {filter}  alias {}  {}/{} windows ({}%)  sent {}  delivered before {}  skipped {}  failed {}",
        run.id(),
        state.as_str(),
        time_text(run.started_at as i64),
        run.from,
        run.to,
        run.alias,
        run.windows_done,
        run.windows,
        run.percent(),
        run.sent,
        run.delivered_before,
        run.skipped,
        run.failed,
    );
    if run.history {
        // `--statuses all`: how deep the histories went.
        let per = run.sent as f64 / run.shipments.max(1) as f64;
        text.push_str(&format!(
            "  whole histories: {per:.1} statuses per shipment"
        ));
    }
    if let (true, Some(eta)) = (state == State::Running, run.eta_secs()) {
        text.push_str(&format!("  ETA {}", duration_text(eta)));
    }
    if !run.problem.is_empty() && state != State::Finished {
        text.push_str(&format!("  ({})", run.problem));
    }
    text
}

/// `3h 05m`, `12m 30s`, `45s`.
fn duration_text(secs: u64) -> String {
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(45), "45s");
        assert_eq!(duration_text(150), "2m 30s");
        assert_eq!(duration_text(3 * 3600 + 5 * 60), "3h 05m");
    }

    #[test]
    fn a_running_line_has_its_progress_and_eta_and_a_stopped_one_its_reason() {
        let mut run = Run {
            started_at: 1_764_716_000,
            updated_at: 1_764_716_000,
            background: true,
            state: Some(State::Running),
            windows: 100,
            windows_done: 25,
            busy_ms: 50_000,
            sent: 7,
            ..Run::default()
        };
        let text = line(&run, 1_764_716_100);
        assert!(text.contains("1764716000  running (background)"), "{text}");
        assert!(text.contains("25/100 windows (25%)  sent 7"), "{text}");
        assert!(text.contains("ETA 2m 30s"), "{text}");
        run.state = Some(State::Stopped);
        run.problem = "stopped after 5 failed tries: Qapla' down".into();
        let text = line(&run, 1_764_716_100);
        assert!(
            text.contains("stopped (background)")
                && text.ends_with("(stopped after 5 failed tries: Qapla' down)"),
            "{text}"
        );
        assert!(!text.contains("ETA"), "{text}");
    }
}
