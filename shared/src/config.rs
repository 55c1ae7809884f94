//! Process configuration, read once from the environment at cold start.
//!
//! Every variable is optional; the defaults (in [`Config::default`]) are those of the SAM
//! template. A malformed value fails start-up with a message naming the variable.

use crate::channel::{Authenticator, ChannelStore, MemoryStore, SecretsManagerStore};
use crate::connectif::ConnectifClient;
use crate::delivery::{Deliverer, InProcessHandOff, RetryPolicy};
use crate::webhook::Deps;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// `SECRET_PREFIX`: channel secrets are named `<prefix>/<channel>`.
    pub secret_prefix: String,
    /// `CHANNELS_FILE`: read channel settings from this local JSON file
    /// (`{"<channel>": {<secret JSON>}}`) instead of Secrets Manager. For local runs.
    pub channels_file: Option<PathBuf>,
    /// `SECRET_CACHE_TTL_SECONDS`: how long channel settings are cached.
    pub secret_ttl: Duration,
    /// `SECRET_RECHECK_SECONDS`: on a key mismatch, settings older than this are re-read
    /// once (picks up a rotated key; bounds reads caused by wrong keys).
    pub secret_recheck: Duration,
    /// `MAX_BODY_BYTES`: larger posts are refused with 413.
    pub max_body_bytes: usize,
    /// `CONNECTIF_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `CONNECTIF_TIMEOUT_MS`: whole request, connection included.
    pub request_timeout: Duration,
    /// `DELIVERY_RETRY_DELAYS_MS`: comma-separated waits between in-process tries.
    pub retry: RetryPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secret_prefix: "qapla-connectif".into(),
            channels_file: None,
            secret_ttl: Duration::from_secs(300),
            secret_recheck: Duration::from_secs(10),
            max_body_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(8),
            retry: RetryPolicy::in_process(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Build from any variable lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = Config::default();
        let var = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let number = |name: &'static str| -> Result<Option<u64>, ConfigError> {
            var(name)
                .map(|v| {
                    v.trim().parse::<u64>().map_err(|_| ConfigError {
                        variable: name,
                        problem: "must be a whole number".into(),
                    })
                })
                .transpose()
        };
        if let Some(p) = var("SECRET_PREFIX") {
            c.secret_prefix = p.trim().trim_end_matches('/').to_owned();
        }
        c.channels_file = var("CHANNELS_FILE").map(PathBuf::from);
        if let Some(s) = number("SECRET_CACHE_TTL_SECONDS")? {
            c.secret_ttl = Duration::from_secs(s);
        }
        if let Some(s) = number("SECRET_RECHECK_SECONDS")? {
            c.secret_recheck = Duration::from_secs(s);
        }
        if let Some(n) = number("MAX_BODY_BYTES")? {
            c.max_body_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(ms) = number("CONNECTIF_CONNECT_TIMEOUT_MS")? {
            c.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = number("CONNECTIF_TIMEOUT_MS")? {
            c.request_timeout = Duration::from_millis(ms);
        }
        if let Some(list) = var("DELIVERY_RETRY_DELAYS_MS") {
            c.retry.delays = list
                .split(',')
                .map(|v| v.trim().parse::<u64>().map(Duration::from_millis))
                .collect::<Result<_, _>>()
                .map_err(|_| ConfigError {
                    variable: "DELIVERY_RETRY_DELAYS_MS",
                    problem: "must be comma-separated whole milliseconds".into(),
                })?;
        }
        Ok(c)
    }

    /// The channel settings store this configuration names.
    pub async fn channel_store(&self) -> Result<Arc<dyn ChannelStore>, ConfigError> {
        Ok(match &self.channels_file {
            Some(path) => Arc::new(MemoryStore::from_file(path).map_err(|e| ConfigError {
                variable: "CHANNELS_FILE",
                problem: format!("cannot read channel settings: {e}"),
            })?),
            None => {
                let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                let client = aws_sdk_secretsmanager::Client::new(&aws);
                Arc::new(SecretsManagerStore::new(client, self.secret_prefix.clone()))
            }
        })
    }

    /// Everything a webhook function needs: settings cache, Connectif client, hand-off.
    pub async fn webhook_deps(&self) -> Result<Deps, ConfigError> {
        let channels = Arc::new(Authenticator::new(
            self.channel_store().await?,
            self.secret_ttl,
            self.secret_recheck,
        ));
        let client =
            ConnectifClient::new(self.connect_timeout, self.request_timeout).map_err(|e| {
                ConfigError {
                    variable: "CONNECTIF_TIMEOUT_MS",
                    problem: format!("cannot build the HTTP client: {e}"),
                }
            })?;
        let hand_off =
            InProcessHandOff::new(Deliverer::new(channels.clone(), client), self.retry.clone());
        Ok(Deps {
            channels,
            hand_off: Arc::new(hand_off),
            max_body_bytes: self.max_body_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = from(&[]).expect("defaults");
        assert_eq!(c.secret_prefix, "qapla-connectif");
        assert_eq!(c.max_body_bytes, 1_048_576);
        assert_eq!(c.retry, RetryPolicy::in_process());
    }

    #[test]
    fn variables_override_and_bad_values_name_the_variable() {
        let c = from(&[
            ("SECRET_PREFIX", "shop/"),
            ("DELIVERY_RETRY_DELAYS_MS", "1, 2"),
        ])
        .expect("valid");
        assert_eq!(c.secret_prefix, "shop");
        assert_eq!(
            c.retry.delays,
            vec![Duration::from_millis(1), Duration::from_millis(2)]
        );
        let err = from(&[("MAX_BODY_BYTES", "lots")]).expect_err("invalid");
        assert_eq!(err.variable, "MAX_BODY_BYTES");
    }
}
