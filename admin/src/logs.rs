//! The functions' log lines about one key: a CloudWatch Logs Insights query over the stack's
//! log groups, then an exact check of each line (Insights' `like` matches substrings; and
//! moto, which the tests use, runs a query without its `filter`).

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use bridge_core::qapla::time::parse_time;
use bridge_core::telemetry::error_chain;
use serde_json::Value;
use std::time::{Duration, Instant};

/// One log line of the bridge (a JSON object) and where it came from.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// The function: the log group's last path segment.
    pub function: String,
    pub fields: Value,
}

/// How long a query may run before the search gives up.
const QUERY_LIMIT: Duration = Duration::from_secs(60);

/// The Insights query for `key`: quoted so no key can change the query.
pub fn query(key: &str) -> String {
    let quoted = key.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "fields @timestamp, @message, @log\n| filter @message like \"{quoted}\"\n| sort @timestamp asc\n| limit 10000"
    )
}

/// Whether a log line (not a metric line) is about `key` on `channel` (lines naming several keys, as a refused
/// orders post does, list them comma-separated).
pub fn is_about(fields: &Value, channel: &str, key: &str) -> bool {
    // A metric line (embedded metric format) names the key it counts, but tells nothing new.
    if fields.get("_aws").is_some() {
        return false;
    }
    let keys = fields["key"].as_str().unwrap_or("");
    let line_channel = fields["channel"].as_str().unwrap_or("");
    keys.split(',').any(|k| k == key) && (line_channel.is_empty() || line_channel == channel)
}

/// Every line of the last `since` about `key` on `channel`, oldest first.
pub async fn search(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    channel: &str,
    key: &str,
    since: Duration,
) -> Result<Vec<LogLine>, String> {
    let now = bridge_core::clock::epoch_secs() as i64;
    let started = client
        .start_query()
        .set_log_group_names(Some(groups.to_vec()))
        .start_time(now - since.as_secs() as i64)
        .end_time(now + 60)
        .query_string(query(key))
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    let id = started.query_id().ok_or("Logs Insights gave no query id")?;
    let waited = Instant::now();
    let rows = loop {
        let out = client
            .get_query_results()
            .query_id(id)
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        match out.status() {
            Some(QueryStatus::Complete) => break out.results().to_vec(),
            Some(QueryStatus::Running | QueryStatus::Scheduled) | None => {}
            Some(other) => return Err(format!("the query ended {}", other.as_str())),
        }
        if waited.elapsed() > QUERY_LIMIT {
            return Err(format!("no answer within {} s", QUERY_LIMIT.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut lines: Vec<LogLine> = rows
        .iter()
        .filter_map(|row| {
            let field = |name: &str| {
                row.iter()
                    .find(|f| f.field() == Some(name))
                    .and_then(|f| f.value())
            };
            let fields: Value = serde_json::from_str(field("@message")?).ok()?;
            let function = field("@log").unwrap_or("").rsplit('/').next()?.to_owned();
            let at_ms = timestamp_ms(field("@timestamp")?)?;
            is_about(&fields, channel, key).then_some(LogLine {
                at_ms,
                function,
                fields,
            })
        })
        .collect();
    lines.sort_by_key(|l| l.at_ms);
    Ok(lines)
}

/// Insights' `@timestamp` (`2026-11-23 10:00:00.123`, UTC), or epoch milliseconds.
fn timestamp_ms(text: &str) -> Option<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    let secs = parse_time(text)?;
    let millis = text
        .split_once('.')
        .and_then(|(_, f)| format!("{f:0<3}").get(..3)?.parse::<i64>().ok())
        .unwrap_or(0);
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_key_cannot_break_out_of_the_query() {
        let q = query(r#"A" | limit 1 | filter "x\"#);
        assert!(q.contains(r#"like "A\" | limit 1 | filter \"x\\""#), "{q}");
    }

    #[test]
    fn only_lines_about_exactly_the_key_and_channel_match() {
        let line = |channel: &str, key: &str| json!({ "channel": channel, "key": key });
        assert!(is_about(&line("it", "580104809"), "it", "580104809"));
        assert!(is_about(&line("it", "A-1,A-2"), "it", "A-2"));
        assert!(is_about(&json!({ "key": "A-2" }), "it", "A-2"));
        assert!(!is_about(&line("it", "5801048090"), "it", "580104809"));
        assert!(!is_about(&line("es", "580104809"), "it", "580104809"));
        assert!(!is_about(
            &json!({ "message": "580104809" }),
            "it",
            "580104809"
        ));
    }

    #[test]
    fn insights_and_epoch_timestamps_are_read() {
        assert_eq!(timestamp_ms("1700000000123"), Some(1_700_000_000_123));
        assert_eq!(
            timestamp_ms("2023-11-14 22:13:20.123"),
            Some(1_700_000_000_123)
        );
        assert_eq!(timestamp_ms("2023-11-14 22:13:20"), Some(1_700_000_000_000));
        assert_eq!(timestamp_ms("soon"), None);
    }
}
