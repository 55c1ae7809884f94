//! Core of the Qapla' → Connectif bridge. Floors, each standing only on those below:
//!
//! - [`qapla`] (what Qapla' sends, and its REST API), [`status`] (the status table),
//!   [`customer`], [`http`] (what both outbound clients share), [`telemetry`] (logs);
//! - [`channel`]: per-channel settings, their cache and authentication;
//! - [`connectif`]: the reception events as types, how they are built, the client;
//! - [`delivery`]: the hand-off port and its envelope, queue, worker, enrichment, state;
//! - [`webhook`]: the HTTP edge every webhook function shares;
//! - [`config`]: the environment, and the wiring of all the above for each function.

pub mod bucket;
pub mod channel;
pub mod clock;
pub mod config;
pub mod connectif;
pub mod customer;
pub mod delivery;
pub mod history;
pub mod http;
pub mod metrics;
pub mod qapla;
pub mod status;
pub mod table;
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
