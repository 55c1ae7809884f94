//! Core of the Qapla' → Connectif bridge: what Qapla' sends ([`qapla`]), the status table
//! ([`status`]), what Connectif receives ([`connectif`]), per-channel settings and
//! authentication ([`channel`]), the hand-off to delivery ([`delivery`]), and the HTTP edge
//! every webhook function shares ([`webhook`]).

pub mod channel;
pub mod config;
pub mod connectif;
pub mod customer;
pub mod delivery;
pub mod http;
pub mod metrics;
pub mod qapla;
pub mod status;
pub mod telemetry;
pub mod webhook;

use serde::{Deserialize, Serialize};

/// The three Qapla' webhooks, and so the three kinds of Connectif event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Shipment,
    Return,
    Order,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Shipment, Kind::Return, Kind::Order];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Shipment => "shipment",
            Kind::Return => "return",
            Kind::Order => "order",
        }
    }
}
