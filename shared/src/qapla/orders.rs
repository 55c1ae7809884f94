//! The orders webhook (label printed, or shipment transmitted to the courier).

use super::{flex_bool, flex_opt_bool, flex_opt_string, flex_string};
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
    #[serde(deserialize_with = "flex_string")]
    pub reference: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub order_date: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub ship_date: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub courier: String,
    #[serde(default, deserialize_with = "flex_string")]
    pub tracking_number: String,
    #[serde(default, rename = "return", deserialize_with = "flex_opt_bool")]
    pub is_return: Option<bool>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub return_tracking_number: Option<String>,
    /// A formatted string with currency (`"€ 28.74"`), forwarded as sent.
    #[serde(default, deserialize_with = "flex_string")]
    pub amount: String,
    /// Cash on delivery.
    #[serde(default, rename = "isPOD", deserialize_with = "flex_bool")]
    pub is_pod: bool,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub customer_name: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub customer_email: Option<String>,
    #[serde(default, deserialize_with = "flex_opt_string")]
    pub customer_country: Option<String>,
}
