//! `estimatedDelivery` (an opt-in field of `order-status-change`): when the parcel should
//! arrive, `YYYY-MM-DD`, and whose figure that is (`estimatedDeliverySource`).
//!
//! 1. `courier`: `getShipment`'s `courier.estimatedDeliveryDate` (reference/qapla.md §7),
//!    when it is a date and not already past.
//! 2. `median`: else, with `estimatedDelivery.median` on, Qapla' v2's network median lead
//!    time (shipped → delivered, **calendar days**: `references/v2/couriers.md`) of the
//!    shipment's courier to its Italian postcode, when its sample holds at least
//!    `minSampleSize` deliveries: `shipDate` plus the median (rounded up), moved on to the
//!    next business day of the Italian calendar ([`crate::calendar`]), if not already past.
//!    Only while the parcel is on its way (`pending`, `in_transit`, `out_for_delivery`): a
//!    network median says nothing of a parcel held, failed or at a pickup point.
//! 3. Else nothing: no date beats a wrong date. Never for a final status.
//!
//! "Past" and "today" are Italian dates, as Qapla' writes its own. A median is kept a day per
//! key, courier and postcode (a network figure, the same for every parcel of the lane); a v2
//! call that fails (busy, unreachable, the key without `delivery-times:read`) gives no date
//! and never holds the event back.

use super::enrich::Enricher;
use crate::calendar::Country;
use crate::channel::{ChannelId, ChannelSettings, EstimatedDelivery};
use crate::clock::{date_text, parse_date};
use crate::qapla::api::ApiShipment;
use crate::qapla::v2::{LaneTimes, V2Error};
use std::time::{Duration, Instant};

/// An estimated delivery date and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `courier` or `median`.
    pub source: &'static str,
}

/// How long a lane's median is used.
pub(super) const MEDIAN_TTL: Duration = Duration::from_secs(24 * 3600);

/// How long a v2 refusal (no scope, an unknown lane) stands for a key before it is asked
/// again: not one call per event meanwhile.
pub(super) const REFUSED_TTL: Duration = Duration::from_secs(3600);

/// The date of `shipment` at status `status_id`, today being day `today` (days since the
/// epoch, Italian), with `lane` the network's figures for its courier and postcode (if
/// asked). See the module doc.
pub fn estimate(
    shipment: &ApiShipment,
    status_id: &str,
    lane: Option<&LaneTimes>,
    settings: &EstimatedDelivery,
    today: i64,
) -> Option<Estimate> {
    if crate::mapping::is_final(status_id) {
        return None;
    }
    if let Some(day) = courier_date(shipment).filter(|d| *d >= today) {
        return Some(Estimate {
            date: date_text(day),
            source: "courier",
        });
    }
    if !(settings.median && median_applies(status_id)) {
        return None;
    }
    let lane = lane?;
    let enough = lane.sample_size.unwrap_or(0) >= u64::from(settings.min_sample_size);
    let median = lane
        .lead_median
        .filter(|m| m.is_finite() && *m >= 0.0 && *m < 60.0)?;
    let shipped = parse_date(shipment.ship_date.as_deref()?)?;
    if !enough {
        return None;
    }
    let mut day = shipped + median.ceil() as i64;
    // Couriers do not deliver on Sundays and holidays: the next business day.
    for _ in 0..14 {
        if Country::IT.is_business_day(day) {
            break;
        }
        day += 1;
    }
    (day >= today).then(|| Estimate {
        date: date_text(day),
        source: "median",
    })
}

/// The courier's own date, when it is one.
fn courier_date(shipment: &ApiShipment) -> Option<i64> {
    let text = shipment.courier.estimated_delivery_date.as_deref()?;
    parse_date(text)
}

/// Whether a network median says anything of a parcel at this status: on its way.
fn median_applies(status_id: &str) -> bool {
    matches!(
        crate::mapping::group(status_id),
        "pending" | "in_transit" | "out_for_delivery"
    )
}

/// The Italian postcode the lane is asked for: five digits, in Italy (or no country).
pub fn italian_postcode(shipment: &ApiShipment) -> Option<&str> {
    let consignee = shipment.consignee.as_ref()?;
    let italy = consignee.country.as_deref().map(str::trim).is_none_or(|c| {
        c.is_empty() || c.eq_ignore_ascii_case("IT") || c.eq_ignore_ascii_case("ITA")
    });
    let cap = consignee.post_code.as_deref()?.trim();
    (italy && cap.len() == 5 && cap.bytes().all(|b| b.is_ascii_digit())).then_some(cap)
}

impl Enricher {
    /// The estimate of the shipment `tracking` at `status_id` (see the module doc).
    pub(super) async fn estimate(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
        shipment: &ApiShipment,
        status_id: &str,
    ) -> Option<Estimate> {
        let today = crate::qapla::time::italian_now().div_euclid(86_400);
        let rules = &settings.estimated_delivery;
        if let Some(text) = shipment.courier.estimated_delivery_date.as_deref()
            && !text.trim().is_empty()
            && parse_date(text).is_none()
        {
            // Qapla's example has `null`: a live value in another form is told, not guessed
            // (a courier's date, never a person's data; cut short all the same).
            let value: String = text.trim().chars().take(40).collect();
            tracing::warn!(%channel, value, "courier.estimatedDeliveryDate is not YYYY-MM-DD: not used (docs/contracts.md)");
        }
        let wants_lane = rules.median
            && median_applies(status_id)
            && !crate::mapping::is_final(status_id)
            && courier_date(shipment).is_none_or(|d| d < today);
        let lane = match wants_lane {
            true => self.lane(channel, settings, shipment).await,
            false => None,
        };
        estimate(shipment, status_id, lane.as_ref(), rules, today)
    }

    /// The lane's figures, from the cache or Qapla' v2 (paced with the key's v1 calls).
    async fn lane(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
        shipment: &ApiShipment,
    ) -> Option<LaneTimes> {
        let cap = italian_postcode(shipment)?;
        let courier = shipment.courier.code.trim();
        if courier.is_empty() {
            return None;
        }
        let key = &settings.qapla_api_key;
        let cache_key = (
            crate::qapla::pace::key_hash(key),
            courier.to_ascii_uppercase(),
            cap.to_owned(),
        );
        if let Some((until, lane)) = self.lanes.get(&cache_key)
            && Instant::now() < until
        {
            return lane;
        }
        self.pace.take(key, 0.0).await.ok()?;
        let base = &settings.qapla_v2_base_url;
        let answer = self.v2.delivery_times(base, key, cap, courier).await;
        let (lane, ttl) = match answer {
            Ok(lane) => (lane, MEDIAN_TTL),
            Err(e @ V2Error::Refused { .. }) => {
                tracing::warn!(%channel, error = %e, "no median delivery time: Qapla' v2 refused (the key needs delivery-times:read); asked again in an hour");
                (None, REFUSED_TTL)
            }
            Err(e) => {
                tracing::warn!(%channel, error = %e, "no median delivery time this time");
                return None;
            }
        };
        self.lanes
            .insert(cache_key, (Instant::now() + ttl, lane.clone()));
        lane
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qapla::api::ApiCourier;

    fn day(text: &str) -> i64 {
        parse_date(text).expect("a date")
    }

    fn shipment(courier_date: Option<&str>, shipped: &str) -> ApiShipment {
        ApiShipment {
            courier: ApiCourier {
                code: "BRT".into(),
                estimated_delivery_date: courier_date.map(str::to_owned),
            },
            ship_date: Some(shipped.into()),
            ..ApiShipment::default()
        }
    }

    fn lane(median: f64, sample: u64) -> LaneTimes {
        LaneTimes {
            courier_code: "BRT".into(),
            lead_median: Some(median),
            sample_size: Some(sample),
        }
    }

    const RULES: EstimatedDelivery = EstimatedDelivery {
        median: true,
        min_sample_size: 100,
    };

    #[test]
    fn the_couriers_date_comes_first() {
        let s = shipment(Some("2026-12-10"), "2026-12-07");
        let e = estimate(&s, "3", Some(&lane(1.0, 5000)), &RULES, day("2026-12-08"));
        assert_eq!(
            e,
            Some(Estimate {
                date: "2026-12-10".into(),
                source: "courier"
            })
        );
        // With a time after it, too.
        let s = shipment(Some("2026-12-10 18:00:00"), "2026-12-07");
        let e = estimate(&s, "3", None, &RULES, day("2026-12-08")).expect("a date");
        assert_eq!(e.date, "2026-12-10");
    }

    #[test]
    fn a_median_counts_calendar_days_and_lands_on_a_business_day() {
        // Shipped Thursday 2026-12-03, median 2 days: Saturday 5th → Monday 7th.
        let s = shipment(None, "2026-12-03");
        let e = estimate(&s, "3", Some(&lane(2.0, 1673)), &RULES, day("2026-12-04"));
        assert_eq!(
            e,
            Some(Estimate {
                date: "2026-12-07".into(),
                source: "median"
            })
        );
        // Tuesday 2026-12-08 is a holiday in Italy (Immacolata): 1.2 days from Monday the
        // 7th rounds up to the 9th; one day to the 8th moves to the 9th as well.
        let s = shipment(None, "2026-12-07");
        let e = estimate(&s, "3", Some(&lane(1.0, 1673)), &RULES, day("2026-12-07"));
        assert_eq!(e.expect("a date").date, "2026-12-09");
        let e = estimate(&s, "3", Some(&lane(1.2, 1673)), &RULES, day("2026-12-07"));
        assert_eq!(e.expect("a date").date, "2026-12-09");
    }

    #[test]
    fn no_date_beats_a_wrong_one() {
        let today = day("2026-12-08");
        let small = lane(2.0, 99);
        let lane = lane(2.0, 1673);
        // A small sample.
        let s = shipment(None, "2026-12-07");
        assert_eq!(estimate(&s, "3", Some(&small), &RULES, today), None);
        // A courier date already past, and a median that is past too.
        let s = shipment(Some("2026-12-01"), "2026-11-20");
        assert_eq!(estimate(&s, "3", Some(&lane), &RULES, today), None);
        // Not a date at all.
        let s = shipment(Some("soon"), "2026-12-07");
        assert_eq!(estimate(&s, "3", None, &RULES, today), None);
        // A delivered parcel, a held one (median), the median off.
        let s = shipment(Some("2026-12-10"), "2026-12-07");
        assert_eq!(estimate(&s, "99", Some(&lane), &RULES, today), None);
        let s = shipment(None, "2026-12-07");
        assert_eq!(estimate(&s, "6", Some(&lane), &RULES, today), None);
        let off = EstimatedDelivery {
            median: false,
            ..RULES
        };
        assert_eq!(estimate(&s, "3", Some(&lane), &off, today), None);
        // No ship date, no lane.
        let s = ApiShipment::default();
        assert_eq!(estimate(&s, "3", Some(&lane), &RULES, today), None);
        let s = shipment(None, "2026-12-07");
        assert_eq!(estimate(&s, "3", None, &RULES, today), None);
    }

    #[test]
    fn dates_are_read_strictly() {
        assert_eq!(parse_date("2026-12-03"), Some(day("2026-12-03")));
        assert_eq!(date_text(day("2024-02-29")), "2024-02-29");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "03/12/2026",
            "2026-12-3",
            "2026-12-03x",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_an_italian_five_digit_postcode_is_a_lane() {
        let mut s = ApiShipment::default();
        let consignee = |country: Option<&str>, cap: &str| crate::qapla::Consignee {
            country: country.map(str::to_owned),
            post_code: Some(cap.into()),
            ..Default::default()
        };
        s.consignee = Some(consignee(Some("IT"), "20100"));
        assert_eq!(italian_postcode(&s), Some("20100"));
        s.consignee = Some(consignee(None, " 00184 "));
        assert_eq!(italian_postcode(&s), Some("00184"));
        s.consignee = Some(consignee(Some("ES"), "28001"));
        assert_eq!(italian_postcode(&s), None);
        s.consignee = Some(consignee(Some("IT"), "2010"));
        assert_eq!(italian_postcode(&s), None);
    }
}
