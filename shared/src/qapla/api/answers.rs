//! The answers of Qapla's API calls, as the bridge reads them.

use super::super::{Consignee, flex_opt_string, flex_string, id, null_as_empty, opt_flag};
use serde::{Deserialize, Deserializer};

/// A shipment as the API describes it (`getShipment`, and the shorter entries of
/// `trackingByTimeFrame`). Only what the bridge reads; the rest is ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiShipment {
    #[serde(default, deserialize_with = "id")]
    pub id: String,
    #[serde(default, deserialize_with = "id")]
    pub reference: String,
    #[serde(default, deserialize_with = "id")]
    pub tracking_number: String,
    /// The courier (an object in `getShipment`, a code in `trackingByTimeFrame`).
    #[serde(default, deserialize_with = "courier_of")]
    pub courier: ApiCourier,
    /// The customer's tracking page, `https://tracking.qapla.it/<hash>`.
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub url: Option<String>,
    #[serde(default)]
    pub status: Option<ApiStatus>,
    #[serde(default)]
    pub consignee: Option<Consignee>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "opt_flag")]
    pub is_return_shipment: Option<bool>,
    #[serde(default, deserialize_with = "opt_flag")]
    pub is_child: Option<bool>,
    /// When the parcel left the shop, `YYYY-MM-DD` (`getShipment`).
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub ship_date: Option<String>,
    /// Every status it passed through, newest first (`getShipment` with `data=history`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tracking_history: Vec<ApiStatus>,
}

/// A shipment's courier as `getShipment` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiCourier {
    /// Qapla's courier code.
    pub code: String,
    /// `courier.estimatedDeliveryDate`, when the courier gives one (`null` in Qapla's
    /// example; its format is not documented: see [`crate::qapla::api::delivery_date`]).
    pub estimated_delivery_date: Option<String>,
}

/// A shipment's current status.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiStatus {
    /// `YYYY-MM-DD HH:MM:SS`, Italian local time.
    #[serde(default, rename = "dateISO", deserialize_with = "flex_string")]
    pub date_iso: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub place: String,
    #[serde(default)]
    pub qapla_status: Option<ApiQaplaStatus>,
}

/// Qapla's normalised status (integers in the API, text in the webhook).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiQaplaStatus {
    #[serde(default, deserialize_with = "id")]
    pub id: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub status: String,
    #[serde(default, rename = "detailID", deserialize_with = "id")]
    pub detail_id: String,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub detail: Option<String>,
}

/// `getShipment`: the shipment is `shipment`, the first of `shipments`, or the answer itself.
#[derive(Debug, Deserialize)]
pub(super) struct GetShipment {
    #[serde(default)]
    pub(super) shipment: Option<ApiShipment>,
    #[serde(default)]
    pub(super) shipments: Option<Vec<ApiShipment>>,
}

/// `trackingByTimeFrame`: the shipments whose status changed in the window.
#[derive(Debug, Deserialize)]
pub(super) struct TrackingByTimeFrame {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(super) shipments: Vec<ApiShipment>,
}

/// What `getChannel` tells about the channel the key belongs to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ApiChannel {
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct GetChannel {
    #[serde(default)]
    pub(super) channel: Option<ApiChannel>,
}

/// `result` and `error`, which every answer carries.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Head {
    #[serde(default, deserialize_with = "flex_string")]
    pub(super) result: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub(super) error: String,
}

fn courier_of<'de, D: Deserializer<'de>>(d: D) -> Result<ApiCourier, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Courier {
        Code(#[serde(deserialize_with = "flex_string")] String),
        #[serde(rename_all = "camelCase")]
        Object {
            #[serde(default, deserialize_with = "flex_string")]
            code: String,
            #[serde(default, deserialize_with = "flex_opt_string")]
            estimated_delivery_date: Option<String>,
        },
    }
    Ok(match Courier::deserialize(d)? {
        Courier::Code(code) => ApiCourier {
            code,
            estimated_delivery_date: None,
        },
        Courier::Object {
            code,
            estimated_delivery_date,
        } => ApiCourier {
            code,
            estimated_delivery_date,
        },
    })
}
