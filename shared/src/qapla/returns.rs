//! The shipments return webhook (a customer asked for a return).
//!
//! The envelope shape comes from Qapla's reference repository, not the webhook page, so it
//! is parsed tolerantly: the `webhookReturnShipments` wrapper may be present or not.

use super::{ParseError, flex_opt_string, flex_string, id, null_as_empty, parse, required_id};
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::IgnoredAny;

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
struct Wrapped {
    #[serde(rename = "webhookReturnShipments")]
    inner: Envelope,
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

impl ReturnsPayload {
    /// Parse a return post, wrapped in `webhookReturnShipments` or bare. Parsed straight
    /// from the text (not through an untagged enum) so errors name their field and ids keep
    /// their digits.
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default, rename = "webhookReturnShipments")]
            wrapped: Option<IgnoredAny>,
        }
        // The first value only: what follows it is `parse`'s to refuse, with its reason.
        let first = serde_json::Deserializer::from_slice(body)
            .into_iter::<Probe>()
            .next();
        let wrapped = first.is_some_and(|p| p.is_ok_and(|p| p.wrapped.is_some()));
        let e = if wrapped {
            parse::<Wrapped>(body)?.inner
        } else {
            parse::<Envelope>(body)?
        };
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
    /// The order reference; never blank (it keys the return's FIFO group).
    #[serde(deserialize_with = "required_id")]
    pub reference: String,
    #[serde(default, rename = "RMA", deserialize_with = "id")]
    pub rma: String,
    /// Tracking number of the return shipment.
    #[serde(default, deserialize_with = "id")]
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
    /// Qapla's code of the courier (what `rules.skipCouriers` names).
    pub fn code(&self) -> &str {
        match self {
            ReturnCourier::Object { code, .. } => code.as_deref().unwrap_or_default(),
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
