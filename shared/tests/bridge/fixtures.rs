//! Every Qapla' fixture produces exactly the expected Connectif request, in both delivery
//! modes, asserted field by field on what the local Connectif received.

use crate::helpers::*;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use bridge_core::webhook::Webhook;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Mount the route Connectif would expose for `alias` / `kind` in `mode`, expecting `n` posts.
async fn expect_posts(server: &MockServer, mode: Mode, kind: &str, alias: &str, n: u64) {
    let mock = match mode {
        Mode::Endpoint => Mock::given(method("POST")).and(path(format!("/hooks/{kind}"))),
        Mode::Api => Mock::given(method("POST"))
            .and(path(format!("/custom-events/alias/{alias}")))
            .and(query_param("createContact", "true"))
            .and(header(
                "authorization",
                format!("apiKey {CONNECTIF_API_KEY}"),
            )),
    };
    mock.and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201))
        .expect(n)
        .mount(server)
        .await;
}

/// The bodies Connectif received, in order.
async fn received(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.expect("recording on");
    let requests: Vec<_> = requests
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    if let Some(r) = requests
        .iter()
        .find(|r| r.headers.get("authorization").is_some())
    {
        assert!(
            r.url.path().starts_with("/custom-events/alias/"),
            "an Endpoint URL post must not carry credentials"
        );
    }
    requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect()
}

/// Same keys, then every field compared on its own so a failure names it.
fn assert_fields(actual: &Value, expected: &Value) {
    let (a, e) = (
        actual.as_object().expect("object"),
        expected.as_object().expect("object"),
    );
    let mut ak: Vec<_> = a.keys().collect();
    let mut ek: Vec<_> = e.keys().collect();
    ak.sort();
    ek.sort();
    assert_eq!(ak, ek, "field ids");
    for (k, v) in e {
        assert_eq!(&a[k], v, "field {k}");
    }
}

async fn run<W: Webhook>(
    mode: Mode,
    route: &str,
    fixture_name: &str,
    kind: &str,
    alias: &str,
    expected: &[Value],
) {
    let server = MockServer::start().await;
    expect_posts(&server, mode, kind, alias, expected.len() as u64).await;
    let deps = deps(mode, &server.uri()).await;
    let body = fixture(fixture_name);
    let channel = if body.contains(ES_KEY) { "es" } else { "it" };
    let (status, answer) = send::<W>(&deps, post(&format!("/qapla/{channel}/{route}"), body)).await;
    assert_eq!(
        (status, answer),
        (200, ok()),
        "{fixture_name} in {mode:?} mode"
    );
    let bodies = received(&server).await;
    assert_eq!(
        bodies.len(),
        expected.len(),
        "{fixture_name} in {mode:?} mode"
    );
    for (actual, expected) in bodies.iter().zip(expected) {
        assert_fields(actual, expected);
    }
}

fn delivered_v13() -> Value {
    json!({
        "courierStatus": "CONSEGNATA",
        "customerEmail": "giulia.rossi@example.com",
        "customerName": "Giulia Rossi",
        "language": "it",
        "qaplaStatus": "Consegnato",
        "qaplaStatusID": "99",
        "reference": "ORDER-51704",
        "trackingNumber": "580104809",
        "trackingUrl": "https://shop.example/tracking?n=580104809&c=BRT"
    })
}

#[tokio::test]
async fn a_v13_delivered_shipment_becomes_the_nine_field_order_status_change() {
    for mode in [Mode::Endpoint, Mode::Api] {
        run::<ShipmentPayload>(
            mode,
            "shipments",
            "shipment-v1.3-delivered.json",
            "shipment",
            "order-status-change",
            &[delivered_v13()],
        )
        .await;
    }
}

#[tokio::test]
async fn a_spanish_channel_sends_spanish_labels() {
    let expected = json!({
        "courierStatus": "EN REPARTO",
        "customerEmail": "jose.martinez@example.es",
        "customerName": "José Martínez Núñez",
        "language": "es",
        "qaplaStatus": "En reparto",
        "qaplaStatusID": "4",
        "reference": "PS-000981",
        "trackingNumber": "ES7781002231",
        "trackingUrl": "https://shop.example/tracking?n=ES7781002231&c=SEUR"
    });
    for mode in [Mode::Endpoint, Mode::Api] {
        run::<ShipmentPayload>(
            mode,
            "shipments",
            "shipment-v1.3-out-for-delivery-es.json",
            "shipment",
            "order-status-change",
            std::slice::from_ref(&expected),
        )
        .await;
    }
}

#[tokio::test]
async fn v12_shipments_are_completed_from_qaplas_get_shipment() {
    let cases = [
        (
            "shipment-v1.2-in-transit.json",
            "In transito",
            "3",
            "PL",
            "2253647804",
            "2007135",
            "DHL",
        ),
        (
            "shipment-v1.2-exception-on-hold.json",
            "Eccezione - In giacenza",
            "6",
            "SHIPMENT ON HOLD - RECIPIENT ABSENT",
            "2253647804",
            "2007135",
            "DHL",
        ),
        (
            "shipment-v1.3-no-consignee.json",
            "Partito",
            "20",
            "PARTITA",
            "00998877",
            "2007199",
            "GLS-ITA",
        ),
    ];
    for (name, label, id, scan, tracking, reference, courier) in cases {
        for mode in [Mode::Endpoint, Mode::Api] {
            let server = MockServer::start().await;
            mount_get_shipment(
                &server,
                get_shipment_answer(
                    "anna.verdi@example.com",
                    "Anna Verdi",
                    "IT",
                    "https://tracking.qapla.it/x1",
                ),
                1,
            )
            .await;
            expect_posts(&server, mode, "shipment", "order-status-change", 1).await;
            let deps = deps(mode, &server.uri()).await;
            let (status, answer) =
                send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", fixture(name))).await;
            assert_eq!((status, answer), (200, ok()), "{name}");
            let bodies: Vec<Value> = server
                .received_requests()
                .await
                .expect("recording")
                .iter()
                .filter(|r| r.method.as_str() == "POST")
                .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
                .collect();
            assert_eq!(bodies.len(), 1, "{name} in {mode:?} mode");
            assert_fields(
                &bodies[0],
                &json!({
                    "courierStatus": scan,
                    "customerEmail": "anna.verdi@example.com",
                    "customerName": "Anna Verdi",
                    "language": "it",
                    "qaplaStatus": label,
                    "qaplaStatusID": id,
                    "reference": reference,
                    "trackingNumber": tracking,
                    "trackingUrl": format!("https://shop.example/tracking?n={tracking}&c={courier}")
                }),
            );
        }
    }
}

#[tokio::test]
async fn an_on_hold_exception_names_its_detail_when_the_customer_is_known() {
    let mut payload = fixture_json("shipment-v1.2-exception-on-hold.json");
    payload["consignee"] =
        json!({ "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "phone": null });
    let server = MockServer::start().await;
    expect_posts(
        &server,
        Mode::Endpoint,
        "shipment",
        "order-status-change",
        1,
    )
    .await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let (status, _) =
        send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", payload.to_string())).await;
    assert_eq!(status, 200);
    let bodies = received(&server).await;
    assert_eq!(bodies[0]["qaplaStatus"], "Eccezione - In giacenza");
    assert_eq!(bodies[0]["qaplaStatusID"], "6");
    assert_eq!(
        bodies[0]["courierStatus"],
        "SHIPMENT ON HOLD - RECIPIENT ABSENT"
    );
    assert_eq!(
        bodies[0]["trackingUrl"],
        "https://shop.example/tracking?n=2253647804&c=DHL"
    );
}

#[tokio::test]
async fn a_return_request_becomes_a_return_request_event_about_the_sender() {
    let expected = json!({
        "customerEmail": "giulia.rossi@example.com",
        "customerName": "Giulia Rossi",
        "reference": "ORDER-51704",
        "rma": "RMA-9981",
        "trackingNumber": "RT580104809",
        "courier": "GLS",
        "requestDate": "2024-03-20 14:05:00",
        "items": "1 x T-Shirt white XL (t-shirt-white-xl)",
        "reasons": "Wrong size",
        "language": "it"
    });
    for mode in [Mode::Endpoint, Mode::Api] {
        run::<ReturnsPayload>(
            mode,
            "returns",
            "return-request.json",
            "return",
            "return-request",
            std::slice::from_ref(&expected),
        )
        .await;
    }
}

#[tokio::test]
async fn each_order_in_the_array_becomes_an_order_shipped_event() {
    let expected = [
        json!({
            "customerEmail": "giulia.rossi@example.com",
            "customerName": "Giulia Rossi",
            "reference": "ORDER-51704",
            "orderDate": "2024-03-14 09:00:00",
            "shipDate": "2024-03-15 08:30:00",
            "courier": "BRT",
            "trackingNumber": "580104809",
            "trackingUrl": "https://shop.example/tracking?n=580104809&c=BRT",
            "amount": "€ 28.74",
            "cashOnDelivery": false,
            "language": "it"
        }),
        json!({
            "customerEmail": "marco.bianchi@example.com",
            "customerName": "Marco Bianchi",
            "reference": "ORDER-51705",
            "orderDate": "2024-03-14 10:15:00",
            "shipDate": "2024-03-15 08:31:00",
            "courier": "SDA",
            "trackingNumber": "SDA0000123456",
            "trackingUrl": "https://shop.example/tracking?n=SDA0000123456&c=SDA",
            "amount": "€ 0.00",
            "cashOnDelivery": true,
            "language": "it"
        }),
    ];
    for mode in [Mode::Endpoint, Mode::Api] {
        run::<OrdersPayload>(
            mode,
            "orders",
            "orders.json",
            "order",
            "order-shipped",
            &expected,
        )
        .await;
    }
}

#[tokio::test]
async fn custom_aliases_are_used_in_api_mode() {
    let server = MockServer::start().await;
    expect_posts(&server, Mode::Api, "order", "spedizione-partita", 2).await;
    let store = bridge_core::channel::MemoryStore::default();
    let mut secret = secret(Mode::Api, &server.uri(), IT_KEY, "it");
    secret["aliases"] = json!({ "order": "spedizione-partita" });
    store.put(channel("it"), secret.to_string());
    let deps = deps_with(std::sync::Arc::new(store), std::time::Duration::ZERO).await;
    let (status, _) =
        send::<OrdersPayload>(&deps, post("/qapla/it/orders", fixture("orders.json"))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_kind_without_an_endpoint_is_accepted_and_not_sent() {
    let server = MockServer::start().await;
    expect_posts(&server, Mode::Endpoint, "order", "order-shipped", 0).await;
    let store = bridge_core::channel::MemoryStore::default();
    let mut secret = secret(Mode::Endpoint, &server.uri(), IT_KEY, "it");
    secret["connectif"]["endpoints"] =
        json!({ "shipment": format!("{}/hooks/shipment", server.uri()) });
    store.put(channel("it"), secret.to_string());
    let deps = deps_with(std::sync::Arc::new(store), std::time::Duration::ZERO).await;
    let logs = Logs::capture();
    let (status, answer) =
        send::<OrdersPayload>(&deps, post("/qapla/it/orders", fixture("orders.json"))).await;
    assert_eq!((status, answer), (200, ok()));
    let skipped: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l["outcome"] == "skipped" && l["reason"] == "no_endpoint")
        .collect();
    assert_eq!(skipped.len(), 2, "both orders are skipped, with the reason");
}
