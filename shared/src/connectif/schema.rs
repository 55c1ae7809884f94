//! Each reception event's definition as Connectif holds it — field ids, types, required
//! flags and the primary key — read off the event types themselves: the keys and JSON types
//! of an event's serialised form, its required fields as [`Fields::empty_required`] names
//! them, the field that carries the contact's address as the primary key. `bridge-admin
//! setup` creates exactly this and the docs' field tables are checked against it: no second
//! hand-written list.

use super::events::{Fields, OrderShipped, ParcelStalled, ReturnRequest, ShipmentStatus};
use crate::Reception;
use crate::channel::ExtraField;
use crate::customer::Email;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Connectif field type (of those the bridge uses). Sent lowercase; the exact spelling
/// Connectif's API wants is documented only loosely (see `docs/connectif.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Email,
    Boolean,
    Number,
}

impl FieldType {
    /// As Connectif's panel names it.
    pub fn label(self) -> &'static str {
        match self {
            FieldType::Text => "Text",
            FieldType::Email => "Email",
            FieldType::Boolean => "Boolean",
            FieldType::Number => "Number",
        }
    }
}

/// One field of a reception event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub required: bool,
    #[serde(default)]
    pub primary_key: bool,
}

/// The fields of `reception`'s events, by id: the guide's (see [`fields_with`]).
pub fn fields(reception: Reception) -> Vec<FieldDef> {
    fields_with(reception, &[])
}

/// The fields of `reception`'s events with the opt-in fields `extras` (`extraFields`; only
/// shipment events have them), by id.
pub fn fields_with(reception: Reception, extras: &[ExtraField]) -> Vec<FieldDef> {
    const PROBE: &str = "probe@schema.invalid";
    let probe = Email::try_from(PROBE).ok();
    let empty = empty(reception);
    let required = empty.empty_required();
    let mut with_contact = empty;
    let some = || Some(String::new());
    match &mut with_contact {
        Fields::ShipmentStatus(f) => {
            f.customer_email = probe;
            (f.courier_name, f.shipped_at, f.status_group) = (some(), some(), some());
        }
        Fields::ParcelStalled(f) => {
            f.customer_email = probe;
            (f.courier_name, f.shipped_at, f.status_group) = (some(), some(), some());
        }
        Fields::ReturnRequest(f) => f.customer_email = probe,
        Fields::OrderShipped(f) => f.customer_email = probe,
    }
    with_contact.keep_extras(extras);
    let Ok(Value::Object(map)) = serde_json::to_value(&with_contact) else {
        return Vec::new(); // an event always serialises to an object (a test holds it)
    };
    map.into_iter()
        .map(|(id, value)| {
            let kind = match value {
                Value::String(text) if text == PROBE => FieldType::Email,
                Value::Bool(_) => FieldType::Boolean,
                Value::Number(_) => FieldType::Number,
                _ => FieldType::Text,
            };
            FieldDef {
                required: required.contains(&id.as_str()),
                primary_key: kind == FieldType::Email,
                kind,
                id,
            }
        })
        .collect()
}

/// An event of `reception` with every field empty.
fn empty(reception: Reception) -> Fields {
    match reception {
        Reception::ShipmentStatus | Reception::ReturnStatus | Reception::ShipmentHistory => {
            Fields::ShipmentStatus(ShipmentStatus::default())
        }
        Reception::ReturnRequest => Fields::ReturnRequest(ReturnRequest::default()),
        Reception::OrderShipped => Fields::OrderShipped(OrderShipped::default()),
        Reception::ParcelStalled => Fields::ParcelStalled(ParcelStalled::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(f: &FieldDef) -> String {
        let flags = match (f.required, f.primary_key) {
            (true, true) => " required primary",
            (true, false) => " required",
            _ => "",
        };
        format!("{} {}{flags}", f.id, f.kind.label())
    }

    #[test]
    fn a_shipment_status_is_the_guides_nine_fields() {
        let rows: Vec<String> = fields(Reception::ShipmentStatus).iter().map(row).collect();
        assert_eq!(
            rows,
            [
                "courierStatus Text",
                "customerEmail Email required primary",
                "customerName Text required",
                "language Text",
                "qaplaStatus Text required",
                "qaplaStatusID Text",
                "reference Text required",
                "trackingNumber Text required",
                "trackingUrl Text required",
            ]
        );
        assert_eq!(
            fields(Reception::ShipmentHistory),
            fields(Reception::ShipmentStatus)
        );
    }

    #[test]
    fn opt_in_fields_are_text_and_only_where_asked() {
        let all = ExtraField::ALL;
        let ids = |r, extras: &[ExtraField]| -> Vec<String> {
            fields_with(r, extras).into_iter().map(|f| f.id).collect()
        };
        for reception in [Reception::ShipmentStatus, Reception::ParcelStalled] {
            let with = fields_with(reception, &all);
            for extra in all {
                let f = with.iter().find(|f| f.id == extra.id()).expect("defined");
                assert_eq!((f.kind, f.required), (FieldType::Text, false));
                assert!(!ids(reception, &[]).contains(&f.id));
            }
            let one = ids(reception, &[ExtraField::StatusGroup]);
            assert!(
                one.contains(&"statusGroup".to_owned()) && !one.contains(&"shippedAt".to_owned())
            );
        }
        assert_eq!(
            fields_with(Reception::OrderShipped, &all),
            fields(Reception::OrderShipped)
        );
        let stalled = ids(Reception::ParcelStalled, &[]);
        let shipment = ids(Reception::ShipmentStatus, &[]);
        let added: Vec<&String> = stalled.iter().filter(|f| !shipment.contains(f)).collect();
        assert_eq!(added, ["daysWithoutNews", "lastStatusAt"]);
        let days = fields(Reception::ParcelStalled)
            .into_iter()
            .find(|f| f.id == "daysWithoutNews");
        assert_eq!(days.map(|f| f.kind), Some(FieldType::Number));
    }

    #[test]
    fn every_event_has_one_email_primary_key_and_an_order_its_boolean() {
        for reception in Reception::ALL {
            let defined = fields(reception);
            let keys: Vec<_> = defined.iter().filter(|f| f.primary_key).collect();
            assert_eq!(keys.len(), 1, "{reception:?}");
            assert_eq!(
                (keys[0].id.as_str(), keys[0].kind),
                ("customerEmail", FieldType::Email)
            );
        }
        let order = fields(Reception::OrderShipped);
        let cod = order
            .iter()
            .find(|f| f.id == "cashOnDelivery")
            .expect("field");
        assert_eq!((cod.kind, cod.required), (FieldType::Boolean, false));
    }
}
