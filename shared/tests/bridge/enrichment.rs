//! Every event complete and meaningful: the customer and the tracking page from Qapla's
//! `getShipment` (a local fake of Qapla's API), the contact's language, one notification
//! per real change, return and child shipments.

use crate::durable_helpers::*;
use crate::helpers::*;
use bridge_core::qapla::ShipmentPayload;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const QAPLA_PAGE: &str = "https://tracking.qapla.it/a1b2c3";

fn anna() -> Value {
    get_shipment_answer("anna.verdi@example.com", "Anna Verdi", "IT", QAPLA_PAGE)
}

fn v12(id: &str, date: &str, scan: &str) -> String {
    let mut v = fixture_json("shipment-v1.2-in-transit.json");
    v["qaplaStatusID"] = json!(id);
    v["date"] = json!(date);
    v["courierStatus"] = json!(scan);
    v.to_string()
}

fn ids(fake: &FakeConnectif) -> Vec<String> {
    fake.accepted()
        .iter()
        .map(|b| b["qaplaStatusID"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_v12_payload_is_delivered_with_the_customer_and_tracking_page_from_get_shipment() {
    let (server, fake) = FakeConnectif::start().await;
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.3/getShipment/"))
        .and(query_param("apiKey", IT_KEY))
        .and(query_param("trackingNumber", "2253647804"))
        .and(query_param("data", "consignee"))
        .and(query_param("lang", "it"))
        .respond_with(testkit::qapla::GetShipment { answer: anna() })
        .expect(1)
        .mount(&server)
        .await;
    let local = LocalDurable::start(&server.uri(), json!({ "trackingUrlSource": "qapla" })).await;
    local.post(fixture("shipment-v1.2-in-transit.json")).await;
    local.drain().await;
    let sent = fake.accepted();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["customerEmail"], "anna.verdi@example.com");
    assert_eq!(sent[0]["customerName"], "Anna Verdi");
    assert_eq!(sent[0]["trackingUrl"], QAPLA_PAGE);
    assert_eq!(sent[0]["qaplaStatus"], "In transito");
}

#[tokio::test]
async fn ten_statuses_of_one_shipment_cost_one_get_shipment_call() {
    let (server, fake) = FakeConnectif::start().await;
    mount_get_shipment(&server, anna(), 1).await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    for i in 0..10 {
        let id = if i % 2 == 0 { "3" } else { "20" };
        local
            .post(v12(
                id,
                &format!("2024-03-15 10:00:0{i}"),
                &format!("scan {i}"),
            ))
            .await;
    }
    local.drain().await;
    assert_eq!(fake.accepted().len(), 10);
}

#[tokio::test]
async fn qapla_throttling_delays_the_event_and_it_is_delivered_once() {
    let (server, fake) = FakeConnectif::start().await;
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.3/getShipment/"))
        .respond_with(ResponseTemplate::new(429).set_body_json(
            json!({ "getShipment": { "result": "KO", "error": "Too Many Requests" } }),
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_get_shipment(&server, anna(), 1).await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    local.post(fixture("shipment-v1.2-in-transit.json")).await;
    local.drain().await;
    assert_eq!(fake.accepted().len(), 1);
    assert!(local.queue.dead_letters().is_empty());
}

#[tokio::test]
async fn a_shipment_qapla_does_not_know_is_skipped_not_dead_lettered() {
    // What Qapla's panel "Test" button causes: a made-up shipment, unknown to getShipment.
    let unknown = [
        json!({ "getShipment": { "result": "KO", "error": "Shipment not found" } }),
        json!({ "getShipment": { "result": "OK", "error": null, "count": 0, "shipments": [] } }),
    ];
    for answer in unknown {
        let (server, fake) = FakeConnectif::start().await;
        mount_get_shipment(&server, answer.clone(), 1).await;
        // The key works: it is the shipment Qapla' does not know.
        mount_get_channel(
            &server,
            json!({ "getChannel": { "result": "OK", "channel": { "name": "Shop IT" } } }),
            1,
        )
        .await;
        let local = LocalDurable::start(&server.uri(), json!({})).await;
        let logs = Logs::capture();
        local.post(fixture("shipment-v1.2-in-transit.json")).await;
        local.drain().await;
        assert!(fake.tries().is_empty());
        assert!(local.queue.dead_letters().is_empty(), "{answer}");
        assert!(local.queue.is_empty(), "done with, not retried: {answer}");
        let skipped = logs
            .lines()
            .into_iter()
            .filter(|l| l["outcome"] == "skipped" && l["reason"] == "unknown_to_qapla")
            .count();
        assert_eq!(skipped, 1, "{answer}: {}", logs.text());
    }
}

/// Qapla' answers a refused key with the same KO as an unknown shipment: `getChannel` with
/// the key tells them apart, and a refused key keeps the event (retried, counted, alarmed),
/// where it was once skipped for good.
#[tokio::test]
async fn a_refused_qapla_key_is_retried_and_counted_not_read_as_an_unknown_shipment() {
    let (server, fake) = FakeConnectif::start().await;
    let ko = json!({ "getShipment": { "result": "KO", "error": "Invalid apiKey" } });
    mount_get_shipment(&server, ko, 2).await;
    let refused = json!({ "getChannel": { "result": "KO", "error": "Invalid apiKey" } });
    // Asked once for two events: the verdict on a key is kept a minute.
    mount_get_channel(&server, refused, 1).await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    let logs = Logs::capture();
    local.post(v12("3", "2024-03-15 10:00:00", "scan 1")).await;
    let mut other: Value =
        serde_json::from_str(&v12("3", "2024-03-15 10:00:00", "scan 1")).expect("json");
    other["trackingNumber"] = json!("OTHER-1");
    local.post(other.to_string()).await;
    let batch = local.queue.receive(10);
    assert_eq!(batch.len(), 2);
    let failed = local.worker.process(&batch).await;
    assert_eq!(failed.len(), 2, "both kept, to try again");
    assert!(fake.tries().is_empty());
    assert!(local.queue.dead_letters().is_empty());
    let lines = logs.lines();
    let retried: Vec<_> = (lines.iter())
        .filter(|l| l["outcome"] == "retried")
        .map(|l| l["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(retried.len(), 2, "{}", logs.text());
    assert!(
        retried.iter().all(|r| r.starts_with("qapla_key_refused")),
        "{retried:?}"
    );
    assert!(!lines.iter().any(|l| l["outcome"] == "skipped"));
    assert_eq!(logs.counted("QaplaKeyRefused"), 2);
}

/// No e-mail in the post nor in Qapla' (common for marketplace orders): nobody to tell, and
/// nothing an operator can fix by a replay. Skipped with its reason and counted, where it
/// was once dead-lettered (one dead letter a day per such shipment, an alarm that never
/// cleared).
#[tokio::test]
async fn a_shipment_without_email_even_in_qapla_is_skipped_with_the_reason_and_counted() {
    let (server, fake) = FakeConnectif::start().await;
    let answer = get_shipment_answer("", "Anna Verdi", "IT", QAPLA_PAGE);
    mount_get_shipment(&server, answer, 1).await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    let logs = Logs::capture();
    local.post(fixture("shipment-v1.2-in-transit.json")).await;
    local.drain().await;
    assert!(fake.tries().is_empty());
    assert!(local.queue.dead_letters().is_empty());
    let lines = logs.lines();
    let skipped = lines.iter().find(|l| l["outcome"] == "skipped");
    let skipped = skipped.expect("a skipped line");
    assert_eq!(skipped["reason"], "no_customer_email");
    let counted = logs.metrics();
    let skipped = |m: &&Value| m.get("Events").is_some() && m["outcome"] == "skipped";
    assert_eq!(counted.iter().filter(skipped).count(), 1, "counted");
}

#[tokio::test]
async fn a_spanish_consignee_on_an_italian_channel_gets_spanish_labels_in_every_style() {
    let styles = [
        ("name", "Intento de entrega fallido"),
        ("abbreviation", "Entrega Fallida"),
        ("code", "FAILED ATTEMPT"),
    ];
    for (style, expected) in styles {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(&server)
            .await;
        let store = bridge_core::channel::MemoryStore::default();
        let mut secret = secret(Mode::Api, &server.uri(), ES_KEY, "it");
        secret["languageByCountry"] = json!({ "ES": "es" });
        secret["labelStyle"] = json!(style);
        store.put(channel("es"), secret.to_string());
        let deps = deps_with(std::sync::Arc::new(store), std::time::Duration::ZERO).await;
        let mut payload = fixture_json("shipment-v1.3-out-for-delivery-es.json");
        payload["qaplaStatusID"] = json!("5");
        let answer =
            send::<ShipmentPayload>(&deps, post("/qapla/es/shipments", payload.to_string())).await;
        assert_eq!(answer, (200, ok()));
        let body: Value =
            serde_json::from_slice(&server.received_requests().await.expect("recorded")[0].body)
                .expect("JSON");
        assert_eq!(body["qaplaStatus"], expected, "{style}");
        assert_eq!(body["language"], "es");
    }
}

#[tokio::test]
async fn a_v12_customer_found_in_spain_gets_spanish_labels() {
    let (server, fake) = FakeConnectif::start().await;
    mount_get_shipment(
        &server,
        get_shipment_answer("ana@example.es", "Ana Ruiz", "ES", QAPLA_PAGE),
        1,
    )
    .await;
    let local = LocalDurable::start(
        &server.uri(),
        json!({ "languageByCountry": { "ES": "es" } }),
    )
    .await;
    local
        .post(fixture("shipment-v1.2-exception-on-hold.json"))
        .await;
    local.drain().await;
    let sent = fake.accepted();
    assert_eq!(sent[0]["language"], "es");
    assert_eq!(sent[0]["qaplaStatus"], "Problema - Retenido en almacén");
}

#[tokio::test]
async fn repeated_scans_of_the_same_status_notify_once_unless_turned_off() {
    for (option, expected) in [(true, vec!["3", "4"]), (false, vec!["3", "3", "3", "4"])] {
        let (server, fake) = FakeConnectif::start().await;
        mount_get_shipment(&server, anna(), 1).await;
        let local =
            LocalDurable::start(&server.uri(), json!({ "notifyOnlyChanges": option })).await;
        local
            .post(v12("3", "2024-03-15 10:00:00", "PARTITA DA HUB"))
            .await;
        local
            .post(v12("3", "2024-03-15 18:00:00", "IN TRANSITO"))
            .await;
        local
            .post(v12("3", "2024-03-16 06:00:00", "ARRIVATA IN FILIALE"))
            .await;
        local
            .post(v12("4", "2024-03-16 08:00:00", "IN CONSEGNA"))
            .await;
        local.drain().await;
        assert_eq!(ids(&fake), expected, "notifyOnlyChanges = {option}");
    }
}

#[tokio::test]
async fn a_return_shipments_status_goes_to_the_return_alias() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/custom-events/alias/return-status-change"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/custom-events/alias/order-status-change"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let deps = deps(Mode::Api, &server.uri()).await;
    let mut payload = fixture_json("shipment-v1.3-delivered.json");
    payload["return"] = json!(1);
    let answer =
        send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", payload.to_string())).await;
    assert_eq!(answer, (200, ok()));
}

#[tokio::test]
async fn a_child_shipment_of_a_multi_parcel_order_does_not_notify_twice() {
    let (server, fake) = FakeConnectif::start().await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    let parent =
        fixture("shipment-v1.3-delivered.json").replace("\"hasChildren\": 0", "\"hasChildren\": 1");
    let mut child = fixture_json("shipment-v1.3-delivered.json");
    child["isChild"] = json!(1);
    child["trackingNumber"] = json!("580104809-2");
    local.post(parent).await;
    local.post(child.to_string()).await;
    local.drain().await;
    let sent = fake.accepted();
    assert_eq!(sent.len(), 1, "the parent only");
    assert_eq!(sent[0]["trackingNumber"], "580104809");
}

#[tokio::test]
async fn statuses_are_ordered_by_time_not_by_how_the_date_is_written() {
    let (server, fake) = FakeConnectif::start().await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    // The same shipment: 11:42:10 written ISO-style, then one second later with a space.
    local
        .post(shipment("T-1", "3", "2024-03-16T11:42:10", "a"))
        .await;
    local.drain().await;
    local
        .post(shipment("T-1", "4", "2024-03-16 11:42:11", "b"))
        .await;
    local.drain().await;
    // An older status still arriving late is superseded, whatever its form.
    local
        .post(shipment("T-1", "5", "2024-03-16T11:00:00", "c"))
        .await;
    local.drain().await;
    let ids = fake.accepted_status_ids();
    assert_eq!(ids, [json!("3"), json!("4")]);
}

#[tokio::test]
async fn a_date_far_in_the_future_supersedes_nothing() {
    let (server, fake) = FakeConnectif::start().await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    local
        .post(shipment("T-2", "3", "2999-01-01 00:00:00", "a"))
        .await;
    local.drain().await;
    local
        .post(shipment("T-2", "4", "2024-03-16 12:00:00", "b"))
        .await;
    local
        .post(shipment("T-2", "99", "2024-03-17 09:00:00", "c"))
        .await;
    local.drain().await;
    let ids = fake.accepted_status_ids();
    assert_eq!(ids, [json!("3"), json!("4"), json!("99")]);
}

/// Asked with `data=consignee`, Qapla' still answers without one (a contract it did not keep,
/// or a shipment without a recipient): skipped with its own reason and counted, never
/// mistaken for "no e-mail".
#[tokio::test]
async fn an_answer_without_the_consignee_asked_for_is_skipped_with_its_reason_and_counted() {
    let (server, fake) = FakeConnectif::start().await;
    let mut answer = anna();
    answer["getShipment"]["shipment"]
        .as_object_mut()
        .expect("shipment")
        .remove("consignee");
    mount_get_shipment(&server, answer, 1).await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    let logs = Logs::capture();
    local.post(fixture("shipment-v1.2-in-transit.json")).await;
    local.drain().await;
    assert!(fake.tries().is_empty());
    let lines = logs.lines();
    let skipped = lines
        .iter()
        .find(|l| l["outcome"] == "skipped")
        .expect("skipped");
    assert_eq!(skipped["reason"], "no_consignee_from_qapla");
    assert_eq!(logs.counted("QaplaNoConsignee"), 1);
}

/// A bare 404 from Qapla' (no KO of its own) is not "unknown shipment": the event is kept,
/// retried and counted for `QaplaApiRefusedAlarm`.
#[tokio::test]
async fn a_404_without_qaplas_ko_keeps_the_event_and_is_counted() {
    let (server, fake) = FakeConnectif::start().await;
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.3/getShipment/"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .expect(1)
        .mount(&server)
        .await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    let logs = Logs::capture();
    local.post(fixture("shipment-v1.2-in-transit.json")).await;
    let batch = local.queue.receive(10);
    let failed = local.worker.process(&batch).await;
    assert_eq!(failed.len(), 1, "kept, to try again");
    assert!(fake.tries().is_empty());
    let lines = logs.lines();
    let retried = lines
        .iter()
        .find(|l| l["outcome"] == "retried")
        .expect("retried");
    let reason = retried["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("qapla_api_not_found"), "{reason}");
    assert_eq!(logs.counted("QaplaApiRefused"), 1);
}

/// Before it marks a channel live, the worker asks Qapla' whether the shipment is real; when
/// Qapla' cannot tell (here a 500), it waits before asking again instead of asking for every
/// event, and the events are delivered all the same.
#[tokio::test]
async fn the_live_check_does_not_ask_qapla_for_every_event_while_qapla_is_away() {
    let (server, fake) = FakeConnectif::start().await;
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.3/getShipment/"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let local = LocalDurable::start(&server.uri(), json!({})).await;
    for (i, tracking) in ["V13-1", "V13-2", "V13-3"].into_iter().enumerate() {
        let date = format!("2024-03-15 10:00:0{i}");
        local
            .post(shipment(tracking, "3", &date, "In transito"))
            .await;
    }
    local.drain().await;
    assert_eq!(fake.accepted().len(), 3, "delivered all the same");
}
