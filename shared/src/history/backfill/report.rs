//! A run's report: one CSV line per status it could not send, with the reason. No customer
//! data: tracking number, order reference, status and time only. The stack keeps it in the
//! state table, one part per window that had failures (`backfill-report#<channel>#<run>#<n>`,
//! expiring after [`KEPT_DAYS`]); `bridge-admin backfill --report RUN` joins the parts.

use super::runs::{Run, RunStore};
use crate::history::Failure;

pub const HEADER: &str = "tracking_number,reference,status_id,status_time,reason";
/// How long the stack keeps a run's report.
pub const KEPT_DAYS: u64 = 90;
/// A part's text stays under DynamoDB's 400 KB item limit: lines past this are counted.
const PART_BYTES: usize = 350_000;

/// The CSV lines of `failures` (no header).
pub fn lines(failures: &[Failure]) -> String {
    let mut text = String::new();
    for f in failures {
        let fields = [
            &f.tracking_number,
            &f.reference,
            &f.status_id,
            &f.status_at,
            &f.reason,
        ];
        let line: Vec<String> = fields.iter().map(|v| field(v)).collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    text
}

/// RFC 4180: quoted when it holds a comma, a quote or a line break; a leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
fn field(value: &str) -> String {
    let value = match value.starts_with(['=', '+', '-', '@']) {
        true => format!("'{value}"),
        false => value.to_owned(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// Store `failures` as the run's next part (the part number is the run's `report_parts`, so
/// a window done again after a crash writes the same part again). Counts the part in `run`.
pub async fn keep(store: &dyn RunStore, run: &mut Run, failures: &[Failure]) -> Result<(), String> {
    if failures.is_empty() {
        return Ok(());
    }
    let mut text = lines(failures);
    if text.len() > PART_BYTES {
        let cut = text[..PART_BYTES].rfind('\n').map_or(0, |i| i + 1);
        let left = text[cut..].lines().count();
        text.truncate(cut);
        text.push_str(&format!(",,,,{left} more lines of this window not kept\n"));
    }
    store
        .keep_part(&run.channel, run.id(), run.report_parts, &text)
        .await?;
    run.report_parts += 1;
    Ok(())
}

/// The run's whole report, header first (`None`: the stack no longer has a part of it).
pub async fn fetch(store: &dyn RunStore, run: &Run) -> Result<Option<String>, String> {
    let Some(parts) = store
        .parts(&run.channel, run.id(), run.report_parts)
        .await?
    else {
        return Ok(None);
    };
    let mut text = format!("{HEADER}\n");
    for part in parts {
        text.push_str(&part);
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("580104809"), "580104809");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
