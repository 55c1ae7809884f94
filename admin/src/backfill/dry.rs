//! `backfill --dry-run`: what a run would send, counted window by window, with a sample and
//! the time Qapla's budget would make it take. Nothing is sent, nothing recorded; only
//! `trackingByTimeFrame` is called (no `getShipment`).

use super::{Ask, Parts, budget_time};
use bridge_core::history::backfill::range;
use bridge_core::history::backfill::runs::Run;
use bridge_core::history::{Pulled, windows};
use bridge_core::qapla::time::{italian_now, time_text};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

const SAMPLE: usize = 5;

/// What a dry run found.
#[derive(Debug, Default)]
pub struct Counted {
    pub windows: usize,
    pub to_send: u64,
    pub delivered_before: u64,
    pub skipped: u64,
    pub unusable: u64,
    /// Distinct shipments among those to send: one `getShipment` each in a real run.
    pub shipments: usize,
    /// tracking number, status id, status time, alias.
    pub sample: Vec<[String; 4]>,
}

pub async fn dry_run(parts: &Parts, ask: &Ask, stop: &AtomicBool) -> Result<Counted, String> {
    let (from, to) = range(&ask.from, &ask.to, italian_now())?;
    let size = i64::from(ask.window_hours.clamp(1, 24)) * 3600;
    let all = windows(from, to, size).map_err(|e| e.to_string())?;
    let bar = super::command::progress_bar(
        ask.progress,
        &Run {
            windows: all.len() as u64,
            ..Default::default()
        },
        all.len(),
    );
    let mut counted = Counted {
        windows: all.len(),
        ..Counted::default()
    };
    let mut shipments = HashSet::new();
    for window in &all {
        if stop.load(Ordering::Relaxed) {
            return Err("interrupted".into());
        }
        let pulled = parts.backfill.puller.window(window).await.map_err(|e| {
            format!(
                "window from {}: {}",
                time_text(window.from),
                bridge_core::telemetry::error_chain(&e)
            )
        })?;
        for p in pulled {
            match p {
                Pulled::Send(e) => {
                    counted.to_send += 1;
                    shipments.insert(e.key.clone());
                    if counted.sample.len() < SAMPLE {
                        let status = e.status_id.clone().unwrap_or_default();
                        let at = e.occurred_at.clone().unwrap_or_default();
                        counted
                            .sample
                            .push([e.key.clone(), status, at, e.event.alias.clone()]);
                    }
                }
                Pulled::Delivered => counted.delivered_before += 1,
                Pulled::Filtered => {}
                Pulled::Skipped { .. } => counted.skipped += 1,
                Pulled::Failed(_) => counted.unusable += 1,
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    counted.shipments = shipments.len();
    Ok(counted)
}

impl Counted {
    pub fn human(&self) -> String {
        let calls = (self.windows + self.shipments) as u64;
        let mut text = format!(
            "Dry run: nothing sent.\n{} windows · would queue {} statuses of {} shipments · delivered before {} · skipped by settings {} · without a usable status {}",
            self.windows,
            self.to_send,
            self.shipments,
            self.delivered_before,
            self.skipped,
            self.unusable
        );
        for [key, status, at, alias] in &self.sample {
            text.push_str(&format!(
                "\n  e.g. {key}  status {status}  at {at}  → alias {alias}"
            ));
        }
        let secs = budget_time(calls).as_secs();
        text.push_str(&format!(
            "\nA real run needs about {calls} Qapla' API calls: at Qapla's 2 calls per second, at least {}h{:02}m.",
            secs / 3600,
            secs % 3600 / 60
        ));
        text
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "dryRun": true, "windows": self.windows, "toSend": self.to_send,
            "shipments": self.shipments, "deliveredBefore": self.delivered_before,
            "skipped": self.skipped, "unusable": self.unusable,
            "sample": self.sample.iter().map(|[k, s, a, al]| serde_json::json!({"key": k, "statusId": s, "at": a, "alias": al})).collect::<Vec<_>>(),
            "apiCalls": self.windows + self.shipments,
        })
    }
}
