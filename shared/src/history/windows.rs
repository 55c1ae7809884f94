//! Time windows over Qapla's clock (Italian local time, `YYYY-MM-DD HH:MM:SS`), in seconds
//! as [`parse_time`] counts them.

use crate::qapla::time::{parse_time, time_text};

/// `[from, to)` in Qapla's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

impl Window {
    /// `dateFrom` and `dateTo` of a `trackingByTimeFrame` call (both ends inclusive, so the
    /// window ends a second before `to`: consecutive windows do not overlap).
    pub fn texts(&self) -> (String, String) {
        (time_text(self.from), time_text(self.to - 1))
    }
}

/// Why a range cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("`{0}` is not a date (YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS)")]
    NotADate(String),
    #[error("the range is empty: --from must be before --to")]
    Empty,
}

/// A date (`YYYY-MM-DD`, the start of that day) or a time, in Qapla's clock.
pub fn parse_date(text: &str) -> Result<i64, WindowError> {
    let t = text.trim();
    let full = if t.len() == 10 {
        format!("{t} 00:00:00")
    } else {
        t.to_owned()
    };
    parse_time(&full).ok_or_else(|| WindowError::NotADate(t.to_owned()))
}

/// `[from, to)` cut into windows of `size` seconds (the last one shorter).
pub fn windows(from: i64, to: i64, size: i64) -> Result<Vec<Window>, WindowError> {
    if from >= to {
        return Err(WindowError::Empty);
    }
    let size = size.max(60);
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let end = (at + size).min(to);
        out.push(Window { from: at, to: end });
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_cut_into_adjacent_windows() {
        let from = parse_date("2024-03-16").expect("date");
        let to = parse_date("2024-03-17").expect("date");
        let w = windows(from, to, 6 * 3600).expect("windows");
        assert_eq!(w.len(), 4);
        assert_eq!(
            w[0].texts(),
            ("2024-03-16 00:00:00".into(), "2024-03-16 05:59:59".into())
        );
        assert_eq!(w[3].texts().1, "2024-03-16 23:59:59");
        assert!(w.windows(2).all(|p| p[0].to == p[1].from));
        let odd = windows(from, from + 7 * 3600, 6 * 3600).expect("windows");
        assert_eq!(
            odd[1],
            Window {
                from: from + 6 * 3600,
                to: from + 7 * 3600
            }
        );
    }

    #[test]
    fn dates_and_ranges_are_checked() {
        assert_eq!(
            parse_date("2024-03-16 10:00:00"),
            Ok(parse_date("2024-03-16").expect("d") + 36_000)
        );
        assert!(matches!(
            parse_date("16/03/2024"),
            Err(WindowError::NotADate(_))
        ));
        assert_eq!(windows(10, 10, 60), Err(WindowError::Empty));
    }
}
