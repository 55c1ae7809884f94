//! CloudWatch metrics in embedded metric format (EMF): one JSON line on stdout per count,
//! which Lambda's log pipeline turns into metrics without an API call.
//!
//! Metric `Events` (Count) in namespace `METRICS_NAMESPACE` (default `QaplaConnectifBridge`)
//! with dimensions `channel`, `kind` and `outcome`; `StatusesFoundByReconciliation` (Count)
//! per `channel` and in total (no dimension), from the reconciler.

use crate::Kind;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "QaplaConnectifBridge".to_owned())
    })
}

/// The EMF line for one event with `outcome` (`delivered`, `skipped`, `rejected`, ...).
pub fn event_line(channel: &str, kind: Kind, outcome: &str) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": now_ms(),
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": [["channel", "kind", "outcome"]],
                "Metrics": [{ "Name": "Events", "Unit": "Count" }]
            }]
        },
        "channel": channel,
        "kind": kind.as_str(),
        "outcome": outcome,
        "Events": 1
    })
    .to_string()
}

/// Count one event.
pub fn count_event(channel: &str, kind: Kind, outcome: &str) {
    println!("{}", event_line(channel, kind, outcome));
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The EMF line of one channel's reconciliation: the statuses it found that were never
/// posted (0 too, so that the alarm sees the function run).
pub fn reconciled_line(channel: &str, found: u64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": now_ms(),
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": [["channel"], []],
                "Metrics": [{ "Name": "StatusesFoundByReconciliation", "Unit": "Count" }]
            }]
        },
        "channel": channel,
        "StatusesFoundByReconciliation": found
    })
    .to_string()
}

/// Count what one channel's reconciliation found.
pub fn count_reconciled(channel: &str, found: u64) {
    println!("{}", reconciled_line(channel, found));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_line_is_valid_emf() {
        let line: serde_json::Value =
            serde_json::from_str(&event_line("it", Kind::Order, "skipped")).expect("json");
        assert_eq!(line["Events"], 1);
        assert_eq!(line["outcome"], "skipped");
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "Events"
        );
        assert!(line["_aws"]["Timestamp"].as_u64().expect("timestamp") > 0);
    }

    #[test]
    fn a_reconciliation_line_counts_per_channel_and_in_total() {
        let line: serde_json::Value =
            serde_json::from_str(&reconciled_line("it", 3)).expect("json");
        assert_eq!(line["StatusesFoundByReconciliation"], 3);
        let dims = &line["_aws"]["CloudWatchMetrics"][0]["Dimensions"];
        assert_eq!(dims, &serde_json::json!([["channel"], []]));
    }
}
