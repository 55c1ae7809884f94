//! Every sample in `events/` (the files for `sam local invoke -e` and `cargo lambda invoke`)
//! is a real API Gateway HTTP API event that the handlers accept.

use crate::helpers::*;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use lambda_http::{Body, RequestExt};
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
        let req = lambda_http::request::from_str(&text).expect("an API Gateway event");
        assert!(
            req.path_parameters_ref()
                .and_then(|p| p.first("channel"))
                .is_some(),
            "{name}"
        );

        // The body is the fixture it was made from (base64 decoded where flagged).
        let body = match req.body() {
            Body::Text(t) => t.as_bytes().to_vec(),
            Body::Binary(b) => b.clone(),
            Body::Empty => Vec::new(),
            _ => Vec::new(),
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
        let deps = deps(Mode::Endpoint, &server.uri());
        let route = event["routeKey"].as_str().unwrap_or_default();
        let answer = if route.ends_with("/shipments") {
            send::<ShipmentPayload>(&deps, req).await
        } else if route.ends_with("/returns") {
            send::<ReturnsPayload>(&deps, req).await
        } else if route.ends_with("/orders") {
            send::<OrdersPayload>(&deps, req).await
        } else {
            panic!("{name}: unexpected route {route}");
        };
        assert_eq!(answer, (200, ok()), "{name}");
        server.verify().await;
    }
}
