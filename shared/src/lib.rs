//! Core of the Qapla' → Connectif bridge. Floors, each room standing only on the floors
//! below it (`make structure` reads this list and checks every `crate::` import against it):
//!
//! - floor 0: this file ([`Kind`], [`Reception`]), [`clock`], [`bucket`] (the token bucket), [`http`] (what the outbound clients share), [`customer`], [`mapping`] (the status mapping: Qapla's statuses, their groups and labels)
//! - floor 1: [`telemetry`] (logs and metrics), [`calendar`] (business days), [`links`] (signed release links)
//! - floor 2: [`channel`] (per-channel settings, their cache, authentication), [`qapla`] (what Qapla' sends, its REST API and budget)
//! - floor 3: [`connectif`] (the reception events as types, how they are built, the client), [`refusals`] (Qapla's failure budget, watched)
//! - floor 4: [`delivery`] (the hand-off port and its envelope, queue, worker, enrichment, state)
//! - floor 5: [`plan`] (how each post becomes planned events), [`stalls`] (silent parcels found), [`release`] (the release page of a held parcel)
//! - floor 6: [`webhook`] (the HTTP edge every webhook function shares), [`history`] (statuses pulled from Qapla's API: reconciliation, backfill)
//! - floor 7: [`aws`] (every adapter that speaks to AWS, behind the ports above)
//! - floor 8: [`config`] (the environment, and [`config::Bridge`], the one wiring of all the above)

/// The bridge's version (the workspace's, one for every crate): in every function's start-up
/// line and `bridge-admin --version`. `BRIDGE_BUILD_VERSION` at build time overrides it:
/// `make chaos` builds "the next version" of the same code so, to deploy it mid-run.
pub const VERSION: &str = match option_env!("BRIDGE_BUILD_VERSION") {
    Some(version) => version,
    None => env!("CARGO_PKG_VERSION"),
};

pub mod aws;
pub mod bucket;
pub mod calendar;
pub mod channel;
pub mod clock;
pub mod config;
pub mod connectif;
pub mod customer;
pub mod delivery;
pub mod history;
pub mod http;
pub mod links;
pub mod mapping;
pub mod plan;
pub mod qapla;
pub mod refusals;
pub mod release;
pub mod stalls;
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

/// The reception events a shop creates in Connectif (their aliases are settings).
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
    /// `order-status-history`: a past status sent by `bridge-admin backfill` (same fields as
    /// `order-status-change`, its own alias so it fires no live workflow).
    ShipmentHistory,
    /// `parcel-stalled`: a shipment without a new status for the channel's business days
    /// (`stalls`), found by the scheduled function.
    ParcelStalled,
    /// `parcel-release`: what the customer of a held parcel chose on the release page, and
    /// the courier's outcome (`releaseLinks`).
    ParcelRelease,
}

impl Reception {
    pub const ALL: [Reception; 7] = [
        Reception::ShipmentStatus,
        Reception::ReturnStatus,
        Reception::ReturnRequest,
        Reception::OrderShipped,
        Reception::ShipmentHistory,
        Reception::ParcelStalled,
        Reception::ParcelRelease,
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
            Reception::ShipmentHistory => "history",
            Reception::ParcelStalled => "stalled",
            Reception::ParcelRelease => "release",
        }
    }
}
