//! CloudWatch metrics in embedded metric format (EMF): one JSON object per measurement,
//! written as a log line (target [`EMF_TARGET`](super::EMF_TARGET), whatever the
//! log level), which Lambda's log pipeline turns into metrics without an API call. Only the
//! functions install a subscriber that writes them; the operator's console writes none.
//!
//! Namespace `METRICS_NAMESPACE` (default `QaplaConnectifBridge`). Every metric has a total
//! without the `channel` dimension, so one alarm covers every channel; no dimension takes a
//! value from a tracking number, an order or a made-up channel name.
//!
//! | metric | unit | dimension sets |
//! |---|---|---|
//! | `Posts` (Qapla' posts answered: `outcome` accepted/rejected) | Count | outcome · channel, outcome · kind, outcome · outcome, reason |
//! | `Events` (one per event and outcome) | Count | channel, kind, outcome · outcome |
//! | `EventAge` (at each delivery try) | Seconds | channel · none |
//! | `Suppressed` (events a channel's `rules` held back) | Count | channel, reason · reason |
//! | `StalledParcels` (`parcel-stalled` events queued) | Count | channel · none |
//! | `ReleaseLinks` (`step`: issued, opened, released, failed, untold) | Count | step · channel, step · step, action, outcome |
//! | `ConnectifRequests`, `ConnectifLatency` | Count, Milliseconds | result · none |
//! | `QaplaApiCalls` | Count | result · none |
//! | `QaplaApiRefused` (404s from Qapla's API without its own KO) | Count | channel · none |
//! | `QaplaNoConsignee` (`getShipment` answers without the consignee asked for) | Count | channel · none |
//! | `ColdStarts` | Count | function |
//! | `StatusesFoundByReconciliation` | Count | channel · none |
//! | `BackfillWindows` (windows a backfill run finished) | Count | channel · none |
//! | `BackfillsRunning`, `BackfillsStalled` (background runs, each quarter hour) | Count | none |

use crate::Kind;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use std::time::Duration;

/// The `channel` of a refused post whose channel was not shown to exist.
const UNKNOWN_CHANNEL: &str = "unknown";
/// The `reason` of an accepted post.
const NO_REASON: &str = "none";

/// The metrics' namespace.
pub fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "QaplaConnectifBridge".to_owned())
    })
}

/// One EMF object: `metrics` (name, unit, value) over `dimensions`, with `properties` (the
/// dimensions' values, and anything else worth keeping on the line).
fn line(
    metrics: &[(&str, &str, Value)],
    dimensions: &[&[&str]],
    properties: &[(&str, &str)],
) -> Value {
    let mut object = Map::new();
    object.insert(
        "_aws".into(),
        json!({
            "Timestamp": crate::clock::epoch_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": dimensions,
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({ "Name": name, "Unit": unit })).collect::<Vec<_>>(),
            }]
        }),
    );
    for (name, value) in properties {
        object.insert((*name).into(), (*value).into());
    }
    for (name, _, value) in metrics {
        object.insert((*name).into(), value.clone());
    }
    Value::Object(object)
}

fn emit(line: Value) {
    tracing::info!(target: super::EMF_TARGET, emf = %line);
}

/// One Qapla' post answered: accepted (`refusal` `None`) or rejected for `refusal`. `channel`
/// only when the channel is known to exist (accepted, or rejected for a wrong key).
pub fn count_post(channel: Option<&str>, kind: Kind, refusal: Option<&str>) {
    let outcome = if refusal.is_some() {
        "rejected"
    } else {
        "accepted"
    };
    emit(line(
        &[("Posts", "Count", 1.into())],
        &[
            &["outcome"],
            &["channel", "outcome"],
            &["kind", "outcome"],
            &["outcome", "reason"],
        ],
        &[
            ("channel", channel.unwrap_or(UNKNOWN_CHANNEL)),
            ("kind", kind.as_str()),
            ("outcome", outcome),
            ("reason", refusal.unwrap_or(NO_REASON)),
        ],
    ));
}

/// One event with `outcome` (`received`, `delivered`, `skipped`, `dead_lettered`, ...).
pub fn count_event(channel: &str, kind: Kind, outcome: &str) {
    emit(line(
        &[("Events", "Count", 1.into())],
        &[&["channel", "kind", "outcome"], &["outcome"]],
        &[
            ("channel", channel),
            ("kind", kind.as_str()),
            ("outcome", outcome),
        ],
    ));
}

/// One event a channel's rule held back (`rules`), by the rule: `relay_address`,
/// `status_not_notified`, `courier_left_out` (its `Events` line says `suppressed` too).
pub fn count_suppressed(channel: &str, reason: &str) {
    emit(line(
        &[("Suppressed", "Count", 1.into())],
        &[&["channel", "reason"], &["reason"]],
        &[("channel", channel), ("reason", reason)],
    ));
}

/// Stalled parcels found and queued for `channel` in one run.
pub fn count_stalled(channel: &str, stalled: u64) {
    emit(line(
        &[("StalledParcels", "Count", stalled.into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// One step of a held parcel's release link: `issued` (an event carried one), `opened` (the
/// page was shown), `released` (by `action` and `outcome`), `failed` (Qapla' could not be
/// asked: try again later), `untold` (released, but the `parcel-release` event was not
/// handed off).
pub fn release(channel: &str, step: &str, action: &str, outcome: &str) {
    let action = if action.is_empty() { NO_REASON } else { action };
    let outcome = if outcome.is_empty() {
        NO_REASON
    } else {
        outcome
    };
    emit(line(
        &[("ReleaseLinks", "Count", 1.into())],
        &[
            &["step"],
            &["channel", "step"],
            &["step", "action", "outcome"],
        ],
        &[
            ("channel", channel),
            ("step", step),
            ("action", action),
            ("outcome", outcome),
        ],
    ));
}

/// One message with `outcome` whose event could not be read (so no channel or kind): a
/// dead letter all the same, which `DeadLettersAlarm` must see.
pub fn count_unreadable(outcome: &str) {
    emit(line(
        &[("Events", "Count", 1.into())],
        &[&["outcome"]],
        &[("outcome", outcome)],
    ));
}

/// How long an event has been waiting when the worker tries to deliver it (delivered, or
/// to be tried again): keeps rising during an outage, when the queue's own oldest-message age
/// may not (a message received and returned again and again).
pub fn event_age(channel: &str, age: Duration) {
    emit(line(
        &[("EventAge", "Seconds", age.as_secs().into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// One request to Connectif: `result` is `ok`, `throttled` (429), `refused` (other 4xx),
/// `server_error` (5xx) or `unreachable`.
pub fn connectif_request(result: &str, latency: Duration) {
    emit(line(
        &[
            ("ConnectifRequests", "Count", 1.into()),
            ("ConnectifLatency", "Milliseconds", millis(latency).into()),
        ],
        &[&["result"], &[]],
        &[("result", result)],
    ));
}

/// One call to Qapla's API: `result` is `ok`, `throttled` (429 or "Too Many Requests"),
/// `error` (any other answer) or `unreachable`.
pub fn qapla_api_call(call: &str, result: &str) {
    emit(line(
        &[("QaplaApiCalls", "Count", 1.into())],
        &[&["result"], &[]],
        &[("result", result), ("call", call)],
    ));
}

/// Qapla's API answered 404 without its own KO (a path it did not serve): the event waits and
/// is retried (`qapla_api_not_found`).
pub fn count_api_refused(channel: &str) {
    emit(line(
        &[("QaplaApiRefused", "Count", 1.into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// Qapla' answered `getShipment` without the consignee it was asked for (`data=consignee`):
/// the event is skipped (`no_consignee_from_qapla`); `bridge-admin doctor` shows the answer.
pub fn count_no_consignee(channel: &str) {
    emit(line(
        &[("QaplaNoConsignee", "Count", 1.into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// Qapla' refused a channel's API key (the enrichment's `getChannel` or `getShipment`):
/// its events wait until the secret holds a key Qapla' takes.
pub fn count_key_refused(channel: &str) {
    emit(line(
        &[("QaplaKeyRefused", "Count", 1.into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// Qapla' posts of `channel` refused in the last 24 hours (the reconciler's reading of
/// `Posts`): per channel, and without a dimension, where the maximum is the worst channel.
pub fn rejected_last_day(channel: &str, refused: u64) {
    emit(line(
        &[("RejectedPostsLastDay", "Count", refused.into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// A function's process started (`function`: its binary, e.g. `shipment-webhook`): its
/// start-up line, which also names the bridge's version (a property, not a dimension).
pub fn cold_start(function: &str) {
    emit(line(
        &[("ColdStarts", "Count", 1.into())],
        &[&["function"]],
        &[("function", function), ("version", crate::VERSION)],
    ));
}

/// What one channel's reconciliation found that was never posted (0 too, so that the alarm
/// sees the function run).
pub fn count_reconciled(channel: &str, found: u64) {
    emit(line(
        &[("StatusesFoundByReconciliation", "Count", found.into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// A backfill run of `channel` finished a window.
pub fn count_backfill_window(channel: &str) {
    emit(line(
        &[("BackfillWindows", "Count", 1.into())],
        &[&["channel"], &[]],
        &[("channel", channel)],
    ));
}

/// Background backfill runs queued or running, and those of them without a window finished
/// for too long.
pub fn backfills(running: u64, stalled: u64) {
    emit(line(
        &[
            ("BackfillsRunning", "Count", running.into()),
            ("BackfillsStalled", "Count", stalled.into()),
        ],
        &[&[]],
        &[],
    ));
}

fn millis(d: Duration) -> u64 {
    d.as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_valid_emf_with_its_dimension_values() {
        let line = line(
            &[("Events", "Count", 1.into())],
            &[&["channel", "kind", "outcome"], &["outcome"]],
            &[("channel", "it"), ("kind", "order"), ("outcome", "skipped")],
        );
        assert_eq!(line["Events"], 1);
        assert_eq!(line["outcome"], "skipped");
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Metrics"][0]["Name"], "Events");
        assert_eq!(directive["Namespace"], "QaplaConnectifBridge");
        assert_eq!(
            directive["Dimensions"],
            json!([["channel", "kind", "outcome"], ["outcome"]])
        );
        assert!(line["_aws"]["Timestamp"].as_u64().expect("timestamp") > 0);
    }
}
