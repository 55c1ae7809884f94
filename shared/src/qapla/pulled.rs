//! A status read from Qapla's API (an entry of `trackingByTimeFrame`, completed with its
//! `getShipment`) as the shipment post Qapla' would have sent for it. Backfill and
//! reconciliation then plan it with the webhook's own code: the same labels, language,
//! child-shipment and return-shipment rules, skips and Connectif fields.

use super::api::ApiShipment;
use super::{ShipmentPayload, StatusDetail};

impl ApiShipment {
    /// The post of this shipment's current status, with the customer and the flags of
    /// `full` (its `getShipment`) when given. `None` when there is no usable status: no
    /// tracking number, no status id, or no status time.
    pub fn as_post(&self, full: Option<&ApiShipment>) -> Option<ShipmentPayload> {
        let status = self.status.as_ref()?;
        let qapla = status.qapla_status.as_ref()?;
        let (tracking, id) = (self.tracking_number.trim(), qapla.id.trim());
        if tracking.is_empty() || id.is_empty() || status.date_iso.trim().is_empty() {
            return None;
        }
        let detail = qapla.detail_id.trim();
        // `detailID: 0` is how the API says "no detail" (the webhook sends `[]`).
        let status_details = match detail {
            "" | "0" => Vec::new(),
            _ => vec![StatusDetail {
                id: detail.to_owned(),
                detail: qapla.detail.clone(),
            }],
        };
        let label = match qapla.status.trim() {
            "" => id.to_owned(),
            label => label.to_owned(),
        };
        let flag = |f: fn(&ApiShipment) -> Option<bool>| full.and_then(f).or(f(self));
        Some(ShipmentPayload {
            api_key: None,
            tracking_number: tracking.to_owned(),
            is_return: flag(|s| s.is_return_shipment).unwrap_or(false),
            has_children: false,
            is_child: flag(|s| s.is_child).unwrap_or(false),
            courier: self.courier.code.clone(),
            reference: self.reference.clone(),
            date: status.date_iso.trim().to_owned(),
            courier_status: String::new(),
            place: status.place.clone(),
            qapla_status_id: id.to_owned(),
            qapla_status: label,
            status_details,
            custom1: String::new(),
            custom2: String::new(),
            custom3: String::new(),
            consignee: full
                .and_then(|f| f.consignee.clone())
                .or_else(|| self.consignee.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::qapla::api::ApiShipment;
    use serde_json::{Value, json};

    fn entries() -> Vec<ApiShipment> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/qapla-api/trackingByTimeFrame.json"
        ))
        .expect("fixture");
        let v: Value = serde_json::from_str(&text).expect("json");
        parse(&v["trackingByTimeFrame"]["shipments"])
    }

    /// Through text, as the API client reads answers (ids are read as raw JSON).
    fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> T {
        serde_json::from_str(&v.to_string()).expect("API answer")
    }

    #[test]
    fn a_pulled_status_reads_as_the_post_qapla_would_have_sent() {
        let entries = entries();
        let post = entries[0].as_post(None).expect("post");
        assert_eq!(post.tracking_number, "580104809");
        assert_eq!(post.qapla_status_id, "99");
        assert_eq!(post.date, "2024-03-16 11:42:10");
        assert_eq!(
            (post.place.as_str(), post.courier.as_str()),
            ("MILANO", "BRT")
        );
        assert!(post.status_details.is_empty(), "detailID 0 is no detail");
        assert!(post.consignee.is_none(), "the entry has no customer");
        let held = entries[1].as_post(None).expect("post");
        assert_eq!(
            held.tracking_number, "2253647804",
            "numeric ids keep their digits"
        );
        assert_eq!(
            held.first_detail(),
            Some((1, Some("In giacenza presso la filiale")))
        );
    }

    #[test]
    fn the_customer_and_flags_come_from_get_shipment() {
        let entry = &entries()[0];
        let full: ApiShipment = parse(&json!({
            "trackingNumber": "580104809", "isReturnShipment": true, "isChild": false,
            "consignee": { "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "country": "IT" },
        }));
        let post = entry.as_post(Some(&full)).expect("post");
        assert!(post.is_return && !post.is_child);
        let consignee = post.consignee.expect("consignee");
        assert_eq!(consignee.email.as_deref(), Some("giulia.rossi@example.com"));
    }

    #[test]
    fn an_entry_without_a_usable_status_is_no_post() {
        for entry in [
            json!({ "trackingNumber": "1" }),
            json!({ "trackingNumber": "1", "status": { "dateISO": "2024-03-16 11:42:10" } }),
            json!({ "trackingNumber": " ", "status": { "dateISO": "2024-03-16 11:42:10", "qaplaStatus": { "id": 3 } } }),
            json!({ "trackingNumber": "1", "status": { "dateISO": "", "qaplaStatus": { "id": 3 } } }),
        ] {
            let entry: ApiShipment = parse(&entry);
            assert!(entry.as_post(None).is_none(), "{entry:?}");
        }
    }
}
