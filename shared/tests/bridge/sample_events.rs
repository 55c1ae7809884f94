//! Every sample in `events/` (the files for `sam local invoke -e` and `cargo lambda invoke`)
//! is a real API Gateway HTTP API event that the handlers accept.

use crate::helpers::*;
use base64::Engine;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn every_sample_event_is_answered_ok_and_delivers_what_its_fixture_holds() {
    let dir = workspace().join("events");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("events/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "env.json"))
        // The webhooks' samples: not the SQS one, nor the release page's (its own test,
        // `release::the_release_pages_sample_is_its_form`).
        .filter(|p| {
            !p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("sqs-") || n.starts_with("release-")
            })
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 8,
        "a sample per fixture, plus base64: {files:?}"
    );
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(&file).expect("readable");
        let event: Value = serde_json::from_str(&text).expect("JSON");
        assert!(event["pathParameters"]["channel"].is_string(), "{name}");

        // The body is the fixture it was made from (base64 decoded where flagged).
        let text_body = event["body"].as_str().unwrap_or_default();
        let body = if event["isBase64Encoded"] == true {
            base64::engine::general_purpose::STANDARD
                .decode(text_body)
                .expect("base64")
        } else {
            text_body.as_bytes().to_vec()
        };
        let fixture_name = format!(
            "{}.json",
            name.trim_end_matches(".json").trim_end_matches("-base64")
        );
        let expected: Value = fixture_json(&fixture_name);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).expect("body JSON"),
            expected,
            "{name}"
        );

        // Delivered events: one per customer that has an e-mail.
        let deliveries = match fixture_name.as_str() {
            "orders.json" => 2,
            "return-request.json"
            | "shipment-v1.3-delivered.json"
            | "shipment-v1.3-out-for-delivery-es.json" => 1,
            _ => 0,
        };
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201))
            .expect(deliveries)
            .mount(&server)
            .await;
        let deps = deps(Mode::Endpoint, &server.uri()).await;
        let route = event["routeKey"].as_str().unwrap_or_default();
        let answer = if route.ends_with("/shipments") {
            send::<ShipmentPayload>(&deps, event.clone()).await
        } else if route.ends_with("/returns") {
            send::<ReturnsPayload>(&deps, event.clone()).await
        } else if route.ends_with("/orders") {
            send::<OrdersPayload>(&deps, event.clone()).await
        } else {
            panic!("{name}: unexpected route {route}");
        };
        assert_eq!(answer, (200, ok()), "{name}");
        server.verify().await;
    }
}

#[tokio::test]
async fn a_body_flagged_base64_that_is_not_base64_is_a_400_ko_not_a_panic() {
    let server = connectif_expecting_nothing().await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let text = std::fs::read_to_string(workspace().join("events/shipment-v1.3-delivered.json"))
        .expect("sample");
    let mut event: Value = serde_json::from_str(&text).expect("JSON");
    for garbage in ["{not base64}", "e30", "%%%%", "ZZZ=ZZZ="] {
        event["body"] = garbage.into();
        event["isBase64Encoded"] = true.into();
        let logs = Logs::capture();
        let answer = send::<ShipmentPayload>(&deps, event.clone()).await;
        assert_eq!(answer, (400, ko()), "{garbage}");
        assert!(logs.text().contains("invalid_base64_body"), "{garbage}");
    }
}

#[tokio::test]
async fn an_invocation_that_is_not_an_http_event_is_a_400_ko() {
    let server = MockServer::start().await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    for event in [
        serde_json::json!(42),
        serde_json::json!({ "body": 7 }),
        serde_json::json!({ "requestContext": { "http": [] } }),
        serde_json::json!({ "Records": [] }),
    ] {
        let (status, answer) = send::<ShipmentPayload>(&deps, event.clone()).await;
        assert_eq!(answer, ko(), "{event}");
        assert!(status == 400 || status == 405, "{event}: {status}");
    }
}
