//! `bridge-admin trace <channel> <key>`: everything the bridge knows about one parcel or
//! order, in time order: its last delivery (state table), its dead letters with their
//! reasons, and the functions' log lines about it (accepted, refused, delivered, repeat,
//! superseded, skipped, retried...). Customer e-mails are masked in every line.

use crate::logs::{self, LogLine};
use crate::stack::Stack;
use bridge_core::aws::replay;
use bridge_core::aws::{DynamoState, LastDelivered};
use bridge_core::channel::ChannelId;
use bridge_core::customer::Email;
use bridge_core::qapla::time::time_text;
use bridge_core::telemetry::error_chain;
use serde_json::{Value, json};
use std::time::Duration;

pub struct Clients {
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

/// One thing that happened to the key.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at_ms: i64,
    /// `state table`, `dead letters`, or the function that logged it.
    pub source: String,
    /// `delivered`, `repeat`, `superseded`, `dead_lettered`, `accepted`, `rejected`...
    pub outcome: String,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Trace {
    pub entries: Vec<Entry>,
    /// Sources that could not be read, and why.
    pub gaps: Vec<String>,
    pub dead_letters: usize,
}

pub async fn trace(
    clients: &Clients,
    stack: &Stack,
    channel: &ChannelId,
    key: &str,
    since: Duration,
) -> Trace {
    let mut trace = Trace::default();
    match &stack.state_table {
        Some(table) => {
            let state = DynamoState::new(
                bridge_core::aws::table::Table::new(clients.dynamo.clone(), table.as_str()),
                Duration::ZERO,
            );
            match state.last_delivered(channel, key).await {
                Ok(found) => trace.entries.extend(found.iter().map(last_delivered)),
                Err(e) => trace.gaps.push(format!("state table: {}", error_chain(&e))),
            }
        }
        None => trace.gaps.push(stack.missing("StateTableName")),
    }
    match &stack.dead_letter_url {
        Some(dlq) => match replay::list(&clients.sqs, dlq).await {
            Ok(letters) => {
                let mine: Vec<Entry> = letters
                    .iter()
                    .filter(|l| {
                        let e = l.envelope.as_ref();
                        e.is_some_and(|e| e.channel == *channel && e.key == key)
                    })
                    .map(|l| dead_letter(l, channel))
                    .collect();
                trace.dead_letters = mine.len();
                trace.entries.extend(mine);
            }
            Err(e) => trace
                .gaps
                .push(format!("dead letters: {}", error_chain(&e))),
        },
        None => trace.gaps.push(stack.missing("DeadLetterQueueUrl")),
    }
    if stack.log_groups.is_empty() {
        trace.gaps.push(stack.missing("LogGroupNames"));
    } else {
        let groups = &stack.log_groups;
        match logs::search(&clients.logs, groups, channel.as_str(), key, since).await {
            Ok(lines) => trace.entries.extend(lines.iter().map(log_entry)),
            Err(e) => trace.gaps.push(format!("logs: {e}")),
        }
    }
    for e in &mut trace.entries {
        e.text = mask_emails(&e.text);
    }
    trace.entries.sort_by_key(|e| e.at_ms);
    trace
}

fn dead_letter(l: &replay::DeadLetter, channel: &ChannelId) -> Entry {
    let status = l.envelope.as_ref().and_then(|e| e.status_id.as_deref());
    Entry {
        at_ms: l.failed_at.map_or(0, second_end),
        source: "dead letters".into(),
        outcome: "waiting".into(),
        text: format!(
            "{}{} (`bridge-admin redrive --channel {channel}` once fixed)",
            status.map(|s| format!("status {s}: ")).unwrap_or_default(),
            l.reason
        ),
    }
}

/// A time known to the second, placed after the log lines of that second (which are
/// known to the millisecond and, for one event, come first).
fn second_end(secs: u64) -> i64 {
    secs as i64 * 1000 + 999
}

fn last_delivered(d: &LastDelivered) -> Entry {
    let status = match (d.status_id.as_str(), d.status_at.as_str()) {
        ("", _) => String::new(),
        (id, "") => format!("status {id} "),
        (id, at) => format!("status {id} of {at} "),
    };
    Entry {
        at_ms: d.delivered_at.map_or(0, second_end),
        source: "state table".into(),
        outcome: "last delivered".into(),
        text: format!("{status}as `{}` ({})", d.alias, d.kind.as_str()),
    }
}

fn log_entry(line: &LogLine) -> Entry {
    let f = &line.fields;
    let text_of = |k: &str| f[k].as_str().map(str::to_owned).unwrap_or_default();
    let mut parts = Vec::new();
    for (label, k) in [("status", "status_id"), ("", "reason"), ("", "detail")] {
        let v = text_of(k);
        if !v.is_empty() {
            parts.push(if label.is_empty() {
                v
            } else {
                format!("{label} {v}")
            });
        }
    }
    if let Some(status) = f["status"].as_u64() {
        parts.push(format!("answered HTTP {status}"));
    }
    if let Some(tries) = f["tries"].as_u64() {
        parts.push(format!("try {tries}"));
    }
    let customer = text_of("customer");
    if !customer.is_empty() {
        parts.push(format!("customer {customer}"));
    }
    let outcome = match text_of("outcome") {
        o if o.is_empty() => format!("{} {}", text_of("level").to_lowercase(), text_of("message")),
        o => o,
    };
    Entry {
        at_ms: line.at_ms,
        source: line.function.clone(),
        outcome,
        text: parts.join(", "),
    }
}

/// Every e-mail address in `text`, masked (`g***@example.com`).
pub fn mask_emails(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match Email::try_from(word.as_str()) {
            Ok(e) => out.push_str(&e.masked()),
            Err(_) => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || "\"'(),;<>[]{}`".contains(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

impl Trace {
    fn at(e: &Entry) -> String {
        match e.at_ms {
            0 => "(time unknown)     ".into(),
            ms => time_text(ms.div_euclid(1000)),
        }
    }

    pub fn human(&self, channel: &ChannelId, key: &str) -> String {
        let mut out = format!("trace of {key} on channel {channel} (times UTC)\n");
        if self.entries.is_empty() {
            out.push_str("nothing known about it in the period searched\n");
        }
        let width = self
            .entries
            .iter()
            .map(|e| e.source.len())
            .max()
            .unwrap_or(0);
        for e in &self.entries {
            out.push_str(&format!(
                "{}  {:<width$}  {:<14}  {}\n",
                Self::at(e),
                e.source,
                e.outcome,
                e.text
            ));
        }
        for gap in &self.gaps {
            out.push_str(&format!("not searched: {gap}\n"));
        }
        out
    }

    pub fn json(&self, channel: &ChannelId, key: &str) -> Value {
        let entries: Vec<Value> = self
            .entries
            .iter()
            .map(|e| json!({ "at": Self::at(e).trim(), "atMs": e.at_ms, "source": e.source, "outcome": e.outcome, "text": e.text }))
            .collect();
        json!({ "channel": channel.as_str(), "key": key, "entries": entries, "deadLetters": self.dead_letters, "notSearched": self.gaps })
    }

    /// Nothing found, or a dead letter waits.
    pub fn problem(&self) -> bool {
        self.entries.is_empty() || self.dead_letters > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::parse_since;

    #[test]
    fn e_mails_are_masked_wherever_they_appear() {
        assert_eq!(
            mask_emails("contact giulia.rossi@example.com not found (\"Mario@Shop.it\")"),
            "contact g***@example.com not found (\"m***@shop.it\")"
        );
        assert_eq!(mask_emails("g***@example.com"), "g***@example.com");
        assert_eq!(mask_emails("no address @ here"), "no address @ here");
    }

    #[test]
    fn periods_read_as_days_hours_minutes_or_seconds() {
        assert_eq!(parse_since("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_since("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_since("30m"), Ok(Duration::from_secs(1800)));
        assert!(parse_since("7").is_err());
        assert!(parse_since("d").is_err());
        assert!(parse_since("1w").is_err());
    }
}
