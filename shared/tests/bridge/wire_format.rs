//! The wire formats a deploy must keep: the flat JSON body Connectif receives for each
//! reception event, and the envelopes already sitting in queues (written by the version
//! before typed events, `fixtures/queue/`), which the new version must read and write back
//! byte for byte.

use crate::helpers::*;
use bridge_core::Kind;
use bridge_core::connectif::{Fields, Reception};
use bridge_core::delivery::Envelope;
use serde_json::{Value, json};

fn queued() -> Vec<String> {
    let text = std::fs::read_to_string(
        workspace().join("fixtures/queue/envelopes-before-typed-events.jsonl"),
    )
    .expect("fixture exists");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn envelopes_queued_by_the_previous_version_read_and_write_back_byte_for_byte() {
    let lines = queued();
    assert_eq!(lines.len(), 6, "3 shipments, 1 return, 2 orders");
    for line in &lines {
        let envelope: Envelope = serde_json::from_str(line).expect("readable");
        assert_eq!(&serde_json::to_string(&envelope).expect("writable"), line);
        let expected = match envelope.kind {
            Kind::Shipment => matches!(envelope.event.fields, Fields::ShipmentStatus(_)),
            Kind::Return => matches!(envelope.event.fields, Fields::ReturnRequest(_)),
            Kind::Order => matches!(envelope.event.fields, Fields::OrderShipped(_)),
        };
        assert!(expected, "{:?} read as the wrong event kind", envelope.kind);
    }
}

#[test]
fn each_kind_serialises_to_exactly_the_flat_fields_connectif_gets() {
    let expected_ids: [(&str, &[&str]); 3] = [
        (
            "shipment",
            &[
                "courierStatus",
                "customerEmail",
                "customerName",
                "language",
                "qaplaStatus",
                "qaplaStatusID",
                "reference",
                "trackingNumber",
                "trackingUrl",
            ],
        ),
        (
            "return",
            &[
                "courier",
                "customerEmail",
                "customerName",
                "items",
                "language",
                "reasons",
                "reference",
                "requestDate",
                "rma",
                "trackingNumber",
            ],
        ),
        (
            "order",
            &[
                "amount",
                "cashOnDelivery",
                "courier",
                "customerEmail",
                "customerName",
                "language",
                "orderDate",
                "reference",
                "shipDate",
                "trackingNumber",
                "trackingUrl",
            ],
        ),
    ];
    for line in queued() {
        let raw: Value = serde_json::from_str(&line).expect("json");
        let envelope: Envelope = serde_json::from_str(&line).expect("readable");
        let body = serde_json::to_value(&envelope.event.fields).expect("serialises");
        assert_eq!(
            body, raw["event"]["fields"],
            "the body Connectif receives is unchanged"
        );
        let (_, ids) = expected_ids
            .iter()
            .find(|(k, _)| *k == envelope.kind.as_str())
            .expect("kind");
        let keys: Vec<&str> = body
            .as_object()
            .expect("flat")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(&keys, ids);
        for (id, value) in body.as_object().expect("flat") {
            let boolean = id == "cashOnDelivery";
            assert_eq!(
                value.is_boolean(),
                boolean,
                "{id}: only cashOnDelivery is a Boolean"
            );
            assert!(boolean || value.is_string(), "{id} is text");
        }
    }
}

#[test]
fn an_envelope_from_before_reception_was_recorded_gets_its_kinds_default() {
    let mut raw: Value = serde_json::from_str(&queued()[3]).expect("json");
    raw["event"]
        .as_object_mut()
        .expect("event")
        .remove("reception");
    let envelope: Envelope = serde_json::from_value(raw).expect("readable");
    assert_eq!(envelope.reception(), Reception::ReturnRequest);
}

#[test]
fn a_field_set_of_no_kind_is_unreadable_not_guessed() {
    let raw: Value = serde_json::from_str(&queued()[0]).expect("json");
    let fields = raw["event"]["fields"].clone();
    let mut extra = fields.clone();
    extra["rma"] = json!("R1");
    let mut missing = fields.clone();
    missing
        .as_object_mut()
        .expect("object")
        .remove("trackingUrl");
    let mut wrong = fields.clone();
    wrong["customerEmail"] = json!("not an address");
    for bad in [extra, missing, wrong] {
        assert!(
            serde_json::from_value::<Fields>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}
