//! Where channel settings live: AWS Secrets Manager in production (`<prefix>/<channel>`),
//! an in-memory map (filled from a local JSON file) for local runs and tests.

use super::{ChannelId, ChannelSettings, SettingsError};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::RwLock;

/// A source of channel settings. `Ok(None)`: the channel does not exist.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn load(&self, channel: &ChannelId) -> Result<Option<ChannelSettings>, StoreError>;
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
}

/// Secrets Manager: one secret per channel, named `<prefix>/<channel>`.
pub struct SecretsManagerStore {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
}

impl SecretsManagerStore {
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: impl Into<String>) -> Self {
        SecretsManagerStore {
            client,
            prefix: prefix.into().trim_end_matches('/').to_owned(),
        }
    }

    pub fn secret_name(&self, channel: &ChannelId) -> String {
        format!("{}/{}", self.prefix, channel)
    }

    /// Every channel with a secret under the prefix (names that are not channel ids, or
    /// are scheduled for deletion, are left out).
    pub async fn channels(&self) -> Result<Vec<ChannelId>, StoreError> {
        use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
        let start = format!("{}/", self.prefix);
        let filter = Filter::builder()
            .key(FilterNameStringType::Name)
            .values(&start)
            .build();
        let mut pages = self
            .client
            .list_secrets()
            .filters(filter)
            .into_paginator()
            .send();
        let mut channels = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| StoreError::Unavailable(Box::new(e)))?;
            for secret in page.secret_list() {
                let channel = secret
                    .name()
                    .and_then(|n| n.strip_prefix(&start))
                    .filter(|_| secret.deleted_date().is_none())
                    .and_then(|c| ChannelId::try_from(c).ok());
                channels.extend(channel);
            }
        }
        channels.sort();
        channels.dedup();
        Ok(channels)
    }
}

#[async_trait]
impl ChannelStore for SecretsManagerStore {
    #[tracing::instrument(skip_all, fields(channel = %channel))]
    async fn load(&self, channel: &ChannelId) -> Result<Option<ChannelSettings>, StoreError> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(self.secret_name(channel))
            .send()
            .await;
        let output = match answer {
            Ok(output) => output,
            Err(err) => {
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception())
                {
                    return Ok(None);
                }
                return Err(StoreError::Unavailable(Box::new(err)));
            }
        };
        let text = output.secret_string().ok_or_else(|| SettingsError {
            field: ".".into(),
            problem: "the secret has no SecretString (binary secrets are not supported)".into(),
        })?;
        Ok(Some(ChannelSettings::from_json(text)?))
    }
}
