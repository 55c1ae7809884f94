//! Stalled parcels: a shipment whose newest status is not final and that has had no new
//! status for the channel's `stalls.afterBusinessDays` business days (weekends and its
//! country's national holidays not counted) gets one `parcel-stalled` event.
//!
//! Qapla' posts nothing when nothing happens, so only the state table knows. Every
//! shipment whose newest status can stall carries `watch` (its channel), which puts it in
//! the sparse index `stalls` (`crate::aws::table`) sorted by its status time; the scheduled function asks
//! it, per channel, for the statuses older than the day that makes them stalled today (and
//! not older than [`CATCH_UP_DAYS`] before it): what comes back is stalled, and nothing else
//! is read. No Qapla' call is made to find them; each stall is completed from `getShipment`
//! in the delivery stage (the table keeps no customer), out of the key's shared budget.
//!
//! Once per stall: the event's id is the shipment's and its last status's time, and once it
//! is queued, `watch` is removed (if no newer status came in the meantime), so the next run
//! does not find it. A new status rewrites the shipment's item, `watch` included: the stall
//! is over, and a later silence is a new stall. The worker drops a stall whose shipment got
//! a newer status before it was delivered (`superseded`).

use crate::Kind;
use crate::calendar::Country;
use crate::channel::{ChannelId, ChannelSettings, TrackingUrlSource};
use crate::connectif::{ConnectifEvent, Enrich, Fields, ParcelStalled, Reception};
use crate::connectif::{ShipmentStatus, StatusRef};
use crate::delivery::{Envelope, HandOff};
use crate::qapla::time::{parse_time, time_text};
use crate::telemetry::error_chain;
use async_trait::async_trait;

/// A shipment the index lists as silent: what its item keeps of its newest status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Silent {
    /// The newest status's time, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    /// The newest event's fields (JSON, no customer).
    pub fields: Option<String>,
    /// The newest status's `status id/detail id`.
    pub status: Option<String>,
    /// Its Qapla' courier code.
    pub courier: Option<String>,
}

/// The index of shipments that can stall (the state table's in the stack).
#[async_trait]
pub trait StallIndex: Send + Sync {
    /// The channel's shipments whose newest status time lies between `from` and `to`
    /// (inclusive), every page; and the calls it took.
    async fn silent(
        &self,
        channel: &ChannelId,
        from: &str,
        to: &str,
    ) -> Result<(Vec<Silent>, u32), String>;

    /// Take a queued stall's shipment out of the index, unless a newer status (than `at`)
    /// replaced it.
    async fn told(&self, channel: &ChannelId, tracking: &str, at: &str) -> Result<(), String>;
}

/// How long after a parcel stalled it is still told: runs missed for a week (the function
/// off, say) catch up; a channel that turns `stalls` on is not told of every old silence.
pub const CATCH_UP_DAYS: i64 = 7;

/// What one channel's stall check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stalled {
    /// Stalls queued.
    pub queued: u64,
    /// Index items read (each a stalled parcel).
    pub read: u64,
    /// `Query` calls made (pages).
    pub calls: u32,
}

/// The last day (days since the epoch, Italian time) whose statuses are stalled on `today`:
/// `after` business days lie strictly between it and today.
pub fn last_stalled_day(country: Country, after: u8, today: i64) -> i64 {
    let mut day = today - 1;
    while country.business_days_between(day, today) < i64::from(after) {
        day -= 1;
    }
    day
}

/// Find the channel's stalled parcels at `now` (Italian time, as [`parse_time`] counts) and
/// queue one event for each. `None` when the channel does not look for them (no `stalls`,
/// or no shipment statuses sent).
pub async fn check(
    index: &dyn StallIndex,
    queue: &dyn HandOff,
    channel: &ChannelId,
    settings: &ChannelSettings,
    now: i64,
) -> Result<Option<Stalled>, String> {
    let mut done = Stalled::default();
    let Some(stalls) = settings.stalls.as_ref().filter(|_| settings.send.shipments) else {
        return Ok(None);
    };
    let Some(country) = stalls.country_for(settings.language) else {
        return Ok(None); // refused when the settings are read
    };
    if !settings.connectif.delivers(Reception::ParcelStalled) {
        tracing::warn!(%channel, "stalls are on but connectif.endpoints.stalled is not set: none sent");
        return Ok(Some(done));
    }
    let today = now.div_euclid(86_400);
    let last = last_stalled_day(country, stalls.after_business_days, today);
    let from = time_text((last - CATCH_UP_DAYS) * 86_400);
    let to = time_text(last * 86_400 + 86_399);
    let (items, calls) = index
        .silent(channel, &from, &to)
        .await
        .map_err(|e| format!("stalls index not read: {e}"))?;
    (done.read, done.calls) = (items.len() as u64, calls);
    let stalled: Vec<Envelope> = items
        .iter()
        .filter_map(|item| envelope(item, channel, settings, country, today))
        .collect();
    let marks: Vec<(String, String)> = stalled
        .iter()
        .map(|e| (e.key.clone(), e.occurred_at.clone().unwrap_or_default()))
        .collect();
    for (result, (tracking, at)) in queue.hand_off_all(stalled).await.into_iter().zip(marks) {
        result.map_err(|e| error_chain(&e))?;
        done.queued += 1;
        tracing::info!(%channel, key = %tracking, status_at = %at, outcome = "stalled", "parcel stalled: queued");
        if let Err(e) = index.told(channel, &tracking, &at).await {
            // Found again next run: the same event id, a duplicate the worker drops.
            tracing::warn!(%channel, key = %tracking, error = %e, "stall queued but not marked");
        }
    }
    Ok(Some(done))
}

/// The stall event of one index item (`None`, logged, for an item it cannot be built from).
fn envelope(
    item: &Silent,
    channel: &ChannelId,
    settings: &ChannelSettings,
    country: Country,
    today: i64,
) -> Option<Envelope> {
    let at = item.at.clone();
    let fields = item.fields.as_deref();
    let last: Option<ShipmentStatus> = fields.and_then(|f| serde_json::from_str(f).ok());
    let Some(last) = last else {
        tracing::warn!(%channel, status_at = %at, "stalled parcel without its event's fields: not told");
        return None;
    };
    let day = parse_time(&at)?.div_euclid(86_400);
    let days = country.business_days_between(day, today) as u32;
    let tracking = last.tracking_number.clone();
    let status_id = last.qapla_status_id.clone();
    let detail = item
        .status
        .as_deref()
        .and_then(|key| key.split_once('/').and_then(|(_, d)| d.parse().ok()));
    let enrich = Enrich {
        tracking_number: tracking.clone(),
        customer: true,
        tracking_url: settings.tracking_url_source == TrackingUrlSource::Qapla,
        status: Some(StatusRef {
            id: status_id.clone(),
            label: last.qapla_status.clone(),
            detail_id: detail,
            detail_text: None,
        }),
    };
    let id = Envelope::id_of(channel, Kind::Shipment, &["stalled", &tracking, &at]);
    Some(Envelope {
        event_id: id,
        channel: channel.clone(),
        kind: Kind::Shipment,
        key: tracking,
        status_id: Some(status_id),
        occurred_at: Some(at.clone()),
        repeat_key: None,
        courier: item.courier.clone(),
        held: false,
        enrich: Some(enrich),
        pulled: true,
        contact_update: false,
        event: ConnectifEvent {
            alias: settings.aliases.get(Reception::ParcelStalled).to_owned(),
            reception: Some(Reception::ParcelStalled),
            fields: Fields::ParcelStalled(ParcelStalled::of(last, days, at)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::days_from_civil;

    #[test]
    fn the_stalled_day_lies_the_business_days_back() {
        let it = Country::IT;
        let day = |m, d| days_from_civil(2026, m, d);
        // Monday 7 December 2026: the 2nd, 3rd and 4th lie between the 1st and today.
        assert_eq!(last_stalled_day(it, 3, day(12, 7)), day(12, 1));
        // Wednesday 9th: the 3rd, 4th and 7th (the 8th is a holiday).
        assert_eq!(last_stalled_day(it, 3, day(12, 9)), day(12, 2));
        // Thursday 31st: the 28th, 29th and 30th; Christmas, Santo Stefano and a Sunday
        // before them make a status of Christmas Eve stalled today, and not yesterday.
        assert_eq!(last_stalled_day(it, 3, day(12, 31)), day(12, 27));
        assert_eq!(last_stalled_day(it, 3, day(12, 30)), day(12, 23));
        assert_eq!(last_stalled_day(it, 1, day(12, 29)), day(12, 27));
    }
}
