//! The report of the statuses a backfill could not send: one CSV line each, with the
//! reason. No customer data: tracking number, order reference, status and time only.

use bridge_core::history::Failure;
use std::io::Write;

const HEADER: &str = "tracking_number,reference,status_id,status_time,reason";

/// Append `failures` to the CSV at `path` (created with its header when new).
pub fn append(path: &str, failures: &[Failure]) -> std::io::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let new = !std::path::Path::new(path).exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    if new {
        text.push_str(HEADER);
        text.push('\n');
    }
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
    file.write_all(text.as_bytes())
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
