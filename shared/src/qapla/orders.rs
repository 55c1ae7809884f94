//! The orders webhook (label printed, or shipment transmitted to the courier).

use super::{flag, flex_opt_string, flex_string, id, opt_flag, required_id};
use secrecy::SecretString;
use serde::Deserialize;

/// The whole orders post.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersPayload {
    #[serde(default)]
    pub api_key: Option<SecretString>,
    pub orders: Vec<Order>,
}

/// One shipped order.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Never blank: it keys the order's FIFO group.
    #[serde(deserialize_with = "required_id")]
    pub reference: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub order_date: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub ship_date: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub courier: String,
    #[serde(default, deserialize_with = "id")]
    pub tracking_number: String,
    #[serde(default, rename = "return", deserialize_with = "opt_flag")]
    pub is_return: Option<bool>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub return_tracking_number: Option<String>,
    /// A formatted string with currency (`"€ 28.74"`), forwarded as sent.
    #[serde(default, deserialize_with = "flex_string")]
    pub amount: String,
    /// Cash on delivery.
    #[serde(default, rename = "isPOD", deserialize_with = "flag")]
    pub is_pod: bool,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub customer_name: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub customer_email: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub customer_country: Option<String>,
}
