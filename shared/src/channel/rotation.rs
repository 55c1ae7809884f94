//! A channel's Qapla' key rotation: the previous key, accepted for a bounded time beside the
//! new one (README, "Rotating a channel's Qapla' key").

use super::settings::{ChannelSettings, SettingsError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// See [`ChannelSettings::qapla_api_key_previous`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviousKey {
    pub key: SecretString,
    /// `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SSZ`, UTC.
    pub until: String,
}

/// How far ahead a previous key's `until` may lie: a rotation is a matter of minutes, and a
/// forgotten old key must not stay valid for good.
pub const PREVIOUS_KEY_MAX_DAYS: i64 = 7;

impl PreviousKey {
    /// Refused when empty, unreadable, or valid too long.
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        if self.key.expose_secret().trim().is_empty() {
            return Err(SettingsError::new(
                "qaplaApiKeyPrevious.key",
                "must not be empty",
            ));
        }
        let field = "qaplaApiKeyPrevious.until";
        let until = self
            .until_secs()
            .ok_or_else(|| SettingsError::new(field, "must be YYYY-MM-DDTHH:MM:SSZ (UTC)"))?;
        let latest = crate::clock::epoch_secs() as i64 + PREVIOUS_KEY_MAX_DAYS * 86_400;
        if until > latest {
            let problem = format!("must be at most {PREVIOUS_KEY_MAX_DAYS} days ahead");
            return Err(SettingsError::new(field, &problem));
        }
        Ok(())
    }

    /// `until`, in seconds since the epoch.
    fn until_secs(&self) -> Option<i64> {
        crate::clock::parse_time(self.until.trim().trim_end_matches('Z'))
    }

    /// Whether it is still accepted at `now` (epoch seconds).
    pub(super) fn valid_at(&self, now: i64) -> bool {
        self.until_secs().is_some_and(|until| now < until)
    }
}

/// The keys a post may carry: the channel's, and the previous one while it is valid.
impl ChannelSettings {
    /// Compare a presented key with the channel's (and with the previous key while it is
    /// valid), in constant time.
    pub fn key_matches(&self, presented: &SecretString) -> bool {
        self.key_matches_at(presented, crate::clock::epoch_secs() as i64)
    }

    pub(super) fn key_matches_at(&self, presented: &SecretString, now: i64) -> bool {
        let current = same(&self.qapla_api_key, presented);
        current || self.is_previous_key_at(presented, now)
    }

    /// Whether the presented key is the previous one, still valid: the post is accepted,
    /// and Qapla' should be sending the new key by now (the webhook logs a warning).
    pub fn is_previous_key(&self, presented: &SecretString) -> bool {
        self.is_previous_key_at(presented, crate::clock::epoch_secs() as i64)
    }

    pub(super) fn is_previous_key_at(&self, presented: &SecretString, now: i64) -> bool {
        self.qapla_api_key_previous
            .as_ref()
            .is_some_and(|p| same(&p.key, presented) && p.valid_at(now))
    }
}

/// Two keys compared in constant time.
fn same(key: &SecretString, presented: &SecretString) -> bool {
    use subtle::ConstantTimeEq;
    let a = key.expose_secret().as_bytes();
    bool::from(a.ct_eq(presented.expose_secret().as_bytes()))
}
