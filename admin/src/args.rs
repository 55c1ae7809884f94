//! What every command shares: a channel id as typed on the command line, and what a command
//! prints.

use bridge_core::channel::ChannelId;
use std::time::Duration;

/// What a command found: its output, and whether it found a problem.
pub(crate) struct Printout {
    pub(crate) text: String,
    pub(crate) problem: bool,
}

/// A channel id as typed, or why it is not one.
pub(crate) fn channel_id(text: &str) -> Result<ChannelId, String> {
    ChannelId::try_from(text)
        .map_err(|_| format!("`{text}` is not a channel id ([A-Za-z0-9_-], 1 to 64)"))
}

/// `7d`, `24h`, `30m`, `90s`.
pub(crate) fn parse_since(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.len().saturating_sub(1);
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{text}`: use e.g. 7d, 24h, 30m"))?;
    let secs = match unit {
        "d" => n * 86_400,
        "h" => n * 3600,
        "m" => n * 60,
        "s" => n,
        _ => return Err(format!("`{text}`: the unit is d, h, m or s")),
    };
    Ok(Duration::from_secs(secs))
}
