//! The reception events as types: each serialises to exactly the flat JSON object a shop's
//! Connectif reception event expects (field ids and types as in the README). Fields are in
//! alphabetical order, as queued envelopes have always written them.

use crate::channel::ExtraField;
use crate::customer::Email;
use crate::mapping::Language;
use serde::{Deserialize, Serialize};

/// `order-status-change` / `return-status-change`: the nine fields of the Connectif–Qapla'
/// guide, and the opt-in fields a channel asks for (`extraFields`), no more. The customer is empty (and the label in the channel's language) until
/// enrichment when the post did not carry one.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentStatus {
    /// Opt-in (`extraFields`, like `shippedAt` and `statusGroup`): computed for every event,
    /// sent only where the channel asks for it (see [`Fields::keep_extras`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courier_name: Option<String>,
    pub courier_status: String,
    #[serde(with = "email_or_empty")]
    pub customer_email: Option<Email>,
    pub customer_name: String,
    /// When it should arrive, `YYYY-MM-DD` (`extraFields` `estimatedDelivery`; the worker's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<String>,
    /// `courier` or `median`: whose figure `estimatedDelivery` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery_source: Option<String>,
    pub language: Language,
    pub qapla_status: String,
    #[serde(rename = "qaplaStatusID")]
    pub qapla_status_id: String,
    pub reference: String,
    /// A held parcel's release page (`releaseLinks`; the worker's, like the other opt-ins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_group: Option<String>,
    pub tracking_number: String,
    pub tracking_url: String,
}

/// `parcel-release`: what the customer of a held parcel chose on the release page and what
/// the courier answered. The customer is filled in by the worker (`getShipment`): the link
/// carries no contact data.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParcelRelease {
    /// `redeliver`, `redeliver_new_address` or `return_to_sender` (Qapla's spelling).
    pub action: String,
    /// The courier's own message, when it gave one (`""` otherwise).
    pub courier_message: String,
    #[serde(with = "email_or_empty")]
    pub customer_email: Option<Email>,
    pub customer_name: String,
    pub language: Language,
    /// `ok`, `pending` (the courier answers later), `error` (the courier refused), or
    /// `not_held` (Qapla' says the parcel is no longer held).
    pub outcome: String,
    pub reference: String,
    pub tracking_number: String,
}

/// `parcel-stalled`: the shipment event's fields (of its last status), the business days
/// without news and the last status's time.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParcelStalled {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courier_name: Option<String>,
    pub courier_status: String,
    #[serde(with = "email_or_empty")]
    pub customer_email: Option<Email>,
    pub customer_name: String,
    /// Business days without a new status (a Connectif Number).
    pub days_without_news: u32,
    pub language: Language,
    /// The last status's time, `YYYY-MM-DD HH:MM:SS` (Italian time).
    pub last_status_at: String,
    pub qapla_status: String,
    #[serde(rename = "qaplaStatusID")]
    pub qapla_status_id: String,
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_group: Option<String>,
    pub tracking_number: String,
    pub tracking_url: String,
}

impl ParcelStalled {
    /// The stall of a shipment whose last status event was `last`.
    pub fn of(last: ShipmentStatus, days_without_news: u32, last_status_at: String) -> Self {
        ParcelStalled {
            courier_name: last.courier_name,
            courier_status: last.courier_status,
            customer_email: last.customer_email,
            customer_name: last.customer_name,
            days_without_news,
            language: last.language,
            last_status_at,
            qapla_status: last.qapla_status,
            qapla_status_id: last.qapla_status_id,
            reference: last.reference,
            shipped_at: last.shipped_at,
            status_group: last.status_group,
            tracking_number: last.tracking_number,
            tracking_url: last.tracking_url,
        }
    }
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
    ParcelStalled(ParcelStalled),
    ParcelRelease(ParcelRelease),
}

impl Fields {
    /// The contact the event is for, once known.
    pub fn customer_email(&self) -> Option<&Email> {
        match self {
            Fields::ShipmentStatus(f) => f.customer_email.as_ref(),
            Fields::ReturnRequest(f) => f.customer_email.as_ref(),
            Fields::OrderShipped(f) => f.customer_email.as_ref(),
            Fields::ParcelStalled(f) => f.customer_email.as_ref(),
            Fields::ParcelRelease(f) => f.customer_email.as_ref(),
        }
    }

    /// Fill in the opt-in fields of a shipment event or a stall: its status's group, its
    /// courier's name (`shippedAt` is the worker's, from the shipment's state).
    pub fn fill_extras(&mut self, status_group: &str, courier_name: Option<String>) {
        let (group, courier) = match self {
            Fields::ShipmentStatus(f) => (&mut f.status_group, &mut f.courier_name),
            Fields::ParcelStalled(f) => (&mut f.status_group, &mut f.courier_name),
            _ => return,
        };
        *group = Some(status_group.to_owned());
        *courier = courier_name;
    }

    /// The opt-in fields (`extraFields`) only where `wanted` names them.
    pub fn keep_extras(&mut self, wanted: &[ExtraField]) {
        if let Fields::ShipmentStatus(f) = self
            && !wanted.contains(&ExtraField::ReleaseUrl)
        {
            f.release_url = None;
        }
        if let Fields::ShipmentStatus(f) = self
            && !wanted.contains(&ExtraField::EstimatedDelivery)
        {
            (f.estimated_delivery, f.estimated_delivery_source) = (None, None);
        }
        let (courier, shipped, group) = match self {
            Fields::ShipmentStatus(f) => {
                (&mut f.courier_name, &mut f.shipped_at, &mut f.status_group)
            }
            Fields::ParcelStalled(f) => {
                (&mut f.courier_name, &mut f.shipped_at, &mut f.status_group)
            }
            _ => return,
        };
        for (field, value) in [
            (ExtraField::CourierName, courier),
            (ExtraField::ShippedAt, shipped),
            (ExtraField::StatusGroup, group),
        ] {
            if !wanted.contains(&field) {
                *value = None;
            }
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
            Fields::ParcelRelease(f) => (
                &f.customer_email,
                &[
                    ("action", &f.action),
                    ("customerName", &f.customer_name),
                    ("outcome", &f.outcome),
                    ("trackingNumber", &f.tracking_number),
                ],
            ),
            Fields::ParcelStalled(f) => (
                &f.customer_email,
                &[
                    ("customerName", &f.customer_name),
                    ("qaplaStatus", &f.qapla_status),
                    ("reference", &f.reference),
                    ("trackingNumber", &f.tracking_number),
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
