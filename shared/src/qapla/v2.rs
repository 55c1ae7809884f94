//! Qapla's API v2: the calls of the release page and of estimated delivery dates (Qapla's reference repository,
//! `Qapla/qapla-api-skill`: `references/v2/authentication.md` and
//! `references/v2/stock-release.md`; reference/qapla.md §7):
//!
//! - `POST {base}/auth/token` with `{"apiKey": ...}` exchanges the channel's key for a Bearer
//!   JWT (`token`, `expires_in` seconds, 86,400). Kept per key until [`TOKEN_MARGIN`] before
//!   it expires, and asked again once on a `401`.
//! - `POST {base}/shipments/{id}/stock-release` (scope `shipments:write`) with `action`
//!   (`redeliver`, `redeliver_new_address`, `return_to_sender`) and `address` exactly when the
//!   action is `redeliver_new_address`. The answer is `{status: "sent", courierOutcome:
//!   "ok"|"error"|"pending", message, releaseId}`; errors are RFC 7807 bodies with 403
//!   (scope), 404 (not the channel's), 409 (not held), 422 (bad action or address, or the
//!   courier refused), 429.
//!
//! - `POST {base}/couriers/delivery-times` (scope `delivery-times:read`, `references/v2/
//!   couriers.md`) with `destCap` (an Italian postcode) and `couriers`: the network's
//!   median lead time (shipped → delivered, calendar days) and its `sampleSize` in `best`.
//!
//! An answer outside that shape is an error naming the call and the field, never a guess
//! (docs/contracts.md: never seen live).

use crate::http::{Class, retry_after, transport_reason};
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long before its expiry a token is exchanged again.
pub const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// What the courier is asked to do with a held parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Redeliver,
    RedeliverNewAddress,
    ReturnToSender,
}

impl Action {
    pub const ALL: [Action; 3] = [
        Action::Redeliver,
        Action::RedeliverNewAddress,
        Action::ReturnToSender,
    ];

    /// Qapla's spelling (the form's value, the event's `action`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Redeliver => "redeliver",
            Action::RedeliverNewAddress => "redeliver_new_address",
            Action::ReturnToSender => "return_to_sender",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }
}

/// A new delivery address (`redeliver_new_address` only). Never logged, never stored.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub name: String,
    pub street: String,
    pub city: String,
    pub zip: String,
    pub province: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Address(…)")
    }
}

/// The body of a stock-release call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockRelease {
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// The courier's outcome, as Qapla' carries it (`courierOutcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CourierOutcome {
    Ok,
    Error,
    /// Couriers that answer later (BRT): the real outcome arrives in the tracking.
    Pending,
}

/// A release Qapla' sent to the courier.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    pub status: String,
    pub courier_outcome: CourierOutcome,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub release_id: Option<serde_json::Value>,
}

/// Why a v2 call gave no release.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum V2Error {
    /// Not reached (or the token exchange failed in transport): nothing was asked.
    #[error("Qapla' API v2 {0}")]
    Unreachable(&'static str),
    /// The stock-release request left and its answer never came (a timeout after the
    /// connection was made): it may have reached the courier.
    #[error("Qapla' API v2 stock-release sent, no answer in time")]
    NoAnswer,
    /// 429 or 5xx: try again later.
    #[error("Qapla' API v2 {call} HTTP {status}")]
    Busy {
        call: &'static str,
        status: u16,
        retry_after: Option<Duration>,
    },
    /// A 4xx: `detail` is the problem's own text (RFC 7807 `detail`, else `title`).
    #[error("Qapla' API v2 refused {call} (HTTP {status})")]
    Refused {
        call: &'static str,
        status: u16,
        detail: String,
    },
    /// A 2xx outside the documented shape (the field is named, never a value).
    #[error("Qapla' API v2 answer to {call} unreadable: {problem}")]
    Unreadable { call: &'static str, problem: String },
}

#[derive(Deserialize)]
struct Token {
    token: String,
    expires_in: u64,
    #[serde(default)]
    scopes: Vec<String>,
}

/// The scope a stock-release needs.
pub const RELEASE_SCOPE: &str = "shipments:write";

/// The scope `couriers/delivery-times` needs.
pub const DELIVERY_TIMES_SCOPE: &str = "delivery-times:read";

/// One courier's network figures on a lane (`best` of `couriers/delivery-times`): lead time
/// is shipped → delivered, in calendar days.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneTimes {
    pub courier_code: String,
    #[serde(default)]
    pub lead_median: Option<f64>,
    #[serde(default)]
    pub sample_size: Option<u64>,
}

/// `couriers/delivery-times` (summary): `best` is `null` when no courier has enough data.
#[derive(Deserialize)]
struct DeliveryTimes {
    #[serde(default)]
    best: Option<LaneTimes>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Problem {
    title: String,
    detail: String,
}

/// The v2 client: one per process, its tokens kept per key.
pub struct QaplaV2 {
    http: reqwest::Client,
    tokens: Mutex<HashMap<String, (Instant, SecretString)>>,
}

impl QaplaV2 {
    pub fn new(http: reqwest::Client) -> Self {
        QaplaV2 {
            http,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Ask the courier to act on held shipment `id` (Qapla's numeric id).
    pub async fn stock_release(
        &self,
        base: &str,
        key: &SecretString,
        id: &str,
        body: &StockRelease,
    ) -> Result<Released, V2Error> {
        const CALL: &str = "stock-release";
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(V2Error::Refused {
                call: CALL,
                status: 404,
                detail: "shipment id is not numeric".into(),
            });
        }
        let path = format!("shipments/{id}/stock-release");
        let body = serde_json::to_vec(body).unwrap_or_default();
        let response = self.post(CALL, base, key, &path, body).await?;
        let answer = read::<Released>(CALL, response).await.and_then(|r| {
            // "Always `sent`": anything else is not the documented answer.
            (r.status == "sent")
                .then_some(r)
                .ok_or(V2Error::Unreadable {
                    call: CALL,
                    problem: "`status` is not \"sent\"".into(),
                })
        });
        crate::telemetry::metrics::qapla_api_call(CALL, outcome(&answer));
        answer
    }

    /// The network's lead time of `courier` to Italian postcode `dest_cap` (`couriers/
    /// delivery-times`, summary: its `best`, or `None` when the courier has too little data).
    /// A read: a timeout is [`V2Error::Unreachable`], safe to ask again.
    pub async fn delivery_times(
        &self,
        base: &str,
        key: &SecretString,
        dest_cap: &str,
        courier: &str,
    ) -> Result<Option<LaneTimes>, V2Error> {
        const CALL: &str = "couriers/delivery-times";
        let body = serde_json::json!({ "destCap": dest_cap, "couriers": [courier] });
        let response = self
            .post(
                CALL,
                base,
                key,
                "couriers/delivery-times",
                body.to_string().into_bytes(),
            )
            .await
            .map_err(|e| match e {
                V2Error::NoAnswer => V2Error::Unreachable("timed out"),
                e => e,
            })?;
        let answer = read::<DeliveryTimes>(CALL, response).await;
        crate::telemetry::metrics::qapla_api_call(CALL, outcome(&answer));
        // `best` is the fastest of the couriers asked for: only this one was.
        Ok(answer?
            .best
            .filter(|b| b.courier_code.trim().eq_ignore_ascii_case(courier.trim())))
    }

    /// POST `body` to `{base}/{path}` with the key's token, exchanged again once on a `401`.
    /// A timeout after the request left is [`V2Error::NoAnswer`].
    async fn post(
        &self,
        call: &'static str,
        base: &str,
        key: &SecretString,
        path: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, V2Error> {
        let url = format!("{}/{path}", base.trim_end_matches('/'));
        for attempt in 0..2 {
            let token = self.token(base, key).await?;
            let response = (self.http.post(&url))
                .bearer_auth(token.expose_secret())
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = response.map_err(|e| match e.is_timeout() && !e.is_connect() {
                true => V2Error::NoAnswer,
                false => V2Error::Unreachable(transport_reason(&e)),
            })?;
            if response.status() == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                // Expired early, or revoked: exchanged again, once.
                self.forget(key);
                continue;
            }
            return Ok(response);
        }
        Err(V2Error::Refused {
            call,
            status: 401,
            detail: "the token was refused twice".into(),
        })
    }

    /// The scopes Qapla' grants `key` (one token exchange: `bridge-admin doctor`).
    pub async fn scopes(&self, base: &str, key: &SecretString) -> Result<Vec<String>, V2Error> {
        Ok(self.exchange(base, key).await?.1)
    }

    /// A Bearer token for `key`: the kept one, else a new exchange.
    async fn token(&self, base: &str, key: &SecretString) -> Result<SecretString, V2Error> {
        let name = crate::qapla::pace::key_hash(key);
        let kept = self.lock().get(&name).cloned();
        if let Some((until, token)) = kept
            && Instant::now() < until
        {
            return Ok(token);
        }
        Ok(self.exchange(base, key).await?.0)
    }

    /// `auth/token`: the token (kept) and its scopes.
    async fn exchange(
        &self,
        base: &str,
        key: &SecretString,
    ) -> Result<(SecretString, Vec<String>), V2Error> {
        const CALL: &str = "auth/token";
        let name = crate::qapla::pace::key_hash(key);
        let url = format!("{}/auth/token", base.trim_end_matches('/'));
        let body = serde_json::json!({ "apiKey": key.expose_secret().trim() });
        let response = (self.http.post(url))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await;
        let response = response.map_err(|e| V2Error::Unreachable(transport_reason(&e)))?;
        let answer: Result<Token, V2Error> = read(CALL, response).await;
        crate::telemetry::metrics::qapla_api_call(CALL, outcome(&answer));
        let answer = answer?;
        if answer.token.trim().is_empty() {
            return Err(V2Error::Unreadable {
                call: CALL,
                problem: "`token` is empty".into(),
            });
        }
        let life = Duration::from_secs(answer.expires_in).saturating_sub(TOKEN_MARGIN);
        let token = SecretString::from(answer.token);
        self.lock()
            .insert(name, (Instant::now() + life, token.clone()));
        Ok((token, answer.scopes))
    }

    fn forget(&self, key: &SecretString) {
        self.lock().remove(&crate::qapla::pace::key_hash(key));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, SecretString)>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn outcome<T>(answer: &Result<T, V2Error>) -> &'static str {
    match answer {
        Ok(_) => "ok",
        Err(V2Error::Unreachable(_) | V2Error::NoAnswer) => "unreachable",
        Err(V2Error::Busy { status: 429, .. }) => "throttled",
        Err(_) => "error",
    }
}

/// A v2 answer: the documented body on 2xx, else the classified error.
async fn read<T: serde::de::DeserializeOwned>(
    call: &'static str,
    response: reqwest::Response,
) -> Result<T, V2Error> {
    let status = response.status();
    let wait = retry_after(response.headers());
    let body = response.bytes().await.unwrap_or_default();
    match Class::of(status) {
        Class::Retryable => Err(V2Error::Busy {
            call,
            status: status.as_u16(),
            retry_after: wait,
        }),
        _ if status.is_success() => {
            let mut json = serde_json::Deserializer::from_slice(&body);
            serde_path_to_error::deserialize(&mut json).map_err(|e| V2Error::Unreadable {
                call,
                problem: format!("`{}`: {}", e.path(), kind_of(e.inner())),
            })
        }
        _ => {
            let problem: Problem = serde_json::from_slice(&body).unwrap_or_default();
            let detail = match problem.detail.trim() {
                "" => problem.title.trim().to_owned(),
                detail => detail.to_owned(),
            };
            Err(V2Error::Refused {
                call,
                status: status.as_u16(),
                detail: detail.chars().take(200).collect(),
            })
        }
    }
}

/// What is wrong with a field, without its value.
fn kind_of(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Data if e.to_string().starts_with("missing field") => {
            "missing"
        }
        serde_json::error::Category::Data => "not the documented type or value",
        _ => "not JSON",
    }
}
