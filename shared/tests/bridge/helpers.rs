//! Shared test wiring: channel settings pointing at a local wiremock "Connectif", the
//! bridge's real dependencies around them, requests, and a real `moto_server`.

use async_trait::async_trait;
use bridge_core::channel::{ChannelId, ChannelSettings, ChannelStore, MemoryStore, StoreError};
pub use bridge_core::config::Config;
use bridge_core::delivery::{RetryPolicy, WorkerPolicy};
use bridge_core::webhook::{self, Deps, Webhook};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const IT_KEY: &str = "test-channel-key-it";
pub const ES_KEY: &str = "test-channel-key-es";
pub const CONNECTIF_API_KEY: &str = "key-id-1:key-secret-1";
/// Connect and total timeout towards the local fakes: generous, so a loaded CI machine
/// does not turn a normal answer into a timeout (and a legitimate extra try).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Longer than [`TEST_TIMEOUT`]: an answer this slow is a timeout.
pub const TOO_SLOW: Duration = Duration::from_secs(5);
pub const TEMPLATE: &str = "https://shop.example/tracking?n={trackingNumber}&c={courier}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Endpoint,
    Api,
}

pub use testkit::workspace;

/// A [`bridge_core::config::Config`] from these variables only.
pub fn config_from(vars: &[(&str, &str)]) -> bridge_core::config::Config {
    bridge_core::config::Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .expect("config")
}

/// The AWS environment of a function whose AWS is at `endpoint` (dummy credentials).
pub fn loopback_aws(endpoint: &str) -> bridge_core::config::AwsEnvironment {
    config_from(&[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_ENDPOINT_URL", endpoint),
    ])
    .aws
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace().join("fixtures/qapla").join(name)).expect("fixture exists")
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture is JSON")
}

/// An answer of Qapla's API from `fixtures/qapla-api/`.
pub fn api_fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(workspace().join("fixtures/qapla-api").join(name))
        .expect("fixture");
    serde_json::from_str(&text).expect("json")
}

/// A channel secret delivering to `connectif` (a wiremock URI).
pub fn secret(mode: Mode, connectif: &str, qapla_key: &str, language: &str) -> Value {
    let target = match mode {
        Mode::Endpoint => json!({
            "mode": "endpoint",
            "endpoints": {
                "shipment": format!("{connectif}/hooks/shipment"),
                "return": format!("{connectif}/hooks/return"),
                "order": format!("{connectif}/hooks/order"),
            }
        }),
        Mode::Api => json!({ "mode": "api", "apiKey": CONNECTIF_API_KEY, "baseUrl": connectif }),
    };
    json!({
        "qaplaApiKey": qapla_key,
        "language": language,
        "trackingUrlTemplate": TEMPLATE,
        // Loopback only: Qapla's API is faked on the same local server.
        "qaplaApiBaseUrl": format!("{connectif}/qapla-api/1.3"),
        "connectif": target,
    })
}

pub fn channel(id: &str) -> ChannelId {
    ChannelId::try_from(id).expect("valid channel id")
}

/// Channels `it` and `es` (keys of the fixtures) delivering to `connectif`.
pub fn store(mode: Mode, connectif: &str) -> Arc<MemoryStore> {
    let store = MemoryStore::default();
    store.put(
        channel("it"),
        secret(mode, connectif, IT_KEY, "it").to_string(),
    );
    store.put(
        channel("es"),
        secret(mode, connectif, ES_KEY, "es").to_string(),
    );
    Arc::new(store)
}

/// Fast retries and short timeouts, so failure tests take milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        delays: vec![Duration::from_millis(10), Duration::from_millis(20)],
        max_retry_after: Duration::from_millis(50),
    }
}

/// A worker backoff of milliseconds (1 ms doubling to 8 ms), for in-memory queues.
pub fn fast_worker() -> WorkerPolicy {
    WorkerPolicy {
        backoff: RetryPolicy::exponential(Duration::from_millis(1), Duration::from_millis(8)),
        max_age: Duration::from_secs(3600),
    }
}

/// The tests' configuration: the stack's defaults, but timeouts and retries for local
/// fakes, settings cached 300 s and re-read at once on a wrong key, bodies up to 64 KiB.
pub fn test_config() -> Config {
    Config {
        secret_ttl: Duration::from_secs(300),
        secret_recheck: Duration::ZERO,
        connect_timeout: TEST_TIMEOUT,
        request_timeout: TEST_TIMEOUT,
        retry: fast_retry(),
        max_body_bytes: 64 * 1024,
        ..Config::default()
    }
}

/// The webhooks' dependencies with in-process delivery, settings re-read after `recheck`
/// on a wrong key.
pub async fn deps_with(store: Arc<dyn ChannelStore>, recheck: Duration) -> Deps {
    let config = Config {
        secret_recheck: recheck,
        ..test_config()
    };
    config
        .bridge()
        .with_channel_store(store)
        .webhook_deps()
        .await
        .expect("deps")
}

pub async fn deps(mode: Mode, connectif: &str) -> Deps {
    deps_with(store(mode, connectif), Duration::ZERO).await
}

/// An API Gateway HTTP API event (payload 2.0) of `method` to `path` carrying `body`, with
/// no path parameters (the path fallback is used), as API Gateway would pass it.
pub fn request(method: &str, path: &str, body: Option<&str>) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "ANY /qapla/{channel}/x",
        "rawPath": path,
        "headers": { "content-type": "application/json;", "user-agent": "Mozilla/5.0" },
        "requestContext": { "http": { "method": method, "path": path } },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// A POST of `body` to `path`.
pub fn post(path: &str, body: impl Into<String>) -> Value {
    request("POST", path, Some(&body.into()))
}

/// Qapla's answer to `event`, given the usual 29 s to answer.
pub async fn send<W: Webhook>(deps: &Deps, event: Value) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(29);
    let response = webhook::handle::<W>(deps, event, deadline).await;
    assert_eq!(
        response.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    let answer = serde_json::from_str(&response.body).expect("answer is JSON");
    (response.status_code, answer)
}

/// Qapla's `getShipment` answer for a shipment whose consignee is known.
pub fn get_shipment_answer(email: &str, name: &str, country: &str, url: &str) -> Value {
    json!({ "getShipment": { "result": "OK", "error": "", "shipment": {
        "trackingNumber": "any", "url": url, "qaplaStatus": { "id": 3 },
        "consignee": { "name": name, "email": email, "country": country }
    }}})
}

/// Mount Qapla's `getShipment` on `server`, answering `answer` as Qapla' documents it
/// (`testkit::qapla`: no consignee unless asked for), expecting `n` calls.
pub async fn mount_get_shipment(server: &wiremock::MockServer, answer: Value, n: u64) {
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method("GET"))
        .and(path("/qapla-api/1.3/getShipment/"))
        .respond_with(testkit::qapla::GetShipment { answer })
        .expect(n)
        .mount(server)
        .await;
}

/// Qapla's `getChannel` answering `answer`, expected `n` times.
pub async fn mount_get_channel(server: &wiremock::MockServer, answer: Value, n: u64) {
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method("GET"))
        .and(path("/qapla-api/1.2/getChannel/"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(answer))
        .expect(n)
        .mount(server)
        .await;
}

pub fn ok() -> Value {
    json!({ "result": "OK" })
}

pub fn ko() -> Value {
    json!({ "result": "KO" })
}

/// Counts loads of a real store: to see how often settings are (re-)read.
pub struct CountingStore {
    pub inner: Arc<dyn ChannelStore>,
    pub loads: AtomicUsize,
}

#[async_trait]
impl ChannelStore for CountingStore {
    async fn load(&self, channel: &ChannelId) -> Result<Option<ChannelSettings>, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load(channel).await
    }
}

/// Captures this thread's log lines (JSON) while alive. Use in current-thread tokio tests.
pub struct Logs {
    buffer: testkit::LogBuffer,
    _guard: tracing::dispatcher::DefaultGuard,
}

impl Logs {
    pub fn capture() -> Self {
        let buffer = testkit::LogBuffer::default();
        let dispatch = buffer.dispatch(|writer| {
            bridge_core::telemetry::dispatch(move || writer.clone(), tracing::Level::DEBUG)
        });
        Logs {
            buffer,
            _guard: tracing::dispatcher::set_default(&dispatch),
        }
    }

    /// The log lines (metric lines left out: see [`Logs::metrics`]).
    pub fn lines(&self) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|l| l.get("_aws").is_none())
            .collect()
    }

    /// The metric (EMF) lines.
    pub fn metrics(&self) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|l| l.get("_aws").is_some())
            .collect()
    }

    /// How many metric lines carry `metric`.
    pub fn counted(&self, metric: &str) -> usize {
        self.metrics()
            .iter()
            .filter(|m| m.get(metric).is_some())
            .count()
    }

    fn all(&self) -> Vec<Value> {
        self.buffer
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line is JSON"))
            .collect()
    }

    pub fn text(&self) -> String {
        self.buffer.text()
    }
}

pub use testkit::{Moto, free_port};

/// A real SDK client with dummy credentials, pointed at a loopback endpoint.
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    testkit::aws::clients(endpoint).secrets
}

/// A Connectif that must receive nothing (verified when dropped).
pub async fn connectif_expecting_nothing() -> wiremock::MockServer {
    connectif_expecting(0).await
}

/// A Connectif that accepts everything and must receive exactly `n` requests (verified when
/// dropped).
pub async fn connectif_expecting(n: u64) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(201))
        .expect(n)
        .mount(&server)
        .await;
    server
}
