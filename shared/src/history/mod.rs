//! Statuses the bridge pulls from Qapla's API itself, for what no webhook gives: the past
//! (`bridge-admin backfill`) and the posts Qapla' never delivered (the reconciler).
//!
//! A [`Puller`] reads one time window of a channel with `trackingByTimeFrame`, skips every
//! status the ledger says was delivered already (live or pulled before: see
//! [`Envelope::status_key`]), and plans the rest with the shipments webhook's own code
//! ([`plan_pulled`]). Every call spends from the key's shared budget ([`Pace`]); a 429 or a
//! 5xx is waited out and tried again, a bounded number of times.

pub mod backfill;
pub mod reconcile;
mod windows;

pub use windows::{Window, WindowError, parse_date, windows};

use crate::channel::{ChannelId, ChannelSettings};
use crate::connectif::Reception;
use crate::delivery::state::StateStore;
use crate::delivery::{Envelope, status_key};
use crate::plan::{Planned, plan_pulled};
use crate::qapla::api::{ApiError, ApiShipment, QaplaApi};
use crate::qapla::pace::Pace;
use std::sync::Arc;
use std::time::Duration;

/// What became of one status of a window.
#[derive(Debug)]
pub enum Pulled {
    /// To put on the queue.
    Send(Box<Envelope>),
    /// Delivered already (the ledger knows it).
    Delivered,
    /// Not asked for (`--status`).
    Filtered,
    /// The channel's settings do not send it (e.g. a child shipment), as a post would not.
    Skipped { reason: String },
    /// Could not be sent: the report's line.
    Failed(Failure),
}

/// A status that could not be sent, and why (no customer data: tracking, reference, status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub tracking_number: String,
    pub reference: String,
    pub status_id: String,
    pub status_at: String,
    pub reason: String,
}

/// How a window's statuses are completed and sent.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Read each shipment's customer with `getShipment` now (backfill: so that a shipment
    /// without an e-mail is reported, not dead-lettered). Without it the delivery worker
    /// completes the event, as for a v1.2 post (reconciliation).
    pub complete: bool,
    /// Only these Qapla' status ids (empty: all).
    pub statuses: Vec<String>,
    /// Send to this reception event instead of the live one (backfill: the history alias).
    pub reception: Option<Reception>,
    /// Calls left in the key's bucket for others.
    pub reserve: f64,
    /// Every status each shipment passed through (`getShipment` with `data=history`,
    /// oldest first), not only its current one (backfill `--statuses all`).
    pub history: bool,
}

/// Why a window could not be read (the run stops; it can be resumed from this window).
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("delivery state unreadable")]
    State(#[from] crate::delivery::state::StateError),
}

/// Tries of one call that Qapla' answers busy (429, 5xx) or does not answer.
const TRIES: u32 = 5;

/// The waits between them without a `Retry-After`: 2 s doubling to 16 s (jittered); a
/// `Retry-After` is waited as given, up to 5 minutes.
fn busy_policy() -> crate::delivery::RetryPolicy {
    crate::delivery::RetryPolicy {
        max_retry_after: Duration::from_secs(300),
        ..crate::delivery::RetryPolicy::exponential(Duration::from_secs(2), Duration::from_secs(16))
    }
}
/// Shipments whose `getShipment` answer is kept for their later statuses (the least used go
/// first when full).
const CACHE_MAX: usize = 50_000;

/// Reads windows of one channel.
pub struct Puller {
    api: QaplaApi,
    pace: Arc<dyn Pace>,
    state: Arc<dyn StateStore>,
    channel: ChannelId,
    settings: Arc<ChannelSettings>,
    options: PullOptions,
    shipments: quick_cache::sync::Cache<String, Option<ApiShipment>>,
    /// Shipments whose whole history this puller has pulled (`history`): a later window
    /// that lists one again has nothing new to add (its `getShipment` was read now).
    histories: quick_cache::sync::Cache<String, ()>,
}

impl Puller {
    pub fn new(
        api: QaplaApi,
        pace: Arc<dyn Pace>,
        state: Arc<dyn StateStore>,
        (channel, settings): (ChannelId, Arc<ChannelSettings>),
        options: PullOptions,
    ) -> Self {
        Puller {
            api,
            pace,
            state,
            channel,
            settings,
            options,
            shipments: quick_cache::sync::Cache::new(CACHE_MAX),
            histories: quick_cache::sync::Cache::new(CACHE_MAX),
        }
    }

    /// Qapla' API calls made.
    pub fn calls(&self) -> u64 {
        self.api.calls()
    }

    /// Every status of the window, in Qapla's order.
    pub async fn window(&self, window: &Window) -> Result<Vec<Pulled>, PullError> {
        let (from, to) = window.texts();
        let lang = self.settings.language.qapla_code();
        let (base, key) = (
            &self.settings.qapla_api_base_url,
            &self.settings.qapla_api_key,
        );
        let entries = self
            .paced(|| self.api.tracking_by_time_frame(base, key, &from, &to, lang))
            .await?;
        let mut pulled = Vec::with_capacity(entries.len());
        for entry in &entries {
            match self.options.history {
                true => pulled.extend(self.history(entry).await?),
                false => pulled.push(self.status(entry).await?),
            }
        }
        Ok(pulled)
    }

    /// Every status of `entry`'s shipment in its tracking history, oldest first, each as
    /// [`Puller::status`] takes the current one (filter, ledger, plan). A history entry
    /// without a time is skipped (nothing to order or de-duplicate it by); a shipment whose
    /// answer has no history is its current status alone.
    async fn history(&self, entry: &ApiShipment) -> Result<Vec<Pulled>, PullError> {
        let tracking = entry.tracking_number.trim();
        if self.histories.get(tracking).is_some() {
            return Ok(Vec::new());
        }
        let full = match self.full(&entry.tracking_number).await {
            Ok(Some(full)) if !full.tracking_history.is_empty() => full,
            // The current status alone, and `status` tells a failure as it does.
            _ => return Ok(vec![self.status(entry).await?]),
        };
        let mut past: Vec<_> = full.tracking_history.iter().collect();
        past.sort_by_key(|s| crate::clock::parse_time(&s.date_iso));
        let mut pulled = Vec::with_capacity(past.len());
        for status in past {
            if crate::clock::parse_time(&status.date_iso).is_none() {
                let reason = "a status of the tracking history without a time".into();
                pulled.push(Pulled::Skipped { reason });
                continue;
            }
            let one = ApiShipment {
                status: Some(status.clone()),
                ..entry.clone()
            };
            pulled.push(self.status(&one).await?);
        }
        self.histories.insert(tracking.to_owned(), ());
        Ok(pulled)
    }

    async fn status(&self, entry: &ApiShipment) -> Result<Pulled, PullError> {
        let Some(post) = entry.as_post(None) else {
            return Ok(Pulled::Failed(failure(
                entry,
                "no usable status in Qapla's answer",
            )));
        };
        let wanted = &self.options.statuses;
        if !wanted.is_empty() && !wanted.contains(&post.qapla_status_id) {
            return Ok(Pulled::Filtered);
        }
        if let Some(at) = crate::qapla::time::status_time(&post.date) {
            let key = status_key(
                &self.channel,
                &post.tracking_number,
                &post.qapla_status_id,
                &at,
            );
            if self.state.status_delivered(&key).await? {
                return Ok(Pulled::Delivered);
            }
        }
        let post = match self.options.complete {
            false => post,
            true => match self.full(&post.tracking_number).await {
                Ok(Some(full)) if full.consignee.is_none() => {
                    crate::telemetry::metrics::count_no_consignee(self.channel.as_str());
                    let reason = "getShipment answered without the consignee asked for (data=consignee): `bridge-admin doctor` shows Qapla's answer";
                    return Ok(Pulled::Failed(failure(entry, reason)));
                }
                Ok(Some(full)) => entry.as_post(Some(&full)).unwrap_or(post),
                Ok(None) => return Ok(Pulled::Failed(failure(entry, "not found in Qapla'"))),
                // Qapla' busy or away past the tries: stop here, to resume from this window.
                Err(e) if e.is_retryable() => return Err(e.into()),
                Err(e) => return Ok(Pulled::Failed(failure(entry, &e.to_string()))),
            },
        };
        let planned = plan_pulled(&self.channel, self.settings.clone(), post);
        Ok(match planned.into_iter().next() {
            Some(Planned::Send(envelope)) => self.send(entry, envelope),
            Some(Planned::Skip { reason, .. }) => Pulled::Skipped {
                reason: reason.as_str().to_owned(),
            },
            None => Pulled::Skipped {
                reason: "nothing planned".into(),
            },
        })
    }

    fn send(&self, entry: &ApiShipment, mut envelope: Box<Envelope>) -> Pulled {
        if self.options.complete
            && let Some(enrich) = &envelope.enrich
            && enrich.customer
        {
            return Pulled::Failed(failure(entry, "no customer e-mail or name in Qapla'"));
        }
        if let Some(reception) = self.options.reception {
            if !self.settings.connectif.delivers(reception) {
                let setting = reception.setting();
                let reason = format!("no Connectif endpoint (connectif.endpoints.{setting})");
                return Pulled::Failed(failure(entry, &reason));
            }
            envelope.event.reception = Some(reception);
            envelope.event.alias = self.settings.aliases.get(reception).to_owned();
        }
        Pulled::Send(envelope)
    }

    /// The shipment's `getShipment`, once per run.
    async fn full(&self, tracking: &str) -> Result<Option<ApiShipment>, ApiError> {
        if let Some(known) = self.shipments.get(tracking) {
            return Ok(known);
        }
        let (base, key) = (
            &self.settings.qapla_api_base_url,
            &self.settings.qapla_api_key,
        );
        let data = match self.options.history {
            true => crate::qapla::api::GET_SHIPMENT_HISTORY,
            false => crate::qapla::api::GET_SHIPMENT_DATA,
        };
        let language = self.settings.language;
        let full = match self
            .paced(|| (self.api).get_shipment_with(base, key, tracking, language, data))
            .await
        {
            Err(ApiError::Ko { .. }) => None,
            other => other?,
        };
        self.shipments.insert(tracking.to_owned(), full.clone());
        Ok(full)
    }

    /// One API call within the key's budget; busy answers and unreachable tries are waited
    /// out (Retry-After when given) and tried again, [`TRIES`] times in all.
    async fn paced<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let mut tries = 0;
        loop {
            while let Err(wait) = self
                .pace
                .take(&self.settings.qapla_api_key, self.options.reserve)
                .await
            {
                tokio::time::sleep(wait).await;
            }
            tries += 1;
            match call().await {
                Err(e) if e.is_retryable() && tries < TRIES => {
                    // Qapla's `Retry-After` when it gives one (5 minutes at most), else the
                    // schedule's next wait.
                    let policy = busy_policy();
                    let wait = match &e {
                        ApiError::Busy {
                            retry_after: Some(after),
                            ..
                        } => (*after).min(policy.max_retry_after),
                        _ => policy.delay_for(tries as usize - 1, None),
                    };
                    tracing::warn!(channel = %self.channel, error = %e, wait_ms = wait.as_millis() as u64, "Qapla' API busy: waiting");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

fn failure(entry: &ApiShipment, reason: &str) -> Failure {
    let status = entry.status.as_ref();
    Failure {
        tracking_number: entry.tracking_number.trim().to_owned(),
        reference: entry.reference.trim().to_owned(),
        status_id: status
            .and_then(|s| s.qapla_status.as_ref())
            .map(|q| q.id.trim().to_owned())
            .unwrap_or_default(),
        status_at: status
            .map(|s| s.date_iso.trim().to_owned())
            .unwrap_or_default(),
        reason: reason.to_owned(),
    }
}
