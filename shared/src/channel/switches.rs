//! What a channel sends, and whether it is reconciled: the switches a shop needs while it
//! moves from another connector (Qapla's own Connectif connector still sending shipment
//! statuses, say) or sends only some kinds of events.

use crate::Kind;
use serde::Deserialize;

/// Reconciliation of the channel's shipment statuses (see [`super::ChannelSettings::reconcile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reconcile {
    /// Once the channel's first live shipment post has reached the bridge: before that,
    /// Qapla' is not posting to the bridge yet, and what it sends elsewhere is not missing.
    #[default]
    Auto,
    On,
    Off,
}

/// Which kinds of Qapla' posts go to Connectif (all by default). A kind switched off is
/// answered OK (Qapla' counts no failure) and not sent: logged and counted as `skipped`,
/// reason `kind_off`; nor is it reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Sends {
    pub shipments: bool,
    pub returns: bool,
    pub orders: bool,
}

impl Default for Sends {
    fn default() -> Self {
        Sends {
            shipments: true,
            returns: true,
            orders: true,
        }
    }
}

impl Sends {
    /// Whether posts of `kind` are sent.
    pub fn kind(&self, kind: Kind) -> bool {
        match kind {
            Kind::Shipment => self.shipments,
            Kind::Return => self.returns,
            Kind::Order => self.orders,
        }
    }
}

/// The skip reason of an event whose kind the channel does not send.
pub const KIND_OFF: &str = "kind_off";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_sent_and_reconciled_automatically_by_default() {
        let sends: Sends = serde_json::from_str("{}").expect("defaults");
        assert!(Kind::ALL.iter().all(|k| sends.kind(*k)));
        let only: Sends = serde_json::from_str(r#"{"shipments": false}"#).expect("one off");
        assert!(!only.kind(Kind::Shipment) && only.kind(Kind::Return) && only.kind(Kind::Order));
        assert!(serde_json::from_str::<Sends>(r#"{"parcels": false}"#).is_err());
        assert_eq!(Reconcile::default(), Reconcile::Auto);
        let off: Reconcile = serde_json::from_str(r#""off""#).expect("off");
        assert_eq!(off, Reconcile::Off);
    }
}
