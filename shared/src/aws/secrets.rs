//! The channels' settings in AWS Secrets Manager: one secret per channel, `<prefix>/<channel>`.

use crate::channel::{ChannelId, ChannelSettings, ChannelStore, SettingsError, StoreError};
use async_trait::async_trait;

/// Secrets Manager's HTTPS endpoint in `region` (or `endpoint`, when one is set), from the
/// SDK's own endpoint rules; `None` if they give none.
pub async fn endpoint(region: &str, endpoint: Option<String>) -> Option<reqwest::Url> {
    use aws_sdk_secretsmanager::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let params = Params::builder()
        .region(region)
        .set_endpoint(endpoint)
        .build()
        .ok()?;
    let endpoint = DefaultResolver::new()
        .resolve_endpoint(&params)
        .await
        .ok()?;
    reqwest::Url::parse(endpoint.url()).ok()
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
}

#[async_trait]
impl ChannelStore for SecretsManagerStore {
    fn name_of(&self, channel: &ChannelId) -> String {
        self.secret_name(channel)
    }

    /// Every channel with a secret under the prefix (names that are not channel ids, or
    /// are scheduled for deletion, are left out).
    async fn channels(&self) -> Result<Vec<ChannelId>, StoreError> {
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
