//! Business days: weekends and the national public holidays of the countries whose shops
//! use Qapla' most (what `stalls` counts a parcel's silence in). Regional holidays (a
//! patron saint's day, a Spanish region's own) are not counted: a day early at worst.

use crate::clock::{civil_from_days, days_from_civil};
use serde::Deserialize;

/// A country whose national holidays are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Country {
    IT,
    ES,
    DE,
    FR,
    PT,
}

impl Country {
    /// Fixed-date holidays (month, day) and Easter-relative ones (days after Easter Sunday).
    #[rustfmt::skip]
    fn holidays(self) -> (&'static [(i64, i64)], &'static [i64]) {
        match self {
            Country::IT => (&[(1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26)],
                &[1]), // Easter Monday
            Country::ES => (&[(1, 1), (1, 6), (5, 1), (8, 15), (10, 12), (11, 1), (12, 6), (12, 8), (12, 25)],
                &[-2]), // Good Friday
            Country::DE => (&[(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)],
                &[-2, 1, 39, 50]), // Good Friday, Easter Monday, Ascension, Whit Monday
            Country::FR => (&[(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)],
                &[1, 39, 50]), // Easter Monday, Ascension, Whit Monday
            Country::PT => (&[(1, 1), (4, 25), (5, 1), (6, 10), (8, 15), (10, 5), (11, 1), (12, 1), (12, 8), (12, 25)],
                &[-2, 60]), // Good Friday, Corpus Christi
        }
    }

    /// Whether `day` (days since 1970-01-01) is a working day: not a weekend, not a holiday.
    pub fn is_business_day(self, day: i64) -> bool {
        // 1970-01-01 was a Thursday: 0 = Thursday, 2 = Saturday, 3 = Sunday.
        if matches!(day.rem_euclid(7), 2 | 3) {
            return false;
        }
        let (year, month, date) = civil_from_days(day);
        let (fixed, moving) = self.holidays();
        let easter = easter_sunday(year);
        !fixed.contains(&(month, date)) && !moving.iter().any(|d| easter + d == day)
    }

    /// The business days strictly between `from` and `to` (days since the epoch).
    pub fn business_days_between(self, from: i64, to: i64) -> i64 {
        (from + 1..to).filter(|d| self.is_business_day(*d)).count() as i64
    }
}

/// Easter Sunday of `year` (Gregorian; the anonymous algorithm), in days since the epoch.
pub fn easter_sunday(year: i64) -> i64 {
    let a = year % 19;
    let (b, c) = (year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    days_from_civil(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i64, m: i64, d: i64) -> i64 {
        days_from_civil(y, m, d)
    }

    #[test]
    fn easter_falls_where_the_calendars_put_it() {
        assert_eq!(easter_sunday(2024), day(2024, 3, 31));
        assert_eq!(easter_sunday(2025), day(2025, 4, 20));
        assert_eq!(easter_sunday(2026), day(2026, 4, 5));
        assert_eq!(easter_sunday(2027), day(2027, 3, 28));
        assert_eq!(easter_sunday(2038), day(2038, 4, 25));
    }

    #[test]
    fn weekends_and_each_countrys_holidays_are_not_business_days() {
        let it = Country::IT;
        assert!(it.is_business_day(day(2026, 12, 3)), "a Thursday");
        assert!(!it.is_business_day(day(2026, 12, 5)), "a Saturday");
        assert!(!it.is_business_day(day(2026, 12, 6)), "a Sunday");
        assert!(!it.is_business_day(day(2026, 12, 8)), "Immacolata");
        assert!(!it.is_business_day(day(2026, 4, 6)), "Easter Monday");
        assert!(
            !it.is_business_day(day(2026, 6, 2)),
            "Festa della Repubblica"
        );
        assert!(Country::ES.is_business_day(day(2026, 6, 2)));
        assert!(
            !Country::ES.is_business_day(day(2026, 4, 3)),
            "Viernes Santo"
        );
        assert!(
            it.is_business_day(day(2026, 4, 3)),
            "Good Friday works in Italy"
        );
        assert!(
            !Country::ES.is_business_day(day(2026, 10, 12)),
            "Fiesta Nacional"
        );
        assert!(
            !Country::DE.is_business_day(day(2026, 10, 3)),
            "Tag der Deutschen Einheit"
        );
        assert!(
            !Country::FR.is_business_day(day(2026, 7, 14)),
            "Fête nationale"
        );
        assert!(
            !Country::PT.is_business_day(day(2026, 6, 4)),
            "Corpo de Deus"
        );
        assert!(
            !Country::DE.is_business_day(day(2026, 5, 14)),
            "Christi Himmelfahrt"
        );
    }

    #[test]
    fn business_days_between_skip_a_weekend_and_christmas() {
        let it = Country::IT;
        // Thursday 24 December 2026; 25 and 26 are holidays, 27 a Sunday.
        let eve = day(2026, 12, 24);
        assert_eq!(it.business_days_between(eve, day(2026, 12, 28)), 0);
        assert_eq!(it.business_days_between(eve, day(2026, 12, 30)), 2);
        assert_eq!(it.business_days_between(eve, day(2026, 12, 31)), 3);
        assert_eq!(it.business_days_between(eve, eve), 0);
    }
}
