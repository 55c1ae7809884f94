//! The one token bucket: Qapla's API budget per key (`qapla::pace`, kept in memory or in the
//! state table) and the look-ups of unknown channels (`channel::Channels`) both spend from
//! one of these. Pure arithmetic: the caller keeps the tokens and the time of the last take.

use std::time::Duration;

/// A bucket's size and its refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub burst: f64,
    pub per_second: f64,
}

impl Bucket {
    /// The bucket holding `tokens` as of `elapsed` ago, now.
    pub fn refill(self, tokens: f64, elapsed: Duration) -> f64 {
        (tokens + elapsed.as_secs_f64() * self.per_second).min(self.burst)
    }

    /// The bucket holding `tokens` as of `elapsed` ago, after one token is taken, leaving at
    /// least `reserve` for others; else how long to wait until one can be taken.
    pub fn take(self, tokens: f64, elapsed: Duration, reserve: f64) -> Result<f64, Duration> {
        let tokens = self.refill(tokens, elapsed);
        let needed = 1.0 + reserve.min(self.burst - 1.0).max(0.0);
        if tokens >= needed {
            Ok(tokens - 1.0)
        } else {
            // A bucket that never refills (or refills absurdly slowly) waits "forever".
            Err(
                Duration::try_from_secs_f64((needed - tokens) / self.per_second)
                    .unwrap_or(Duration::MAX),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Bucket = Bucket {
        burst: 120.0,
        per_second: 2.0,
    };

    #[test]
    fn the_bucket_refills_at_its_rate_up_to_its_size() {
        assert_eq!(Q.take(120.0, Duration::ZERO, 0.0), Ok(119.0));
        assert_eq!(Q.take(0.0, Duration::from_secs(1), 0.0), Ok(1.0));
        assert_eq!(Q.take(119.0, Duration::from_secs(60), 0.0), Ok(119.0));
        assert_eq!(
            Q.take(0.0, Duration::ZERO, 0.0),
            Err(Duration::from_millis(500))
        );
    }

    #[test]
    fn a_reserve_is_left_for_others() {
        assert_eq!(
            Q.take(20.0, Duration::ZERO, 20.0),
            Err(Duration::from_millis(500))
        );
        assert_eq!(Q.take(21.0, Duration::ZERO, 20.0), Ok(20.0));
        assert_eq!(Q.take(1.0, Duration::ZERO, 0.0), Ok(0.0));
    }

    #[test]
    fn an_empty_or_still_bucket_refuses_without_panicking() {
        let empty = Bucket {
            burst: 0.0,
            per_second: 0.0,
        };
        assert_eq!(
            empty.take(0.0, Duration::from_secs(60), 0.0),
            Err(Duration::MAX)
        );
        let still = Bucket {
            burst: 5.0,
            per_second: 0.0,
        };
        assert_eq!(still.take(5.0, Duration::ZERO, 0.0), Ok(4.0));
        assert_eq!(
            still.take(0.0, Duration::from_secs(60), 0.0),
            Err(Duration::MAX)
        );
    }
}
