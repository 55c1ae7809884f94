//! The Qapla' half of `doctor`: the calls the bridge makes to Qapla', made once with the
//! channel's key, each answer compared with what the bridge reads of it.

use crate::report::Step;
use bridge_core::history::Window;
use bridge_core::mapping::Language;
use bridge_core::qapla::api::{ApiError, ApiShipment, GET_SHIPMENT_DATA, QaplaApi};
use bridge_core::qapla::time::italian_now;
use secrecy::SecretString;

/// Where a channel's Qapla' calls go, and with which key.
pub struct Channel<'a> {
    pub api: &'a QaplaApi,
    pub base: &'a str,
    pub key: &'a SecretString,
    pub language: Language,
}

/// How far back `doctor` looks for a shipment to read when none is given.
const RECENT: i64 = 24 * 3600;

/// `getChannel`: Qapla' takes the key.
pub async fn key(channel: &Channel<'_>) -> Step {
    const NAME: &str = "qapla key";
    let base = channel.base;
    match channel.api.get_channel(base, channel.key).await {
        Ok(found) => {
            let name = found
                .name
                .map(|n| format!(": channel \"{n}\""))
                .unwrap_or_default();
            Step::pass(NAME, format!("Qapla' accepts the key (getChannel){name}"))
        }
        Err(
            e @ (ApiError::Ko { .. }
            | ApiError::Refused {
                status: 401 | 403, ..
            }),
        ) => Step::fail(
            NAME,
            format!("Qapla' refuses the key: {e}"),
            "copy the channel's private API key (Qapla' panel > Settings > Channels > the channel > API key) into `qaplaApiKey` of the secret, or give it to setup",
        ),
        Err(e) => unexpected(NAME, "GET 1.2/getChannel", &e, base),
    }
}

/// `getShipment` with `data=consignee` for `tracking`, or for the newest shipment whose
/// status changed in the last 24 hours (`trackingByTimeFrame`): the consignee with an
/// e-mail and name and, if `needs_url`, the tracking page must be in the answer.
pub async fn shipment(channel: &Channel<'_>, tracking: Option<&str>, needs_url: bool) -> Step {
    const NAME: &str = "qapla getShipment";
    let tracking = match tracking {
        Some(t) => t.to_owned(),
        None => match newest(channel).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Step::skipped(
                    NAME,
                    "no shipment of the channel changed status in the last 24 hours: run `bridge-admin doctor <channel> --tracking-number <one of its parcels>`",
                );
            }
            Err(step) => return step,
        },
    };
    let (base, key) = (channel.base, channel.key);
    let answer = channel
        .api
        .get_shipment(base, key, &tracking, channel.language)
        .await;
    let call = format!("getShipment {tracking} (data={GET_SHIPMENT_DATA})");
    match answer {
        Ok(Some(found)) => compare(&call, &found, needs_url),
        Ok(None) => Step::fail(
            NAME,
            format!("{call}: Qapla' answered OK without a shipment"),
            "give --tracking-number a parcel of this channel (Qapla' panel > Shipments)",
        ),
        Err(ApiError::Ko { error, .. }) => Step::fail(
            NAME,
            format!("{call}: Qapla' answered KO ({error})"),
            "give --tracking-number a parcel of this channel (Qapla' panel > Shipments)",
        ),
        Err(e) => unexpected(NAME, "GET 1.3/getShipment", &e, base),
    }
}

/// What the bridge reads of a `getShipment` answer, compared field by field.
fn compare(call: &str, found: &ApiShipment, needs_url: bool) -> Step {
    const NAME: &str = "qapla getShipment";
    let consignee = found.consignee.as_ref();
    let mut differences = Vec::new();
    if consignee.is_none() {
        differences.push("expected `consignee` (asked with data=consignee), found none");
    } else if consignee
        .and_then(|c| c.email.as_deref())
        .is_none_or(str::is_empty)
    {
        differences.push("expected `consignee.email`, found none (a shipment without e-mail?)");
    } else if consignee
        .and_then(|c| c.name.as_deref())
        .is_none_or(str::is_empty)
    {
        differences.push("expected `consignee.name`, found none");
    }
    if needs_url && found.url.as_deref().is_none_or(str::is_empty) {
        differences.push("expected `url` (the Qapla' tracking page the channel uses), found none");
    }
    if differences.is_empty() {
        return Step::pass(
            NAME,
            format!(
                "{call}: the consignee's e-mail and name{}, as the bridge reads them",
                if needs_url { ", the tracking page" } else { "" }
            ),
        );
    }
    Step::fail(
        NAME,
        format!("{call}: {}", differences.join("; ")),
        "if the parcel has a customer e-mail in Qapla's panel, Qapla' does not answer as documented: set the channel's webhook to version 1.3 in Qapla's panel (it carries the customer itself) and report the difference (docs/contracts.md, \"When a live answer differs\")",
    )
}

/// The tracking number of the newest status change of the last 24 hours, if any.
async fn newest(channel: &Channel<'_>) -> Result<Option<String>, Step> {
    let now = italian_now();
    let (from, to) = Window {
        from: now - RECENT,
        to: now,
    }
    .texts();
    let lang = channel.language.qapla_code();
    let (base, key) = (channel.base, channel.key);
    match channel
        .api
        .tracking_by_time_frame(base, key, &from, &to, lang)
        .await
    {
        Ok(list) => Ok(list
            .into_iter()
            .filter(|s| !s.tracking_number.trim().is_empty())
            .max_by(|a, b| date(a).cmp(date(b)))
            .map(|s| s.tracking_number.trim().to_owned())),
        Err(e) => Err(unexpected(
            "qapla trackingByTimeFrame",
            "GET 1.2/trackingByTimeFrame",
            &e,
            base,
        )),
    }
}

fn date(s: &ApiShipment) -> &str {
    s.status.as_ref().map(|s| s.date_iso.as_str()).unwrap_or("")
}

/// An answer other than the documented one: the call, what came back, what to do.
/// A Qapla' v2 scope the channel's settings need.
pub struct Scope {
    pub name: &'static str,
    pub scope: &'static str,
    /// What fails without it, and the setting that needs it.
    pub without: &'static str,
    pub setting: &'static str,
}

/// `releaseLinks`: stock-release's `shipments:write`.
pub const RELEASE: Scope = Scope {
    name: "qapla v2 release scope",
    scope: bridge_core::qapla::v2::RELEASE_SCOPE,
    without: "every release would be refused (403)",
    setting: "remove `releaseLinks` from the secret",
};

/// `estimatedDelivery` with `median`: `couriers/delivery-times`'s `delivery-times:read`.
pub const MEDIAN: Scope = Scope {
    name: "qapla v2 delivery-times scope",
    scope: bridge_core::qapla::v2::DELIVERY_TIMES_SCOPE,
    without: "no event would get a median estimatedDelivery (only the couriers' own dates)",
    setting: "set `estimatedDelivery.median` to false in the secret",
};

/// Qapla' v2 exchanges the key for a token with `want.scope` (read-only: nothing else is
/// asked for).
pub async fn scope(
    v2: &bridge_core::qapla::v2::QaplaV2,
    base: &str,
    key: &SecretString,
    want: &Scope,
) -> Step {
    use bridge_core::qapla::v2::V2Error;
    let (name, scope) = (want.name, want.scope);
    match v2.scopes(base, key).await {
        Ok(scopes) if scopes.iter().any(|s| s == scope) => Step::pass(
            name,
            format!("Qapla' API v2 grants the key `{scope}` (POST v2/auth/token)"),
        ),
        Ok(scopes) => Step::fail(
            name,
            format!(
                "the key's v2 token has scopes {scopes:?}, not `{scope}`: {}",
                want.without
            ),
            format!(
                "ask Qapla' to grant the channel's key the `{scope}` scope of API v2, or {}",
                want.setting
            ),
        ),
        Err(
            e @ V2Error::Refused {
                status: 400 | 401 | 403,
                ..
            },
        ) => Step::fail(
            name,
            format!("POST v2/auth/token: {e}"),
            "Qapla' API v2 refuses the channel's key: check `qaplaApiKey`, and `qaplaV2BaseUrl` (default https://api.qapla.it/v2)",
        ),
        Err(e) => Step::fail(
            name,
            format!("POST v2/auth/token: {e}"),
            format!(
                "Qapla' v2 at {base} did not answer as documented, or is not reachable: run doctor again later, and report the call and the answer (docs/contracts.md)"
            ),
        ),
    }
}

fn unexpected(name: &'static str, call: &str, e: &ApiError, base: &str) -> Step {
    let fix = match e {
        ApiError::Unreachable(_) | ApiError::Busy { .. } => {
            format!("Qapla' is busy, down or not reachable from here ({base}): run doctor again later")
        }
        ApiError::Refused { status: 404, .. } => format!(
            "Qapla' does not serve this path at {base}: check `qaplaApiBaseUrl` (default https://api.qapla.it/1.3) and report the difference (docs/contracts.md)"
        ),
        _ => "Qapla' did not answer as documented: report the call and the answer (docs/contracts.md, \"When a live answer differs\")".into(),
    };
    Step::fail(name, format!("{call}: {e}"), fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each scope a setting needs, against Qapla' v2's stand-in (`testkit::qapla_v2`):
    /// granted, missing (named with the setting to change), and a refused key.
    #[tokio::test]
    async fn each_v2_scope_is_checked_and_a_missing_one_names_its_setting() {
        let server = wiremock::MockServer::start().await;
        let fake = testkit::qapla_v2::QaplaV2::mount(&server, "k-1").await;
        let http = bridge_core::http::tls::client_builder()
            .build()
            .expect("client");
        let v2 = bridge_core::qapla::v2::QaplaV2::new(http);
        let base = format!("{}/v2", server.uri());
        let key = SecretString::from("k-1");
        for want in [&RELEASE, &MEDIAN] {
            let step = scope(&v2, &base, &key, want).await;
            assert!(step.ok, "{}", step.detail);
        }
        fake.scopes(&["shipments:write"]);
        let v2 = bridge_core::qapla::v2::QaplaV2::new(
            bridge_core::http::tls::client_builder()
                .build()
                .expect("client"),
        );
        let step = scope(&v2, &base, &key, &MEDIAN).await;
        assert!(!step.ok);
        assert!(
            step.detail.contains("delivery-times:read"),
            "{}",
            step.detail
        );
        let fix = step.fix.unwrap_or_default();
        assert!(fix.contains("estimatedDelivery.median"), "{fix}");
        let wrong = SecretString::from("k-2");
        let step = scope(&v2, &base, &wrong, &RELEASE).await;
        let fix = step.fix.unwrap_or_default();
        assert!(!step.ok && fix.contains("qaplaApiKey"), "{fix}");
    }
}
