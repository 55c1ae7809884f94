//! Bad input gets an opaque `{"result":"KO"}` with a fitting status and a log line saying
//! why; nothing reaches Connectif and nothing panics.

use crate::helpers::*;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The answer, and the `reason` of the refusal's log line.
async fn refused(req: Value) -> (u16, serde_json::Value, String) {
    let server = connectif_expecting_nothing().await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let logs = Logs::capture();
    let (status, answer) = send::<ShipmentPayload>(&deps, req).await;
    let reason = logs
        .lines()
        .iter()
        .find(|l| l["outcome"] == "rejected")
        .map(|l| l["reason"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (status, answer, reason)
}

#[tokio::test]
async fn non_json_is_a_400_ko() {
    let (status, answer, reason) = refused(post("/qapla/it/shipments", "<html>hello</html>")).await;
    assert_eq!(
        (status, answer, reason.as_str()),
        (400, ko(), "invalid_payload")
    );
}

#[tokio::test]
async fn an_empty_body_is_a_400_ko() {
    for body in [None, Some(""), Some(" \n")] {
        let req = request("POST", "/qapla/it/shipments", body);
        let (status, answer, reason) = refused(req).await;
        assert_eq!((status, answer, reason.as_str()), (400, ko(), "empty_body"));
    }
}

#[tokio::test]
async fn the_wrong_shape_is_a_400_ko() {
    let shapes = [
        "[]".to_owned(),
        "42".to_owned(),
        r#"{"apiKey":"test-channel-key-it"}"#.to_owned(),
        r#"{"apiKey":"test-channel-key-it","trackingNumber":"1","qaplaStatusID":{"id":3}}"#
            .to_owned(),
        fixture("orders.json"),
    ];
    for body in shapes {
        let (status, answer, reason) = refused(post("/qapla/it/shipments", body.clone())).await;
        assert_eq!(
            (status, answer, reason.as_str()),
            (400, ko(), "invalid_payload"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_missing_api_key_is_a_401_ko() {
    let mut v = fixture_json("shipment-v1.3-delivered.json");
    v.as_object_mut().expect("object").remove("apiKey");
    let (status, answer, reason) = refused(post("/qapla/it/shipments", v.to_string())).await;
    assert_eq!(
        (status, answer, reason.as_str()),
        (401, ko(), "missing_api_key")
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_a_413_ko() {
    let mut v = fixture_json("shipment-v1.3-delivered.json");
    v["custom1"] = serde_json::Value::String("x".repeat(70 * 1024));
    let (status, answer, reason) = refused(post("/qapla/it/shipments", v.to_string())).await;
    assert_eq!(
        (status, answer, reason.as_str()),
        (413, ko(), "body_too_large")
    );
}

#[tokio::test]
async fn a_method_other_than_post_is_a_405_ko() {
    for m in ["GET", "PUT", "DELETE"] {
        let body = fixture("shipment-v1.3-delivered.json");
        let req = request(m, "/qapla/it/shipments", Some(&body));
        let (status, answer, reason) = refused(req).await;
        assert_eq!(
            (status, answer, reason.as_str()),
            (405, ko(), "method_not_allowed"),
            "{m}"
        );
    }
}

#[tokio::test]
async fn a_path_without_a_valid_channel_is_a_401_ko() {
    for path in [
        "/qapla//shipments",
        "/shipments",
        "/qapla/bad%20id/shipments",
    ] {
        let (status, answer, reason) =
            refused(post(path, fixture("shipment-v1.3-delivered.json"))).await;
        assert_eq!(
            (status, answer, reason.as_str()),
            (401, ko(), "invalid_channel_id"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn each_function_refuses_the_other_kinds_payloads() {
    let server = connectif_expecting_nothing().await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let shipment = fixture("shipment-v1.3-delivered.json");
    let (status, answer) =
        send::<OrdersPayload>(&deps, post("/qapla/it/orders", shipment.clone())).await;
    assert_eq!((status, answer), (400, ko()));
    let (status, answer) = send::<ReturnsPayload>(&deps, post("/qapla/it/returns", shipment)).await;
    assert_eq!((status, answer), (400, ko()));
}

/// `{…}garbage` and two objects back to back: refused whole (the first object alone was once
/// answered OK and sent).
#[tokio::test]
async fn data_after_the_json_object_is_a_400_ko() {
    let server = connectif_expecting(1).await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let cases = [
        ("shipments", fixture("shipment-v1.3-delivered.json")),
        ("returns", fixture("return-request.json")),
        ("orders", fixture("orders.json")),
    ];
    for (path, body) in cases {
        let path = format!("/qapla/it/{path}");
        for trailing in ["garbage", "{}", &body, "]"] {
            let req = post(&path, format!("{body}{trailing}"));
            let logs = Logs::capture();
            let (status, answer) = match path.as_str() {
                "/qapla/it/shipments" => send::<ShipmentPayload>(&deps, req).await,
                "/qapla/it/returns" => send::<ReturnsPayload>(&deps, req).await,
                _ => send::<OrdersPayload>(&deps, req).await,
            };
            assert_eq!((status, answer), (400, ko()), "{path} + {trailing:.20}");
            let line = logs
                .lines()
                .into_iter()
                .find(|l| l["outcome"] == "rejected");
            let line = line.expect("a rejection logged");
            assert_eq!(line["reason"], "invalid_payload");
            assert!(
                line.to_string().contains("data after the JSON object"),
                "{line}"
            );
        }
    }
    // Whitespace after the object is still one object (and the one post Connectif gets).
    let body = format!("{}\n \n", fixture("shipment-v1.3-delivered.json"));
    let (status, _) = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", body)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn logs_never_carry_keys_emails_or_names() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let deps = deps(Mode::Api, &server.uri()).await;
    let logs = Logs::capture();
    let _ = send::<ShipmentPayload>(
        &deps,
        post(
            "/qapla/it/shipments",
            fixture("shipment-v1.3-delivered.json"),
        ),
    )
    .await;
    let _ = send::<OrdersPayload>(&deps, post("/qapla/it/orders", fixture("orders.json"))).await;
    let _ = send::<ReturnsPayload>(
        &deps,
        post("/qapla/it/returns", fixture("return-request.json")),
    )
    .await;
    let wrong = fixture("shipment-v1.3-delivered.json").replace(IT_KEY, "a-wrong-key-1234");
    let _ = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", wrong)).await;
    let text = logs.text();
    assert!(
        text.contains("g***@example.com"),
        "masked e-mails are logged: {text}"
    );
    for secret in [
        IT_KEY,
        "a-wrong-key-1234",
        "key-secret-1",
        "giulia.rossi@example.com",
        "marco.bianchi@example.com",
        "Giulia Rossi",
        "Marco Bianchi",
        "Rossi",
    ] {
        assert!(!text.contains(secret), "log leaks {secret:?}");
    }
}

#[tokio::test]
async fn content_type_variants_are_all_accepted() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(201))
        .expect(5)
        .mount(&server)
        .await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    for content_type in [
        Some("application/json;"),
        Some("application/json; charset=utf-8"),
        Some("application/json;charset=UTF-8"),
        Some("text/plain"),
        None,
    ] {
        let mut req = post(
            "/qapla/it/shipments",
            fixture("shipment-v1.3-delivered.json"),
        );
        match content_type {
            Some(ct) => req["headers"]["content-type"] = ct.into(),
            None => drop(
                req["headers"]
                    .as_object_mut()
                    .map(|h| h.remove("content-type")),
            ),
        }
        let (status, answer) = send::<ShipmentPayload>(&deps, req).await;
        assert_eq!((status, answer), (200, ok()), "{content_type:?}");
    }
}
