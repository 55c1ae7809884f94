//! `contactFields`: a shipment's last status on the Connectif contact itself, so that a shop
//! can segment by it (Connectif segments by contact fields, not by event history).
//!
//! After each `order-status-change` event Connectif accepts, one `PATCH
//! /contacts/{email}` (`reference/contacts/patch-contact`: "the key must be the custom field
//! id and the value must be of the appropriate type: string for 'text', 'email', 'date'...")
//! sets the three custom contact fields below, which `bridge-admin setup --contact-fields`
//! creates with `POST /contact-fields/` (`reference/contact-fields/create-contact-field`).
//!
//! The page says "if contact does not exists, it is created": the update follows an event
//! Connectif accepted for the same address, sent with `createContact=true` (webhook context:
//! "they always create the contact"), so the contact exists by then and the update creates
//! none the event did not.

use super::ShipmentStatus;
use serde::Serialize;
use serde_json::{Map, Value};

/// A custom contact field the bridge writes: its id, display name and Connectif type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContactField {
    pub id: &'static str,
    pub name: &'static str,
    /// `text` or `date` (the contact-field types of `create-contact-field`).
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The fields, as `setup` creates them and the update writes them.
pub const FIELDS: [ContactField; 3] = [
    ContactField {
        id: "qaplaLastStatusGroup",
        name: "Last shipment status (Qapla')",
        kind: "text",
    },
    ContactField {
        id: "qaplaLastTrackingNumber",
        name: "Last tracking number (Qapla')",
        kind: "text",
    },
    ContactField {
        id: "qaplaLastStatusAt",
        name: "Last shipment status time (Qapla')",
        kind: "date",
    },
];

/// The body of the update after `event`, of status `status_id` at `occurred_at` (Qapla's
/// Italian time, `YYYY-MM-DD HH:MM:SS`): the group word, the tracking number, and the time as
/// ISO 8601 UTC (what a `date` field takes). A time that cannot be read is left out.
pub fn update(event: &ShipmentStatus, status_id: &str, occurred_at: Option<&str>) -> Value {
    let mut body = Map::new();
    let group = crate::mapping::group(status_id);
    body.insert(FIELDS[0].id.into(), Value::from(group));
    body.insert(
        FIELDS[1].id.into(),
        Value::from(event.tracking_number.trim()),
    );
    if let Some(local) = occurred_at.and_then(crate::clock::parse_time) {
        let utc = crate::qapla::time::utc_of_italian(local);
        let text = crate::clock::time_text(utc).replace(' ', "T") + "Z";
        body.insert(FIELDS[2].id.into(), Value::from(text));
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_sets_the_group_the_tracking_number_and_the_utc_time() {
        let event = ShipmentStatus {
            tracking_number: " 2253647804 ".into(),
            ..ShipmentStatus::default()
        };
        // 10:15 in Rome in December is 09:15 UTC; in July, 08:15 UTC.
        let body = update(&event, "99", Some("2026-12-03 10:15:00"));
        assert_eq!(
            body,
            serde_json::json!({
                "qaplaLastStatusGroup": "delivered",
                "qaplaLastTrackingNumber": "2253647804",
                "qaplaLastStatusAt": "2026-12-03T09:15:00Z",
            })
        );
        let summer = update(&event, "3", Some("2026-07-03 10:15:00"));
        assert_eq!(summer["qaplaLastStatusAt"], "2026-07-03T08:15:00Z");
        assert_eq!(summer["qaplaLastStatusGroup"], "in_transit");
        let untimed = update(&event, "3", Some("yesterday"));
        assert!(untimed.get("qaplaLastStatusAt").is_none());
    }
}
