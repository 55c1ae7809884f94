//! The three webhook kinds: how each authenticated payload becomes planned Connectif events.

use crate::Kind;
use crate::channel::{Authenticated, Presented};
use crate::connectif::{self, ConnectifEvent, SkipReason};
use crate::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

/// One Connectif event planned from a Qapla' post (a post may hold several).
pub struct Planned {
    /// Tracking number (shipments) or order reference (returns, orders).
    pub key: String,
    pub status_id: Option<String>,
    pub built: Result<ConnectifEvent, SkipReason>,
}

/// A Qapla' webhook payload.
pub trait Webhook: DeserializeOwned + Presented + Send + Sync {
    const KIND: Kind;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned>;
}

impl Presented for ShipmentPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for ShipmentPayload {
    const KIND: Kind = Kind::Shipment;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let s = auth.payload();
        vec![Planned {
            key: s.tracking_number.trim().to_owned(),
            status_id: Some(s.qapla_status_id.trim().to_owned()),
            built: connectif::shipment_event(s, auth.settings()),
        }]
    }
}

impl Presented for ReturnsPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for ReturnsPayload {
    const KIND: Kind = Kind::Return;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let settings = auth.settings();
        auth.payload()
            .returns
            .iter()
            .map(|r| Planned {
                key: r.reference.trim().to_owned(),
                status_id: None,
                built: connectif::return_event(r, settings),
            })
            .collect()
    }
}

impl Presented for OrdersPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for OrdersPayload {
    const KIND: Kind = Kind::Order;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let settings = auth.settings();
        auth.payload()
            .orders
            .iter()
            .map(|o| Planned {
                key: o.reference.trim().to_owned(),
                status_id: None,
                built: connectif::order_event(o, settings),
            })
            .collect()
    }
}
