//! The reconciler: on a schedule, for every channel with a secret under the prefix, read
//! `trackingByTimeFrame` from where the last run stopped (less an overlap) to a little
//! before now, and put on the queue every status the ledger has not seen handled — so a
//! post Qapla' never delivered, or a webhook Qapla' switched off, costs a delay, not a
//! lost e-mail. The worker completes these events from `getShipment`, as for a v1.2 post.
//!
//! Per channel it logs what it found and emits the metric `StatusesFoundByReconciliation`
//! (per channel, and a total without the dimension). Above zero run after run means the
//! channel's webhook is off or failing.
//!
//! Each run also reads every channel's refused posts of the last day ([`crate::refusals`]),
//! and queues the channels' stalled parcels ([`crate::stalls`]).
//!
//! Where each channel stopped is kept in the state table (`reconcile#<channel>`). A gap
//! longer than [`Timing::longest`] (the function switched off for days) is not read: that
//! is what `bridge-admin backfill` is for.

use super::{PullOptions, Pulled, Puller, Window};
use crate::Kind;
use crate::channel::{ChannelId, ChannelSettings, ChannelStore, Reconcile};
use crate::delivery::state::StateStore;
use crate::delivery::{Envelope, HandOff};
use crate::qapla::api::QaplaApi;
use crate::qapla::pace::Pace;
use crate::qapla::time::{parse_time, time_text};
use crate::refusals::RefusedPosts;
use crate::stalls::StallIndex;
use crate::telemetry::error_chain;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// Where each channel's reconciliation stopped (the state table's `reconcile#<channel>`).
#[async_trait]
pub trait Cursors: Send + Sync {
    /// Where the channel's last run stopped (`YYYY-MM-DD HH:MM:SS`, Qapla' time), if it ran.
    async fn cursor(&self, channel: &ChannelId) -> Result<Option<String>, String>;
    async fn set_cursor(&self, channel: &ChannelId, until: &str) -> Result<(), String>;
}

/// When to look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// The schedule's period: the first window of a channel is this long.
    pub interval: Duration,
    /// Read again this much before where the last run stopped.
    pub overlap: Duration,
    /// Stop this much before now: posts still on their way are not counted as missing.
    pub lag: Duration,
    /// The longest window one run reads.
    pub longest: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            interval: Duration::from_secs(15 * 60),
            overlap: Duration::from_secs(5 * 60),
            lag: Duration::from_secs(10 * 60),
            longest: Duration::from_secs(24 * 3600),
        }
    }
}

/// What one channel's reconciliation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub channel: ChannelId,
    pub window: (String, String),
    /// Statuses put on the queue: never handled before.
    pub found: u64,
    /// Statuses already handled (delivered or settled).
    pub handled: u64,
    /// Statuses that could not be read or queued.
    pub failed: u64,
    /// Why the channel could not be reconciled this time (its window is read next time).
    pub error: Option<String>,
    /// Why the channel is not reconciled (its switches): nothing read, its cursor moves on.
    pub skipped: Option<&'static str>,
    /// Stalled parcels queued (see [`crate::stalls`]).
    pub stalled: u64,
    /// Why stalled parcels could not be looked for this run (they are, next run).
    pub stall_error: Option<String>,
}

/// Everything a run uses.
pub struct Reconciler {
    pub store: Arc<dyn ChannelStore>,
    pub http: reqwest::Client,
    pub pace: Arc<dyn Pace>,
    pub state: Arc<dyn StateStore>,
    pub queue: Arc<dyn HandOff>,
    /// Where each channel's cursor is kept.
    pub cursors: Arc<dyn Cursors>,
    /// The shipments that can stall.
    pub stalls: Arc<dyn StallIndex>,
    pub timing: Timing,
    /// Qapla's failure budget of every channel, read each run (see [`crate::refusals`]).
    pub refusals: Option<Arc<dyn RefusedPosts>>,
}

impl Reconciler {
    /// One run over every channel, `now` in Qapla's time ([`crate::qapla::time::italian_now`]).
    pub async fn run(&self, now: i64) -> Result<Vec<Found>, String> {
        let channels = self.store.channels().await.map_err(|e| error_chain(&e))?;
        let mut found = Vec::with_capacity(channels.len());
        for channel in &channels {
            let one = self.channel(channel, now).await;
            one.log();
            crate::telemetry::metrics::count_reconciled(channel.as_str(), one.found);
            found.push(one);
        }
        let now = std::time::SystemTime::now();
        if let Some(watch) = &self.refusals
            && let Err(error) = crate::refusals::report(&**watch, &channels, now).await
        {
            tracing::warn!(%error, "Qapla' failure budget not read this run");
        }
        Ok(found)
    }

    async fn channel(&self, channel: &ChannelId, now: i64) -> Found {
        let to = now - self.timing.lag.as_secs() as i64;
        let since = self.cursor(channel).await;
        let first = to - self.timing.interval.as_secs() as i64;
        let from = (since.unwrap_or(first) - self.timing.overlap.as_secs() as i64)
            .max(to - self.timing.longest.as_secs() as i64);
        let window = Window { from, to };
        let mut found = Found {
            channel: channel.clone(),
            window: window.texts(),
            found: 0,
            handled: 0,
            failed: 0,
            error: None,
            skipped: None,
            stalled: 0,
            stall_error: None,
        };
        let settings = match self.store.load(channel).await {
            Ok(Some(settings)) => Arc::new(settings),
            Ok(None) => {
                return Found {
                    error: Some("secret gone".into()),
                    ..found
                };
            }
            Err(e) => {
                return Found {
                    error: Some(error_chain(&e)),
                    ..found
                };
            }
        };
        let queue = &*self.queue;
        match crate::stalls::check(&*self.stalls, queue, channel, &settings, now).await {
            Ok(Some(stalled)) => {
                found.stalled = stalled.queued;
                crate::telemetry::metrics::count_stalled(channel.as_str(), stalled.queued);
            }
            Ok(None) => {}
            Err(e) => found.stall_error = Some(e),
        }
        if from >= to {
            return found;
        }
        match self.read(channel, settings, &window, &mut found).await {
            Ok(()) => {
                if let Err(e) = self.set_cursor(channel, to).await {
                    found.error = Some(format!("progress not saved: {e}"));
                }
            }
            Err(e) => found.error = Some(e),
        }
        found
    }

    async fn read(
        &self,
        channel: &ChannelId,
        settings: Arc<ChannelSettings>,
        window: &Window,
        found: &mut Found,
    ) -> Result<(), String> {
        if let Some(why) = self.switched_off(channel, &settings).await? {
            found.skipped = Some(why);
            return Ok(());
        }
        let options = PullOptions {
            complete: false,
            statuses: Vec::new(),
            reception: None,
            reserve: 0.0,
            history: false,
        };
        let api = QaplaApi::new(self.http.clone());
        let (pace, state) = (self.pace.clone(), self.state.clone());
        let puller = Puller::new(api, pace, state, (channel.clone(), settings), options);
        let pulled = puller.window(window).await.map_err(|e| error_chain(&e))?;
        let mut envelopes: Vec<Envelope> = Vec::new();
        for p in pulled {
            match p {
                Pulled::Send(envelope) => envelopes.push(*envelope),
                Pulled::Delivered | Pulled::Skipped { .. } | Pulled::Filtered => found.handled += 1,
                Pulled::Failed(_) => found.failed += 1,
            }
        }
        let keys: Vec<String> = envelopes.iter().map(|e| e.key.clone()).collect();
        for (result, key) in self
            .queue
            .hand_off_all(envelopes)
            .await
            .into_iter()
            .zip(keys)
        {
            match result {
                Ok(_) => {
                    found.found += 1;
                    tracing::warn!(channel = %channel, %key, outcome = "reconciled", "status Qapla' never posted: queued by reconciliation");
                }
                Err(e) => return Err(error_chain(&e)),
            }
        }
        Ok(())
    }

    /// Why the channel is not reconciled now, if it is not: its settings say so, or (`auto`)
    /// Qapla' has not posted a shipment status to the bridge yet — while another connector
    /// still sends them, what the bridge finds is not missing, and sending it would send it
    /// twice.
    async fn switched_off(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
    ) -> Result<Option<&'static str>, String> {
        if !settings.send.shipments {
            return Ok(Some("the channel does not send shipment statuses"));
        }
        match settings.reconcile {
            Reconcile::On => Ok(None),
            Reconcile::Off => Ok(Some("reconciliation is off for the channel")),
            Reconcile::Auto => {
                let live = self.state.is_live(Kind::Shipment, channel.as_str()).await;
                match live.map_err(|e| error_chain(&e))? {
                    true => Ok(None),
                    false => Ok(Some("no live shipment post yet (reconcile: auto)")),
                }
            }
        }
    }

    /// Where the channel's last run stopped (Qapla' time), if it ran.
    async fn cursor(&self, channel: &ChannelId) -> Option<i64> {
        parse_time(&self.cursors.cursor(channel).await.ok()??)
    }

    async fn set_cursor(&self, channel: &ChannelId, until: i64) -> Result<(), String> {
        self.cursors.set_cursor(channel, &time_text(until)).await
    }
}

impl Found {
    fn log(&self) {
        let (from, to) = (&self.window.0, &self.window.1);
        if let Some(error) = &self.stall_error {
            tracing::warn!(channel = %self.channel, %error, "stalled parcels not looked for: next run");
        } else if self.stalled > 0 {
            tracing::info!(channel = %self.channel, stalled = self.stalled, "stalled parcels queued");
        }
        if let Some(why) = self.skipped {
            tracing::info!(channel = %self.channel, reason = why, "not reconciled");
            return;
        }
        match &self.error {
            None => {
                tracing::info!(channel = %self.channel, from = %from, to = %to, found = self.found, handled = self.handled, failed = self.failed, "reconciled")
            }
            Some(error) => {
                tracing::warn!(channel = %self.channel, from = %from, to = %to, found = self.found, %error, "reconciliation incomplete: the window is read again next run")
            }
        }
    }
}
