//! When it will arrive, and the last status on the contact, end to end through the durable
//! path in memory (webhook → queue → worker): a v1.3 post, `getShipment` (Qapla's example
//! answer's shape, cut down as Qapla' documents `data`: `testkit::qapla`), Qapla' v2's
//! `couriers/delivery-times` (`testkit::qapla_v2`), and the strict Connectif that validates
//! every event against its type and every contact update against the contact fields
//! (`testkit::connectif`).

use crate::durable_helpers::LocalDurable;
use crate::helpers::*;
use crate::release::connectif_with;
use bridge_core::channel::ExtraField;
use bridge_core::connectif::Reception;
use serde_json::{Value, json};
use testkit::connectif::StrictConnectif;
use testkit::qapla_v2::QaplaV2;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const EMAIL: &str = "giulia.rossi@example.com";

struct Shop {
    connectif: StrictConnectif,
    _qapla: MockServer,
    v2: QaplaV2,
    durable: LocalDurable,
}

/// A shop whose shipment `getShipment` describes with the courier's `estimatedDeliveryDate`
/// `courier_date`, shipped yesterday to Milan, its channel's secret patched with `patch`.
async fn shop(courier_date: Value, patch: Value) -> Shop {
    let types = [(
        Reception::ShipmentStatus,
        vec![ExtraField::EstimatedDelivery],
    )];
    let connectif = connectif_with(&types).await;
    let qapla = MockServer::start().await;
    let yesterday = bridge_core::qapla::time::italian_now().div_euclid(86_400) - 1;
    let answer = json!({ "getShipment": { "result": "OK", "error": null, "version": "1.3.0",
        "lang": "it", "count": 1, "shipments": [{
            "id": 1690120025, "trackingNumber": "580104809", "reference": "ORDER-51704",
            "url": "https://tracking.qapla.it/347513728eab",
            "courier": { "code": "BRT", "name": "BRT", "estimatedDeliveryDate": courier_date,
                         "trackingURL": "https://brt.it/tracking/x" },
            "shipDate": bridge_core::clock::date_text(yesterday),
            "consignee": { "name": "Giulia Rossi", "email": EMAIL, "postCode": "20100",
                           "country": "IT", "city": "Milano" },
            "trackingHistory": [],
    }] } });
    Mock::given(method("GET"))
        .and(path("/1.3/getShipment/"))
        .respond_with(testkit::qapla::GetShipment { answer })
        .mount(&qapla)
        .await;
    let v2 = QaplaV2::mount(&qapla, IT_KEY).await;
    let mut secret = json!({
        "qaplaApiBaseUrl": format!("{}/1.3", qapla.uri()),
        "qaplaV2BaseUrl": format!("{}/v2", qapla.uri()),
        "extraFields": ["estimatedDelivery"],
    });
    for (k, v) in patch.as_object().expect("object") {
        secret[k] = v.clone();
    }
    let durable = LocalDurable::start(&connectif.uri(), secret).await;
    Shop {
        connectif,
        _qapla: qapla,
        v2,
        durable,
    }
}

/// The v1.3 fixture's shipment at status `status` (in transit: `3`).
fn post_at(status: &str) -> String {
    let mut body = fixture_json("shipment-v1.3-delivered.json");
    body["qaplaStatusID"] = json!(status);
    body["date"] = json!(bridge_core::clock::time_text(
        bridge_core::qapla::time::italian_now() - 60
    ));
    body.to_string()
}

impl Shop {
    async fn post(&self, status: &str) -> Vec<Value> {
        self.durable.post(post_at(status)).await;
        self.durable.drain().await;
        (self.connectif.arrivals().into_iter())
            .filter(|a| a.alias == "order-status-change")
            .inspect(|a| assert!(a.status < 300, "refused: {}", a.detail))
            .map(|a| a.body)
            .collect()
    }
}

fn in_days(days: i64) -> String {
    let today = bridge_core::qapla::time::italian_now().div_euclid(86_400);
    bridge_core::clock::date_text(today + days)
}

#[tokio::test]
async fn the_couriers_date_is_the_estimate_when_there_is_one() {
    let date = in_days(2);
    let shop = shop(json!(date), json!({})).await;
    shop.v2.lane("BRT", "20100", 1.0, 5000);
    let events = shop.post("3").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["estimatedDelivery"], json!(date));
    assert_eq!(events[0]["estimatedDeliverySource"], "courier");
    assert_eq!(shop.v2.lane_calls(), 0, "no median asked for");
}

#[tokio::test]
async fn without_one_a_large_enough_median_is_the_estimate_on_a_business_day() {
    let shop = shop(Value::Null, json!({})).await;
    shop.v2.lane("BRT", "20100", 3.0, 1673);
    let events = shop.post("3").await;
    let date = events[0]["estimatedDelivery"].as_str().expect("a date");
    assert_eq!(events[0]["estimatedDeliverySource"], "median");
    // Shipped yesterday, three calendar days: two days from now, or the next business day.
    let day = bridge_core::clock::parse_date(date).expect("YYYY-MM-DD");
    let from = bridge_core::clock::parse_date(&in_days(2)).expect("date");
    assert!((from..from + 5).contains(&day), "{date}");
    assert!(bridge_core::calendar::Country::IT.is_business_day(day));
    // A second status of the lane: the median is kept, not asked again.
    let events = shop.post("4").await;
    assert_eq!(events.len(), 2);
    assert_eq!(shop.v2.lane_calls(), 1);
}

#[tokio::test]
async fn neither_means_no_field_and_a_small_sample_no_median() {
    let shop = shop(
        Value::Null,
        json!({ "estimatedDelivery": { "minSampleSize": 2000 } }),
    )
    .await;
    shop.v2.lane("BRT", "20100", 2.0, 1673);
    let events = shop.post("3").await;
    assert_eq!(events.len(), 1, "the event goes all the same");
    assert!(
        events[0].get("estimatedDelivery").is_none(),
        "{:?}",
        events[0]
    );
    assert!(events[0].get("estimatedDeliverySource").is_none());
    // No lane at all (the network has too little data: `best` is null).
    let shop = self::shop(Value::Null, json!({})).await;
    let events = shop.post("3").await;
    assert!(events[0].get("estimatedDelivery").is_none());
    // A delivered parcel has no estimate, even with the courier's date.
    let shop = self::shop(json!(in_days(1)), json!({})).await;
    let events = shop.post("99").await;
    assert!(events[0].get("estimatedDelivery").is_none());
}

#[tokio::test]
async fn a_key_without_the_v2_scope_gives_no_median_and_is_not_asked_per_event() {
    let shop = shop(Value::Null, json!({})).await;
    shop.v2.lane("BRT", "20100", 2.0, 1673);
    shop.v2.scopes(&["parcels:read"]);
    let events = shop.post("3").await;
    assert!(events[0].get("estimatedDelivery").is_none());
    shop.post("4").await;
    let asked = (shop
        ._qapla
        .received_requests()
        .await
        .unwrap_or_default()
        .iter())
    .filter(|r| r.url.path() == "/v2/couriers/delivery-times")
    .count();
    assert_eq!(asked, 1, "the refusal is kept: one call, not one per event");
}

#[tokio::test]
async fn a_busy_qapla_gives_no_date_and_never_holds_the_event_back() {
    let shop = shop(json!(in_days(2)), json!({})).await;
    Mock::given(method("GET"))
        .and(path("/1.3/getShipment/"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&shop._qapla)
        .await;
    let events = shop.post("3").await;
    assert_eq!(events.len(), 1, "sent at once");
    assert!(events[0].get("estimatedDelivery").is_none());
    assert!(shop.durable.queue.dead_letters().is_empty());
}

/// The contact fields `setup --contact-fields` creates, in the strict Connectif at `uri`.
async fn create_contact_fields(uri: &str) {
    let http = bridge_core::http::tls::client_builder()
        .build()
        .expect("client");
    for f in bridge_core::connectif::contact::FIELDS {
        let body = json!({ "id": f.id, "name": f.name, "type": f.kind, "required": false });
        let answer = (http.post(format!("{uri}/contact-fields/")))
            .header("Authorization", format!("apiKey {CONNECTIF_API_KEY}"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status(), 201);
    }
}

mod contact {
    use super::*;

    async fn with_contact_fields(shop: &Shop) {
        create_contact_fields(&shop.connectif.uri()).await;
    }

    #[tokio::test]
    async fn after_each_delivered_event_the_contact_holds_the_last_status() {
        let shop = shop(Value::Null, json!({ "contactFields": true })).await;
        with_contact_fields(&shop).await;
        shop.post("3").await;
        let fields = shop
            .connectif
            .contact(EMAIL)
            .expect("the contact was updated");
        assert_eq!(fields["qaplaLastStatusGroup"], "in_transit");
        assert_eq!(fields["qaplaLastTrackingNumber"], "580104809");
        let at = fields["qaplaLastStatusAt"].as_str().expect("a time");
        assert!(at.ends_with('Z') && at.contains('T'), "{at}");
        shop.post("99").await;
        let fields = shop.connectif.contact(EMAIL).expect("updated");
        assert_eq!(fields["qaplaLastStatusGroup"], "delivered");
        assert_eq!(
            shop.connectif.created_by_patch(),
            0,
            "the event made the contact; the update made none"
        );
    }

    #[tokio::test]
    async fn a_throttled_update_is_retried_alone_and_the_event_goes_once() {
        let shop = shop(Value::Null, json!({ "contactFields": true })).await;
        with_contact_fields(&shop).await;
        shop.connectif.throttle_patches(2);
        assert_eq!(shop.post("3").await.len(), 1, "the event once");
        let fields = shop
            .connectif
            .contact(EMAIL)
            .expect("set after the retries");
        assert_eq!(fields["qaplaLastStatusGroup"], "in_transit");
        assert!(shop.durable.queue.dead_letters().is_empty());
    }

    #[tokio::test]
    async fn nothing_is_sent_when_the_channel_has_it_off() {
        let shop = shop(Value::Null, json!({})).await;
        with_contact_fields(&shop).await;
        assert_eq!(shop.post("3").await.len(), 1);
        assert_eq!(shop.connectif.contact(EMAIL), None);
    }

    #[tokio::test]
    async fn a_refused_update_is_dead_lettered_alone_and_the_event_is_not_sent_again() {
        // The contact fields were never created: Connectif refuses the update (422).
        let shop = shop(Value::Null, json!({ "contactFields": true })).await;
        assert_eq!(shop.post("3").await.len(), 1);
        assert_eq!(shop.connectif.contact(EMAIL), None);
        let dead = shop.durable.queue.dead_letters();
        assert_eq!(dead.len(), 1, "{dead:?}");
        assert!(
            dead[0].0.contains("\"contactUpdate\":true"),
            "the update, not the event"
        );
        assert!(dead[0].1.contains("HTTP 422"), "{}", dead[0].1);
    }
}

/// The contact update through the real SQS FIFO queue (moto): its own deduplication id, so
/// the queue does not drop it as the event sent a moment before.
mod moto {
    use super::*;
    use crate::durable_helpers::{Durable, test_policy};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_contact_update_rides_the_fifo_queue_behind_its_event() {
        let types = [(Reception::ShipmentStatus, vec![])];
        let connectif = connectif_with(&types).await;
        let durable = Durable::start(&connectif.uri(), test_policy()).await;
        let mut secret = secret(Mode::Api, &connectif.uri(), IT_KEY, "it");
        secret["contactFields"] = json!(true);
        durable.channels.put(channel("it"), secret.to_string());
        create_contact_fields(&connectif.uri()).await;
        let answer = send::<bridge_core::qapla::ShipmentPayload>(
            &durable.deps,
            post("/qapla/it/shipments", post_at("3")),
        )
        .await;
        assert_eq!(answer, (200, ok()));
        durable.drain(std::time::Duration::from_secs(60)).await;
        let events = (connectif.arrivals().into_iter())
            .filter(|a| a.alias == "order-status-change" && a.status < 300)
            .count();
        assert_eq!(events, 1);
        let fields = connectif.contact(EMAIL).expect("the contact was updated");
        assert_eq!(fields["qaplaLastStatusGroup"], "in_transit");
    }
}
