//! The log line: one JSON object per event, with the event's fields at the top level and the
//! fields of every span it happens in (innermost first) after them. Lambda's runtime wraps
//! each invocation in a span carrying `requestId`, so every line logged while handling an
//! invocation names it; a span opened around one event (e.g. its `key`) names that too.
//!
//! Metric lines (target [`EMF_TARGET`]) are written as the embedded-metric-format object they
//! carry, with the same span fields added: a metric line leads to its invocation as well.

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The target of metric lines; their one field, `emf`, is the metric object as JSON text.
pub const EMF_TARGET: &str = "emf";

/// The formatter of every line the bridge writes (see the module's documentation).
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = if event.metadata().target() == EMF_TARGET {
            metric_object(fields)
        } else {
            let mut time = String::new();
            SystemTime.format_time(&mut Writer::new(&mut time))?;
            let mut head = Fields(vec![
                ("timestamp".into(), Value::String(time)),
                ("level".into(), event.metadata().level().as_str().into()),
            ]);
            // The message first, then the event's fields in the order written.
            let (message, rest): (Vec<_>, Vec<_>) = fields
                .0
                .into_iter()
                .partition(|(name, _)| name == "message");
            head.0.extend(message);
            head.0.extend(rest);
            head
        };
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                let extensions = span.extensions();
                let Some(stored) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(Value::Object(span_fields)) = serde_json::from_str(&stored.fields) {
                    for (name, value) in span_fields {
                        line.add_missing(name, value);
                    }
                }
            }
        }
        writer.write_str(&line.to_json())?;
        writer.write_char('\n')
    }
}

/// The fields of a metric event, as the object its `emf` field holds.
fn metric_object(fields: Fields) -> Fields {
    let text = fields
        .0
        .into_iter()
        .find_map(|(name, value)| (name == "emf").then_some(value));
    match text
        .as_ref()
        .and_then(Value::as_str)
        .map(serde_json::from_str)
    {
        Some(Ok(Value::Object(object))) => Fields(object.into_iter().collect()),
        _ => Fields::default(),
    }
}

/// Named values in the order they were recorded (`message` first, as recorded).
#[derive(Default)]
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn add_missing(&mut self, name: String, value: Value) {
        if !self.0.iter().any(|(n, _)| *n == name) {
            self.0.push((name, value));
        }
    }

    fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(512);
        out.push(b'{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Writing to a Vec cannot fail, and serde_json writes UTF-8.
            let _ = serde_json::to_writer(&mut out, name);
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, value);
        }
        out.push(b'}');
        String::from_utf8(out).unwrap_or_default()
    }

    fn add(&mut self, field: &Field, value: Value) {
        self.add_missing(field.name().to_owned(), value);
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.add(field, super::error_chain(value).into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.add(field, format!("{value:?}").into());
    }
}
