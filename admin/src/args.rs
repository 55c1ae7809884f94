//! What every command shares: a channel id as typed on the command line, and what a command
//! prints.

use bridge_core::channel::ChannelId;

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
