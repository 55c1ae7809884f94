//! What leaves for Connectif: reception events, how they are built from Qapla' payloads,
//! and the HTTP client that delivers them.

mod build;
mod client;

pub use build::{SkipReason, order_event, return_event, shipment_event, tracking_url, url_encode};
pub(crate) use client::retry_after;
pub use client::{ConnectifClient, DeliveryError};

use crate::Kind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The four reception events a shop creates in Connectif (their aliases are settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reception {
    /// `order-status-change`: a status of a shipment to the customer.
    ShipmentStatus,
    /// `return-status-change`: a status of a parcel the customer sends back.
    ReturnStatus,
    /// `return-request`.
    ReturnRequest,
    /// `order-shipped`.
    OrderShipped,
}

impl Reception {
    pub const ALL: [Reception; 4] = [
        Reception::ShipmentStatus,
        Reception::ReturnStatus,
        Reception::ReturnRequest,
        Reception::OrderShipped,
    ];

    /// The reception event of a webhook kind (a shipment's is refined by `return`).
    pub fn of(kind: Kind) -> Self {
        match kind {
            Kind::Shipment => Reception::ShipmentStatus,
            Kind::Return => Reception::ReturnRequest,
            Kind::Order => Reception::OrderShipped,
        }
    }

    /// Its key under `aliases` and `connectif.endpoints` in the channel's settings.
    pub fn setting(self) -> &'static str {
        match self {
            Reception::ShipmentStatus => "shipment",
            Reception::ReturnStatus => "returnStatus",
            Reception::ReturnRequest => "return",
            Reception::OrderShipped => "order",
        }
    }

    /// The fields the shop creates as required (README): never sent empty.
    pub fn required_fields(self) -> &'static [&'static str] {
        match self {
            Reception::ShipmentStatus | Reception::ReturnStatus => &[
                "customerEmail",
                "customerName",
                "qaplaStatus",
                "reference",
                "trackingNumber",
                "trackingUrl",
            ],
            Reception::ReturnRequest => &["customerEmail", "customerName", "reference"],
            Reception::OrderShipped => {
                &["customerEmail", "customerName", "reference", "trackingUrl"]
            }
        }
    }
}

/// One reception event: its alias and the flat JSON body keyed by Connectif field ids.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectifEvent {
    pub alias: String,
    /// Which reception event; absent only in messages queued by an older version (then the
    /// kind's default, see [`Reception::of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reception: Option<Reception>,
    pub fields: Map<String, Value>,
}

impl ConnectifEvent {
    /// The first required field of `reception` that is missing or blank.
    pub fn missing_required(&self, reception: Reception) -> Option<&'static str> {
        reception.required_fields().iter().copied().find(|f| {
            self.fields
                .get(*f)
                .and_then(Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
        })
    }
}

/// Debug shows the alias and field ids only: values hold e-mails and names.
impl fmt::Debug for ConnectifEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectifEvent")
            .field("alias", &self.alias)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}
