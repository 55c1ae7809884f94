//! The shipments webhook (a tracking status change), versions 1.2 and 1.3.

use super::{flag, flex_opt_string, flex_string, id, null_as_empty, required_id, required_text};
use secrecy::SecretString;
use serde::Deserialize;

/// One shipment status change. v1.3 adds `consignee` (and `rows`/`parcels`, not used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentPayload {
    /// The channel's private API key; checked, never logged.
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// Never blank: it keys the shipment's FIFO group and state.
    #[serde(deserialize_with = "required_id")]
    pub tracking_number: String,
    /// 1 = a return shipment.
    #[serde(default, rename = "return", deserialize_with = "flag")]
    pub is_return: bool,
    #[serde(default, deserialize_with = "flag")]
    pub has_children: bool,
    #[serde(default, deserialize_with = "flag")]
    pub is_child: bool,
    #[serde(default, deserialize_with = "flex_string")]
    pub courier: String,
    #[serde(default, deserialize_with = "id")]
    pub reference: String,
    /// `YYYY-MM-DD HH:MM:SS`, Italian local time, as the courier reported it.
    #[serde(default, deserialize_with = "flex_string")]
    pub date: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub courier_status: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub place: String,
    /// Qapla' status id as text (`"3"`); numbers are accepted and kept as their digits.
    #[serde(rename = "qaplaStatusID", deserialize_with = "required_id")]
    pub qapla_status_id: String,
    /// Qapla's status label; never blank (a required Connectif field for unknown ids).
    #[serde(deserialize_with = "required_text")]
    pub qapla_status: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub status_details: Vec<StatusDetail>,
    #[serde(default, deserialize_with = "flex_string")]
    pub custom1: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub custom2: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub custom3: String,
    /// v1.3 only; `null` when Qapla' has none.
    #[serde(default)]
    pub consignee: Option<Consignee>,
}

/// A sub-status (e.g. 1 = on hold at the depot, for status 6).
#[derive(Debug, Clone, Deserialize)]
pub struct StatusDetail {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub detail: Option<String>,
}

/// The receiving customer (v1.3, and Qapla's API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consignee {
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub city: Option<String>,
    /// `postCode` (`getShipment`'s consignee).
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub post_code: Option<String>,
}

impl ShipmentPayload {
    /// The first status detail whose id is numeric, as `(id, Qapla's text)`.
    pub fn first_detail(&self) -> Option<(u16, Option<&str>)> {
        self.status_details
            .iter()
            .find_map(|d| Some((d.id.trim().parse().ok()?, d.detail.as_deref())))
    }
}
