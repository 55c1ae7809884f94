//! What may reach a log line, and how: structured JSON logs (one object per line, event
//! and span fields at the top level, so CloudWatch Logs Insights can filter on `requestId`,
//! `channel`, `key`, `outcome`...; see [`format`]), error chains, and JSON errors described
//! without quoting the input.

mod format;
pub mod metrics;

pub use format::EMF_TARGET;

use format::JsonLines;

use tracing::Level;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Install the JSON subscriber on stdout for the function `function` (its binary's name),
/// and count its cold start. Level from `RUST_LOG` (`error`, `warn`, `info`, `debug`, or
/// `target=level` pairs; default `info`); metric lines are written whatever the level.
pub fn init(function: &str) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::registry()
        .with(lines(std::io::stdout).with_filter(levels(rust_log.as_deref())))
        .try_init();
    metrics::cold_start(function);
}

/// The levels `RUST_LOG` asks for (`info` when unset or unreadable), metric lines always.
fn levels(rust_log: Option<&str>) -> Targets {
    rust_log
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO))
        .with_target(EMF_TARGET, Level::INFO)
}

/// The same subscriber writing to `writer` up to `level`: for tests and tools that capture
/// the functions' lines.
pub fn dispatch<W>(writer: W, level: tracing::Level) -> tracing::Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = lines(writer).with_filter(LevelFilter::from_level(level));
    tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
}

/// The layer that writes the bridge's lines ([`JsonLines`]) to `writer`.
fn lines<S, W>(writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(JsonLines)
        .with_writer(writer)
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

/// The path of the field a JSON error is about, for a log line. Object keys that look like
/// field names are kept; any other key is `?`: in a broken body a "key" can be any stretch
/// of it (found by `make fuzz`: the API key, a customer's address), and a log line must
/// show none of that.
pub fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let name = |key: &str| {
        let looks_like_a_field = key.len() <= 24
            && key.starts_with(|c: char| c.is_ascii_alphabetic())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if looks_like_a_field {
            key.to_owned()
        } else {
            "?".to_owned()
        }
    };
    let mut out = String::new();
    for segment in path.iter() {
        let part = match segment {
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                continue;
            }
            Segment::Map { key } => name(key),
            Segment::Enum { variant } => name(variant),
            Segment::Unknown => "?".to_owned(),
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&part);
    }
    if out.is_empty() { ".".to_owned() } else { out }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn a_field_path_keeps_field_names_and_hides_any_other_key() {
        let path = |json: &str| {
            let de = &mut serde_json::Deserializer::from_str(json);
            let e =
                serde_path_to_error::deserialize::<_, std::collections::HashMap<String, Vec<u8>>>(
                    de,
                )
                .expect_err("not a map of byte lists");
            field_path(e.path())
        };
        assert_eq!(path(r#"{"rows": [1, "x"]}"#), "rows[1]");
        assert_eq!(path(r#"{"giulia.rossi@example.com": "x"}"#), "?");
        assert_eq!(path(r#"{"test-channel-key-it": "x"}"#), "?");
        assert_eq!(path(r#"{"a_very_long_field_name_of_25": "x"}"#), "?");
    }

    #[test]
    fn rust_log_sets_the_level_and_metric_lines_are_always_written() {
        let warn = levels(Some("warn"));
        assert!(warn.would_enable("bridge_core::webhook", &Level::WARN));
        assert!(!warn.would_enable("bridge_core::webhook", &Level::INFO));
        assert!(warn.would_enable(EMF_TARGET, &Level::INFO));
        let unset = levels(None);
        assert!(unset.would_enable("bridge_core", &Level::INFO));
        assert!(!unset.would_enable("bridge_core", &Level::DEBUG));
        let per_target = levels(Some("info,bridge_core::delivery=debug"));
        assert!(per_target.would_enable("bridge_core::delivery::worker", &Level::DEBUG));
        assert!(!per_target.would_enable("hyper", &Level::DEBUG));
        assert_eq!(
            levels(Some("bridge_core=loud")).default_level(),
            Some(LevelFilter::INFO)
        );
    }
}
