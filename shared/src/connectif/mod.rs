//! What leaves for Connectif: reception events, how they are built from Qapla' payloads,
//! and the HTTP client that delivers them.

mod build;
mod client;
pub mod contact;
mod events;
pub mod schema;
mod skip;

pub use build::{order_event, return_event, shipment_event, tracking_url};
pub use client::{ConnectifClient, DeliveryError};
pub use events::{
    Fields, OrderShipped, ParcelRelease, ParcelStalled, ReturnRequest, ShipmentStatus,
};
pub use skip::SkipReason;

/// Vocabulary of the ground floor (the channel's settings name the aliases by it).
pub use crate::Reception;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One reception event: its alias and its fields (the flat JSON body Connectif receives).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectifEvent {
    pub alias: String,
    /// Which reception event; absent only in messages queued by an older version (then the
    /// kind's default, see [`Reception::of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reception: Option<Reception>,
    pub fields: Fields,
}

/// Debug shows the alias and the reception only: the fields hold e-mails and names.
impl fmt::Debug for ConnectifEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectifEvent")
            .field("alias", &self.alias)
            .field("reception", &self.reception)
            .finish_non_exhaustive()
    }
}

/// What an event still needs from Qapla's API before delivery (set when it is built,
/// carried in its envelope, done by the delivery stage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrich {
    pub tracking_number: String,
    /// The payload had no usable customer e-mail or name.
    pub customer: bool,
    /// The channel wants Qapla's tracking page.
    pub tracking_url: bool,
    /// The status as Qapla' sent it, to label it in the contact's language once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusRef>,
}

impl Enrich {
    /// Whether enrichment fills `field` (a reception event's field id) when it is empty.
    pub fn fills(&self, field: &str) -> bool {
        match field {
            "customerEmail" | "customerName" => self.customer,
            "trackingUrl" => self.tracking_url,
            _ => false,
        }
    }
}

/// A shipment status as Qapla' sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRef {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_id: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_text: Option<String>,
}
