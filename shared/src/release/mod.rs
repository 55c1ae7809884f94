//! The release page of a parcel held at the depot: `GET /release/{token}` shows the parcel
//! and three choices (redeliver, redeliver to a new address, return to the shop); `POST`
//! claims the hold once in the [`Ledger`], asks Qapla' v2 for the stock-release, records and
//! shows the courier's outcome, and hands a `parcel-release` event to the durable path (the
//! worker fills the customer in from `getShipment`: the link names no contact).
//!
//! Every answer is a page in the link's language, never an error page: an expired, forged
//! or unopened link, a form served for another link, a busy courier each say what to do.
//! No address reaches a log line, the ledger or the event.

pub mod form;
pub mod ledger;
pub mod page;
mod texts;

pub use ledger::{Ledger, LedgerError, MemoryLedger, Outcome, Recorded, Verdict};

use crate::Kind;
use crate::channel::{ChannelId, ChannelSettings, Channels};
use crate::connectif::{ConnectifEvent, Enrich, Fields, ParcelRelease};
use crate::delivery::{Envelope, HandOff};
use crate::http::{HttpEvent, HttpResponse};
use crate::links::{Link, LinkError, LinkKey};
use crate::mapping::Language;
use crate::qapla::v2::{QaplaV2, StockRelease, V2Error};
use crate::telemetry::metrics;
use form::Submission;
use std::sync::Arc;
use texts::Texts;

/// Everything the release function needs.
pub struct Deps {
    pub channels: Arc<Channels>,
    pub hand_off: Arc<dyn HandOff>,
    pub ledger: Arc<dyn Ledger>,
    pub qapla: Arc<QaplaV2>,
    pub key: LinkKey,
}

/// How long a settled outcome is kept after the link expires (a late click still sees it).
const KEPT_AFTER: i64 = 30 * 86_400;

/// The Lambda handler: the raw event, answered with a page whatever it holds.
pub async fn invoke(
    deps: &Deps,
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<HttpResponse, lambda_runtime::Error> {
    Ok(handle(deps, event.payload, crate::qapla::time::italian_now()).await)
}

/// One request at `now` (Italian local seconds, as the links' times are).
pub async fn handle(deps: &Deps, event: serde_json::Value, now: i64) -> HttpResponse {
    let en = texts::of(Language::En);
    let Ok(event) = serde_json::from_value::<HttpEvent>(event) else {
        tracing::warn!(reason = "not_an_http_event", "release page request refused");
        return page::notice(en, 400, en.forged_title, en.forged);
    };
    let token = event.path_tail("release").unwrap_or_default();
    let link = match deps.key.open(token, now) {
        Ok(link) => link,
        Err(e) => return closed(token, e),
    };
    let t = texts::of(language(&link.language));
    let Some(settings) = settings(deps, &link).await else {
        return page::notice(t, 404, t.title, t.unavailable);
    };
    let recorded = match deps.ledger.get(&link.hold_key()).await {
        Ok(recorded) => recorded,
        Err(e) => {
            tracing::error!(channel = %link.channel, error = %e, "release ledger unreadable");
            return page::notice(t, 503, t.title, t.busy);
        }
    };
    match (event.method(), recorded) {
        (_, Some(Recorded::Settled(outcome))) => page::outcome(t, &link, &outcome),
        (_, Some(Recorded::Claimed)) => page::notice(t, 200, t.title, t.claimed),
        ("GET" | "HEAD", None) => {
            metrics::release(&link.channel, "opened", "", "");
            page::form(t, &link, &deps.key.csrf(token), None, None)
        }
        ("POST", None) => submit(deps, &settings, &link, token, &event).await,
        _ => page::notice(t, 405, t.title, t.forged),
    }
}

/// The page of a link that does not open, in the language it claims.
fn closed(token: &str, e: LinkError) -> HttpResponse {
    let t = texts::of(language(&LinkKey::claimed_language(token)));
    tracing::info!(reason = %e, "release link refused");
    match e {
        LinkError::Expired => page::notice(t, 410, t.expired_title, t.expired),
        LinkError::NotYet => page::notice(t, 403, t.title, t.not_yet),
        LinkError::Forged => page::notice(t, 404, t.forged_title, t.forged),
    }
}

fn language(code: &str) -> Language {
    Language::ALL
        .into_iter()
        .find(|l| l.code() == code)
        .unwrap_or(Language::En)
}

/// The link's channel's settings, if it still gives release links.
async fn settings(deps: &Deps, link: &Link) -> Option<Arc<ChannelSettings>> {
    let channel = ChannelId::try_from(link.channel.as_str()).ok()?;
    match deps.channels.settings(&channel).await {
        Ok(Some(settings)) if settings.release_links.is_some() => Some(settings),
        Ok(_) => {
            tracing::warn!(channel = %link.channel, "release link of a channel without releaseLinks");
            None
        }
        Err(e) => {
            tracing::error!(channel = %link.channel, error = %e, "channel settings unavailable");
            None
        }
    }
}

/// A submitted choice: checked, claimed once, sent to Qapla', settled, told.
async fn submit(
    deps: &Deps,
    settings: &ChannelSettings,
    link: &Link,
    token: &str,
    event: &HttpEvent,
) -> HttpResponse {
    let t = texts::of(language(&link.language));
    let body = match event.body() {
        Ok(body) if body.len() <= form::MAX_BODY => body,
        _ => {
            tracing::warn!(channel = %link.channel, reason = "bad_form_body", "release form refused");
            return page::notice(t, 400, t.title, t.form_expired);
        }
    };
    let submission = Submission::parse(&body);
    if !deps.key.csrf_matches(token, &submission.csrf) {
        tracing::warn!(channel = %link.channel, reason = "csrf_mismatch", "release form refused");
        return page::notice(t, 403, t.title, t.form_expired);
    }
    let release = match submission.validate() {
        Ok(release) => release,
        Err(problems) => {
            let csrf = deps.key.csrf(token);
            return page::form(t, link, &csrf, Some(&submission), Some(&problems));
        }
    };
    let hold = link.hold_key();
    let kept_until = link.expires + KEPT_AFTER;
    match deps.ledger.claim(&hold, kept_until).await {
        Ok(None) => {}
        Ok(Some(Recorded::Settled(outcome))) => return page::outcome(t, link, &outcome),
        Ok(Some(Recorded::Claimed)) => return page::notice(t, 200, t.title, t.claimed),
        Err(e) => {
            tracing::error!(channel = %link.channel, error = %e, "release ledger refused the claim");
            return page::notice(t, 503, t.title, t.busy);
        }
    }
    let outcome = match call(deps, settings, link, &release).await {
        Ok(outcome) => outcome,
        Err(page) => {
            if let Err(e) = deps.ledger.free(&hold).await {
                tracing::error!(channel = %link.channel, error = %e, "release claim not given back");
            }
            return page(t);
        }
    };
    if let Err(e) = deps.ledger.settle(&hold, &outcome, kept_until).await {
        // The claim stays: a second submission is told it is being handled, never sent twice.
        tracing::error!(channel = %link.channel, error = %e, "release outcome not recorded");
    }
    let (action, verdict) = (outcome.action.as_str(), outcome.verdict.as_str());
    metrics::release(&link.channel, "released", action, verdict);
    tracing::info!(channel = %link.channel, key = %link.tracking_number, action, outcome = verdict, "parcel release");
    tell(deps, settings, link, &outcome).await;
    page::outcome(t, link, &outcome)
}

/// Qapla's answer as an outcome to keep, or the page of a call to try again later.
async fn call(
    deps: &Deps,
    settings: &ChannelSettings,
    link: &Link,
    release: &StockRelease,
) -> Result<Outcome, fn(&Texts) -> HttpResponse> {
    use crate::qapla::v2::CourierOutcome;
    let base = &settings.qapla_v2_base_url;
    let key = &settings.qapla_api_key;
    let answer = (deps.qapla)
        .stock_release(base, key, &link.shipment_id, release)
        .await;
    let (verdict, message) = match answer {
        Ok(released) => {
            let verdict = match released.courier_outcome {
                CourierOutcome::Ok => Verdict::Ok,
                CourierOutcome::Pending => Verdict::Pending,
                CourierOutcome::Error => Verdict::Error,
            };
            (verdict, released.message.unwrap_or_default())
        }
        Err(V2Error::Refused { status: 409, .. }) => (Verdict::NotHeld, String::new()),
        Err(V2Error::Refused {
            status: 422,
            detail,
            ..
        }) => (Verdict::Error, detail),
        // Sent, never answered: it may have reached the courier, so it is not sent again.
        Err(V2Error::NoAnswer) => (Verdict::Unconfirmed, String::new()),
        Err(e) => {
            let status = match &e {
                V2Error::Refused { status, .. } | V2Error::Busy { status, .. } => *status,
                _ => 0,
            };
            tracing::error!(channel = %link.channel, key = %link.tracking_number, error = %e, status, "stock-release failed");
            metrics::release(&link.channel, "failed", release.action.as_str(), "");
            return Err(match e {
                V2Error::Refused {
                    status: 403 | 404 | 401,
                    ..
                }
                | V2Error::Unreadable { .. } => {
                    |t: &Texts| page::notice(t, 502, t.title, t.unavailable)
                }
                _ => |t: &Texts| page::notice(t, 503, t.title, t.busy),
            });
        }
    };
    let message: String = message.chars().take(200).collect();
    Ok(Outcome {
        action: release.action,
        verdict,
        message,
    })
}

/// The `parcel-release` event, handed to the durable path (not for a parcel not held).
async fn tell(deps: &Deps, settings: &ChannelSettings, link: &Link, outcome: &Outcome) {
    let Ok(channel) = ChannelId::try_from(link.channel.as_str()) else {
        return;
    };
    let reception = crate::Reception::ParcelRelease;
    if !settings.connectif.delivers(reception) {
        tracing::info!(channel = %link.channel, "no parcel-release endpoint: not told");
        return;
    }
    let fields = ParcelRelease {
        action: outcome.action.as_str().to_owned(),
        courier_message: outcome.message.clone(),
        customer_email: None,
        customer_name: String::new(),
        language: language(&link.language),
        outcome: outcome.verdict.as_str().to_owned(),
        reference: link.reference.clone(),
        tracking_number: link.tracking_number.clone(),
    };
    let id = Envelope::id_of(&channel, Kind::Shipment, &["release", &link.hold_key()]);
    let envelope = Envelope {
        event_id: id,
        channel,
        kind: Kind::Shipment,
        key: link.tracking_number.clone(),
        status_id: None,
        occurred_at: None,
        repeat_key: None,
        courier: None,
        held: false,
        enrich: Some(Enrich {
            tracking_number: link.tracking_number.clone(),
            customer: true,
            tracking_url: false,
            status: None,
        }),
        pulled: false,
        contact_update: false,
        event: ConnectifEvent {
            alias: settings.aliases.get(reception).to_owned(),
            reception: Some(reception),
            fields: Fields::ParcelRelease(fields),
        },
    };
    if let Err(e) = deps.hand_off.hand_off(envelope).await {
        // The release itself is done and recorded; the event is what is lost: said loudly.
        tracing::error!(channel = %link.channel, key = %link.tracking_number, error = %e, "parcel-release event not handed off");
        metrics::release(
            &link.channel,
            "untold",
            outcome.action.as_str(),
            outcome.verdict.as_str(),
        );
    }
}
