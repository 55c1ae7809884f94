//! Retry policy as data: a schedule of delays, jittered, never shorter than a clamped
//! `Retry-After`.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Wait before each retry; its length is the number of retries.
    pub delays: Vec<Duration>,
    /// Upper bound for a server's `Retry-After`.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// The short, bounded policy of the in-process hand-off: 2 retries, ~0.2 s then ~1 s.
    pub fn in_process() -> Self {
        RetryPolicy {
            delays: vec![Duration::from_millis(200), Duration::from_secs(1)],
            max_retry_after: Duration::from_secs(5),
        }
    }

    /// Every AWS call the bridge retries itself (SQS sends, DynamoDB's unprocessed keys):
    /// three tries in all, as the SDK's standard retry, after ~0.5 s then ~1 s (the means of
    /// its jittered backoff from a 1 s base).
    pub fn aws() -> Self {
        RetryPolicy {
            delays: vec![Duration::from_millis(500), Duration::from_secs(1)],
            max_retry_after: Duration::from_secs(20),
        }
    }

    /// The wait before retry number `retry` (0 = the first retry), or `None` when the
    /// schedule is exhausted. Jitter is ±25 %; `retry_after` (clamped) is a floor.
    pub fn next_delay(&self, retry: usize, retry_after: Option<Duration>) -> Option<Duration> {
        let base = *self.delays.get(retry)?;
        let jittered = base.mul_f64(0.75 + fastrand::f64() * 0.5);
        let floor = retry_after.map_or(Duration::ZERO, |r| r.min(self.max_retry_after));
        Some(jittered.max(floor))
    }

    /// Delays doubling from `base` up to `cap` (both included).
    pub fn exponential(base: Duration, cap: Duration) -> Self {
        let mut delays = vec![base.min(cap)];
        while let Some(&last) = delays.last().filter(|d| **d < cap) {
            delays.push((last * 2).min(cap));
        }
        RetryPolicy {
            delays,
            max_retry_after: cap,
        }
    }

    /// Like [`next_delay`](Self::next_delay), but past the schedule its last delay repeats.
    pub fn delay_for(&self, retry: usize, retry_after: Option<Duration>) -> Duration {
        let last = self.delays.len().saturating_sub(1);
        self.next_delay(retry.min(last), retry_after)
            .or(retry_after)
            .unwrap_or_default()
    }

    /// Total tries, the first included.
    pub fn max_tries(&self) -> u32 {
        u32::try_from(self.delays.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            delays: vec![Duration::from_millis(100), Duration::from_millis(400)],
            max_retry_after: Duration::from_secs(2),
        }
    }

    #[test]
    fn delays_follow_the_schedule_with_bounded_jitter_then_stop() {
        let p = policy();
        for _ in 0..100 {
            let d = p.next_delay(1, None).expect("second retry");
            assert!(
                d >= Duration::from_millis(300) && d <= Duration::from_millis(500),
                "{d:?}"
            );
        }
        assert_eq!(p.next_delay(2, None), None);
        assert_eq!(p.max_tries(), 3);
    }

    #[test]
    fn exponential_schedules_double_up_to_the_cap_then_repeat_it() {
        let p = RetryPolicy::exponential(Duration::from_secs(30), Duration::from_secs(3600));
        let secs: Vec<u64> = p.delays.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600]);
        let far = p.delay_for(500, None);
        assert!(
            far >= Duration::from_secs(2700) && far <= Duration::from_secs(4500),
            "{far:?}"
        );
    }

    #[test]
    fn retry_after_is_a_floor_clamped_to_the_maximum() {
        let p = policy();
        assert_eq!(
            p.next_delay(0, Some(Duration::from_secs(1))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            p.next_delay(0, Some(Duration::from_secs(3600))),
            Some(Duration::from_secs(2))
        );
    }
}
