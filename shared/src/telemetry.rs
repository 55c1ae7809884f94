//! What may reach a log line, and how: structured JSON logs (one object per line, event
//! fields at the top level, so CloudWatch Logs Insights can filter on `channel`, `kind`,
//! `outcome`...), error chains, and JSON errors described without quoting the input.

use tracing_subscriber::EnvFilter;

/// Install the JSON subscriber. Level from `RUST_LOG` (default `info`).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
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

/// A JSON error described without quoting the input: serde's "missing/unknown field" and
/// "unknown variant" messages name only fields and variants; any other message may quote a
/// value (an e-mail, a key), so only its category and position are kept.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let safe = ["missing field", "unknown field", "unknown variant", "must "];
    if safe.iter().any(|p| msg.starts_with(p)) || e.is_eof() {
        msg
    } else if e.is_syntax() {
        format!("not valid JSON at line {} column {}", e.line(), e.column())
    } else {
        format!(
            "a field has the wrong type or value at line {} column {}",
            e.line(),
            e.column()
        )
    }
}
