//! Process configuration, read once from the environment at cold start.
//!
//! Every variable is optional; the defaults (in [`Config::default`]) are those of the SAM
//! template. A malformed value fails start-up with a message naming the variable. What is
//! built from it (clients, adapters, the functions' dependencies) is in `wiring.rs`.

mod aws;
mod wiring;

pub use aws::AwsEnvironment;
pub use wiring::Bridge;

use crate::channel::CacheLimits;
use crate::delivery::{RetryPolicy, WorkerPolicy};
use std::path::PathBuf;
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
    /// Secrets Manager fails (see `channel::Channels`).
    pub cache_limits: CacheLimits,
    /// `MAX_BODY_BYTES`: larger posts are refused with 413.
    pub max_body_bytes: usize,
    /// `ALLOWED_SENDERS`: comma-separated addresses or CIDR ranges the webhooks accept posts
    /// from (Qapla's published list: [`QAPLA_SENDERS`](crate::webhook::QAPLA_SENDERS));
    /// unset or blank: any sender.
    pub senders: crate::webhook::Senders,
    /// `CONNECTIF_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `CONNECTIF_TIMEOUT_MS`: whole request, connection included.
    pub request_timeout: Duration,
    /// `DELIVERY_RETRY_DELAYS_MS`: comma-separated waits between in-process tries.
    pub retry: RetryPolicy,
    /// `HAND_OFF_QUEUE_URL`: the SQS FIFO queue webhooks write to. Unset: in-process
    /// delivery (local runs).
    pub queue_url: Option<String>,
    /// `BACKFILL_QUEUE_URL`: the SQS FIFO work queue of background backfill runs.
    pub backfill_queue_url: Option<String>,
    /// `DEAD_LETTER_QUEUE_URL`: where the delivery worker moves events it gives up on.
    pub dead_letter_url: Option<String>,
    /// `STATE_TABLE`: DynamoDB table of delivered events and newest statuses (worker).
    pub state_table: Option<String>,
    /// `IDEMPOTENCY_TTL_DAYS`: how long a delivered event is remembered.
    pub idempotency_ttl: Duration,
    /// `DELIVERY_BASE_DELAY_SECONDS`, `DELIVERY_MAX_DELAY_SECONDS` (backoff, doubling) and
    /// `DELIVERY_MAX_AGE_HOURS` (then dead-letter) of the worker.
    pub worker: WorkerPolicy,
    /// `RECONCILE_INTERVAL_MINUTES` (the schedule's period), `RECONCILE_OVERLAP_MINUTES`,
    /// `RECONCILE_LAG_MINUTES` of the reconciler.
    pub reconcile: crate::history::reconcile::Timing,
    /// `QAPLA_API_BUDGET` (`<burst>,<per second>`): the bucket of Qapla' API calls per key;
    /// Qapla's own unless set (for a Qapla' stand-in in tests and benchmarks).
    pub qapla_bucket: crate::qapla::pace::Bucket,
    /// `AWS_REGION`, the role's credentials and `AWS_ENDPOINT_URL`, as Lambda sets them.
    pub aws: AwsEnvironment,
    /// `AWS_PRECONNECT_MS`: how long a webhook's Init waits for the connections to SQS and
    /// Secrets Manager it opens (at once) so that its first post finds them ready; 0: they
    /// are opened by the first post.
    pub preconnect: Duration,
    /// `RELEASE_LINK_SECRET`: the Secrets Manager secret holding the release link key (the
    /// stack generates it); `RELEASE_LINK_KEY`: the key itself, for local runs only.
    pub release_link_secret: Option<String>,
    pub release_link_key: Option<secrecy::SecretString>,
    /// `RELEASE_BASE_URL`: the stack's API, where release links point (`/release/{token}`).
    pub release_base_url: Option<String>,
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
            senders: crate::webhook::Senders::anyone(),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(8),
            retry: RetryPolicy::in_process(),
            queue_url: None,
            backfill_queue_url: None,
            dead_letter_url: None,
            state_table: None,
            idempotency_ttl: Duration::from_secs(30 * 86_400),
            worker: WorkerPolicy::production(),
            reconcile: Default::default(),
            qapla_bucket: crate::qapla::pace::QAPLA,
            aws: AwsEnvironment::default(),
            preconnect: Duration::from_secs(1),
            release_link_secret: None,
            release_link_key: None,
            release_base_url: None,
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
        let v = Vars(get);
        let mut c = Config::default();
        if let Some(p) = v.text("SECRET_PREFIX") {
            c.secret_prefix = p.trim().trim_end_matches('/').to_owned();
        }
        c.channels_file = v.text("CHANNELS_FILE").map(PathBuf::from);
        c.channels_json = v.text("CHANNELS_JSON");
        set(
            &mut c.secret_ttl,
            v.duration("SECRET_CACHE_TTL_SECONDS", SECOND)?,
        );
        set(
            &mut c.secret_recheck,
            v.duration("SECRET_RECHECK_SECONDS", SECOND)?,
        );
        if let Some(n) = v.number("UNKNOWN_CHANNEL_LOOKUPS_PER_MINUTE")? {
            c.cache_limits.unknown_lookups_per_minute = u32::try_from(n).unwrap_or(u32::MAX);
        }
        set(
            &mut c.cache_limits.stale_for,
            v.duration("SECRET_STALE_HOURS", HOUR)?,
        );
        if let Some(n) = v.number("MAX_BODY_BYTES")? {
            c.max_body_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        set(&mut c.senders, senders(&v)?);
        set(
            &mut c.connect_timeout,
            v.duration("CONNECTIF_CONNECT_TIMEOUT_MS", MILLI)?,
        );
        set(
            &mut c.request_timeout,
            v.duration("CONNECTIF_TIMEOUT_MS", MILLI)?,
        );
        if let Some(list) = v.text("DELIVERY_RETRY_DELAYS_MS") {
            c.retry.delays = list
                .split(',')
                .map(|v| v.trim().parse::<u64>().map(Duration::from_millis))
                .collect::<Result<_, _>>()
                .map_err(|_| ConfigError {
                    variable: "DELIVERY_RETRY_DELAYS_MS",
                    problem: "must be comma-separated whole milliseconds".into(),
                })?;
        }
        c.queue_url = v.text("HAND_OFF_QUEUE_URL");
        c.dead_letter_url = v.text("DEAD_LETTER_QUEUE_URL");
        c.backfill_queue_url = v.text("BACKFILL_QUEUE_URL");
        c.state_table = v.text("STATE_TABLE");
        set(
            &mut c.idempotency_ttl,
            v.duration("IDEMPOTENCY_TTL_DAYS", DAY)?,
        );
        c.worker = worker_policy(&v)?;
        reconcile_timing(&v, &mut c.reconcile)?;
        set(&mut c.qapla_bucket, qapla_bucket(&v)?);
        c.aws = AwsEnvironment::from_lookup(|name| v.text(name));
        set(&mut c.preconnect, v.duration("AWS_PRECONNECT_MS", MILLI)?);
        Ok(release_links(&v, c))
    }
}

/// `RELEASE_LINK_SECRET`, `RELEASE_LINK_KEY`, `RELEASE_BASE_URL`.
fn release_links<F: Fn(&str) -> Option<String>>(v: &Vars<F>, c: Config) -> Config {
    Config {
        release_link_secret: v.text("RELEASE_LINK_SECRET"),
        release_link_key: v.text("RELEASE_LINK_KEY").map(secrecy::SecretString::from),
        release_base_url: v.text("RELEASE_BASE_URL"),
        ..c
    }
}

const MILLI: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// Environment variables by name: blank is unset; numbers are whole and non-negative.
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn text(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn number(&self, name: &'static str) -> Result<Option<u64>, ConfigError> {
        let parse = |v: String| {
            v.trim().parse::<u64>().map_err(|_| ConfigError {
                variable: name,
                problem: "must be a whole number".into(),
            })
        };
        self.text(name).map(parse).transpose()
    }

    /// A number of `unit`s.
    fn duration(
        &self,
        name: &'static str,
        unit: Duration,
    ) -> Result<Option<Duration>, ConfigError> {
        let times = |n: u64| unit.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
        Ok(self.number(name)?.map(times))
    }
}

/// `ALLOWED_SENDERS`, when set.
fn senders<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
) -> Result<Option<crate::webhook::Senders>, ConfigError> {
    let parse = |list: String| {
        crate::webhook::Senders::parse(&list).map_err(|e| ConfigError {
            variable: "ALLOWED_SENDERS",
            problem: e.to_string(),
        })
    };
    v.text("ALLOWED_SENDERS").map(parse).transpose()
}

/// `QAPLA_API_BUDGET`, when set.
fn qapla_bucket<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
) -> Result<Option<crate::qapla::pace::Bucket>, ConfigError> {
    let parse = |text: String| {
        crate::qapla::pace::parse_bucket(&text).ok_or(ConfigError {
            variable: "QAPLA_API_BUDGET",
            problem: "must be `<burst of at least 1>,<calls per second above 0>`".into(),
        })
    };
    v.text("QAPLA_API_BUDGET").map(parse).transpose()
}

/// The reconciler's `RECONCILE_INTERVAL_MINUTES`, `_OVERLAP_MINUTES` and `_LAG_MINUTES`.
fn reconcile_timing<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
    r: &mut crate::history::reconcile::Timing,
) -> Result<(), ConfigError> {
    set(
        &mut r.interval,
        v.duration("RECONCILE_INTERVAL_MINUTES", MINUTE)?,
    );
    set(
        &mut r.overlap,
        v.duration("RECONCILE_OVERLAP_MINUTES", MINUTE)?,
    );
    set(&mut r.lag, v.duration("RECONCILE_LAG_MINUTES", MINUTE)?);
    Ok(())
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// The worker's backoff (`DELIVERY_BASE_DELAY_SECONDS`, `DELIVERY_MAX_DELAY_SECONDS`, at most
/// 12 h, SQS's limit) and age limit (`DELIVERY_MAX_AGE_HOURS`).
fn worker_policy<F: Fn(&str) -> Option<String>>(v: &Vars<F>) -> Result<WorkerPolicy, ConfigError> {
    let mut policy = WorkerPolicy::production();
    let base = v.duration("DELIVERY_BASE_DELAY_SECONDS", SECOND)?;
    let cap = v.duration("DELIVERY_MAX_DELAY_SECONDS", SECOND)?;
    if base.is_some() || cap.is_some() {
        let default = &policy.backoff;
        let base = base.unwrap_or(default.delays[0]);
        let cap = cap
            .unwrap_or(default.max_retry_after)
            .min(Duration::from_secs(43_200));
        policy.backoff = RetryPolicy::exponential(base, cap);
    }
    set(
        &mut policy.max_age,
        v.duration("DELIVERY_MAX_AGE_HOURS", HOUR)?,
    );
    Ok(policy)
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
        let c = from(&[("ALLOWED_SENDERS", crate::webhook::QAPLA_SENDERS)]).expect("valid");
        assert!(c.senders.restricted() && c.senders.allows("35.195.158.219"));
        let err = from(&[("ALLOWED_SENDERS", "34.96.89.1,qapla")]).expect_err("invalid");
        assert_eq!(err.variable, "ALLOWED_SENDERS");
        assert!(err.problem.contains("`qapla`"), "{}", err.problem);
        let c = from(&[
            ("DELIVERY_BASE_DELAY_SECONDS", "1"),
            ("DELIVERY_MAX_DELAY_SECONDS", "4"),
            ("DELIVERY_MAX_AGE_HOURS", "72"),
        ])
        .expect("valid");
        assert_eq!(c.worker.backoff.delays, [1, 2, 4].map(Duration::from_secs));
        assert_eq!(c.worker.max_age, Duration::from_secs(72 * 3600));
        let c = from(&[("QAPLA_API_BUDGET", "12, 2")]).expect("valid");
        assert_eq!(
            (c.qapla_bucket.burst, c.qapla_bucket.per_second),
            (12.0, 2.0)
        );
        assert_eq!(
            from(&[]).expect("defaults").qapla_bucket,
            crate::qapla::pace::QAPLA
        );
        let err = from(&[("QAPLA_API_BUDGET", "lots")]).expect_err("invalid");
        assert_eq!(err.variable, "QAPLA_API_BUDGET");
    }

    #[tokio::test]
    async fn the_worker_names_each_missing_variable() {
        let err = from(&[])
            .expect("defaults")
            .bridge()
            .worker()
            .err()
            .expect("incomplete");
        assert_eq!(err.variable, "HAND_OFF_QUEUE_URL");
        let c = from(&[
            ("HAND_OFF_QUEUE_URL", "http://127.0.0.1:1/q"),
            ("DEAD_LETTER_QUEUE_URL", "http://127.0.0.1:1/d"),
        ])
        .expect("valid");
        assert_eq!(
            c.bridge().worker().err().expect("incomplete").variable,
            "STATE_TABLE"
        );
    }

    #[tokio::test]
    async fn local_mode_builds_every_function_from_inline_channels_without_aws() {
        let channels = r#"{"it": {"qaplaApiKey": "k", "trackingUrlTemplate": "https://t.example/{trackingNumber}",
            "connectif": {"mode": "api", "apiKey": "a:b", "baseUrl": "http://127.0.0.1:9"}}}"#;
        let c = from(&[("CHANNELS_JSON", channels), ("HAND_OFF_QUEUE_URL", "")]).expect("valid");
        assert!(c.is_local());
        assert!(c.bridge().webhook_deps().await.is_ok());
        assert!(c.bridge().worker().is_ok());
        let err = from(&[("CHANNELS_JSON", "{not json")])
            .expect("valid")
            .bridge()
            .worker()
            .err()
            .expect("unreadable");
        assert_eq!(err.variable, "CHANNELS_JSON");
    }
}
