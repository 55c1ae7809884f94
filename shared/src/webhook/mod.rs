//! The HTTP edge shared by the three webhook functions: read the request, authenticate it
//! against its channel, build the Connectif events, hand them off, answer Qapla'.
//!
//! Qapla' reads only `{"result":"OK"}` as success; anything else is a failed transmission
//! that it retries twice and counts towards switching the webhook off. So KO is answered
//! only when an event could not be accepted (bad request, wrong key, hand-off failure) and
//! never because of Connectif. Callers get an opaque KO; the log line says why.

mod answer;

mod log;
mod senders;

pub use crate::http::{HttpEvent, HttpResponse};
pub use crate::plan::{Planned, Webhook};
pub use senders::{BadSender, QAPLA_SENDERS, Senders};

use crate::channel::{AuthError, Authenticated, ChannelId, Channels};
use crate::delivery::{Envelope, HandOff};
use crate::telemetry::metrics;
use crate::telemetry::{describe_json_error, error_chain};
use answer::{Refusal, answer};
use log::{EventLog, EventRef, outcome_of};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tracing::Instrument;

/// What a webhook function needs, built once per process.
pub struct Deps {
    pub channels: Arc<Channels>,
    pub hand_off: Arc<dyn HandOff>,
    /// Larger bodies are refused with 413.
    pub max_body_bytes: usize,
    /// Who may post (`ALLOWED_SENDERS`): anyone by default.
    pub senders: Senders,
}

/// Time kept back from the invocation's deadline to log and answer: a post that is not fully
/// handed off by then is answered KO (Qapla' retries it; the repeats are no-ops).
const ANSWER_MARGIN: Duration = Duration::from_secs(1);

/// The Lambda handler of a webhook function: the raw event, and the invocation's deadline.
pub async fn invoke<W: Webhook>(
    deps: &Deps,
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<HttpResponse, lambda_runtime::Error> {
    // Some local emulators send a deadline already past: then assume the API's 29 s.
    let left = event
        .context
        .deadline()
        .duration_since(SystemTime::now())
        .ok()
        .filter(|left| !left.is_zero())
        .unwrap_or(Duration::from_secs(29));
    Ok(handle::<W>(deps, event.payload, Instant::now() + left).await)
}

/// Handle one Qapla' post of kind `W` (an API Gateway HTTP API event) that must be answered
/// by `deadline`. Never fails: every problem becomes a KO answer.
pub async fn handle<W: Webhook>(
    deps: &Deps,
    event: serde_json::Value,
    deadline: Instant,
) -> HttpResponse {
    let started = Instant::now();
    let event = serde_json::from_value::<HttpEvent>(event);
    // Only a well-formed channel id reaches a log line or a metric: a path segment can be any
    // text (a fuzzed path put an e-mail address and the key there).
    let channel_text = event
        .as_ref()
        .ok()
        .and_then(HttpEvent::channel)
        .filter(|c| ChannelId::try_from(*c).is_ok())
        .unwrap_or_default()
        .to_owned();
    let source_ip = event.as_ref().map(HttpEvent::source_ip).unwrap_or_default();
    // The post's keys, once its body is read: on the refusal line too, so that a parcel's
    // story (`bridge-admin trace`) includes the posts that were refused.
    let mut keys = String::new();
    let accepted = match &event {
        Ok(event) => accept::<W>(deps, event, &mut keys, started, deadline).await,
        // Described, never quoted: serde's own message quotes the value it could not read.
        Err(e) => Err((Refusal::NotAnHttpEvent, Some(describe_json_error(e)))),
    };
    match accepted {
        Ok(()) => {
            metrics::count_post(Some(&channel_text), W::KIND, None);
            answer(200)
        }
        Err((refusal, detail)) => {
            let status = refusal.status();
            tracing::warn!(
                channel = %channel_text,
                kind = W::KIND.as_str(),
                key = %keys,
                source_ip,
                outcome = "rejected",
                reason = refusal.reason(),
                detail = detail.as_deref().unwrap_or(""),
                status,
                latency_ms = started.elapsed().as_millis() as u64,
                "Qapla' post refused"
            );
            // A made-up channel name never becomes a metric dimension.
            let channel = refusal.channel_known().then_some(channel_text.as_str());
            metrics::count_post(channel, W::KIND, Some(refusal.reason()));
            answer(status)
        }
    }
}

type Refused = (Refusal, Option<String>);

async fn accept<W: Webhook>(
    deps: &Deps,
    req: &HttpEvent,
    keys: &mut String,
    started: Instant,
    deadline: Instant,
) -> Result<(), Refused> {
    let (channel, body) = read(deps, req)?;
    let payload = W::parse(&body).map_err(|e| (Refusal::InvalidJson, Some(e.to_string())))?;
    *keys = payload.keys().join(",");
    // Every line logged while handling it names the post's keys and where it came from.
    let span = tracing::info_span!("post", key = %keys, source_ip = req.source_ip());
    authenticate_and_hand_off(deps, channel, payload, started, deadline)
        .instrument(span)
        .await
}

async fn authenticate_and_hand_off<W: Webhook>(
    deps: &Deps,
    channel: ChannelId,
    payload: W,
    started: Instant,
    deadline: Instant,
) -> Result<(), Refused> {
    let auth = authenticate(deps, channel, payload).await?;
    let log = EventLog {
        channel: auth.channel(),
        kind: W::KIND,
        started,
    };
    let mut envelopes = Vec::new();
    let off = !auth.settings().send.kind(W::KIND);
    for planned in W::plan(&auth) {
        match planned {
            // The channel does not send this kind: answered OK, not sent.
            Planned::Send(envelope) if off => {
                let event = EventRef::of(&envelope);
                log.emit(&event, "skipped", crate::channel::KIND_OFF);
            }
            Planned::Send(envelope) => envelopes.push(*envelope),
            Planned::Skip {
                key,
                status_id,
                reason,
            } => log.emit(
                &EventRef::skipped(key, status_id),
                "skipped",
                reason.as_str(),
            ),
        }
    }
    hand_off(deps, &log, envelopes, deadline).await
}

/// The channel and the body of a well-formed post.
fn read<'a>(deps: &Deps, req: &'a HttpEvent) -> Result<(ChannelId, Cow<'a, [u8]>), Refused> {
    // First: a sender not on the allow-list learns nothing, and costs no secret look-up.
    if !deps.senders.allows(req.source_ip()) {
        return Err((Refusal::SenderNotAllowed, None));
    }
    if req.method() != "POST" {
        return Err((Refusal::MethodNotAllowed, Some(req.method().to_owned())));
    }
    let channel = req
        .channel()
        .and_then(|c| ChannelId::try_from(c).ok())
        .ok_or((Refusal::BadChannel, None))?;
    // Base64 grows a body by a third: refuse an oversized one before decoding it.
    if req.raw_len() / 4 * 3 > deps.max_body_bytes {
        return Err((Refusal::TooLarge, Some(format!("{} bytes", req.raw_len()))));
    }
    let body = req
        .body()
        .map_err(|e| (Refusal::BadBase64, Some(e.to_string())))?;
    if body.len() > deps.max_body_bytes {
        return Err((Refusal::TooLarge, Some(format!("{} bytes", body.len()))));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err((Refusal::EmptyBody, None));
    }
    Ok((channel, body))
}

async fn authenticate<W: Webhook>(
    deps: &Deps,
    channel: ChannelId,
    payload: W,
) -> Result<Authenticated<W>, Refused> {
    deps.channels
        .authenticate(channel, payload)
        .await
        .map_err(|e| match e {
            AuthError::MissingKey => (Refusal::MissingKey, None),
            AuthError::UnknownChannel => (Refusal::UnknownChannel, None),
            AuthError::WrongKey => (Refusal::WrongKey, None),
            AuthError::LookupThrottled => (Refusal::UnknownChannel, Some(e.to_string())),
            AuthError::Store(e) => (Refusal::SettingsUnavailable, Some(error_chain(&e))),
        })
}

/// Hand every planned event off before the deadline, one log line each; KO if any failed.
async fn hand_off(
    deps: &Deps,
    log: &EventLog<'_>,
    envelopes: Vec<Envelope>,
    deadline: Instant,
) -> Result<(), Refused> {
    let count = envelopes.len();
    let events: Vec<_> = envelopes.iter().map(EventRef::of).collect();
    let answer_by = deadline.checked_sub(ANSWER_MARGIN).unwrap_or(deadline);
    let results = tokio::time::timeout_at(answer_by.into(), deps.hand_off.hand_off_all(envelopes))
        .await
        .map_err(|_| {
            let detail = format!("{count} events not all handed off before the deadline");
            (Refusal::HandOffTimeout, Some(detail))
        })?;
    let mut failed = 0;
    for (event, result) in events.iter().zip(results) {
        failed += usize::from(result.is_err());
        let (outcome, reason) = outcome_of(&result);
        log.emit(event, outcome, &reason);
    }
    if failed > 0 {
        return Err((
            Refusal::HandOffFailed,
            Some(format!("{failed} of {count} events")),
        ));
    }
    Ok(())
}
