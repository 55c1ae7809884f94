//! The real binary, run as Lambda runs it (a Runtime API on loopback hands it events): every
//! line it writes while handling an invocation names that invocation's `requestId` (and the
//! post's `key`), metric lines included; no line carries a key or a full e-mail address.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::runtime_api::RuntimeApi;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const IT_KEY: &str = "test-channel-key-it";

fn event(name: &str) -> Value {
    let text = std::fs::read_to_string(testkit::workspace().join("events").join(name))
        .expect("sample event");
    serde_json::from_str(&text).expect("json")
}

/// The sample environment of `events/env.json` (local mode: inline channels, in-process
/// delivery), its Connectif and Qapla' at `connectif`.
fn environment(connectif: &str) -> Vec<(String, String)> {
    let all = event("env.json");
    let vars = all["ShipmentFunction"]
        .as_object()
        .expect("ShipmentFunction");
    vars.iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .expect("text")
                .replace("http://127.0.0.1:9911", connectif);
            (k.clone(), v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_of_an_invocation_names_its_request_id() {
    let connectif = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&connectif)
        .await;
    let api = RuntimeApi::start().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_shipment-webhook"))
        .env_clear()
        .envs(environment(&connectif.uri()))
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "shipment-webhook")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/shipment-webhook")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_REGION", "eu-west-1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");

    let delivered = event("shipment-v1.3-delivered.json");
    let mut wrong_key = delivered.clone();
    let body = wrong_key["body"]
        .as_str()
        .expect("body")
        .replace(IT_KEY, "not-the-key");
    wrong_key["body"] = json!(body);
    let limit = Duration::from_secs(20);
    let ok = api.invoke(&delivered, limit).await;
    let ko = api.invoke(&wrong_key, limit).await;
    assert_eq!(
        (ok.kind.as_str(), ko.kind.as_str()),
        ("response", "response")
    );
    assert_eq!(ok.body["body"], r#"{"result":"OK"}"#);
    assert_eq!(ko.body["body"], r#"{"result":"KO"}"#);
    child.kill().expect("kill");
    let lines: Vec<Value> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|l| serde_json::from_str(&l.expect("line")).expect("every line is JSON"))
        .collect();
    let _ = child.wait();

    // Before the first invocation: the cold start, counted, and nothing else.
    assert_eq!(lines[0]["ColdStarts"], 1, "{lines:#?}");
    assert_eq!(lines[0]["function"], "shipment-webhook");
    assert_eq!(
        lines[0]["version"],
        env!("CARGO_PKG_VERSION"),
        "the release it runs"
    );
    assert!(lines[0].get("requestId").is_none());
    let of = |id: &str| -> Vec<&Value> { lines.iter().filter(|l| l["requestId"] == id).collect() };
    assert_eq!(
        lines.len(),
        1 + of(&ok.request_id).len() + of(&ko.request_id).len(),
        "every other line names its invocation: {lines:#?}"
    );
    let accepted = of(&ok.request_id);
    assert!(
        accepted.iter().any(|l| l["message"] == "event"
            && l["outcome"] == "delivered"
            && l["key"] == "580104809"),
        "{accepted:#?}"
    );
    assert!(
        accepted
            .iter()
            .any(|l| l["Posts"] == 1 && l["outcome"] == "accepted")
    );
    let refused = of(&ko.request_id);
    assert!(
        refused.iter().any(|l| l["message"] == "Qapla' post refused"
            && l["reason"] == "wrong_api_key"
            && l["level"] == "WARN"),
        "{refused:#?}"
    );
    assert!(
        refused
            .iter()
            .any(|l| l["Posts"] == 1 && l["reason"] == "wrong_api_key")
    );
    for line in &lines {
        assert!(line.get("timestamp").is_some() || line.get("_aws").is_some());
        let text = line.to_string();
        assert!(
            !text.contains(IT_KEY) && !text.contains("not-the-key"),
            "{text}"
        );
        assert!(!text.contains("giulia.rossi@"), "{text}");
    }
}
