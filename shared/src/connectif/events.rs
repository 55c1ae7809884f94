//! The reception events as types: each serialises to exactly the flat JSON object a shop's
//! Connectif reception event expects (field ids and types as in the README). Fields are in
//! alphabetical order, as queued envelopes have always written them.

use crate::customer::Email;
use crate::status::Language;
use serde::{Deserialize, Serialize};

/// `order-status-change` / `return-status-change`: the nine fields of the Connectif–Qapla'
/// guide, no more. The customer is empty (and the label in the channel's language) until
/// enrichment when the post did not carry one.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentStatus {
    pub courier_status: String,
    #[serde(with = "email_or_empty")]
    pub customer_email: Option<Email>,
    pub customer_name: String,
    pub language: Language,
    pub qapla_status: String,
    #[serde(rename = "qaplaStatusID")]
    pub qapla_status_id: String,
    pub reference: String,
    pub tracking_number: String,
    pub tracking_url: String,
}

/// `return-request`: one per return a customer asks for.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnRequest {
    pub courier: String,
    #[serde(with = "email_or_empty")]
    pub customer_email: Option<Email>,
    pub customer_name: String,
    /// `2 x Scarpa (SKU1); 1 x Borsa`.
    pub items: String,
    pub language: Language,
    /// The rows' distinct reasons, `; `-separated.
    pub reasons: String,
    pub reference: String,
    pub request_date: String,
    pub rma: String,
    pub tracking_number: String,
}

/// `order-shipped`: one per order Qapla' reports shipped.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderShipped {
    pub amount: String,
    /// The only non-text field (Connectif type Boolean).
    pub cash_on_delivery: bool,
    pub courier: String,
    #[serde(with = "email_or_empty")]
    pub customer_email: Option<Email>,
    pub customer_name: String,
    pub language: Language,
    pub order_date: String,
    pub reference: String,
    pub ship_date: String,
    pub tracking_number: String,
    pub tracking_url: String,
}

/// The body of one reception event. Untagged: Connectif gets the flat object, and each
/// kind's exact field set (`deny_unknown_fields`, no defaults) tells them apart on reading.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Fields {
    ShipmentStatus(ShipmentStatus),
    ReturnRequest(ReturnRequest),
    OrderShipped(OrderShipped),
}

impl Fields {
    /// The contact the event is for, once known.
    pub fn customer_email(&self) -> Option<&Email> {
        match self {
            Fields::ShipmentStatus(f) => f.customer_email.as_ref(),
            Fields::ReturnRequest(f) => f.customer_email.as_ref(),
            Fields::OrderShipped(f) => f.customer_email.as_ref(),
        }
    }

    /// The first field a shop creates as required (README) that is empty: never sent so.
    pub fn missing_required(&self) -> Option<&'static str> {
        self.empty_required().into_iter().next()
    }

    /// Every field a shop creates as required (README) that is empty.
    pub fn empty_required(&self) -> Vec<&'static str> {
        let (email, required): (_, &[(&'static str, &str)]) = match self {
            Fields::ShipmentStatus(f) => (
                &f.customer_email,
                &[
                    ("customerName", &f.customer_name),
                    ("qaplaStatus", &f.qapla_status),
                    ("reference", &f.reference),
                    ("trackingNumber", &f.tracking_number),
                    ("trackingUrl", &f.tracking_url),
                ],
            ),
            Fields::ReturnRequest(f) => (
                &f.customer_email,
                &[
                    ("customerName", &f.customer_name),
                    ("reference", &f.reference),
                ],
            ),
            Fields::OrderShipped(f) => (
                &f.customer_email,
                &[
                    ("customerName", &f.customer_name),
                    ("reference", &f.reference),
                    ("trackingUrl", &f.tracking_url),
                ],
            ),
        };
        let email = email.is_none().then_some("customerEmail");
        let empty = required.iter().filter(|(_, value)| value.trim().is_empty());
        email
            .into_iter()
            .chain(empty.map(|(name, _)| *name))
            .collect()
    }
}

/// `customerEmail` on the wire: the address, or `""` while unknown.
mod email_or_empty {
    use crate::customer::Email;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(email: &Option<Email>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(email.as_ref().map_or("", Email::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Email>, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        Email::try_from(text.as_str())
            .map(Some)
            .map_err(|_| serde::de::Error::custom("customerEmail must be an e-mail address"))
    }
}
