//! The HTTP edge shared by the three webhook functions: read the request, authenticate it
//! against its channel, build the Connectif events, hand them off, answer Qapla'.
//!
//! Qapla' reads only `{"result":"OK"}` as success; anything else is a failed transmission
//! that it retries twice and counts towards switching the webhook off. So KO is answered
//! only when an event could not be accepted (bad request, wrong key, hand-off failure) and
//! never because of Connectif. Callers get an opaque KO; the log line says why.

mod answer;
mod kinds;

pub use kinds::{Planned, Webhook, event_id};

use crate::channel::{AuthError, Authenticator, ChannelId};
use crate::customer::Email;
use crate::delivery::{Accepted, HandOff};
use crate::{metrics, qapla};
use answer::{Refusal, answer};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use std::sync::Arc;
use std::time::Instant;

/// What a webhook function needs, built once per process.
pub struct Deps {
    pub channels: Arc<Authenticator>,
    pub hand_off: Arc<dyn HandOff>,
    /// Larger bodies are refused with 413.
    pub max_body_bytes: usize,
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
    let log = |key: &str, status_id: Option<&str>, outcome: &str, reason: &str, customer: &str| {
        tracing::info!(
            channel = %channel,
            kind = W::KIND.as_str(),
            key,
            status_id = status_id.unwrap_or(""),
            customer,
            outcome,
            reason,
            latency_ms = started.elapsed().as_millis() as u64,
            "event"
        );
        metrics::count_event(channel.as_str(), W::KIND, outcome);
    };
    let envelope = match planned {
        Planned::Send(envelope) => *envelope,
        Planned::Skip {
            key,
            status_id,
            reason,
        } => {
            log(&key, status_id.as_deref(), "skipped", reason.as_str(), "");
            return Ok(());
        }
    };
    let customer = envelope
        .event
        .fields
        .get("customerEmail")
        .and_then(|v| v.as_str())
        .and_then(|e| Email::try_from(e).ok())
        .map(|e| e.masked())
        .unwrap_or_default();
    let (key, status_id) = (envelope.key.clone(), envelope.status_id.clone());
    match deps.hand_off.hand_off(envelope).await {
        Ok(accepted) => {
            let reason = match &accepted {
                Accepted::Failed { error, .. } => error.to_string(),
                _ => String::new(),
            };
            log(
                &key,
                status_id.as_deref(),
                accepted.outcome(),
                &reason,
                &customer,
            );
            Ok(())
        }
        Err(e) => {
            log(
                &key,
                status_id.as_deref(),
                "hand_off_failed",
                &error_chain(&e),
                &customer,
            );
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
