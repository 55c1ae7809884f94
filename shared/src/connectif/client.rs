//! The HTTP client that posts reception events, and how its failures are classified.

use super::{ConnectifEvent, Reception};
use crate::channel::ConnectifSettings;
use crate::http::{Class, retry_after, transport_reason};
use crate::telemetry::metrics;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use secrecy::ExposeSecret;
use std::time::{Duration, Instant};

/// Why an event was not delivered. Reasons carry status codes and Connectif's error code or
/// title, never response details (they may quote the contact's e-mail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// 429, 5xx, timeouts, connection errors: worth another try (after `retry_after` when
    /// Connectif said so).
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// 429 (Connectif, or Qapla's API for the enrichment): the destination asks to slow
    /// down, so the channel's other sends wait too (see the worker).
    #[error("throttled: {reason}")]
    Throttled {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Other 4xx, or nothing to deliver to: another try would fail the same way.
    #[error("permanent: {reason}")]
    Permanent { reason: String },
    /// Nothing to deliver, and rightly so (e.g. `unknown_to_qapla`: the shipment of Qapla's
    /// panel "Test" button): logged and counted as skipped, not dead-lettered.
    #[error("skipped: {reason}")]
    Skip { reason: &'static str },
    /// A channel's rule holds the event back (`rules`): logged and counted as suppressed,
    /// and recorded as handled, so the shipment's state still moves on.
    #[error("suppressed: {}", rule.as_str())]
    Suppressed { rule: crate::channel::Suppression },
}

impl DeliveryError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DeliveryError::Retryable { .. } | DeliveryError::Throttled { .. }
        )
    }
}

/// One per process: reused across invocations, with connect and total timeouts.
#[derive(Clone)]
pub struct ConnectifClient {
    http: reqwest::Client,
}

impl ConnectifClient {
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = crate::http::tls::client_builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .build()?;
        Ok(ConnectifClient { http })
    }

    /// Over `http` (its timeouts and connections).
    pub fn over(http: reqwest::Client) -> Self {
        ConnectifClient { http }
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Post one event to the channel's Connectif, as its settings say.
    #[tracing::instrument(skip_all, fields(alias = %event.alias))]
    pub async fn send(
        &self,
        target: &ConnectifSettings,
        reception: Reception,
        event: &ConnectifEvent,
    ) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(&event.fields).map_err(|_| DeliveryError::Permanent {
            reason: "event is not serializable".into(),
        })?;
        let request = self.request(target, reception, event)?;
        let request = request.header(CONTENT_TYPE, "application/json").body(body);
        self.answer(request).await
    }

    /// Set custom fields of the contact `email` (`PATCH {baseUrl}/contacts/{email}`,
    /// `reference/contacts/patch-contact`): API mode only. Failures are classified as an
    /// event's are.
    pub async fn patch_contact(
        &self,
        target: &ConnectifSettings,
        email: &crate::customer::Email,
        body: &serde_json::Value,
    ) -> Result<(), DeliveryError> {
        let ConnectifSettings::Api { api_key, base_url } = target else {
            return Err(DeliveryError::Permanent {
                reason: "contactFields needs connectif.mode \"api\"".into(),
            });
        };
        let url = format!(
            "{}/contacts/{}",
            base_url.trim_end_matches('/'),
            crate::http::url_encode(email.as_str())
        );
        let request = (self.http.patch(url))
            .header(AUTHORIZATION, format!("apiKey {}", api_key.expose_secret()))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        self.answer(request).await
    }

    /// Send `request` and classify its answer (shared by events and contact updates).
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<(), DeliveryError> {
        let started = Instant::now();
        let response = request.send().await.map_err(|e| {
            metrics::connectif_request("unreachable", started.elapsed());
            DeliveryError::Retryable {
                reason: transport_reason(&e).into(),
                retry_after: None,
            }
        })?;
        let status = response.status();
        metrics::connectif_request(result_of(status), started.elapsed());
        let class = Class::of(status);
        if class == Class::Success {
            return Ok(());
        }
        let retry_after = retry_after(response.headers());
        let reason = error_reason(status, &response.bytes().await.unwrap_or_default());
        match class {
            Class::Retryable if status == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                Err(DeliveryError::Throttled {
                    reason,
                    retry_after,
                })
            }
            Class::Retryable => Err(DeliveryError::Retryable {
                reason,
                retry_after,
            }),
            _ => Err(DeliveryError::Permanent { reason }),
        }
    }

    /// The request that posts `event` to the channel's Connectif (its body not yet set).
    fn request(
        &self,
        target: &ConnectifSettings,
        reception: Reception,
        event: &ConnectifEvent,
    ) -> Result<reqwest::RequestBuilder, DeliveryError> {
        Ok(match target {
            ConnectifSettings::Endpoint { endpoints } => {
                let url = endpoints
                    .get(reception)
                    .ok_or_else(|| DeliveryError::Permanent {
                        reason: format!(
                            "no Connectif endpoint configured (connectif.endpoints.{})",
                            reception.setting()
                        ),
                    })?;
                self.http.post(url)
            }
            ConnectifSettings::Api { api_key, base_url } => {
                let url = format!(
                    "{}/custom-events/alias/{}?createContact=true",
                    base_url.trim_end_matches('/'),
                    event.alias
                );
                self.http
                    .post(url)
                    .header(AUTHORIZATION, format!("apiKey {}", api_key.expose_secret()))
            }
        })
    }
}

/// The `result` of a Connectif request's metrics.
fn result_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=299 => "ok",
        429 => "throttled",
        500..=599 => "server_error",
        _ => "refused",
    }
}

/// `HTTP 400 (E0501 Bad Request)`: status plus Connectif's `code`/`title` if any.
fn error_reason(status: StatusCode, body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let pick = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(|v| v.as_str())
            .map(|s| s.chars().take(80).collect::<String>())
    };
    let extra: Vec<String> = [pick("code"), pick("title")]
        .into_iter()
        .flatten()
        .collect();
    if extra.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {} ({})", status.as_u16(), extra.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_reasons_keep_code_and_title_but_not_the_detail() {
        let body = br#"{"status":400,"title":"Bad Request","code":"E0501","detail":"Contact does not exist: giulia@example.com"}"#;
        let reason = error_reason(StatusCode::BAD_REQUEST, body);
        assert_eq!(reason, "HTTP 400 (E0501 Bad Request)");
        assert_eq!(error_reason(StatusCode::BAD_GATEWAY, b"<html>"), "HTTP 502");
    }
}
