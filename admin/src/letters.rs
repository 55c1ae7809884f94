//! The dead letters, as the person on call handles them: `dead-letters` lists what waits
//! (when, which channel, why; exit code 1 while any waits), `redrive` moves them back to the
//! queue in batches with a progress bar, `discard` deletes those that can never be delivered
//! (after a confirmation, each one listed in the output).

use crate::args::Printout;
use crate::stack::Stack;
use bridge_core::aws::replay::{self, DeadLetter, Filter};
use bridge_core::clock::{epoch_secs, time_text};
use bridge_core::delivery::Envelope;
use bridge_core::telemetry::error_chain;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::BufRead;

/// `dead-letters`: every letter `filter` chooses, oldest first.
pub async fn list(
    sqs: &aws_sdk_sqs::Client,
    stack: &Stack,
    filter: &Filter,
    json: bool,
) -> Result<Printout, String> {
    let dlq = stack.need(&stack.dead_letter_url, "DeadLetterQueueUrl")?;
    let letters = replay::list_where(sqs, dlq, filter)
        .await
        .map_err(|e| error_chain(&e))?;
    let now = epoch_secs();
    let text = if json {
        let rows: Vec<_> = letters.iter().map(|l| row(l, now)).collect();
        json!({ "count": letters.len(), "letters": rows }).to_string()
    } else if letters.is_empty() {
        "no dead letters".to_owned()
    } else {
        let mut text = format!("{} dead letter(s), oldest first:", letters.len());
        for l in &letters {
            text.push('\n');
            text.push_str(&line(l, now));
        }
        text.push_str("\nFix the cause, then `bridge-admin redrive` (or `discard` what can never be delivered).");
        text
    };
    Ok(Printout {
        text,
        problem: !letters.is_empty(),
    })
}

/// `redrive`: the chosen letters back to the queue, ten at a time.
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    stack: &Stack,
    filter: &Filter,
    json: bool,
) -> Result<Printout, String> {
    let dlq = stack.need(&stack.dead_letter_url, "DeadLetterQueueUrl")?;
    let queue = stack.need(&stack.queue_url, "EventQueueUrl")?;
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    if let Ok(style) = ProgressStyle::with_template("redriving {bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let result = replay::redrive_where(sqs, dlq, queue, filter, progress).await;
    bar.finish_and_clear();
    let (moved, left) = result.map_err(|e| {
        format!("{}; run the same command again to go on (letters not moved yet come back within 15 minutes)", error_chain(&e))
    })?;
    let text = if json {
        json!({ "redriven": moved, "left": left }).to_string()
    } else {
        format!("redriven: {moved}; left in the dead-letter queue: {left}")
    };
    Ok(Printout {
        text,
        problem: false,
    })
}

/// `discard`: the chosen letters deleted for good, once confirmed (`yes`, or typed).
pub async fn discard(
    sqs: &aws_sdk_sqs::Client,
    stack: &Stack,
    filter: &Filter,
    yes: bool,
    json: bool,
) -> Result<Printout, String> {
    let dlq = stack.need(&stack.dead_letter_url, "DeadLetterQueueUrl")?;
    if !yes {
        let chosen = replay::list_where(sqs, dlq, filter)
            .await
            .map_err(|e| error_chain(&e))?;
        if chosen.is_empty() {
            return Ok(Printout {
                text: "no dead letter matches: nothing discarded".into(),
                problem: false,
            });
        }
        eprintln!(
            "Discard {} dead letter(s) for good (their events will never be delivered)? Type yes: ",
            chosen.len()
        );
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if answer.trim() != "yes" {
            return Err("not confirmed: nothing discarded".into());
        }
    }
    let gone = replay::discard_where(sqs, dlq, filter)
        .await
        .map_err(|e| error_chain(&e))?;
    let now = epoch_secs();
    let text = if json {
        let rows: Vec<_> = gone.iter().map(|l| row(l, now)).collect();
        json!({ "discarded": gone.len(), "letters": rows }).to_string()
    } else {
        let mut text = format!("discarded: {}", gone.len());
        for l in &gone {
            text.push_str("\ndiscarded ");
            text.push_str(&line(l, now));
        }
        text
    };
    Ok(Printout {
        text,
        problem: false,
    })
}

/// One letter for a person: id, when, channel, kind, key, status, reason.
fn line(l: &DeadLetter, now: u64) -> String {
    let (channel, kind, key, status) = names(l);
    format!(
        "{}  {}  {channel}  {kind}  {key}  {status}  {}",
        l.message_id,
        when(l.failed_at, now),
        l.reason
    )
}

fn row(l: &DeadLetter, now: u64) -> serde_json::Value {
    let (channel, kind, key, status) = names(l);
    json!({
        "id": l.message_id,
        "failedAt": l.failed_at.map(|t| format!("{}Z", time_text(t as i64).replacen(' ', "T", 1))),
        "ageSeconds": l.failed_at.map(|t| now.saturating_sub(t)),
        "channel": channel,
        "kind": kind,
        "key": key,
        "statusId": status,
        "reason": l.reason,
    })
}

fn names(l: &DeadLetter) -> (&str, &str, &str, &str) {
    l.envelope
        .as_ref()
        .map_or(("?", "?", "?", ""), Envelope::names)
}

/// `2026-12-02 10:15 UTC (3 h ago)`.
fn when(at: Option<u64>, now: u64) -> String {
    let Some(at) = at else {
        return "time unknown (moved by SQS)".into();
    };
    let ago = now.saturating_sub(at);
    let ago = match ago {
        0..60 => format!("{ago} s"),
        60..3600 => format!("{} min", ago / 60),
        3600..172_800 => format!("{} h", ago / 3600),
        _ => format!("{} days", ago / 86_400),
    };
    let text = time_text(at as i64);
    format!("{} UTC ({ago} ago)", &text[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_a_person_says_them() {
        let at = 1_764_670_500; // 2025-12-02 10:15 UTC
        assert_eq!(when(Some(at), at + 30), "2025-12-02 10:15 UTC (30 s ago)");
        assert_eq!(
            when(Some(at), at + 3 * 3600 + 5),
            "2025-12-02 10:15 UTC (3 h ago)"
        );
        assert_eq!(
            when(Some(at), at + 9 * 86_400),
            "2025-12-02 10:15 UTC (9 days ago)"
        );
        assert_eq!(when(None, at), "time unknown (moved by SQS)");
    }
}
