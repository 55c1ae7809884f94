//! The invariants of every parser the bridge runs on outside bytes, checked the same way by
//! the property tests (`make test`) and the fuzz targets (`make fuzz`). Each `check_*` takes
//! raw bytes, feeds them through the entry production uses, and panics on a violation:
//!
//! - a webhook body (plain, base64-flagged, or a whole API Gateway event) is answered either
//!   `{"result":"KO"}` with nothing handed off, or `{"result":"OK"}` with events whose
//!   identity is whole and whose required fields are filled (or left to enrichment);
//! - no log line ever contains the channel's key;
//! - an SQS message body that reads as an envelope writes back to the same envelope;
//! - channel settings and Qapla' API answers are read or refused, never quoting a secret;
//! - what is accepted or read was one JSON value, with nothing after it.

use async_trait::async_trait;
use base64::Engine;
use bridge_core::Kind;
use bridge_core::channel::{ChannelId, ChannelSettings, MemoryStore};
use bridge_core::config::{Bridge, Config};
use bridge_core::delivery::{Envelope, HandOff, HandOffError, HandedOff, QueueMessage};
use bridge_core::qapla::api::{read_get_shipment, read_tracking_by_time_frame};
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use bridge_core::webhook::{self, Deps, Webhook};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The channel of the fixtures, and its key (as in `fixtures/qapla/*.json`).
pub const CHANNEL: &str = "it";
pub const KEY: &str = "test-channel-key-it";
/// Secrets of the channel's settings, which must not reach a log line either.
const CONNECTIF_KEY: &str = "fuzz-connectif-key-id:fuzz-connectif-secret";

/// Every envelope handed off, in order.
#[derive(Default)]
struct Collect(Mutex<Vec<Envelope>>);

#[async_trait]
impl HandOff for Collect {
    async fn hand_off(&self, envelope: Envelope) -> Result<HandedOff, HandOffError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(envelope);
        Ok(HandedOff::Queued)
    }
}

/// The webhook handler as the functions run it (one thread, channel `it` in memory, a
/// hand-off that keeps what it is given), with its log lines captured.
pub struct Webhooks {
    runtime: tokio::runtime::Runtime,
    deps: Deps,
    queue: Arc<Collect>,
    logs: crate::LogBuffer,
    dispatch: tracing::Dispatch,
    /// One post at a time: the hand-off and the log buffer are the post's own.
    one_at_a_time: Mutex<()>,
}

impl Default for Webhooks {
    fn default() -> Self {
        Self::new()
    }
}

impl Webhooks {
    pub fn new() -> Self {
        let store = MemoryStore::default();
        let channel = ChannelId::try_from(CHANNEL).expect("channel id");
        store.put(channel, settings().to_string());
        let queue = Arc::new(Collect::default());
        let config = Config {
            secret_ttl: Duration::from_secs(3600),
            secret_recheck: Duration::from_secs(3600),
            max_body_bytes: 64 * 1024,
            ..Config::default()
        };
        let bridge = Bridge::new(config)
            .with_channel_store(Arc::new(store))
            .with_hand_off(queue.clone());
        let logs = crate::LogBuffer::default();
        let dispatch = logs.dispatch(|writer| {
            bridge_core::telemetry::dispatch(move || writer.clone(), tracing::Level::INFO)
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let deps = runtime.block_on(bridge.webhook_deps()).expect("deps");
        Webhooks {
            runtime,
            deps,
            queue,
            logs,
            dispatch,
            one_at_a_time: Mutex::default(),
        }
    }

    /// `bytes` as the body of a post of kind `kind` — as it is when it is UTF-8 text of even
    /// length, else base64-flagged (so a fuzzer's mutations reach both paths at the cost of
    /// one post) — and, when it is a JSON object, as a whole API Gateway event.
    pub fn check(&self, kind: Kind, bytes: &[u8]) {
        match kind {
            Kind::Shipment => self.check_kind::<ShipmentPayload>(bytes),
            Kind::Return => self.check_kind::<ReturnsPayload>(bytes),
            Kind::Order => self.check_kind::<OrdersPayload>(bytes),
        }
    }

    fn check_kind<W: Webhook>(&self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(text) if bytes.len().is_multiple_of(2) => {
                self.post::<W>(post(json!(text), false), bytes, false);
            }
            _ => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
                self.post::<W>(post(json!(encoded), true), bytes, false);
            }
        }
        if bytes.first() == Some(&b'{')
            && let Ok(event) = serde_json::from_slice::<Value>(bytes)
        {
            self.post::<W>(event, bytes, true);
        }
    }

    /// One post through `webhook::handle`, then the invariants. `input`: the body, or the
    /// whole event when `whole`.
    fn post<W: Webhook>(&self, event: Value, input: &[u8], whole: bool) {
        let _alone = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        let deadline = Instant::now() + Duration::from_secs(29);
        let response = tracing::dispatcher::with_default(&self.dispatch, || {
            self.runtime
                .block_on(webhook::handle::<W>(&self.deps, event, deadline))
        });
        let queued = std::mem::take(&mut *self.queue.0.lock().unwrap_or_else(|e| e.into_inner()));
        let logs = self.logs.take();
        let ok = response.status_code == 200;
        let expected = if ok { OK } else { KO };
        assert_eq!(response.body, expected, "status {}", response.status_code);
        if !ok {
            assert!(queued.is_empty(), "a refused post handed off {queued:?}");
        } else if !whole {
            // Accepted: the body was one JSON value, nothing after it (not `{…}garbage`).
            let one = serde_json::from_slice::<Value>(input);
            assert!(one.is_ok(), "accepted a body that is not one JSON value");
        }
        for envelope in &queued {
            check_envelope_from_post(W::KIND, envelope);
        }
        for secret in [KEY, CONNECTIF_KEY] {
            // Only when a line shows it: is it there for another reason than being the key?
            if shows(&logs, secret) {
                let echoed = match serde_json::from_slice::<Value>(input) {
                    Ok(value) if whole => carries(&value, secret, "apiKey"),
                    _ => carries_body(input, secret),
                };
                assert!(echoed, "a log line shows a secret:\n{logs}");
            }
        }
    }
}

/// Whether a log line holds `secret` in one of its values, as a reader of the decoded
/// lines would see them (the raw text can hold it by chance: `\t` before `est-…`).
fn shows(logs: &str, secret: &str) -> bool {
    logs.lines()
        .any(|line| match serde_json::from_str::<Value>(line) {
            Ok(value) => carries(&value, secret, ""),
            Err(_) => line.contains(secret),
        })
}

const OK: &str = r#"{"result":"OK"}"#;
const KO: &str = r#"{"result":"KO"}"#;

/// The channel's settings: endpoint mode for every reception, so every kind is sent.
fn settings() -> Value {
    json!({
        "qaplaApiKey": KEY,
        "trackingUrlTemplate": "https://shop.example/t/{trackingNumber}",
        "connectif": { "mode": "api", "apiKey": CONNECTIF_KEY, "baseUrl": "http://127.0.0.1:9" },
    })
}

fn post(body: Value, base64: bool) -> Value {
    json!({
        "version": "2.0",
        "rawPath": format!("/qapla/{CHANNEL}/x"),
        "pathParameters": { "channel": CHANNEL },
        "requestContext": { "http": { "method": "POST", "sourceIp": "34.96.89.1" } },
        "body": body,
        "isBase64Encoded": base64,
    })
}

/// Whether `secret` is in the post for another reason than being its `apiKey`: then a log
/// line may rightly show it (e.g. as a tracking number). A body that is not JSON is refused
/// before anything of it is logged.
fn carries_body(body: &[u8], secret: &str) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| carries(&v, secret, "apiKey"))
}

/// Whether any string of `value` but the values of fields named `except` contains `secret`
/// (a string that is itself JSON, e.g. an event's body, is searched the same way).
fn carries(value: &Value, secret: &str, except: &str) -> bool {
    match value {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ (Value::Object(_) | Value::Array(_))) => carries(&inner, secret, except),
            _ => s.contains(secret),
        },
        Value::Array(items) => items.iter().any(|v| carries(v, secret, except)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains(secret) || (k != except && carries(v, secret, except))),
        _ => false,
    }
}

/// An event the webhook handed off: its identity is whole, and what enrichment cannot fill
/// is filled.
fn check_envelope_from_post(kind: Kind, envelope: &Envelope) {
    assert_eq!(envelope.kind, kind);
    assert_eq!(envelope.channel.as_str(), CHANNEL);
    assert_eq!(envelope.event_id.len(), 64, "event id is a SHA-256");
    assert!(!envelope.key.trim().is_empty(), "empty key: {envelope:?}");
    if kind == Kind::Shipment {
        let status = envelope.status_id.as_deref().unwrap_or("");
        assert!(!status.trim().is_empty(), "no status id: {envelope:?}");
    }
    // Enrichment from Qapla's API can fill the customer and the tracking page, nothing else.
    let fillable = ["customerEmail", "customerName", "trackingUrl"];
    for field in envelope.event.fields.empty_required() {
        let filled = envelope.enrich.is_some() && fillable.contains(&field);
        assert!(filled, "required field {field} empty: {envelope:?}");
    }
    check_envelope_round_trip(envelope);
}

/// Writing an envelope and reading it back is the identity.
fn check_envelope_round_trip(envelope: &Envelope) {
    let text = serde_json::to_string(envelope).expect("an envelope serialises");
    let back: Envelope = serde_json::from_str(&text).expect("a written envelope reads back");
    assert_eq!(&back, envelope, "round trip changed {text}");
    assert_eq!(serde_json::to_string(&back).expect("serialises"), text);
}

/// `bytes` as an SQS message body, and as a whole SQS event of the delivery worker: every
/// envelope read writes back to itself.
pub fn check_queue_message(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(envelope) = serde_json::from_str::<Envelope>(text) {
        check_envelope_round_trip(&envelope);
    }
    if let Ok(event) = serde_json::from_str::<aws_lambda_events::event::sqs::SqsEvent>(text) {
        for record in &event.records {
            let message = QueueMessage::from_sqs(record);
            if let Ok(envelope) = serde_json::from_str::<Envelope>(&message.body) {
                check_envelope_round_trip(&envelope);
            }
        }
    }
}

/// `bytes` as a channel's secret: read or refused, the error naming no secret value, the
/// settings' `Debug` showing none.
pub fn check_channel_secret(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if ChannelSettings::from_json(text).is_ok() {
        let one = serde_json::from_str::<Value>(text);
        assert!(
            one.is_ok(),
            "read settings from text that is not one JSON value"
        );
    }
    let shown = |text: &str| match ChannelSettings::from_json(text) {
        Ok(settings) => format!("{settings:?}"),
        Err(error) => error.to_string(),
    };
    for secret in secret_values(text) {
        if shown(text).contains(&secret) {
            // By chance (e.g. a key that is a prefix of a field name the error lists), or
            // echoed? A marker in its place tells: an echoed value shows the marker.
            let marker = format!("zq{}", "x".repeat(secret.len()));
            let again = shown(&text.replace(&secret, &marker));
            assert!(!again.contains(&marker), "{again} shows a secret");
        }
    }
}

/// The key values of a secret's text worth checking: long enough not to occur by chance,
/// and nowhere else in the text.
fn secret_values(text: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let found = [
        value.get("qaplaApiKey"),
        value.get("connectif").and_then(|c| c.get("apiKey")),
    ];
    found
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| s.len() >= 12 && text.matches(*s).count() == 1)
        .map(str::to_owned)
        .collect()
}

/// `bytes` as Qapla's answer to `getShipment` and to `trackingByTimeFrame`, under a few
/// statuses: read or classified, never showing the key unless the answer has it in another
/// field than its `error` text (which is masked).
pub fn check_qapla_answer(bytes: &[u8]) {
    let key = SecretString::from(KEY);
    let elsewhere = serde_json::from_slice::<Value>(bytes).is_ok_and(|v| carries(&v, KEY, "error"));
    if let Ok(Some(_)) = read_get_shipment(200, bytes, &key) {
        let one = serde_json::from_slice::<Value>(bytes);
        assert!(
            one.is_ok(),
            "read a shipment from bytes that are not one JSON value"
        );
    }
    for status in [200, 404, 429, 500] {
        let shipment = match read_get_shipment(status, bytes, &key) {
            Ok(shipment) => format!("{shipment:?}"),
            Err(error) => error.to_string(),
        };
        let time_frame = match read_tracking_by_time_frame(status, bytes, &key) {
            Ok(shipments) => format!("{shipments:?}"),
            Err(error) => error.to_string(),
        };
        if !elsewhere {
            assert!(!shipment.contains(KEY), "getShipment {status}: {shipment}");
            assert!(
                !time_frame.contains(KEY),
                "trackingByTimeFrame {status}: {time_frame}"
            );
        }
    }
}
