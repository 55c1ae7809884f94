//! The deployed bridge running, on loopback: an API Gateway twin (HTTP on 127.0.0.1 turned
//! into the payload-2.0 event the webhook functions receive) in front of the real webhook
//! handlers, and a delivery worker polling the SQS queue as Lambda's event source does. It
//! uses the bridge's production parts against moto: the Secrets Manager settings store, the
//! SQS hand-off and dead-letter queue, the DynamoDB state, and Connectif's client.
//!
//! Each function's log lines are captured as Lambda captures stdout and shipped to its log
//! group with `PutLogEvents` ([`Twin::ship_logs`]), as Lambda does.

use crate::common::{Deployed, LOG_GROUPS};
use bridge_core::config::Config;
use bridge_core::delivery::Worker;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use bridge_core::webhook::{self, Deps, HttpResponse};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::instrument::WithSubscriber;

/// JSON log lines, as the functions' subscriber writes them.
type Buffer = testkit::LogBuffer;

/// A subscriber like `telemetry::init`'s, writing to `buffer`.
fn dispatch(buffer: &Buffer) -> tracing::Dispatch {
    buffer.dispatch(|writer| {
        bridge_core::telemetry::dispatch(move || writer.clone(), tracing::Level::INFO)
    })
}

pub struct Twin {
    /// `http://127.0.0.1:<port>`: the stack's `WebhookApiUrl`.
    pub api_url: String,
    aws: aws_config::SdkConfig,
    /// One per log group of [`LOG_GROUPS`].
    logs: [Buffer; 4],
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Twin {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Twin {
    /// The API's listener only (its URL goes into the stack's outputs before it serves).
    pub async fn bind() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        (listener, url)
    }

    /// Serve the webhooks on `listener` and run the worker over `deployed`'s queues.
    pub async fn start(listener: TcpListener, moto: &testkit::Moto, deployed: &Deployed) -> Twin {
        let aws = crate::common::aws(moto).await;
        let api_url = format!("http://{}", listener.local_addr().expect("addr"));
        let logs: [Buffer; 4] = Default::default();
        // The stack's functions as the stack configures them, on moto.
        let config = Config::from_lookup(|name| {
            let value = match name {
                "AWS_REGION" => "eu-west-1",
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => "test",
                "AWS_ENDPOINT_URL" => moto.endpoint.as_str(),
                "HAND_OFF_QUEUE_URL" => deployed.queue_url.as_str(),
                "DEAD_LETTER_QUEUE_URL" => deployed.dlq_url.as_str(),
                "STATE_TABLE" => crate::common::TABLE,
                "SECRET_RECHECK_SECONDS" => "0",
                "MAX_BODY_BYTES" => "262144",
                "CONNECTIF_TIMEOUT_MS" => "5000",
                "DELIVERY_BASE_DELAY_SECONDS" => "1",
                "DELIVERY_MAX_DELAY_SECONDS" => "2",
                "DELIVERY_MAX_AGE_HOURS" => "1",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .expect("config");
        let bridge = config.bridge();
        let deps = Arc::new(bridge.webhook_deps().await.expect("webhook deps"));
        let worker = bridge.worker().expect("worker");
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let webhooks = [dispatch(&logs[0]), dispatch(&logs[1]), dispatch(&logs[2])];
        let gateway = tokio::spawn(serve(listener, deps, webhooks));
        let poller = tokio::spawn(
            poll(sqs, deployed.queue_url.clone(), worker).with_subscriber(dispatch(&logs[3])),
        );
        Twin {
            api_url,
            aws,
            logs,
            tasks: vec![gateway, poller],
        }
    }

    /// Ship every captured line to its function's log group (as Lambda does), with the
    /// line's own time.
    pub async fn ship_logs(&self) {
        let client = aws_sdk_cloudwatchlogs::Client::new(&self.aws);
        for (buffer, group) in self.logs.iter().zip(LOG_GROUPS) {
            let text = buffer.take();
            let events: Vec<_> = text
                .lines()
                .map(|line| {
                    let v: Value = serde_json::from_str(line).expect("log line is JSON");
                    // A metric line's time is its `_aws.Timestamp` (milliseconds).
                    let at = match v["_aws"]["Timestamp"].as_i64() {
                        Some(ms) => ms,
                        None => epoch_ms(v["timestamp"].as_str().expect("timestamp")),
                    };
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp(at)
                        .message(line)
                        .build()
                        .expect("event")
                })
                .collect();
            if events.is_empty() {
                continue;
            }
            let stream = format!("2026/11/23/[$LATEST]{}", fastrand::u64(..));
            client
                .create_log_stream()
                .log_group_name(group)
                .log_stream_name(&stream)
                .send()
                .await
                .expect("log stream");
            client
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(&stream)
                .set_log_events(Some(events))
                .send()
                .await
                .expect("put log events");
        }
    }

    /// Every captured line so far, of every function (for assertions on what was logged).
    pub fn lines(&self) -> String {
        self.logs.iter().map(testkit::LogBuffer::text).collect()
    }
}

/// `2026-11-23T10:00:00.123456Z` in epoch milliseconds.
fn epoch_ms(rfc3339: &str) -> i64 {
    let text = rfc3339.trim_end_matches('Z');
    let secs = bridge_core::qapla::time::parse_time(text).expect("log time");
    let millis = text.split_once('.').map_or(0, |(_, f)| {
        format!("{f:0<3}")[..3].parse::<i64>().unwrap_or(0)
    });
    secs * 1000 + millis
}

/// One request per connection, answered as API Gateway answers with the function's result.
async fn serve(listener: TcpListener, deps: Arc<Deps>, webhooks: [tracing::Dispatch; 3]) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let deps = deps.clone();
        let webhooks = webhooks.clone();
        tokio::spawn(async move {
            let Some((method, path, body)) = read_request(&mut socket).await else {
                return;
            };
            let event = json!({
                "rawPath": path,
                "requestContext": { "http": { "method": method, "sourceIp": "127.0.0.1" } },
                "body": body,
                "isBase64Encoded": false,
            });
            let deadline = Instant::now() + Duration::from_secs(29);
            let answer = if path.ends_with("/shipments") {
                let f = webhook::handle::<ShipmentPayload>(&deps, event, deadline);
                f.with_subscriber(webhooks[0].clone()).await
            } else if path.ends_with("/returns") {
                let f = webhook::handle::<ReturnsPayload>(&deps, event, deadline);
                f.with_subscriber(webhooks[1].clone()).await
            } else if path.ends_with("/orders") {
                let f = webhook::handle::<OrdersPayload>(&deps, event, deadline);
                f.with_subscriber(webhooks[2].clone()).await
            } else {
                not_found()
            };
            let head = format!(
                "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.status_code,
                answer.body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(answer.body.as_bytes()).await;
        });
    }
}

fn not_found() -> HttpResponse {
    HttpResponse {
        status_code: 404,
        headers: Default::default(),
        body: r#"{"message":"Not Found"}"#.into(),
        is_base64_encoded: false,
    }
}

/// (method, path, body) of one HTTP/1.1 request with a `content-length` body.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, String, String)> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut first = head.lines().next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&data[head_end..head_end + length]).into_owned();
    Some((method, path, body))
}

/// What Lambda's SQS event source does: receive up to 10, invoke the worker, delete the
/// successes; again and again.
async fn poll(sqs: aws_sdk_sqs::Client, queue_url: String, worker: Worker) {
    loop {
        if testkit::aws::trigger(&sqs, &queue_url, &worker).await == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
