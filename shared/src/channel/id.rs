//! Channel ids: the `{channel}` of a webhook URL, validated before it names a secret.

use std::fmt;

/// A channel id taken from the URL path (`/qapla/{channel}/...`). It becomes part of a
/// Secrets Manager secret name, so only `[A-Za-z0-9_-]`, 1 to 64 characters.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct ChannelId(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("channel id must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")]
pub struct InvalidChannelId;

impl TryFrom<&str> for ChannelId {
    type Error = InvalidChannelId;

    fn try_from(s: &str) -> Result<Self, InvalidChannelId> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(ChannelId(s.to_owned()))
        } else {
            Err(InvalidChannelId)
        }
    }
}

impl TryFrom<String> for ChannelId {
    type Error = InvalidChannelId;

    fn try_from(s: String) -> Result<Self, InvalidChannelId> {
        ChannelId::try_from(s.as_str())
    }
}

impl From<ChannelId> for String {
    fn from(id: ChannelId) -> String {
        id.0
    }
}

impl ChannelId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_are_safe_secret_name_parts() {
        assert!(ChannelId::try_from("shop-it_1").is_ok());
        for bad in ["", "a/b", "../x", "a b", "é", &"x".repeat(65)] {
            assert!(ChannelId::try_from(bad).is_err(), "{bad:?}");
        }
    }
}
