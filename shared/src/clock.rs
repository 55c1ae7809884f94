//! The one wall clock: time since the Unix epoch (a clock before 1970 reads as the epoch),
//! and `YYYY-MM-DD HH:MM:SS` times to and from it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since the Unix epoch, now.
pub fn epoch_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Whole seconds since the Unix epoch, now.
pub fn epoch_secs() -> u64 {
    epoch_now().as_secs()
}

/// Milliseconds since the Unix epoch, now.
pub fn epoch_millis() -> u64 {
    u64::try_from(epoch_now().as_millis()).unwrap_or(u64::MAX)
}

/// Seconds since 1970-01-01 00:00:00 of `YYYY-MM-DD HH:MM:SS` (or with a `T`, or a
/// fraction) read as UTC; `None` when it is not a time. (Qapla's times have no zone and are
/// Italian: see `qapla::time`; ordering them only needs consistency.)
pub fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim().as_bytes();
    if t.len() < 19 || !matches!(t[10], b' ' | b'T') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = t.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| t[i] != c) {
        return None;
    }
    // Only a fraction of a second may follow.
    let rest = &t[19..];
    if !(rest.is_empty() || rest[0] == b'.' && rest[1..].iter().all(u8::is_ascii_digit)) {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Days since 1970-01-01 of the date a text starts with, `YYYY-MM-DD` (alone, or before a
/// time: `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM:SS...`); `None` when it is not one.
pub fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim().as_bytes();
    let date = t.get(..10)?;
    if t.len() > 10 && !matches!(t[10], b' ' | b'T') {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &date[r];
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    if date[4] != b'-' || date[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let days = days_from_civil(y, m, d);
    // 2026-02-30 is not a date: it must come back as itself.
    ((1..=12).contains(&m) && civil_from_days(days) == (y, m, d)).then_some(days)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (the inverse of [`parse_date`]).
pub fn date_text(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS` of seconds since 1970-01-01 00:00:00 (the inverse of
/// [`parse_time`]; UTC when `secs` is a real instant).
pub fn time_text(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// The date of a day count since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
