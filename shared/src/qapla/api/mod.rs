//! Qapla's REST API, typed: `getShipment` (served under 1.3), `trackingByTimeFrame` and
//! `getChannel` (1.2). Answers are wrapped as `{"<call>": {"result": "OK"|"KO", "error":
//! ..., ...}}` (a bare answer is read too) and parsed with the webhook's tolerant wire
//! helpers: ids as text or numbers, booleans as 0/1 or `true`, `null` for anything.
//!
//! The key travels in the query string (as Qapla' requires), so a URL is never logged and
//! errors say only the call, the status and Qapla's short error text.

mod answers;

pub use answers::{ApiChannel, ApiCourier, ApiQaplaStatus, ApiShipment, ApiStatus};

use crate::http::{Class, retry_after, transport_reason, url_encode};
use answers::{GetChannel, GetShipment, Head, TrackingByTimeFrame};
use secrecy::{ExposeSecret, SecretString};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What `getShipment` is asked to add to its minimal answer (`data`): the consignee, where
/// the customer's e-mail and name are (reference/qapla.md §7). The tracking page (`url`), the
/// status, the courier and the flags are read from the minimal part: docs/contracts.md says
/// that this was never seen live.
pub const GET_SHIPMENT_DATA: &str = "consignee";

/// `data` for a whole tracking history (`trackingHistory`) as well: a backfill with
/// `--statuses all`.
pub const GET_SHIPMENT_HISTORY: &str = "consignee,history";

/// Why a call gave no answer to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Qapla' was not reached (timeout, connection): try again later.
    #[error("Qapla' API {0}")]
    Unreachable(&'static str),
    /// 429, "Too Many Requests" or 5xx: try again later (after `retry_after` if given).
    #[error("Qapla' API HTTP {status}")]
    Busy {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// A 4xx other than 429 (and a 404 without Qapla's own KO): the request, the path or
    /// the key is refused.
    #[error("Qapla' API refused {call} (HTTP {status}: {error})")]
    Refused {
        call: &'static str,
        status: u16,
        error: String,
    },
    /// Qapla' answered `KO` (also with a 404): e.g. an unknown shipment or a wrong key.
    #[error("Qapla' API answered KO to {call}: {error}")]
    Ko { call: &'static str, error: String },
    /// An OK answer that is not the documented shape (the field is named, never its value).
    #[error("Qapla' API answer to {call} unreadable: {problem}")]
    Unreadable { call: &'static str, problem: String },
}

impl ApiError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ApiError::Unreachable(_) | ApiError::Busy { .. })
    }
}

/// Qapla's REST API client: one per process, sharing the HTTP client (and its timeouts).
pub struct QaplaApi {
    http: reqwest::Client,
    calls: AtomicU64,
}

impl QaplaApi {
    pub fn new(http: reqwest::Client) -> Self {
        QaplaApi {
            http,
            calls: AtomicU64::new(0),
        }
    }

    /// Calls made by this client.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// One shipment by tracking number, with what the bridge reads of it
    /// ([`GET_SHIPMENT_DATA`]), its status names in `language` as far as Qapla' has it;
    /// `None` when Qapla' answers OK without one.
    pub async fn get_shipment(
        &self,
        base: &str,
        key: &SecretString,
        tracking_number: &str,
        language: crate::mapping::Language,
    ) -> Result<Option<ApiShipment>, ApiError> {
        self.get_shipment_with(base, key, tracking_number, language, GET_SHIPMENT_DATA)
            .await
    }

    /// [`QaplaApi::get_shipment`] asking for `data` (e.g. [`GET_SHIPMENT_HISTORY`]).
    pub async fn get_shipment_with(
        &self,
        base: &str,
        key: &SecretString,
        tracking_number: &str,
        language: crate::mapping::Language,
        data: &str,
    ) -> Result<Option<ApiShipment>, ApiError> {
        let query = [
            ("trackingNumber", tracking_number.trim()),
            ("data", data),
            ("lang", language.qapla_code()),
        ];
        let inner = self.call(base, "1.3", "getShipment", key, &query).await?;
        shipment_in(&inner)
    }

    /// Every shipment whose status changed between `from` and `to` (`YYYY-MM-DD HH:MM:SS`,
    /// Italian time); `lang` is `it`, `es` or `en` (those Qapla' documents).
    pub async fn tracking_by_time_frame(
        &self,
        base: &str,
        key: &SecretString,
        from: &str,
        to: &str,
        lang: &str,
    ) -> Result<Vec<ApiShipment>, ApiError> {
        let query = [("dateFrom", from), ("dateTo", to), ("lang", lang)];
        let call = "trackingByTimeFrame";
        let inner = self.call(base, "1.2", call, key, &query).await?;
        shipments_in_time_frame(&inner)
    }

    /// The channel the key belongs to: Qapla's own check that a key works.
    pub async fn get_channel(
        &self,
        base: &str,
        key: &SecretString,
    ) -> Result<ApiChannel, ApiError> {
        let inner = self.call(base, "1.2", "getChannel", key, &[]).await?;
        Ok(read::<GetChannel>("getChannel", &inner)?
            .channel
            .unwrap_or_default())
    }

    /// GET one call; the answer (unwrapped) if Qapla' said OK, else the classified error.
    async fn call(
        &self,
        base: &str,
        version: &str,
        call: &'static str,
        key: &SecretString,
        query: &[(&str, &str)],
    ) -> Result<String, ApiError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut url = format!(
            "{}/{call}/?apiKey={}",
            on_version(base, version),
            url_encode(key.expose_secret())
        );
        for (name, value) in query {
            url.push_str(&format!("&{name}={}", url_encode(value)));
        }
        let response = self.http.get(url).send().await;
        let answer = self.answer(call, key, response).await;
        let result = match &answer {
            Ok(_) => "ok",
            Err(ApiError::Unreachable(_)) => "unreachable",
            // 429, or Qapla's "Too Many Requests" under another status.
            Err(ApiError::Busy { status, .. }) if *status < 500 => "throttled",
            Err(_) => "error",
        };
        crate::telemetry::metrics::qapla_api_call(call, result);
        answer
    }

    /// The answer to one call, classified.
    async fn answer(
        &self,
        call: &'static str,
        key: &SecretString,
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<String, ApiError> {
        let response = response.map_err(|e| ApiError::Unreachable(transport_reason(&e)))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        classify(call, status, retry_after, &body, key)
    }
}

/// What Qapla' answered to `call` with `status` and `body`: the unwrapped answer if OK, else
/// the classified error (never quoting `key`).
fn classify(
    call: &'static str,
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
    key: &SecretString,
) -> Result<String, ApiError> {
    let inner = unwrap(body, call);
    let head: Head = serde_json::from_str(&inner).unwrap_or_default();
    // Qapla's short error text, without the key should it quote it.
    let error = head.error.replace(key.expose_secret(), "***");
    let error: String = error.chars().take(80).collect();
    match Class::of(status) {
        Class::Retryable => Err(ApiError::Busy {
            status: status.as_u16(),
            retry_after,
        }),
        _ if head.error == "Too Many Requests" => Err(ApiError::Busy {
            status: status.as_u16(),
            retry_after,
        }),
        // A 404 is Qapla's "unknown" only with Qapla's own KO in it: an integrator reports
        // 404s from a path Qapla' did not serve (reference/qapla.md §7).
        Class::Refused if status != reqwest::StatusCode::NOT_FOUND || head.result != "KO" => {
            Err(ApiError::Refused {
                call,
                status: status.as_u16(),
                error,
            })
        }
        Class::Success if head.result == "OK" => Ok(inner),
        _ => Err(ApiError::Ko { call, error }),
    }
}

/// The shipment in an OK `getShipment` answer (`shipment`, the first of `shipments`, or the
/// fields next to `result`); `None` when it holds none.
fn shipment_in(inner: &str) -> Result<Option<ApiShipment>, ApiError> {
    let answer: GetShipment = read("getShipment", inner)?;
    let listed = answer.shipments.and_then(|s| s.into_iter().next());
    Ok(match answer.shipment.or(listed) {
        Some(shipment) => Some(shipment),
        None => read::<ApiShipment>("getShipment", inner)
            .ok()
            .filter(|s| s.consignee.is_some() || s.url.is_some()),
    })
}

fn shipments_in_time_frame(inner: &str) -> Result<Vec<ApiShipment>, ApiError> {
    Ok(read::<TrackingByTimeFrame>("trackingByTimeFrame", inner)?.shipments)
}

/// An HTTP answer (status and body) to `getShipment` read exactly as
/// [`QaplaApi::get_shipment`] reads it: the entry the fuzz targets and property tests use.
pub fn read_get_shipment(
    status: u16,
    body: &[u8],
    key: &SecretString,
) -> Result<Option<ApiShipment>, ApiError> {
    shipment_in(&classify(
        "getShipment",
        status_code(status),
        None,
        body,
        key,
    )?)
}

/// The same for `trackingByTimeFrame` ([`QaplaApi::tracking_by_time_frame`]).
pub fn read_tracking_by_time_frame(
    status: u16,
    body: &[u8],
    key: &SecretString,
) -> Result<Vec<ApiShipment>, ApiError> {
    let call = "trackingByTimeFrame";
    shipments_in_time_frame(&classify(call, status_code(status), None, body, key)?)
}

fn status_code(status: u16) -> reqwest::StatusCode {
    reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY)
}

/// `base` (e.g. `https://api.qapla.it/1.3`) with its version segment set to `version`; a
/// base without one is used as it is.
fn on_version(base: &str, version: &str) -> String {
    let base = base.trim_end_matches('/');
    match base.rsplit_once('/') {
        Some((root, last))
            if last.starts_with("1.") && last[2..].chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("{root}/{version}")
        }
        _ => base.to_owned(),
    }
}

/// The answer inside `{"<call>": {...}}`, or the body itself.
fn unwrap(body: &[u8], call: &str) -> String {
    let wrapped: Option<HashMap<String, &RawValue>> = serde_json::from_slice(body).ok();
    match wrapped.as_ref().and_then(|w| w.get(call)) {
        Some(inner) => inner.get().to_owned(),
        None => String::from_utf8_lossy(body).into_owned(),
    }
}

fn read<T: serde::de::DeserializeOwned>(call: &'static str, inner: &str) -> Result<T, ApiError> {
    super::parse(inner.as_bytes()).map_err(|e| ApiError::Unreadable {
        call,
        problem: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_segment_is_swapped_not_appended() {
        assert_eq!(
            on_version("https://api.qapla.it/1.3", "1.2"),
            "https://api.qapla.it/1.2"
        );
        assert_eq!(
            on_version("https://api.qapla.it/1.3/", "1.3"),
            "https://api.qapla.it/1.3"
        );
        assert_eq!(
            on_version("http://127.0.0.1:9/qapla-api/1.3", "1.2"),
            "http://127.0.0.1:9/qapla-api/1.2"
        );
        assert_eq!(
            on_version("http://127.0.0.1:9/api", "1.2"),
            "http://127.0.0.1:9/api"
        );
    }

    #[test]
    fn wrapped_and_bare_answers_are_unwrapped() {
        assert_eq!(
            unwrap(br#"{"getChannel":{"result":"OK"}}"#, "getChannel"),
            r#"{"result":"OK"}"#
        );
        assert_eq!(
            unwrap(br#"{"result":"OK"}"#, "getChannel"),
            r#"{"result":"OK"}"#
        );
        assert_eq!(unwrap(b"<html>", "getChannel"), "<html>");
    }
}
