//! Authentication of a webhook against its channel, over a bounded cache of channel
//! settings.
//!
//! - Settings are cached per channel for a TTL. When a presented key does not match (or the
//!   channel is unknown), the settings are read again once — so a rotated key works without
//!   a redeploy — but not more often than every `recheck_after`.
//! - Channels that do not exist are remembered for [`NEGATIVE_TTL`]; the cache holds at most
//!   `max_entries`; and reading a channel not known to exist spends a token of a small
//!   allowance (`unknown_lookups_per_minute`), so a flood of made-up channel names costs a
//!   bounded number of Secrets Manager calls per minute and bounded memory.
//! - Stale-if-error: when a refresh fails (a Secrets Manager blip, a broken edit), the last
//!   good settings are served for up to `stale_for` and the failure is logged; only a
//!   channel never read successfully answers 503.

use super::{ChannelId, ChannelSettings, ChannelStore, StoreError};
use crate::telemetry::error_chain;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A payload that carries the channel's API key.
pub trait Presented {
    fn api_key(&self) -> Option<&SecretString>;
}

/// A payload whose key matched its channel's. Only [`Channels::authenticate`] makes
/// one, so event building cannot forget the check.
#[derive(Debug)]
pub struct Authenticated<T> {
    channel: ChannelId,
    settings: Arc<ChannelSettings>,
    payload: T,
}

impl<T> Authenticated<T> {
    /// A payload the bridge read itself from Qapla's API with the channel's own key
    /// (backfill, reconciliation): there is no presented key to check.
    pub(crate) fn pulled(channel: ChannelId, settings: Arc<ChannelSettings>, payload: T) -> Self {
        Authenticated {
            channel,
            settings,
            payload,
        }
    }

    pub fn channel(&self) -> &ChannelId {
        &self.channel
    }
    pub fn settings(&self) -> &ChannelSettings {
        &self.settings
    }
    pub fn payload(&self) -> &T {
        &self.payload
    }
}

/// Why a webhook was not authenticated. The first three look the same to the caller.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no apiKey in the payload")]
    MissingKey,
    #[error("unknown channel")]
    UnknownChannel,
    #[error("apiKey does not match the channel's")]
    WrongKey,
    /// A channel not known to exist, not looked up: the allowance for such look-ups is used up.
    #[error("unknown channel (look-ups of unknown channels used up)")]
    LookupThrottled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long a channel found not to exist is remembered.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(60);

/// Bounds of the settings cache (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct CacheLimits {
    pub max_entries: usize,
    pub unknown_lookups_per_minute: u32,
    pub stale_for: Duration,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            max_entries: 1000,
            unknown_lookups_per_minute: 60,
            stale_for: Duration::from_secs(24 * 3600),
        }
    }
}

struct Cached {
    /// `None`: the channel does not exist.
    settings: Option<Arc<ChannelSettings>>,
    /// When this answer was read.
    loaded: Instant,
    /// A refresh failed: serve this (stale) answer without asking again until then.
    retry_at: Option<Instant>,
}

/// The tokens left for look-ups of unknown channels, as of the last take.
struct LookupAllowance {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<ChannelId, Cached>,
    unknown_lookups: Option<LookupAllowance>,
}

/// Cached channel settings and the key check.
pub struct Channels {
    store: Arc<dyn ChannelStore>,
    ttl: Duration,
    recheck_after: Duration,
    limits: CacheLimits,
    cache: Mutex<Cache>,
}

/// What a look-up found: the settings, and the age of the cached copy (`None`: just read).
type Found = (Option<Arc<ChannelSettings>>, Option<Duration>);

impl Channels {
    pub fn new(store: Arc<dyn ChannelStore>, ttl: Duration, recheck_after: Duration) -> Self {
        Self::with_limits(store, ttl, recheck_after, CacheLimits::default())
    }

    pub fn with_limits(
        store: Arc<dyn ChannelStore>,
        ttl: Duration,
        recheck_after: Duration,
        limits: CacheLimits,
    ) -> Self {
        Channels {
            store,
            ttl,
            recheck_after,
            limits,
            cache: Mutex::default(),
        }
    }

    /// Channels currently cached (existing or not).
    pub fn cached_channels(&self) -> usize {
        self.lock().entries.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The channel's settings, from the cache while younger than the TTL.
    pub async fn settings(
        &self,
        channel: &ChannelId,
    ) -> Result<Option<Arc<ChannelSettings>>, AuthError> {
        Ok(self.cached_or_load(channel).await?.0)
    }

    /// Check the payload's key against the channel's.
    pub async fn authenticate<T: Presented>(
        &self,
        channel: ChannelId,
        payload: T,
    ) -> Result<Authenticated<T>, AuthError> {
        let key = payload.api_key().ok_or(AuthError::MissingKey)?;
        let (mut settings, age) = self.cached_or_load(&channel).await?;
        let matches = settings.as_ref().is_some_and(|s| s.key_matches(key));
        // `age` is None when the settings were read just now: no point reading them again.
        if !matches && age.is_some_and(|age| age >= self.recheck_after) {
            tracing::info!(channel = %channel, "key mismatch or unknown channel: re-reading channel settings");
            settings = self.load(&channel).await?.0;
        }
        match settings {
            None => Err(AuthError::UnknownChannel),
            Some(s) if s.key_matches(key) => {
                if s.is_previous_key(key) {
                    tracing::warn!(channel = %channel, "accepted with qaplaApiKeyPrevious: Qapla' still sends the key being rotated out");
                }
                Ok(Authenticated {
                    channel,
                    settings: s,
                    payload,
                })
            }
            Some(_) => Err(AuthError::WrongKey),
        }
    }

    async fn cached_or_load(&self, channel: &ChannelId) -> Result<Found, AuthError> {
        let hit = {
            let cache = self.lock();
            cache.entries.get(channel).and_then(|c| {
                let age = c.loaded.elapsed();
                let ttl = if c.settings.is_some() {
                    self.ttl
                } else {
                    NEGATIVE_TTL
                };
                let waiting = c.retry_at.is_some_and(|t| Instant::now() < t);
                (age < ttl || waiting).then(|| (c.settings.clone(), Some(age)))
            })
        };
        match hit {
            Some(hit) => Ok(hit),
            None => self.load(channel).await,
        }
    }

    /// Read the channel's settings from the store, within the allowance for channels not known
    /// to exist, falling back to the last good settings when the read fails.
    async fn load(&self, channel: &ChannelId) -> Result<Found, AuthError> {
        let last_good = {
            let mut cache = self.lock();
            if let Some(c) = cache.entries.get(channel)
                && c.retry_at.is_some_and(|t| Instant::now() < t)
            {
                // A refresh failed moments ago: do not ask the store again yet.
                return Ok((c.settings.clone(), Some(c.loaded.elapsed())));
            }
            let known = cache.entries.get(channel).and_then(|c| {
                let age = c.loaded.elapsed();
                c.settings.clone().map(|s| (s, age))
            });
            if known.is_none() && !self.spend_unknown_lookup(&mut cache) {
                return Err(AuthError::LookupThrottled);
            }
            known.filter(|(_, age)| *age < self.limits.stale_for)
        };
        match self.store.load(channel).await {
            Ok(settings) => {
                let settings = settings.map(Arc::new);
                self.insert(channel, settings.clone());
                Ok((settings, None))
            }
            Err(error) => {
                let Some((settings, age)) = last_good else {
                    return Err(error.into());
                };
                tracing::warn!(
                    channel = %channel,
                    error = %error_chain(&error),
                    stale_secs = age.as_secs(),
                    "channel settings could not be refreshed: serving the last good ones"
                );
                if let Some(c) = self.lock().entries.get_mut(channel) {
                    c.retry_at =
                        Some(Instant::now() + self.recheck_after.max(Duration::from_secs(1)));
                }
                Ok((Some(settings), Some(age)))
            }
        }
    }

    fn spend_unknown_lookup(&self, cache: &mut Cache) -> bool {
        let per_minute = f64::from(self.limits.unknown_lookups_per_minute);
        let allowance = cache.unknown_lookups.get_or_insert(LookupAllowance {
            tokens: per_minute,
            at: Instant::now(),
        });
        let bucket = crate::bucket::Bucket {
            burst: per_minute,
            per_second: per_minute / 60.0,
        };
        let elapsed = allowance.at.elapsed();
        allowance.at = Instant::now();
        match bucket.take(allowance.tokens, elapsed, 0.0) {
            Ok(left) => {
                allowance.tokens = left;
                true
            }
            Err(_) => {
                allowance.tokens = bucket.refill(allowance.tokens, elapsed);
                false
            }
        }
    }

    fn insert(&self, channel: &ChannelId, settings: Option<Arc<ChannelSettings>>) {
        let mut cache = self.lock();
        let entries = &mut cache.entries;
        if entries.len() >= self.limits.max_entries && !entries.contains_key(channel) {
            // Forget channels that do not exist first, then the oldest answers.
            entries.retain(|_, c| c.settings.is_some());
            while entries.len() >= self.limits.max_entries {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, c)| c.loaded)
                    .map(|(id, _)| id.clone());
                match oldest {
                    Some(id) => entries.remove(&id),
                    None => break,
                };
            }
        }
        entries.insert(
            channel.clone(),
            Cached {
                settings,
                loaded: Instant::now(),
                retry_at: None,
            },
        );
    }
}
