//! Process configuration, read once from the environment at cold start.
//!
//! Every variable is optional; the defaults (in [`Config::default`]) are those of the SAM
//! template. A malformed value fails start-up with a message naming the variable.

use crate::channel::{Authenticator, CacheLimits, ChannelStore, MemoryStore, SecretsManagerStore};
use crate::connectif::ConnectifClient;
use crate::delivery::state::{DynamoState, MemoryState};
use crate::delivery::{
    Deliverer, HandOff, InProcessHandOff, MemoryQueue, RetryPolicy, SqsQueue, Worker, WorkerPolicy,
};
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
    /// `CHANNELS_JSON`: the same JSON inline (for `sam local invoke --env-vars`, where a
    /// file of the host is not inside the container).
    pub channels_json: Option<String>,
    /// `SECRET_CACHE_TTL_SECONDS`: how long channel settings are cached.
    pub secret_ttl: Duration,
    /// `SECRET_RECHECK_SECONDS`: on a key mismatch, settings older than this are re-read
    /// once (picks up a rotated key; bounds reads caused by wrong keys).
    pub secret_recheck: Duration,
    /// `UNKNOWN_CHANNEL_LOOKUPS_PER_MINUTE`, `SECRET_STALE_HOURS`: reads of channels not
    /// known to exist per minute, and how long the last good settings are served while
    /// Secrets Manager fails (see `channel::Authenticator`).
    pub cache_limits: CacheLimits,
    /// `MAX_BODY_BYTES`: larger posts are refused with 413.
    pub max_body_bytes: usize,
    /// `CONNECTIF_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `CONNECTIF_TIMEOUT_MS`: whole request, connection included.
    pub request_timeout: Duration,
    /// `DELIVERY_RETRY_DELAYS_MS`: comma-separated waits between in-process tries.
    pub retry: RetryPolicy,
    /// `HAND_OFF_QUEUE_URL`: the SQS FIFO queue webhooks write to. Unset: in-process
    /// delivery (local runs).
    pub queue_url: Option<String>,
    /// `DEAD_LETTER_QUEUE_URL`: where the delivery worker moves events it gives up on.
    pub dead_letter_url: Option<String>,
    /// `STATE_TABLE`: DynamoDB table of delivered events and newest statuses (worker).
    pub state_table: Option<String>,
    /// `IDEMPOTENCY_TTL_DAYS`: how long a delivered event is remembered.
    pub idempotency_ttl: Duration,
    /// `DELIVERY_BASE_DELAY_SECONDS`, `DELIVERY_MAX_DELAY_SECONDS` (backoff, doubling) and
    /// `DELIVERY_MAX_AGE_HOURS` (then dead-letter) of the worker.
    pub worker: WorkerPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secret_prefix: "qapla-connectif".into(),
            channels_file: None,
            channels_json: None,
            secret_ttl: Duration::from_secs(300),
            secret_recheck: Duration::from_secs(10),
            cache_limits: CacheLimits::default(),
            max_body_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(8),
            retry: RetryPolicy::in_process(),
            queue_url: None,
            dead_letter_url: None,
            state_table: None,
            idempotency_ttl: Duration::from_secs(30 * 86_400),
            worker: WorkerPolicy::production(),
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
        c.channels_json = var("CHANNELS_JSON");
        if let Some(s) = number("SECRET_CACHE_TTL_SECONDS")? {
            c.secret_ttl = Duration::from_secs(s);
        }
        if let Some(s) = number("SECRET_RECHECK_SECONDS")? {
            c.secret_recheck = Duration::from_secs(s);
        }
        if let Some(n) = number("UNKNOWN_CHANNEL_LOOKUPS_PER_MINUTE")? {
            c.cache_limits.unknown_lookups_per_minute = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(hours) = number("SECRET_STALE_HOURS")? {
            c.cache_limits.stale_for = Duration::from_secs(hours * 3600);
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
        c.queue_url = var("HAND_OFF_QUEUE_URL");
        c.dead_letter_url = var("DEAD_LETTER_QUEUE_URL");
        c.state_table = var("STATE_TABLE");
        if let Some(days) = number("IDEMPOTENCY_TTL_DAYS")? {
            c.idempotency_ttl = Duration::from_secs(days * 86_400);
        }
        let base = number("DELIVERY_BASE_DELAY_SECONDS")?.map(Duration::from_secs);
        let cap = number("DELIVERY_MAX_DELAY_SECONDS")?.map(Duration::from_secs);
        if base.is_some() || cap.is_some() {
            let default = WorkerPolicy::production().backoff;
            let base = base.unwrap_or(default.delays[0]);
            let cap = cap
                .unwrap_or(default.max_retry_after)
                .min(Duration::from_secs(43_200));
            c.worker.backoff = RetryPolicy::exponential(base, cap);
        }
        if let Some(hours) = number("DELIVERY_MAX_AGE_HOURS")? {
            c.worker.max_age = Duration::from_secs(hours * 3600);
        }
        Ok(c)
    }

    fn required(value: &Option<String>, variable: &'static str) -> Result<String, ConfigError> {
        value.clone().ok_or(ConfigError {
            variable,
            problem: "must be set".into(),
        })
    }

    async fn aws() -> aws_config::SdkConfig {
        aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
    }

    fn connectif_client(&self) -> Result<ConnectifClient, ConfigError> {
        ConnectifClient::new(self.connect_timeout, self.request_timeout).map_err(|e| ConfigError {
            variable: "CONNECTIF_TIMEOUT_MS",
            problem: format!("cannot build the HTTP client: {e}"),
        })
    }

    fn channels(&self, store: Arc<dyn ChannelStore>) -> Arc<Authenticator> {
        Arc::new(Authenticator::with_limits(
            store,
            self.secret_ttl,
            self.secret_recheck,
            self.cache_limits.clone(),
        ))
    }

    /// Local mode: channel settings from `CHANNELS_FILE`/`CHANNELS_JSON` and no queue. It
    /// touches no AWS endpoint at all (not even to find a region or credentials).
    pub fn is_local(&self) -> bool {
        self.queue_url.is_none() && (self.channels_file.is_some() || self.channels_json.is_some())
    }

    /// The AWS configuration, loaded only when something needs AWS.
    async fn aws_unless_local(&self) -> Option<aws_config::SdkConfig> {
        if self.is_local() {
            None
        } else {
            Some(Self::aws().await)
        }
    }

    /// The delivery worker: SQS queue and dead-letter queue, DynamoDB state, Connectif. In
    /// local mode (no `HAND_OFF_QUEUE_URL`, channels from a file or inline JSON) the state
    /// and dead letters are kept in memory, for `sam local invoke` with the SQS samples.
    pub async fn worker(&self) -> Result<Worker, ConfigError> {
        let deliverer = |store| -> Result<Deliverer, ConfigError> {
            Ok(Deliverer::new(
                self.channels(store),
                self.connectif_client()?,
            ))
        };
        if self.is_local() {
            let local = MemoryQueue::new(Duration::ZERO);
            return Ok(Worker::new(
                deliverer(self.channel_store_with(None)?)?,
                Arc::new(MemoryState::default()),
                Arc::new(local),
                self.worker.clone(),
            ));
        }
        let queue_url = Self::required(&self.queue_url, "HAND_OFF_QUEUE_URL")?;
        let dead_letter_url = Self::required(&self.dead_letter_url, "DEAD_LETTER_QUEUE_URL")?;
        let table = Self::required(&self.state_table, "STATE_TABLE")?;
        let aws = Self::aws().await;
        let queue = SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            queue_url,
            Some(dead_letter_url),
        );
        let state = DynamoState::new(
            aws_sdk_dynamodb::Client::new(&aws),
            table,
            self.idempotency_ttl,
        );
        Ok(Worker::new(
            deliverer(self.channel_store_with(Some(&aws))?)?,
            Arc::new(state),
            Arc::new(queue),
            self.worker.clone(),
        ))
    }

    /// The channel settings store this configuration names.
    pub async fn channel_store(&self) -> Result<Arc<dyn ChannelStore>, ConfigError> {
        self.channel_store_with(self.aws_unless_local().await.as_ref())
    }

    fn channel_store_with(
        &self,
        aws: Option<&aws_config::SdkConfig>,
    ) -> Result<Arc<dyn ChannelStore>, ConfigError> {
        let unreadable = |variable, e: std::io::Error| ConfigError {
            variable,
            problem: format!("cannot read channel settings: {e}"),
        };
        if let Some(text) = &self.channels_json {
            let store = MemoryStore::from_json(text).map_err(|e| unreadable("CHANNELS_JSON", e))?;
            return Ok(Arc::new(store));
        }
        if let Some(path) = &self.channels_file {
            let store = MemoryStore::from_file(path).map_err(|e| unreadable("CHANNELS_FILE", e))?;
            return Ok(Arc::new(store));
        }
        let aws = aws.ok_or(ConfigError {
            variable: "CHANNELS_FILE",
            problem: "no channel settings source".into(),
        })?;
        let client = aws_sdk_secretsmanager::Client::new(aws);
        Ok(Arc::new(SecretsManagerStore::new(
            client,
            self.secret_prefix.clone(),
        )))
    }

    /// Everything a webhook function needs: settings cache and hand-off (SQS when
    /// `HAND_OFF_QUEUE_URL` is set, else in-process delivery).
    pub async fn webhook_deps(&self) -> Result<Deps, ConfigError> {
        let aws = self.aws_unless_local().await;
        let channels = self.channels(self.channel_store_with(aws.as_ref())?);
        let hand_off: Arc<dyn HandOff> = match (&self.queue_url, &aws) {
            (Some(url), Some(aws)) => Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(aws),
                url.clone(),
                None,
            )),
            _ => Arc::new(InProcessHandOff::new(
                Deliverer::new(channels.clone(), self.connectif_client()?),
                self.retry.clone(),
            )),
        };
        Ok(Deps {
            channels,
            hand_off,
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
        let c = from(&[
            ("DELIVERY_BASE_DELAY_SECONDS", "1"),
            ("DELIVERY_MAX_DELAY_SECONDS", "4"),
            ("DELIVERY_MAX_AGE_HOURS", "72"),
        ])
        .expect("valid");
        assert_eq!(c.worker.backoff.delays, [1, 2, 4].map(Duration::from_secs));
        assert_eq!(c.worker.max_age, Duration::from_secs(72 * 3600));
    }

    #[tokio::test]
    async fn the_worker_names_each_missing_variable() {
        let err = from(&[])
            .expect("defaults")
            .worker()
            .await
            .err()
            .expect("incomplete");
        assert_eq!(err.variable, "HAND_OFF_QUEUE_URL");
        let c = from(&[
            ("HAND_OFF_QUEUE_URL", "http://127.0.0.1:1/q"),
            ("DEAD_LETTER_QUEUE_URL", "http://127.0.0.1:1/d"),
        ])
        .expect("valid");
        assert_eq!(
            c.worker().await.err().expect("incomplete").variable,
            "STATE_TABLE"
        );
    }

    #[tokio::test]
    async fn local_mode_builds_every_function_from_inline_channels_without_aws() {
        let channels = r#"{"it": {"qaplaApiKey": "k", "trackingUrlTemplate": "https://t.example/{trackingNumber}",
            "connectif": {"mode": "api", "apiKey": "a:b", "baseUrl": "http://127.0.0.1:9"}}}"#;
        let c = from(&[("CHANNELS_JSON", channels), ("HAND_OFF_QUEUE_URL", "")]).expect("valid");
        assert!(c.is_local());
        assert!(c.webhook_deps().await.is_ok());
        assert!(c.worker().await.is_ok());
        let err = from(&[("CHANNELS_JSON", "{not json")])
            .expect("valid")
            .worker()
            .await
            .err()
            .expect("unreadable");
        assert_eq!(err.variable, "CHANNELS_JSON");
    }
}
