//! What Qapla' really sends varies (0/1 or booleans, "3" or 3, nulls, extra fields): every
//! variant builds the same Connectif event as the canonical fixture.

use crate::helpers::*;
use bridge_core::channel::ChannelSettings;
use bridge_core::connectif::{self, ConnectifEvent, Enrich, Fields, SkipReason};
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use bridge_core::webhook::Webhook;
use serde_json::{Value, json};

/// Parsed as the webhook parses a body: from its text.
fn parse<W: Webhook>(v: &Value) -> W {
    W::parse(v.to_string().as_bytes()).expect("parses")
}

fn settings() -> ChannelSettings {
    ChannelSettings::from_json(
        &secret(Mode::Endpoint, "http://127.0.0.1:9", IT_KEY, "it").to_string(),
    )
    .expect("valid settings")
}

fn shipment(v: &Value) -> Result<(ConnectifEvent, Option<Enrich>), SkipReason> {
    let payload: ShipmentPayload = parse(v);
    connectif::shipment_event(&payload, &settings())
}

fn patched(base: &Value, patch: Value) -> Value {
    let mut v = base.clone();
    for (k, val) in patch.as_object().expect("object") {
        v[k] = val.clone();
    }
    v
}

#[test]
fn shipment_type_variants_build_the_same_event() {
    let base = fixture_json("shipment-v1.3-delivered.json");
    let expected = shipment(&base).expect("event");
    assert_eq!(
        expected.1, None,
        "a v1.3 payload with a consignee needs nothing from Qapla'"
    );
    let variants = [
        json!({ "return": false, "hasChildren": false, "isChild": false }),
        json!({ "return": "0", "hasChildren": "0", "isChild": null }),
        json!({ "qaplaStatusID": 99 }),
        json!({ "trackingNumber": 580104809 }),
        json!({ "statusDetails": null }),
        json!({ "rows": null, "parcels": null }),
        json!({ "somethingNew": { "nested": [1, 2] }, "version": "1.4" }),
        json!({ "consignee": { "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "phone": null, "extra": 1 } }),
    ];
    for patch in variants {
        let v = patched(&base, patch.clone());
        assert_eq!(shipment(&v).expect("event"), expected, "variant {patch}");
    }
}

#[test]
fn a_missing_or_unusable_customer_is_left_for_qaplas_api() {
    let base = fixture_json("shipment-v1.3-delivered.json");
    let mut no_key = base.clone();
    no_key.as_object_mut().expect("object").remove("consignee");
    let cases = [
        no_key,
        patched(&base, json!({ "consignee": null })),
        patched(
            &base,
            json!({ "consignee": { "name": "Giulia Rossi", "email": null } }),
        ),
        patched(
            &base,
            json!({ "consignee": { "name": "Giulia Rossi", "email": "giulia at example" } }),
        ),
        patched(
            &base,
            json!({ "consignee": { "name": "", "email": "giulia.rossi@example.com" } }),
        ),
    ];
    for v in cases {
        let (event, enrich) = shipment(&v).expect("not a skip");
        let enrich = enrich.expect("to be completed from Qapla'");
        assert!(enrich.customer && !enrich.tracking_url, "{v}");
        assert_eq!(enrich.tracking_number, "580104809");
        // The webhook adds none of the opt-in fields: an older worker reads what it queues.
        let fields = serde_json::to_value(&event.fields).expect("serialises");
        assert_eq!(fields["customerEmail"], "");
        assert_eq!(fields.as_object().expect("flat object").len(), 9);
        assert!(matches!(event.fields, Fields::ShipmentStatus(_)));
    }
}

#[test]
fn an_unknown_status_id_is_forwarded_with_qaplas_label() {
    let base = fixture_json("shipment-v1.3-delivered.json");
    let v = patched(
        &base,
        json!({ "qaplaStatusID": "77", "qaplaStatus": "BRAND NEW" }),
    );
    let (event, _) = shipment(&v).expect("event");
    let fields = serde_json::to_value(&event.fields).expect("serialises");
    assert_eq!(fields["qaplaStatus"], "BRAND NEW");
    assert_eq!(fields["qaplaStatusID"], "77");
}

#[test]
fn a_return_envelope_parses_wrapped_or_bare_with_a_plain_courier_code() {
    let wrapped = fixture_json("return-request.json");
    let bare = wrapped["webhookReturnShipments"].clone();
    let build = |v: &Value| {
        let p: ReturnsPayload = parse(v);
        assert!(p.api_key.is_some(), "the nested apiKey is found");
        p.returns
            .iter()
            .map(|r| connectif::return_event(r, &settings()))
            .collect::<Vec<_>>()
    };
    let expected = build(&wrapped);
    assert_eq!(expected.len(), 1);
    assert_eq!(build(&bare), expected);
    let mut coded = wrapped.clone();
    coded["webhookReturnShipments"]["returnShipments"][0]["courier"] = json!("GLS");
    coded["webhookReturnShipments"]["returnShipments"][0]["parcels"] = json!("1");
    coded["webhookReturnShipments"]["version"] = json!("1.0");
    assert_eq!(build(&coded), expected);
}

#[test]
fn order_type_variants_build_the_same_events() {
    let base = fixture_json("orders.json");
    let build = |v: &Value| {
        let p: OrdersPayload = parse(v);
        p.orders
            .iter()
            .map(|o| connectif::order_event(o, &settings()))
            .collect::<Vec<_>>()
    };
    let expected = build(&base);
    let mut v = base.clone();
    v["orders"][1]["isPOD"] = json!(1);
    v["orders"][0]["isPOD"] = json!("0");
    v["orders"][0]["return"] = json!(0);
    v["orders"][1]["trackingNumber"] = json!("SDA0000123456");
    v["orders"][0]["trackingNumber"] = json!(580104809);
    v["orders"][0]["weight"] = json!("1.2");
    v["orders"][0]["unexpected"] = json!(true);
    assert_eq!(build(&v), expected);
}
