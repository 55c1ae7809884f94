//! Qapla's status times: `YYYY-MM-DD HH:MM:SS` (Italian local time, no zone), sometimes
//! written ISO-style with a `T`, sometimes with a fraction. Compared as instants, never as
//! text (`T` sorts after a space), and a time far in the future is not trusted to order
//! anything: one wrong courier date must not suppress every later status of a shipment.

use crate::clock::{civil_from_days, days_from_civil};
pub use crate::clock::{parse_time, time_text};

/// How far ahead of now a status time may be and still order statuses: a day, plus the
/// largest Italian offset from UTC (the times have no zone).
const FUTURE_SLACK_SECS: i64 = 86_400 + 2 * 3600;

/// A status time fit to order statuses: `YYYY-MM-DD HH:MM:SS`, not more than a day ahead.
pub fn status_time(text: &str) -> Option<String> {
    parse_time(text).filter(|s| !too_far_ahead(*s))?;
    let t = text.trim();
    Some(format!("{} {}", &t[..10], &t[11..19]))
}

/// Whether a parsed time lies more than a day ahead of now.
pub fn too_far_ahead(secs: i64) -> bool {
    let now = crate::clock::epoch_secs() as i64;
    secs > now + FUTURE_SLACK_SECS
}

/// Now, as Qapla' writes times: Italian local time (CET, or CEST from the last Sunday of
/// March to the last Sunday of October, switching at 01:00 UTC), in seconds as
/// [`parse_time`] counts them.
pub fn italian_now() -> i64 {
    let utc = crate::clock::epoch_secs() as i64;
    italian(utc)
}

/// An instant (seconds since the epoch, UTC) in Italian local time.
pub fn italian(utc: i64) -> i64 {
    let (year, _, _) = civil_from_days(utc.div_euclid(86_400));
    // The last Sunday of a 31-day month (1970-01-01 was a Thursday).
    let last_sunday = |month| {
        let day = days_from_civil(year, month, 31);
        day - (day + 4).rem_euclid(7)
    };
    let summer = last_sunday(3) * 86_400 + 3600..last_sunday(10) * 86_400 + 3600;
    utc + if summer.contains(&utc) { 7200 } else { 3600 }
}

/// The instant (UTC) of an Italian local time (the inverse of [`italian`]; in the hour the
/// clocks go back, the earlier of the two).
pub fn utc_of_italian(local: i64) -> i64 {
    let summer = local - 7200;
    if italian(summer) == local {
        summer
    } else {
        local - 3600
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_space_forms_of_one_moment_are_equal() {
        let a = parse_time("2024-03-16 11:42:10");
        assert_eq!(a, parse_time("2024-03-16T11:42:10"));
        assert_eq!(a, parse_time("2024-03-16T11:42:10.000"));
        assert!(parse_time("2024-03-16 11:42:09") < a);
        assert!(parse_time("2024-03-16T11:42:11") > a);
        assert_eq!(parse_time("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_time("2000-03-01 00:00:00"), Some(951_868_800));
    }

    #[test]
    fn time_text_is_the_inverse_of_parse_time() {
        for t in [
            "1970-01-01 00:00:00",
            "2000-02-29 23:59:59",
            "2024-03-16 11:42:10",
            "2100-12-31 00:00:01",
        ] {
            assert_eq!(time_text(parse_time(t).expect(t)), t);
        }
        assert_eq!(time_text(-1), "1969-12-31 23:59:59");
    }

    #[test]
    fn italian_time_follows_summer_time() {
        let at = |t| parse_time(t).expect(t);
        // 2024: CEST from 31 March 01:00 UTC to 27 October 01:00 UTC.
        assert_eq!(
            time_text(italian(at("2024-01-15 12:00:00"))),
            "2024-01-15 13:00:00"
        );
        assert_eq!(
            time_text(italian(at("2024-03-31 00:59:59"))),
            "2024-03-31 01:59:59"
        );
        assert_eq!(
            time_text(italian(at("2024-03-31 01:00:00"))),
            "2024-03-31 03:00:00"
        );
        assert_eq!(
            time_text(italian(at("2024-10-27 00:59:59"))),
            "2024-10-27 02:59:59"
        );
        assert_eq!(
            time_text(italian(at("2024-10-27 01:00:00"))),
            "2024-10-27 02:00:00"
        );
        assert_eq!(
            time_text(italian(at("2026-07-01 22:30:00"))),
            "2026-07-02 00:30:00"
        );
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01 00:00:00",
            "2024-03-16",
            "2024-03-16 11:42:10+02:00",
            "2024/03/16 11:42:10",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_times_are_normalised_and_far_future_ones_dropped() {
        assert_eq!(
            status_time("2024-03-16T11:42:10.5").as_deref(),
            Some("2024-03-16 11:42:10")
        );
        assert_eq!(status_time("2999-01-01 00:00:00"), None);
    }
}
