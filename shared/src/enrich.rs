//! Completing events from Qapla's API in the delivery stage: the customer's e-mail, name and
//! country when the webhook lacked them (v1.2 sends none), and Qapla's own tracking page.
//!
//! `GET {qaplaApiBaseUrl}/getShipment/?apiKey=<channel key>&trackingNumber=<n>`. Answers
//! are cached per shipment (a burst of statuses costs one call) and calls are paced per
//! channel by a token bucket matching Qapla's limit (120 burst, 2 per second). Throttling
//! and 5xx are retryable: they delay an event, never lose it. A shipment Qapla' does not
//! know (its panel's "Test" button posts one) is skipped as `unknown_to_qapla`; one that
//! has no e-mail even there is a permanent failure (dead-lettered).

use crate::channel::{ChannelId, ChannelSettings};
use crate::connectif::{ConnectifEvent, DeliveryError};
use crate::customer::Email;
use crate::status;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What an envelope still needs from Qapla' (set by the webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrich {
    pub tracking_number: String,
    /// The payload had no usable customer e-mail or name.
    pub customer: bool,
    /// The channel wants Qapla's tracking page.
    pub tracking_url: bool,
    /// The status as Qapla' sent it, to label it in the contact's language once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusRef>,
}

/// A shipment status as Qapla' sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRef {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_id: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_text: Option<String>,
}

/// What `getShipment` tells about a shipment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipmentInfo {
    pub email: Option<String>,
    pub name: Option<String>,
    pub country: Option<String>,
    pub url: Option<String>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Qapla's API client, its cache and its pacing. One per process.
pub struct Enricher {
    http: reqwest::Client,
    cache_ttl: Duration,
    cache: Mutex<HashMap<(ChannelId, String), (Instant, ShipmentInfo)>>,
    buckets: Mutex<HashMap<ChannelId, Bucket>>,
    calls: AtomicU64,
}

const BURST: f64 = 120.0;
const PER_SECOND: f64 = 2.0;
const CACHE_MAX: usize = 10_000;

impl Enricher {
    pub fn new(http: reqwest::Client, cache_ttl: Duration) -> Self {
        Enricher {
            http,
            cache_ttl,
            cache: Mutex::default(),
            buckets: Mutex::default(),
            calls: AtomicU64::new(0),
        }
    }

    /// `getShipment` calls made by this process.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The event with what was missing filled in from Qapla'.
    pub async fn complete(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
        event: &ConnectifEvent,
        enrich: &Enrich,
    ) -> Result<ConnectifEvent, DeliveryError> {
        let info = self
            .shipment(channel, settings, &enrich.tracking_number)
            .await?;
        let mut event = event.clone();
        let mut set = |k: &str, v: &str| {
            event
                .fields
                .insert(k.to_owned(), Value::String(v.trim().to_owned()));
        };
        if enrich.customer {
            let email = info
                .email
                .as_deref()
                .and_then(|e| Email::try_from(e).ok())
                .ok_or_else(|| permanent("no customer e-mail in Qapla' either"))?;
            let name = info
                .name
                .as_deref()
                .ok_or_else(|| permanent("no customer name in Qapla' either"))?;
            set("customerEmail", email.as_str());
            set("customerName", name);
            let language = settings.language_for(info.country.as_deref());
            set("language", language.code());
            if let Some(s) = &enrich.status {
                let detail = s.detail_id.map(|id| (id, s.detail_text.as_deref()));
                let label = status::label(&s.id, &s.label, detail, language, settings.label_style);
                set("qaplaStatus", &label.text);
            }
        }
        if enrich.tracking_url {
            let url = info
                .url
                .as_deref()
                .ok_or_else(|| permanent("no tracking page in Qapla'"))?;
            set("trackingUrl", url);
        }
        Ok(event)
    }

    async fn shipment(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
        tracking: &str,
    ) -> Result<ShipmentInfo, DeliveryError> {
        let key = (channel.clone(), tracking.to_owned());
        if let Some((at, info)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            && at.elapsed() < self.cache_ttl
        {
            return Ok(info.clone());
        }
        self.take_token(channel)?;
        let info = self.fetch(settings, tracking).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), info.clone()));
        Ok(info)
    }

    /// Qapla's limit, per channel key: refuse (retry later) rather than get the key banned.
    fn take_token(&self, channel: &ChannelId) -> Result<(), DeliveryError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(channel.clone()).or_insert(Bucket {
            tokens: BURST,
            at: Instant::now(),
        });
        bucket.tokens = (bucket.tokens + bucket.at.elapsed().as_secs_f64() * PER_SECOND).min(BURST);
        bucket.at = Instant::now();
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(DeliveryError::Retryable {
                reason: "Qapla' API pace reached (2 calls per second)".into(),
                retry_after: Some(Duration::from_secs_f64((1.0 - bucket.tokens) / PER_SECOND)),
            })
        }
    }

    #[tracing::instrument(skip_all)]
    async fn fetch(
        &self,
        settings: &ChannelSettings,
        tracking: &str,
    ) -> Result<ShipmentInfo, DeliveryError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        // The URL holds the key: it is never logged (reqwest errors are reduced to a kind).
        let url = format!(
            "{}/getShipment/?apiKey={}&trackingNumber={}",
            settings.qapla_api_base_url.trim_end_matches('/'),
            crate::connectif::url_encode(settings.qapla_api_key.expose_secret()),
            crate::connectif::url_encode(tracking.trim()),
        );
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| DeliveryError::Retryable {
                reason: format!(
                    "Qapla' API {}",
                    if e.is_timeout() {
                        "timeout"
                    } else {
                        "unreachable"
                    }
                ),
                retry_after: None,
            })?;
        let status = response.status();
        let retry_after = crate::connectif::retry_after(response.headers());
        let body = json_body(response).await;
        let inner = body.get("getShipment").unwrap_or(&body);
        let error = inner
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || error == "Too Many Requests"
        {
            return Err(DeliveryError::Retryable {
                reason: format!("Qapla' API HTTP {}", status.as_u16()),
                retry_after,
            });
        }
        let ok = inner.get("result").and_then(Value::as_str) == Some("OK");
        if status.is_client_error() && status != StatusCode::NOT_FOUND {
            let error: String = error.chars().take(80).collect();
            return Err(permanent(&format!(
                "Qapla' API refused getShipment (HTTP {}: {error})",
                status.as_u16()
            )));
        }
        // Qapla' does not know the shipment: its panel's "Test" button posts a made-up one.
        // Nothing to tell a customer, and nothing an operator must replay.
        let shipment = inner
            .get("shipment")
            .or_else(|| {
                inner
                    .get("shipments")
                    .map(|s| s.get(0).unwrap_or(&Value::Null))
            })
            .unwrap_or(inner);
        if !status.is_success() || !ok || shipment.is_null() {
            return Err(DeliveryError::Skip {
                reason: UNKNOWN_TO_QAPLA,
            });
        }
        let text = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let consignee = shipment.get("consignee");
        Ok(ShipmentInfo {
            email: text(consignee.and_then(|c| c.get("email"))),
            name: text(consignee.and_then(|c| c.get("name"))),
            country: text(consignee.and_then(|c| c.get("country"))),
            url: text(shipment.get("url")),
        })
    }
}

/// The skip reason of a shipment `getShipment` does not find.
pub const UNKNOWN_TO_QAPLA: &str = "unknown_to_qapla";

fn permanent(reason: &str) -> DeliveryError {
    DeliveryError::Permanent {
        reason: reason.to_owned(),
    }
}

/// The body as JSON, `null` when it is not JSON.
async fn json_body(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}
