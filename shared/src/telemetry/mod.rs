//! What may reach a log line, and how: structured JSON logs (one object per line, event
//! and span fields at the top level, so CloudWatch Logs Insights can filter on `requestId`,
//! `channel`, `key`, `outcome`...; see [`format`]), error chains, and JSON errors described
//! without quoting the input.

mod format;

pub use format::{EMF_TARGET, JsonLines};

use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;

/// Install the JSON subscriber on stdout for the function `function` (its binary's name),
/// and count its cold start. Level from `RUST_LOG` (default `info`); metric lines are
/// written whatever the level.
pub fn init(function: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let filter = match format!("{EMF_TARGET}=info").parse() {
        Ok(metrics) => filter.add_directive(metrics),
        Err(_) => filter,
    };
    let _ = tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(JsonLines)
        .with_env_filter(filter)
        .try_init();
    crate::metrics::cold_start(function);
}

/// The same subscriber writing to `writer` up to `level`: for tests and tools that capture
/// the functions' lines.
pub fn dispatch<W>(writer: W, level: tracing::Level) -> tracing::Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .with_max_level(LevelFilter::from_level(level))
            .with_writer(writer)
            .finish(),
    )
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
