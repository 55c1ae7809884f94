//! CloudWatch metrics in embedded metric format (EMF): one JSON line on stdout per count,
//! which Lambda's log pipeline turns into metrics without an API call.
//!
//! Metric `Events` (Count) in namespace `METRICS_NAMESPACE` (default `QaplaConnectifBridge`)
//! with dimensions `channel`, `kind` and `outcome`.

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
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp,
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
}
