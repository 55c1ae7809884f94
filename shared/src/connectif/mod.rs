//! What leaves for Connectif: reception events, how they are built from Qapla' payloads,
//! and the HTTP client that delivers them.

mod build;
mod client;

pub use build::{SkipReason, order_event, return_event, shipment_event, tracking_url, url_encode};
pub(crate) use client::retry_after;
pub use client::{ConnectifClient, DeliveryError};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// One reception event: its alias and the flat JSON body keyed by Connectif field ids.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectifEvent {
    pub alias: String,
    pub fields: Map<String, Value>,
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
