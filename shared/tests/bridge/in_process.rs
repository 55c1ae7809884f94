//! The in-process hand-off delivers right away with a short bounded retry, and never turns
//! a Connectif problem into a KO for Qapla'.

use crate::helpers::*;
use bridge_core::qapla::ShipmentPayload;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn post_delivered(server_uri: &str) -> (u16, serde_json::Value) {
    let deps = deps(Mode::Endpoint, server_uri).await;
    send::<ShipmentPayload>(
        &deps,
        post(
            "/qapla/it/shipments",
            fixture("shipment-v1.3-delivered.json"),
        ),
    )
    .await
}

fn outcome(logs: &Logs) -> (String, String) {
    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|l| l["message"] == "event")
        .expect("an event line");
    (
        line["outcome"].as_str().unwrap_or_default().into(),
        line["reason"].as_str().unwrap_or_default().into(),
    )
}

#[tokio::test]
async fn a_5xx_is_retried_then_delivered() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let logs = Logs::capture();
    assert_eq!(post_delivered(&server.uri()).await, (200, ok()));
    assert_eq!(outcome(&logs).0, "delivered");
}

#[tokio::test]
async fn a_429_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(post_delivered(&server.uri()).await, (200, ok()));
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_qapla_still_gets_ok() {
    let server = MockServer::start().await;
    // Connectif's error-codes guide: E0501 "Contact does not exist" comes with 400.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "status": 400, "title": "Bad Request", "code": "E0501",
            "detail": "Contact does not exist: giulia.rossi@example.com"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let logs = Logs::capture();
    assert_eq!(post_delivered(&server.uri()).await, (200, ok()));
    let (outcome, reason) = outcome(&logs);
    assert_eq!(outcome, "delivery_failed");
    assert_eq!(reason, "permanent: HTTP 400 (E0501 Bad Request)");
    assert!(!logs.text().contains("giulia.rossi@example.com"));
}

#[tokio::test]
async fn connectif_down_still_answers_ok_after_the_bounded_retries() {
    let port = free_port();
    let logs = Logs::capture();
    assert_eq!(
        post_delivered(&format!("http://127.0.0.1:{port}")).await,
        (200, ok())
    );
    assert_eq!(
        outcome(&logs),
        (
            "delivery_failed".into(),
            "retryable: connection failed".into()
        )
    );
}

#[tokio::test]
async fn a_slow_connectif_times_out_and_still_answers_ok() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(TOO_SLOW))
        .expect(3)
        .mount(&server)
        .await;
    let logs = Logs::capture();
    assert_eq!(post_delivered(&server.uri()).await, (200, ok()));
    assert_eq!(
        outcome(&logs),
        ("delivery_failed".into(), "retryable: timeout".into())
    );
}
