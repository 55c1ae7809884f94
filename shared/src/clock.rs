//! The one wall clock: time since the Unix epoch (a clock before 1970 reads as the epoch).

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
