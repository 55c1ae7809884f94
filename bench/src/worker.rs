//! The delivery worker as the benchmarks drive it: in-memory state, a Connectif at
//! `connectif`, and batches of ten records as Lambda's SQS event source writes them.

use aws_lambda_events::event::sqs::SqsEvent;
use bridge_core::config::Config;
use bridge_core::delivery::{MemoryQueue, Worker};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The worker of channel `it` (Connectif's API at `connectif`), state in memory.
pub fn worker(connectif: &str) -> Worker {
    let settings = json!({ "it": {
        "qaplaApiKey": "bench-channel-key", "language": "it",
        "qaplaApiBaseUrl": format!("{connectif}/qapla-api/1.3"),
        "trackingUrlTemplate": "https://shop.example/t?n={trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "id:secret", "baseUrl": connectif },
    }});
    let config = Config {
        channels_json: Some(settings.to_string()),
        secret_recheck: Duration::ZERO,
        ..Config::default()
    };
    config
        .bridge()
        .with_memory_queue(Arc::new(MemoryQueue::new(Duration::ZERO)))
        .worker()
        .expect("worker")
}

/// Batch `n`: ten records as Lambda's SQS event source writes them, each a delivered parcel
/// of its own (tracking numbers `n * 10 ..`).
pub fn batch(n: usize) -> SqsEvent {
    let fixture = testkit::workspace().join("fixtures/queue/envelopes-before-typed-events.jsonl");
    let text = std::fs::read_to_string(fixture).expect("fixture");
    let template: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    let sent = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    let records: Vec<Value> = (n * 10..n * 10 + 10)
        .map(|i| {
            let tracking = format!("BENCH{i:08}");
            let mut e = template.clone();
            e["eventId"] = json!(format!("bench-{i}"));
            e["key"] = json!(tracking);
            e["event"]["fields"]["trackingNumber"] = json!(tracking);
            json!({
                "messageId": format!("m-{i}"), "receiptHandle": format!("r-{i}"),
                "body": e.to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1", "SentTimestamp": sent.to_string(),
                    "MessageGroupId": format!("it#{tracking}"), "MessageDeduplicationId": format!("bench-{i}"),
                },
                "messageAttributes": {}, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bench.fifo", "awsRegion": "eu-west-1",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
}

/// A Connectif that accepts every POST (`201`), on the runtime this is awaited in.
pub async fn connectif() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(201))
        .mount(&server)
        .await;
    server
}
