//! Structured JSON logs: one object per line, event fields at the top level, so CloudWatch
//! Logs Insights can filter on `channel`, `kind`, `outcome`...

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
