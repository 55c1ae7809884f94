//! The state table's batched reads when DynamoDB answers only part of them: the real SDK
//! client against a loopback stand-in of `BatchGetItem` (moto answers every key at once, so
//! it cannot show this).
//!
//! Rules of the stand-in, from the DynamoDB API Reference, `BatchGetItem`
//! (docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html):
//! - "BatchGetItem returns a partial result if … the table's provisioned throughput is
//!   exceeded … If a partial result is returned, the operation returns a value for
//!   UnprocessedKeys", in the request's own shape (`Keys`, `ConsistentRead`);
//! - "If at least one of the items is successfully processed, then BatchGetItem completes
//!   successfully" (HTTP 200), and the caller "should retry the batch operation on those
//!   items … we strongly recommend that you use an exponential backoff algorithm".
//! - The wire form (Low-level API, "Request format"): `POST /`, JSON 1.0, the operation in
//!   `X-Amz-Target: DynamoDB_20120810.BatchGetItem`, items in DynamoDB JSON (`{"S": …}`).

use bridge_core::aws::table::{Pk, Table};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TABLE: &str = "bridge-state";

/// When each call came, and the keys it asked for.
type Calls = Arc<Mutex<Vec<(Instant, Vec<String>)>>>;

/// Answers each `BatchGetItem` with the keys it was asked for: those in `leave` (by the
/// number of the call, from 0) come back unprocessed, the rest as items. Records when each
/// call came and which keys it asked for.
struct Partial {
    leave: fn(usize, &str) -> bool,
    calls: Calls,
}

impl Respond for Partial {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON 1.0 body");
        let asked = &body["RequestItems"][TABLE];
        let keys: Vec<String> = asked["Keys"]
            .as_array()
            .expect("Keys")
            .iter()
            .map(|k| k["pk"]["S"].as_str().expect("pk").to_owned())
            .collect();
        let mut calls = self.calls.lock().expect("calls");
        let call = calls.len();
        calls.push((Instant::now(), keys.clone()));
        let (left, read): (Vec<_>, Vec<_>) = keys.iter().partition(|k| (self.leave)(call, k));
        let items: Vec<Value> = read.iter().map(|k| json!({"pk": {"S": k}})).collect();
        let mut answer = json!({"Responses": {TABLE: items}, "UnprocessedKeys": {}});
        if !left.is_empty() {
            let left: Vec<Value> = left.iter().map(|k| json!({"pk": {"S": k}})).collect();
            answer["UnprocessedKeys"] = json!({TABLE: {"Keys": left, "ConsistentRead": true}});
        }
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/x-amz-json-1.0")
            .set_body_string(answer.to_string())
    }
}

async fn table_on(
    leave: fn(usize, &str) -> bool,
) -> (Table, Arc<Mutex<Vec<(Instant, Vec<String>)>>>, MockServer) {
    let server = MockServer::start().await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("x-amz-target", "DynamoDB_20120810.BatchGetItem"))
        .respond_with(Partial {
            leave,
            calls: calls.clone(),
        })
        .mount(&server)
        .await;
    let aws = testkit::aws::clients(&server.uri());
    (Table::new(aws.dynamo, TABLE), calls, server)
}

#[tokio::test]
async fn unprocessed_keys_are_asked_again_after_a_backoff_and_only_they() {
    // The first answer leaves event#b unread; the second reads it.
    let (table, calls, _server) = table_on(|call, key| call == 0 && key == "event#b").await;
    let items = table
        .get_all(&[Pk::Event("a"), Pk::Event("b"), Pk::Event("c")])
        .await
        .expect("every key read in the end");
    let mut read: Vec<String> = items
        .iter()
        .map(|i| i["pk"].as_s().expect("pk").clone())
        .collect();
    read.sort();
    assert_eq!(read, ["event#a", "event#b", "event#c"]);
    let calls = calls.lock().expect("calls");
    assert_eq!(calls.len(), 2, "one more call, for the key left unread");
    assert_eq!(
        calls[1].1,
        ["event#b"],
        "only the unprocessed key asked again"
    );
    let waited = calls[1].0 - calls[0].0;
    // RetryPolicy::aws's first wait: 500 ms ± 25 %.
    assert!(
        waited >= Duration::from_millis(370),
        "asked again after {waited:?}, not after a backoff"
    );
}

#[tokio::test]
async fn keys_never_read_are_an_error_after_three_calls_not_a_missing_item() {
    let (table, calls, _server) = table_on(|_, key| key == "event#b").await;
    let started = Instant::now();
    let result = table.get_all(&[Pk::Event("a"), Pk::Event("b")]).await;
    assert!(
        result.is_err(),
        "a key never read must not look like an absent item"
    );
    assert_eq!(calls.lock().expect("calls").len(), 3);
    // Both waits of the schedule (500 ms and 1 s, ± 25 %) were taken.
    assert!(started.elapsed() >= Duration::from_millis(1_120));
}
