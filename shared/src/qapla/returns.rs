//! The shipments return webhook (a customer asked for a return).
//!
//! The envelope shape comes from Qapla's reference repository, not the webhook page, so it
//! is parsed tolerantly: the `webhookReturnShipments` wrapper may be present or not.

use super::{flex_opt_string, flex_string, null_as_empty};
use secrecy::SecretString;
use serde::Deserialize;

/// The whole return post, wrapper removed.
#[derive(Debug)]
pub struct ReturnsPayload {
    /// Qapla's id of this transmission, if sent.
    pub id: Option<String>,
    /// The channel's private API key (nested inside the envelope on the wire).
    pub api_key: Option<SecretString>,
    pub returns: Vec<ReturnShipment>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Wire {
    Wrapped {
        #[serde(rename = "webhookReturnShipments")]
        inner: Envelope,
    },
    Bare(Envelope),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default, deserialize_with = "flex_opt_string")]
    id: Option<String>,
    #[serde(default)]
    api_key: Option<SecretString>,
    #[serde(deserialize_with = "null_as_empty")]
    return_shipments: Vec<ReturnShipment>,
}

impl<'de> Deserialize<'de> for ReturnsPayload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (Wire::Wrapped { inner: e } | Wire::Bare(e)) = Wire::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected an object with webhookReturnShipments.returnShipments",
            )
        })?;
        Ok(ReturnsPayload {
            id: e.id,
            api_key: e.api_key,
            returns: e.return_shipments,
        })
    }
}

/// One return request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnShipment {
    /// Creation time, `YYYY-MM-DD HH:MM:SS` Italian local time.
    #[serde(default, deserialize_with = "flex_string")]
    pub date: String,
    /// The order reference.
    #[serde(default, deserialize_with = "flex_string")]
    pub reference: String,
    #[serde(default, rename = "RMA", deserialize_with = "flex_string")]
    pub rma: String,
    /// Tracking number of the return shipment.
    #[serde(default, deserialize_with = "flex_string")]
    pub tracking_number: String,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub refund_method_code: Option<String>,
    #[serde(default)]
    pub courier: Option<ReturnCourier>,
    /// The customer sending the parcel back.
    #[serde(default)]
    pub sender: Option<ReturnParty>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub rows: Vec<ReturnRow>,
}

/// The return courier: an object on the wire, but a bare code is accepted too.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ReturnCourier {
    Object {
        #[serde(default, deserialize_with = "flex_opt_string")]
        code: Option<String>,
        #[serde(default, deserialize_with = "flex_opt_string")]
        name: Option<String>,
    },
    Code(String),
}

impl ReturnCourier {
    /// The courier's display name, else its code.
    pub fn display(&self) -> &str {
        match self {
            ReturnCourier::Object { name, code } => {
                name.as_deref().or(code.as_deref()).unwrap_or_default()
            }
            ReturnCourier::Code(code) => code,
        }
    }
}

/// The customer side of a return.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnParty {
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub country: Option<String>,
}

/// One returned item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRow {
    #[serde(default, deserialize_with = "flex_string")]
    pub sku: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub name: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub qty: String,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub reason: Option<String>,
}
