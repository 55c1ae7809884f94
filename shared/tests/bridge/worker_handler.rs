//! The delivery worker's Lambda handler, driven by SQS events as Lambda delivers them
//! (`Records` with `MessageGroupId`, `ApproximateReceiveCount`, `SentTimestamp`): the path
//! production uses, with the local queue and state store and a wiremock Connectif.

use crate::helpers::*;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use bridge_core::delivery::lambda::{handle_batch, handle_batch_until};
use bridge_core::delivery::{MemoryQueue, RetryPolicy, Worker, WorkerPolicy};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The delivered-shipment envelope of the queue fixture, for `tracking` and `status`.
fn envelope(tracking: &str, status: &str) -> String {
    let line = std::fs::read_to_string(
        workspace().join("fixtures/queue/envelopes-before-typed-events.jsonl"),
    )
    .expect("fixture");
    let mut e: Value = serde_json::from_str(line.lines().next().expect("a line")).expect("json");
    e["eventId"] = json!(format!("{tracking}-{status}"));
    e["key"] = json!(tracking);
    e["statusId"] = json!(status);
    e["repeatKey"] = Value::Null;
    let hour = match status {
        "3" => 10,
        "4" => 11,
        _ => 12,
    };
    e["occurredAt"] = json!(format!("2024-01-01 {hour}:00:00"));
    e["event"]["fields"]["trackingNumber"] = json!(tracking);
    e["event"]["fields"]["qaplaStatusID"] = json!(status);
    e.to_string()
}

/// One record as Lambda's SQS event source writes it.
fn record(id: &str, body: String, group: &str, sent_ms: u128) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("receipt-{id}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent_ms.to_string(),
            "MessageGroupId": group,
            "MessageDeduplicationId": id,
        },
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bridge-EventQueue.fifo",
        "awsRegion": "eu-west-1"
    })
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis()
}

fn worker(connectif: &str, queue: Arc<MemoryQueue>) -> Worker {
    let config = Config {
        worker: fast_worker(),
        ..test_config()
    };
    config
        .bridge()
        .with_channel_store(store(Mode::Endpoint, connectif))
        .with_memory_queue(queue)
        .worker()
        .expect("worker")
}

/// The SQS event through the handler, with a fresh local queue (which gets the dead letters).
async fn run(server: &MockServer, event: Value) -> (SqsBatchResponse, Arc<MemoryQueue>) {
    let queue = Arc::new(MemoryQueue::new(Duration::ZERO));
    let worker = worker(&server.uri(), queue.clone());
    let event = serde_json::from_value(event).expect("an SQS event");
    (handle_batch(&worker, event).await, queue)
}

async fn mount(server: &MockServer, tracking: &str, status: u16, times: u64) {
    Mock::given(method("POST"))
        .and(path("/hooks/shipment"))
        .and(body_partial_json(json!({ "trackingNumber": tracking })))
        .respond_with(ResponseTemplate::new(status))
        .expect(times)
        .mount(server)
        .await;
}

fn failures(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn one_failure_holds_back_the_later_messages_of_its_group_and_reports_exactly_those() {
    let server = MockServer::start().await;
    mount(&server, "T1", 503, 1).await; // the head of group T1 fails, once: nothing after it is sent
    mount(&server, "T2", 200, 2).await; // group T2 is not held back
    let event = json!({ "Records": [
        record("m1", envelope("T1", "3"), "it:shipment:T1", now_ms()),
        record("m2", envelope("T2", "3"), "it:shipment:T2", now_ms()),
        record("m3", envelope("T1", "4"), "it:shipment:T1", now_ms()),
        record("m4", envelope("T2", "4"), "it:shipment:T2", now_ms()),
        record("m5", envelope("T1", "99"), "it:shipment:T1", now_ms()),
    ]});
    let (response, queue) = run(&server, event).await;
    assert_eq!(failures(&response), ["m1", "m3", "m5"]);
    assert!(queue.dead_letters().is_empty());
}

#[tokio::test]
async fn the_delivery_budget_runs_from_the_sent_timestamp_lambda_reports() {
    let server = MockServer::start().await;
    mount(&server, "T1", 503, 1).await;
    let two_hours_ago = now_ms() - 2 * 3600 * 1000;
    let event =
        json!({ "Records": [record("m1", envelope("T1", "3"), "it:shipment:T1", two_hours_ago)] });
    let (response, queue) = run(&server, event).await;
    assert!(
        failures(&response).is_empty(),
        "given up on, so not reported for another try"
    );
    let dead = queue.dead_letters();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].1.starts_with("gave up after 2 h"), "{}", dead[0].1);
}

#[tokio::test]
async fn the_sample_sqs_event_is_delivered_and_reports_no_failure() {
    let server = MockServer::start().await;
    mount(&server, "580104809", 200, 1).await;
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("events/sqs-shipment-delivered.json"))
            .expect("sample"),
    )
    .expect("json");
    let (response, _) = run(&server, event).await;
    assert!(failures(&response).is_empty());
}

/// Lambda stops an invocation at its deadline: a message whose send the time left cannot
/// cover is not started; it and the rest are reported failed (and come back at once).
#[tokio::test]
async fn no_message_is_started_that_the_time_left_cannot_cover() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200).set_delay(Duration::from_millis(800));
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "trackingNumber": "T1" })))
        .respond_with(slow)
        .expect(1)
        .mount(&server)
        .await;
    mount(&server, "T2", 200, 0).await;
    let queue = Arc::new(MemoryQueue::new(Duration::ZERO));
    let worker = worker(&server.uri(), queue).with_send_time(Duration::from_secs(1));
    let event = json!({ "Records": [
        record("m1", envelope("T1", "3"), "it:shipment:T1", now_ms()),
        record("m2", envelope("T2", "3"), "it:shipment:T2", now_ms()),
        record("m3", envelope("T2", "4"), "it:shipment:T2", now_ms()),
    ]});
    let event = serde_json::from_value(event).expect("an SQS event");
    let logs = Logs::capture();
    let deadline = std::time::Instant::now() + Duration::from_millis(1_500);
    let response = handle_batch_until(&worker, event, Some(deadline)).await;
    assert_eq!(failures(&response), ["m2", "m3"]);
    let deferred = logs
        .lines()
        .iter()
        .filter(|l| l["outcome"] == "deferred")
        .count();
    assert_eq!(deferred, 2);
}

/// A deadline shorter than one send (a function configured with too short a timeout, an
/// emulator's deadline): the first message is still tried, so the queue moves.
#[tokio::test]
async fn the_first_message_is_tried_whatever_the_time_left() {
    let server = MockServer::start().await;
    mount(&server, "T1", 200, 1).await;
    mount(&server, "T2", 200, 0).await;
    let queue = Arc::new(MemoryQueue::new(Duration::ZERO));
    let worker = worker(&server.uri(), queue);
    let event = json!({ "Records": [
        record("m1", envelope("T1", "3"), "it:shipment:T1", now_ms()),
        record("m2", envelope("T2", "3"), "it:shipment:T2", now_ms()),
    ]});
    let event = serde_json::from_value(event).expect("an SQS event");
    let response = handle_batch_until(&worker, event, Some(std::time::Instant::now())).await;
    assert_eq!(failures(&response), ["m2"]);
}

/// A 429 pauses every send of its channel for the rest of the batch, not only its group.
#[tokio::test]
async fn a_429_pauses_the_channels_other_sends_in_the_batch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "trackingNumber": "T1" })))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .expect(1)
        .mount(&server)
        .await;
    mount(&server, "T2", 200, 0).await;
    mount(&server, "T3", 200, 0).await;
    let event = json!({ "Records": [
        record("m1", envelope("T1", "3"), "it:shipment:T1", now_ms()),
        record("m2", envelope("T2", "3"), "it:shipment:T2", now_ms()),
        record("m3", envelope("T3", "3"), "it:shipment:T3", now_ms()),
    ]});
    let logs = Logs::capture();
    let (response, _) = run(&server, event).await;
    assert_eq!(failures(&response), ["m1", "m2", "m3"]);
    let paused = logs.lines();
    let paused: Vec<_> = paused
        .iter()
        .filter(|l| {
            l["reason"]
                .as_str()
                .unwrap_or("")
                .starts_with("channel paused")
        })
        .collect();
    assert_eq!(paused.len(), 2, "{paused:?}");
}

/// The backoff counts real tries: a message SQS handed out five times (held back behind its
/// group, redelivered after a crash) that fails for the first time waits the first step.
#[tokio::test]
async fn the_backoff_counts_real_tries_not_receives() {
    let server = MockServer::start().await;
    mount(&server, "T1", 503, 2).await;
    let mut first = record("m1", envelope("T1", "3"), "it:shipment:T1", now_ms());
    first["attributes"]["ApproximateReceiveCount"] = json!("5");
    let queue = Arc::new(MemoryQueue::new(Duration::ZERO));
    let config = Config {
        worker: WorkerPolicy {
            backoff: RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(64)),
            max_age: Duration::from_secs(3600),
        },
        ..test_config()
    };
    let worker = (config.bridge())
        .with_channel_store(store(Mode::Endpoint, &server.uri()))
        .with_memory_queue(queue)
        .worker()
        .expect("worker");
    let logs = Logs::capture();
    for _ in 0..2 {
        let event = serde_json::from_value(json!({ "Records": [first.clone()] }));
        handle_batch(&worker, event.expect("an SQS event")).await;
    }
    let reasons: Vec<String> = (logs.lines().iter())
        .filter(|l| l["outcome"] == "retried")
        .map(|l| l["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    // The schedule is 1 s, 2 s, 4 s, 8 s, 16 s… with jitter: by SQS's count (5) this
    // would have been the 16 s step.
    let waits: Vec<u64> = (reasons.iter())
        .map(|r| {
            r.rsplit("next in ")
                .next()
                .unwrap_or("")
                .trim_end_matches(" ms")
        })
        .map(|ms| ms.parse().expect("milliseconds"))
        .collect();
    assert!(reasons[0].contains("try 1 failed"), "{reasons:?}");
    assert!(reasons[1].contains("try 2 failed"), "{reasons:?}");
    assert!(waits[0] <= 1_500 && waits[1] <= 3_000, "{reasons:?}");
}

/// A message that is not an envelope is dead-lettered at once, and counted where
/// `DeadLettersAlarm` looks (`Events`, `outcome` `dead_lettered`), though it names no channel.
#[tokio::test]
async fn an_unreadable_message_is_dead_lettered_and_counted_for_the_alarm() {
    let server = MockServer::start().await;
    let logs = Logs::capture();
    let event = json!({ "Records": [record("m1", "not an envelope".into(), "g", now_ms())] });
    let (response, queue) = run(&server, event).await;
    assert!(failures(&response).is_empty(), "done with, not retried");
    assert_eq!(queue.dead_letters().len(), 1);
    let counted = logs.metrics();
    let dead = |m: &&Value| m.get("Events").is_some() && m["outcome"] == "dead_lettered";
    assert_eq!(counted.iter().filter(dead).count(), 1, "{counted:?}");
}
