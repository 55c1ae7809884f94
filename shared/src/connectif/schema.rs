//! Each reception event's definition as Connectif holds it — field ids, display names,
//! types, required flags and the primary key — read off the event types themselves: the keys
//! and JSON types of an event's serialised form, its required fields as
//! [`Fields::empty_required`] names them, the field that carries the contact's address as the
//! primary key. `bridge-admin setup` creates exactly this and the docs' field tables are
//! checked against it: no second hand-written list.
//!
//! The wire names are Connectif's `CustomEventTypeCreation` field resource
//! (api-docs.connectif.cloud, `connectif-api/resources/customeventtypecreation`): `id`,
//! `name`, `type`, `required`, `isPrimaryKey`. docs/contracts.md says which spellings the
//! pages leave open (the `type` values).

use super::events::{
    Fields, OrderShipped, ParcelRelease, ParcelStalled, ReturnRequest, ShipmentStatus,
};
use crate::Reception;
use crate::channel::ExtraField;
use crate::customer::Email;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Connectif field type. The bridge sends `text`, `email`, `boolean` and `integer`; an
/// event type read back may hold any other (`date`, `phone`, `checkbox`, ...), kept as it is
/// spelled. Lowercase, as the same API spells contact-field types (the event-type page is
/// cut before its list: docs/contracts.md); a whole number is `integer`, a decimal
/// `decimal` ("number for decimal fields; integer for integer fields", the send-event page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Email,
    Boolean,
    Integer,
    Decimal,
    /// A type the bridge never sends, as Connectif spelled it.
    #[serde(untagged)]
    Other(String),
}

impl FieldType {
    /// As Connectif's panel names it.
    pub fn label(&self) -> &str {
        match self {
            FieldType::Text => "Text",
            FieldType::Email => "Email",
            FieldType::Boolean => "Boolean",
            FieldType::Integer => "Integer",
            FieldType::Decimal => "Decimal",
            FieldType::Other(spelled) => spelled,
        }
    }
}

/// One field of a reception event (a `fields[]` item of `CustomEventTypeCreation`, and of
/// `CustomEventType` read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDef {
    pub id: String,
    /// The display name in Connectif's panel (a shop may rename it: never compared).
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// "Defaults to false if omitted."
    #[serde(default)]
    pub is_primary_key: bool,
}

impl FieldDef {
    /// Whether `self`, as Connectif holds it, takes what the bridge sends for `wanted`: the
    /// same id, type, required flag and primary key (the display name is the shop's).
    pub fn fits(&self, wanted: &FieldDef) -> bool {
        (&self.id, &self.kind, self.required, self.is_primary_key)
            == (
                &wanted.id,
                &wanted.kind,
                wanted.required,
                wanted.is_primary_key,
            )
    }
}

/// The display name the bridge gives a field it creates: readable in Connectif's panel.
pub fn display_name(id: &str) -> String {
    let known = match id {
        "customerEmail" => "Customer e-mail",
        "customerName" => "Customer name",
        "qaplaStatus" => "Qapla' status",
        "qaplaStatusID" => "Qapla' status id",
        "trackingUrl" => "Tracking page",
        "rma" => "RMA",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    // The id's camelCase words: `daysWithoutNews` is "Days without news".
    let mut name = String::new();
    for (i, c) in id.chars().enumerate() {
        match (i, c.is_uppercase()) {
            (0, _) => name.extend(c.to_uppercase()),
            (_, true) => {
                name.push(' ');
                name.extend(c.to_lowercase());
            }
            _ => name.push(c),
        }
    }
    name
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
            f.release_url = some();
            (f.estimated_delivery, f.estimated_delivery_source) = (some(), some());
        }
        Fields::ParcelStalled(f) => {
            f.customer_email = probe;
            (f.courier_name, f.shipped_at, f.status_group) = (some(), some(), some());
        }
        Fields::ReturnRequest(f) => f.customer_email = probe,
        Fields::ParcelRelease(f) => f.customer_email = probe,
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
                Value::Number(n) if n.is_f64() => FieldType::Decimal,
                Value::Number(_) => FieldType::Integer,
                _ => FieldType::Text,
            };
            FieldDef {
                required: required.contains(&id.as_str()),
                is_primary_key: kind == FieldType::Email,
                name: display_name(&id),
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
        Reception::ParcelRelease => Fields::ParcelRelease(ParcelRelease::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(f: &FieldDef) -> String {
        let flags = match (f.required, f.is_primary_key) {
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
                if (reception, extra) == (Reception::ParcelStalled, ExtraField::EstimatedDelivery) {
                    // A stalled parcel has no estimate worth telling.
                    assert!(with.iter().all(|f| !f.id.starts_with("estimatedDelivery")));
                    continue;
                }
                let f = with.iter().find(|f| f.id == extra.id()).expect("defined");
                assert_eq!((&f.kind, f.required), (&FieldType::Text, false));
                assert!(!ids(reception, &[]).contains(&f.id));
            }
            if reception == Reception::ShipmentStatus {
                let source = with.iter().find(|f| f.id == "estimatedDeliverySource");
                assert_eq!(source.map(|f| &f.kind), Some(&FieldType::Text));
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
        assert_eq!(days.map(|f| f.kind), Some(FieldType::Integer));
    }

    #[test]
    fn every_event_has_one_email_primary_key_and_an_order_its_boolean() {
        for reception in Reception::ALL {
            let defined = fields(reception);
            let keys: Vec<_> = defined.iter().filter(|f| f.is_primary_key).collect();
            assert_eq!(keys.len(), 1, "{reception:?}");
            assert_eq!(
                (keys[0].id.as_str(), &keys[0].kind),
                ("customerEmail", &FieldType::Email)
            );
        }
        let order = fields(Reception::OrderShipped);
        let cod = order
            .iter()
            .find(|f| f.id == "cashOnDelivery")
            .expect("field");
        assert_eq!((&cod.kind, cod.required), (&FieldType::Boolean, false));
    }

    #[test]
    fn a_field_is_sent_in_connectifs_spelling_and_any_type_reads_back() {
        let days = fields(Reception::ParcelStalled)
            .into_iter()
            .find(|f| f.id == "daysWithoutNews")
            .expect("field");
        assert_eq!(
            serde_json::to_value(&days).expect("json"),
            serde_json::json!({ "id": "daysWithoutNews", "name": "Days without news",
                "type": "integer", "required": false, "isPrimaryKey": false })
        );
        let email = &fields(Reception::OrderShipped)[..]
            .iter()
            .find(|f| f.is_primary_key)
            .cloned()
            .expect("key");
        assert_eq!(email.name, "Customer e-mail");
        let read: Vec<FieldDef> = serde_json::from_value(serde_json::json!([
            { "id": "birthday", "name": "Birthday", "type": "date", "required": false },
            { "id": "phone", "type": "phone", "defaultCountryCode": "34" },
            { "id": "total", "name": "Total", "type": "decimal", "required": true },
        ]))
        .expect("unknown types read as what they are");
        let kinds: Vec<&str> = read.iter().map(|f| f.kind.label()).collect();
        assert_eq!(kinds, ["date", "phone", "Decimal"]);
        assert!(!read[1].is_primary_key && read[1].name.is_empty());
        let mut renamed = days.clone();
        renamed.name = "Giorni senza notizie".into();
        assert!(renamed.fits(&days), "a name is the shop's own");
        renamed.kind = FieldType::Decimal;
        assert!(!renamed.fits(&days));
    }

    #[test]
    fn every_field_has_a_readable_name() {
        for reception in Reception::ALL {
            for f in fields_with(reception, &ExtraField::ALL) {
                let capital = f.name.starts_with(char::is_uppercase);
                assert!(capital && f.name != f.id, "{}: {}", f.id, f.name);
            }
        }
        assert_eq!(display_name("lastStatusAt"), "Last status at");
    }
}
