//! The HTTP edge shared by the three webhook functions: read the request, authenticate it
//! against its channel, build the Connectif events, hand them off, answer Qapla'.
//!
//! Qapla' reads only `{"result":"OK"}` as success; anything else is a failed transmission
//! that it retries twice and counts towards switching the webhook off. So KO is answered
//! only when an event could not be accepted (bad request, wrong key, hand-off failure) and
//! never because of Connectif. Callers get an opaque KO; the log line says why.

use crate::channel::{AuthError, Authenticated, Authenticator, ChannelId, Presented};
use crate::connectif::{self, ConnectifEvent, SkipReason};
use crate::customer::Email;
use crate::delivery::{Envelope, HandOff};
use crate::qapla::{self, OrdersPayload, ReturnsPayload, ShipmentPayload};
use crate::{Kind, metrics};
use lambda_http::http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Instant;

/// What a webhook function needs, built once per process.
pub struct Deps {
    pub channels: Arc<Authenticator>,
    pub hand_off: Arc<dyn HandOff>,
    /// Larger bodies are refused with 413.
    pub max_body_bytes: usize,
}

/// One Connectif event planned from a Qapla' post (a post may hold several).
pub struct Planned {
    /// Tracking number (shipments) or order reference (returns, orders).
    pub key: String,
    pub status_id: Option<String>,
    pub built: Result<ConnectifEvent, SkipReason>,
}

/// A Qapla' webhook payload.
pub trait Webhook: DeserializeOwned + Presented + Send + Sync {
    const KIND: Kind;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned>;
}

impl Presented for ShipmentPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for ShipmentPayload {
    const KIND: Kind = Kind::Shipment;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let s = auth.payload();
        vec![Planned {
            key: s.tracking_number.trim().to_owned(),
            status_id: Some(s.qapla_status_id.trim().to_owned()),
            built: connectif::shipment_event(s, auth.settings()),
        }]
    }
}

impl Presented for ReturnsPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for ReturnsPayload {
    const KIND: Kind = Kind::Return;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let settings = auth.settings();
        auth.payload()
            .returns
            .iter()
            .map(|r| Planned {
                key: r.reference.trim().to_owned(),
                status_id: None,
                built: connectif::return_event(r, settings),
            })
            .collect()
    }
}

impl Presented for OrdersPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for OrdersPayload {
    const KIND: Kind = Kind::Order;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let settings = auth.settings();
        auth.payload()
            .orders
            .iter()
            .map(|o| Planned {
                key: o.reference.trim().to_owned(),
                status_id: None,
                built: connectif::order_event(o, settings),
            })
            .collect()
    }
}

/// Why a request was refused: the log's `reason`, and the status code of the KO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    MethodNotAllowed,
    BadChannel,
    EmptyBody,
    TooLarge,
    InvalidJson,
    MissingKey,
    UnknownChannel,
    WrongKey,
    SettingsUnavailable,
    HandOffFailed,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::MethodNotAllowed => "method_not_allowed",
            Refusal::BadChannel => "invalid_channel_id",
            Refusal::EmptyBody => "empty_body",
            Refusal::TooLarge => "body_too_large",
            Refusal::InvalidJson => "invalid_payload",
            Refusal::MissingKey => "missing_api_key",
            Refusal::UnknownChannel => "unknown_channel",
            Refusal::WrongKey => "wrong_api_key",
            Refusal::SettingsUnavailable => "channel_settings_unavailable",
            Refusal::HandOffFailed => "hand_off_failed",
        }
    }

    /// Unknown channel, bad channel id, missing and wrong key all answer the same 401.
    fn status(self) -> StatusCode {
        match self {
            Refusal::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::EmptyBody | Refusal::InvalidJson => StatusCode::BAD_REQUEST,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::BadChannel
            | Refusal::MissingKey
            | Refusal::UnknownChannel
            | Refusal::WrongKey => StatusCode::UNAUTHORIZED,
            Refusal::SettingsUnavailable | Refusal::HandOffFailed => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

/// Handle one Qapla' post of kind `W`. Never fails: every problem becomes a KO answer.
pub async fn handle<W: Webhook>(deps: &Deps, req: Request) -> Response<Body> {
    let started = Instant::now();
    let channel_text = channel_from_path(&req).unwrap_or_default().to_owned();
    match accept::<W>(deps, req, started).await {
        Ok(()) => answer(StatusCode::OK),
        Err((refusal, detail)) => {
            let status = refusal.status();
            let latency_ms = started.elapsed().as_millis() as u64;
            tracing::warn!(
                channel = %channel_text,
                kind = W::KIND.as_str(),
                outcome = "rejected",
                reason = refusal.reason(),
                detail = detail.as_deref().unwrap_or(""),
                status = status.as_u16(),
                latency_ms,
                "Qapla' post refused"
            );
            metrics::count_event(&channel_text, W::KIND, "rejected");
            answer(status)
        }
    }
}

type Refused = (Refusal, Option<String>);

async fn accept<W: Webhook>(deps: &Deps, req: Request, started: Instant) -> Result<(), Refused> {
    if req.method() != Method::POST {
        return Err((Refusal::MethodNotAllowed, Some(req.method().to_string())));
    }
    let channel = channel_from_path(&req)
        .and_then(|c| ChannelId::try_from(c).ok())
        .ok_or((Refusal::BadChannel, None))?;
    let body: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if body.len() > deps.max_body_bytes {
        return Err((Refusal::TooLarge, Some(format!("{} bytes", body.len()))));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err((Refusal::EmptyBody, None));
    }
    let payload: W = serde_json::from_slice(body)
        .map_err(|e| (Refusal::InvalidJson, Some(qapla::describe_parse_error(&e))))?;
    let auth = deps
        .channels
        .authenticate(channel, payload)
        .await
        .map_err(|e| match e {
            AuthError::MissingKey => (Refusal::MissingKey, None),
            AuthError::UnknownChannel => (Refusal::UnknownChannel, None),
            AuthError::WrongKey => (Refusal::WrongKey, None),
            AuthError::Store(e) => (Refusal::SettingsUnavailable, Some(error_chain(&e))),
        })?;
    for planned in W::plan(&auth) {
        hand_off_one::<W>(deps, auth.channel(), planned, started).await?;
    }
    Ok(())
}

async fn hand_off_one<W: Webhook>(
    deps: &Deps,
    channel: &ChannelId,
    planned: Planned,
    started: Instant,
) -> Result<(), Refused> {
    let Planned {
        key,
        status_id,
        built,
    } = planned;
    let log = |outcome: &str, reason: &str, customer: &str| {
        tracing::info!(
            channel = %channel,
            kind = W::KIND.as_str(),
            key = %key,
            status_id = status_id.as_deref().unwrap_or(""),
            customer,
            outcome,
            reason,
            latency_ms = started.elapsed().as_millis() as u64,
            "event"
        );
        metrics::count_event(channel.as_str(), W::KIND, outcome);
    };
    let event = match built {
        Ok(event) => event,
        Err(skip) => {
            log("skipped", skip.as_str(), "");
            return Ok(());
        }
    };
    let customer = event
        .fields
        .get("customerEmail")
        .and_then(|v| v.as_str())
        .and_then(|e| Email::try_from(e).ok())
        .map(|e| e.masked())
        .unwrap_or_default();
    let envelope = Envelope {
        channel: channel.clone(),
        kind: W::KIND,
        key: key.clone(),
        status_id: status_id.clone(),
        event,
    };
    match deps.hand_off.hand_off(envelope).await {
        Ok(accepted) => {
            let reason = match &accepted {
                crate::delivery::Accepted::Failed { error, .. } => error.to_string(),
                _ => String::new(),
            };
            log(accepted.outcome(), &reason, &customer);
            Ok(())
        }
        Err(e) => {
            log("hand_off_failed", &error_chain(&e), &customer);
            Err((Refusal::HandOffFailed, None))
        }
    }
}

/// The channel id: API Gateway's `{channel}` path parameter, else the segment after
/// `qapla` in the path (local emulators do not fill path parameters).
fn channel_from_path(req: &Request) -> Option<&str> {
    if let Some(c) = req.path_parameters_ref().and_then(|p| p.first("channel")) {
        return Some(c);
    }
    let path = req.uri().path();
    let mut segments = path.split('/');
    segments.by_ref().find(|s| *s == "qapla")?;
    segments.next().filter(|s| !s.is_empty())
}

fn answer(status: StatusCode) -> Response<Body> {
    let text = if status.is_success() {
        r#"{"result":"OK"}"#
    } else {
        r#"{"result":"KO"}"#
    };
    let mut response = Response::new(Body::Text(text.to_owned()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// `outer: inner: innermost`, for logs only.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
