//! The Connectif reception event aliases a channel sends to (`aliases`).

use crate::Reception;
use serde::Deserialize;

/// Connectif reception event aliases.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Aliases {
    pub shipment: String,
    #[serde(rename = "return")]
    pub returns: String,
    pub order: String,
    /// Status updates of return shipments (see `returnShipments`).
    pub return_status: String,
    /// Past statuses sent by `bridge-admin backfill` (unless it is given `--alias`).
    pub history: String,
    /// A parcel without news for `stalls.afterBusinessDays` business days.
    pub stalled: String,
    /// What the customer of a held parcel chose on the release page (`releaseLinks`).
    pub release: String,
}

impl Default for Aliases {
    fn default() -> Self {
        Aliases {
            shipment: "order-status-change".into(),
            returns: "return-request".into(),
            order: "order-shipped".into(),
            return_status: "return-status-change".into(),
            history: "order-status-history".into(),
            stalled: "parcel-stalled".into(),
            release: "parcel-release".into(),
        }
    }
}

impl Aliases {
    pub fn get(&self, reception: Reception) -> &str {
        match reception {
            Reception::ShipmentStatus => &self.shipment,
            Reception::ReturnStatus => &self.return_status,
            Reception::ReturnRequest => &self.returns,
            Reception::OrderShipped => &self.order,
            Reception::ShipmentHistory => &self.history,
            Reception::ParcelStalled => &self.stalled,
            Reception::ParcelRelease => &self.release,
        }
    }
}
