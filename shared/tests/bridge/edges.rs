//! The edges a shop would hit on day one (issue 7): return parcels and their endpoint, blank
//! identity fields, the order's tracking page, e-mail identity, strict flags, ids as sent,
//! and no empty required field ever reaching Connectif.

use crate::helpers::*;
use bridge_core::channel::MemoryStore;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use bridge_core::webhook::Deps;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Deps over one `it` channel: the test secret with `patch` merged in.
async fn channel_with(mode: Mode, connectif: &str, patch: Value) -> Deps {
    let mut secret = secret(mode, connectif, IT_KEY, "it");
    for (k, v) in patch.as_object().expect("object") {
        secret[k] = v.clone();
    }
    let store = MemoryStore::default();
    store.put(channel("it"), secret.to_string());
    deps_with(Arc::new(store), Duration::ZERO).await
}

async fn mount(server: &MockServer, at: &str, n: u64) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(201))
        .expect(n)
        .named(at)
        .mount(server)
        .await;
}

fn return_parcel() -> String {
    let mut v = fixture_json("shipment-v1.3-out-for-delivery-es.json");
    v["apiKey"] = json!(IT_KEY);
    v["return"] = json!(1);
    v.to_string()
}

/// The JSON bodies Connectif received, in order.
async fn received(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect()
}

/// The log lines of this thread with `outcome`.
fn with_outcome(logs: &Logs, outcome: &str) -> Vec<Value> {
    logs.lines()
        .into_iter()
        .filter(|l| l["outcome"] == outcome)
        .collect()
}

#[tokio::test]
async fn a_return_parcels_status_goes_to_the_return_status_endpoint_never_the_shipment_one() {
    let server = MockServer::start().await;
    mount(&server, "/hooks/shipment", 0).await;
    mount(&server, "/hooks/return-status", 1).await;
    let endpoints = json!({ "mode": "endpoint", "endpoints": {
        "shipment": format!("{}/hooks/shipment", server.uri()),
        "returnStatus": format!("{}/hooks/return-status", server.uri()),
    }});
    let deps = channel_with(
        Mode::Endpoint,
        &server.uri(),
        json!({ "connectif": endpoints }),
    )
    .await;
    let answer = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", return_parcel())).await;
    assert_eq!(answer, (200, ok()));
    server.verify().await;
}

#[tokio::test]
async fn without_a_return_status_endpoint_a_return_parcels_status_is_skipped_with_the_reason() {
    let server = MockServer::start().await;
    mount(&server, "/hooks/shipment", 0).await;
    let deps = channel_with(Mode::Endpoint, &server.uri(), json!({})).await;
    let logs = Logs::capture();
    let answer = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", return_parcel())).await;
    assert_eq!(answer, (200, ok()));
    let skipped = with_outcome(&logs, "skipped");
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["reason"], "no_endpoint");
    server.verify().await;
}

#[tokio::test]
async fn in_api_mode_a_return_parcels_status_uses_the_return_status_alias() {
    let server = MockServer::start().await;
    mount(&server, "/custom-events/alias/return-status-change", 1).await;
    mount(&server, "/custom-events/alias/order-status-change", 0).await;
    let deps = channel_with(Mode::Api, &server.uri(), json!({})).await;
    let answer = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", return_parcel())).await;
    assert_eq!(answer, (200, ok()));
    server.verify().await;
}

#[tokio::test]
async fn with_return_shipments_same_a_return_parcel_uses_the_shipment_endpoint() {
    let server = MockServer::start().await;
    mount(&server, "/hooks/shipment", 1).await;
    let deps = channel_with(
        Mode::Endpoint,
        &server.uri(),
        json!({ "returnShipments": "same" }),
    )
    .await;
    let answer = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", return_parcel())).await;
    assert_eq!(answer, (200, ok()));
    server.verify().await;
}

/// The refusal's log line for `body` posted to the `route` of kind `W`.
async fn refusal<W: bridge_core::webhook::Webhook>(route: &str, body: String) -> (u16, Value) {
    let server = connectif_expecting_nothing().await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let logs = Logs::capture();
    let (status, answer) = send::<W>(&deps, post(&format!("/qapla/it/{route}"), body)).await;
    assert_eq!(answer, ko());
    let line = with_outcome(&logs, "rejected")
        .pop()
        .expect("a refusal line");
    (status, line)
}

#[tokio::test]
async fn blank_identity_fields_are_a_400_ko_naming_the_field() {
    let shipment = fixture_json("shipment-v1.3-delivered.json");
    for (field, blank) in [
        ("trackingNumber", json!("")),
        ("trackingNumber", json!("   ")),
        ("trackingNumber", json!(null)),
        ("qaplaStatusID", json!(" ")),
        ("qaplaStatus", json!("")),
        ("qaplaStatus", json!(null)),
    ] {
        let mut v = shipment.clone();
        v[field] = blank.clone();
        let (status, line) = refusal::<ShipmentPayload>("shipments", v.to_string()).await;
        assert_eq!(status, 400, "{field}={blank}");
        assert_eq!(line["reason"], "invalid_payload");
        let detail = line["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(field), "{field}={blank}: {detail}");
    }
    let mut missing = shipment.clone();
    missing
        .as_object_mut()
        .expect("object")
        .remove("qaplaStatus");
    let (status, _) = refusal::<ShipmentPayload>("shipments", missing.to_string()).await;
    assert_eq!(status, 400);

    let mut orders = fixture_json("orders.json");
    orders["orders"][1]["reference"] = json!(" ");
    let (status, line) = refusal::<OrdersPayload>("orders", orders.to_string()).await;
    assert_eq!(status, 400);
    assert!(
        line["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("orders[1].reference")
    );

    let mut returns = fixture_json("return-request.json");
    returns["webhookReturnShipments"]["returnShipments"][0]["reference"] = json!("");
    let (status, line) = refusal::<ReturnsPayload>("returns", returns.to_string()).await;
    assert_eq!(status, 400);
    let detail = line["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("returnShipments[0].reference"), "{detail}");
}

#[tokio::test]
async fn flags_other_than_qaplas_and_bodies_that_are_not_objects_are_a_400_ko() {
    let shipment = fixture_json("shipment-v1.3-delivered.json");
    for (field, bad) in [
        ("return", json!({})),
        ("isChild", json!([1])),
        ("return", json!(-1)),
        ("hasChildren", json!(2)),
        ("return", json!("yes")),
    ] {
        let mut v = shipment.clone();
        v[field] = bad.clone();
        let (status, line) = refusal::<ShipmentPayload>("shipments", v.to_string()).await;
        assert_eq!(status, 400, "{field}={bad}");
        assert!(
            line["detail"].as_str().unwrap_or_default().contains(field),
            "{line}"
        );
    }
    // The payload's values in field order, as a JSON array.
    let fields: Vec<Value> = shipment
        .as_object()
        .expect("object")
        .values()
        .cloned()
        .collect();
    let (status, _) = refusal::<ShipmentPayload>("shipments", json!(fields).to_string()).await;
    assert_eq!(status, 400);
    let mut orders = fixture_json("orders.json");
    orders["orders"][0]["isPOD"] = json!({});
    let (status, _) = refusal::<OrdersPayload>("orders", orders.to_string()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn numeric_ids_reach_connectif_as_the_digits_qapla_sent() {
    let server = MockServer::start().await;
    mount(&server, "/hooks/shipment", 1).await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let body = fixture("shipment-v1.3-delivered.json")
        .replace(
            r#""qaplaStatusID": "99""#,
            r#""qaplaStatusID": 99999999999999999999"#,
        )
        .replace(
            r#""trackingNumber": "580104809""#,
            r#""trackingNumber": 12345678901234567890123"#,
        );
    assert!(body.contains("99999999999999999999") && body.contains("12345678901234567890123"));
    let answer = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", body)).await;
    assert_eq!(answer, (200, ok()));
    let sent = received(&server).await;
    assert_eq!(sent[0]["qaplaStatusID"], "99999999999999999999");
    assert_eq!(sent[0]["trackingNumber"], "12345678901234567890123");
}

#[tokio::test]
async fn e_mails_differing_in_case_become_one_contact() {
    let server = MockServer::start().await;
    mount(&server, "/hooks/shipment", 2).await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    for (email, status) in [
        (" Mario.Rossi@Example.IT ", "3"),
        ("mario.rossi@example.it", "4"),
    ] {
        let mut v = fixture_json("shipment-v1.3-delivered.json");
        v["consignee"]["email"] = json!(email);
        v["qaplaStatusID"] = json!(status);
        let answer =
            send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", v.to_string())).await;
        assert_eq!(answer, (200, ok()));
    }
    let sent = received(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["customerEmail"], "mario.rossi@example.it");
    assert_eq!(sent[1]["customerEmail"], "mario.rossi@example.it");
}

#[tokio::test]
async fn order_shipped_gets_qaplas_tracking_page_when_the_channel_uses_it() {
    let server = MockServer::start().await;
    mount(&server, "/custom-events/alias/order-shipped", 2).await;
    let page = "https://tracking.qapla.it/abc123";
    let answer = get_shipment_answer("luca.neri@example.com", "Luca Neri", "IT", page);
    mount_get_shipment(&server, answer, 2).await;
    let mut patch = json!({ "trackingUrlSource": "qapla" });
    patch["trackingUrlTemplate"] = json!("");
    let deps = channel_with(Mode::Api, &server.uri(), patch).await;
    let answer =
        send::<OrdersPayload>(&deps, post("/qapla/it/orders", fixture("orders.json"))).await;
    assert_eq!(answer, (200, ok()));
    let sent = received(&server).await;
    assert_eq!(sent.len(), 2);
    for event in sent {
        assert_eq!(event["trackingUrl"], page, "{event}");
        // The order's own customer, not getShipment's.
        assert_ne!(event["customerEmail"], "luca.neri@example.com");
    }
    server.verify().await;
}

#[tokio::test]
async fn an_empty_required_field_is_never_sent() {
    let server = MockServer::start().await;
    mount(&server, "/hooks/shipment", 0).await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let mut v = fixture_json("shipment-v1.3-delivered.json");
    v["reference"] = json!("  ");
    let logs = Logs::capture();
    let answer = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", v.to_string())).await;
    assert_eq!(answer, (200, ok()), "accepted: Qapla' must not retry it");
    // Skipped at the webhook, never queued: Connectif would refuse it whenever it is sent.
    let skipped = with_outcome(&logs, "skipped");
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["reason"], "empty_required_field");
    assert!(with_outcome(&logs, "delivery_failed").is_empty());
    server.verify().await;
}

/// A shop that sends only returns and orders through the bridge (shipment statuses still go
/// through another connector): shipment posts are answered OK — Qapla' counts no failure —
/// and not sent, each logged and counted as skipped, `kind_off`.
#[tokio::test]
async fn a_kind_the_channel_does_not_send_is_answered_ok_and_skipped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/return"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let patch = json!({ "send": { "shipments": false } });
    let deps = channel_with(Mode::Endpoint, &server.uri(), patch).await;
    let logs = Logs::capture();
    let shipment = post(
        "/qapla/it/shipments",
        fixture("shipment-v1.3-delivered.json"),
    );
    assert_eq!(send::<ShipmentPayload>(&deps, shipment).await, (200, ok()));
    let lines = logs.lines();
    let skipped = lines.iter().find(|l| l["outcome"] == "skipped");
    assert_eq!(skipped.expect("logged")["reason"], "kind_off");
    let counted = logs.metrics();
    assert!(
        counted
            .iter()
            .any(|m| m["outcome"] == "skipped" && m["kind"] == "shipment")
    );
    let returns = post("/qapla/it/returns", fixture("return-request.json"));
    assert_eq!(send::<ReturnsPayload>(&deps, returns).await, (200, ok()));
}
