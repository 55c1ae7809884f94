//! Authentication of a webhook against its channel, over a cache of channel settings.
//!
//! Settings are cached per channel for a TTL. When a presented key does not match (or the
//! channel is unknown), the settings are read again once — so a rotated key works without a
//! redeploy — but not more often than every `recheck_after`, so a stream of wrong keys
//! cannot turn into a stream of Secrets Manager calls.

use super::{ChannelId, ChannelSettings, ChannelStore, StoreError};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A payload that carries the channel's API key.
pub trait Presented {
    fn api_key(&self) -> Option<&SecretString>;
}

/// A payload whose key matched its channel's. Only [`Authenticator::authenticate`] makes
/// one, so event building cannot forget the check.
#[derive(Debug)]
pub struct Authenticated<T> {
    channel: ChannelId,
    settings: Arc<ChannelSettings>,
    payload: T,
}

impl<T> Authenticated<T> {
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Cached {
    settings: Option<Arc<ChannelSettings>>,
    loaded: Instant,
}

/// Cached channel settings and the key check.
pub struct Authenticator {
    store: Arc<dyn ChannelStore>,
    ttl: Duration,
    recheck_after: Duration,
    cache: Mutex<HashMap<ChannelId, Cached>>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn ChannelStore>, ttl: Duration, recheck_after: Duration) -> Self {
        Authenticator {
            store,
            ttl,
            recheck_after,
            cache: Mutex::default(),
        }
    }

    /// The channel's settings, from the cache while younger than the TTL.
    pub async fn settings(
        &self,
        channel: &ChannelId,
    ) -> Result<Option<Arc<ChannelSettings>>, StoreError> {
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
            settings = self.load(&channel).await?;
        }
        match settings {
            None => Err(AuthError::UnknownChannel),
            Some(s) if s.key_matches(key) => Ok(Authenticated {
                channel,
                settings: s,
                payload,
            }),
            Some(_) => Err(AuthError::WrongKey),
        }
    }

    /// Settings and the age of the cached copy (`None` when just loaded).
    async fn cached_or_load(
        &self,
        channel: &ChannelId,
    ) -> Result<(Option<Arc<ChannelSettings>>, Option<Duration>), StoreError> {
        let hit = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.get(channel).and_then(|c| {
                let age = c.loaded.elapsed();
                (age < self.ttl).then(|| (c.settings.clone(), Some(age)))
            })
        };
        match hit {
            Some(hit) => Ok(hit),
            None => Ok((self.load(channel).await?, None)),
        }
    }

    async fn load(&self, channel: &ChannelId) -> Result<Option<Arc<ChannelSettings>>, StoreError> {
        let settings = self.store.load(channel).await?.map(Arc::new);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
            channel.clone(),
            Cached {
                settings: settings.clone(),
                loaded: Instant::now(),
            },
        );
        Ok(settings)
    }
}
