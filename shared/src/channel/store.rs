//! Where channel settings live: AWS Secrets Manager in production (`crate::aws::SecretsManagerStore`),
//! an in-memory map (filled from a local JSON file) for local runs and tests.

use super::{ChannelId, ChannelSettings, SettingsError};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::RwLock;

/// A source of channel settings. `Ok(None)`: the channel does not exist.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn load(&self, channel: &ChannelId) -> Result<Option<ChannelSettings>, StoreError>;

    /// Every channel the store holds, sorted (a store that cannot list them says so).
    async fn channels(&self) -> Result<Vec<ChannelId>, StoreError> {
        Err(StoreError::Unavailable(
            "this channel store does not list its channels".into(),
        ))
    }

    /// Where a channel's settings are kept, for messages (a secret's name).
    fn name_of(&self, channel: &ChannelId) -> String {
        channel.to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be asked (network, throttling, permissions): try again later.
    #[error("channel settings store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The channel's secret exists but does not hold valid settings.
    #[error("invalid channel settings")]
    Invalid(#[from] SettingsError),
}

/// Channel settings held in memory as secret JSON texts, parsed on each load like a secret.
#[derive(Default)]
pub struct MemoryStore {
    secrets: RwLock<HashMap<ChannelId, String>>,
}

impl MemoryStore {
    /// Read `{"<channel>": {<settings>}, ...}` from a local file (the embedded default for
    /// local runs: `CHANNELS_FILE`).
    pub fn from_file(path: &std::path::Path) -> Result<Self, std::io::Error> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    /// The same JSON as [`from_file`](Self::from_file), inline (`CHANNELS_JSON`).
    pub fn from_json(text: &str) -> Result<Self, std::io::Error> {
        let map: HashMap<String, serde_json::Value> = serde_json::from_str(text)?;
        let store = MemoryStore::default();
        for (channel, settings) in map {
            let id = ChannelId::try_from(channel.as_str())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            store.put(id, settings.to_string());
        }
        Ok(store)
    }

    /// Create or replace (rotate) a channel's secret text.
    pub fn put(&self, channel: ChannelId, secret_json: String) {
        self.secrets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(channel, secret_json);
    }

    /// Delete a channel's secret.
    pub fn remove(&self, channel: &ChannelId) {
        self.secrets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(channel);
    }
}

#[async_trait]
impl ChannelStore for MemoryStore {
    async fn load(&self, channel: &ChannelId) -> Result<Option<ChannelSettings>, StoreError> {
        let text = self
            .secrets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(channel)
            .cloned();
        Ok(text.map(|t| ChannelSettings::from_json(&t)).transpose()?)
    }

    async fn channels(&self) -> Result<Vec<ChannelId>, StoreError> {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut channels: Vec<ChannelId> = secrets.keys().cloned().collect();
        channels.sort();
        Ok(channels)
    }
}
