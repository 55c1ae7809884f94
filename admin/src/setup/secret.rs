//! Step 4: the channel's secret — read as it is, shown without keys, the difference shown
//! before an existing one is changed, written in the stack's region.

use super::ask::Asker;
use crate::report::{Report, Step};
use aws_sdk_secretsmanager::Client;
use bridge_core::telemetry::error_chain;
use serde_json::Value;
use std::collections::BTreeMap;

/// The secret's JSON, `None` when it does not exist.
pub async fn read(secrets: &Client, name: &str) -> Result<Option<Value>, String> {
    match secrets.get_secret_value().secret_id(name).send().await {
        Ok(answer) => {
            let text = answer.secret_string().unwrap_or_default();
            serde_json::from_str(text)
                .map(Some)
                .map_err(|_| format!("{name} is not JSON: fix or delete it, then run setup again"))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!("{name} not readable: {}", error_chain(&e))),
    }
}

/// The secret `setup` is about to write.
pub struct Change<'a> {
    pub name: &'a str,
    /// Its JSON now, if it exists.
    pub old: Option<&'a Value>,
    pub new: &'a Value,
    pub dry_run: bool,
}

/// Step 4: show the change (the whole secret, keys hidden, when new), confirm, write.
/// `Ok(false)`: not written and `setup` stops (the user said no).
pub async fn step(
    secrets: &Client,
    change: Change<'_>,
    asker: &Asker,
    report: &mut Report,
) -> Result<bool, String> {
    const NAME: &str = "secret";
    let name = change.name;
    let lines = match change.old {
        Some(old) => diff(old, change.new),
        None => shown(change.new),
    };
    if change.old.is_some() && lines.is_empty() {
        report.steps.push(Step::pass(
            NAME,
            format!("{name} already holds these settings: unchanged"),
        ));
        return Ok(true);
    }
    let verb = if change.old.is_some() {
        "update"
    } else {
        "create"
    };
    let detail = format!("{verb} {name}:\n{}", lines.join("\n"));
    if change.dry_run {
        report
            .steps
            .push(Step::skipped(NAME, format!("would {detail}")));
        return Ok(true);
    }
    if asker.interactive {
        eprintln!("The secret {name} will change:\n{}", lines.join("\n"));
        if !asker.confirm(&format!("{verb} it?"))? {
            report.steps.push(Step::fail(
                NAME,
                format!("{name}: not written (you said no)"),
                "run setup again when the settings are right",
            ));
            return Ok(false);
        }
    }
    write(secrets, name, &change.new.to_string(), change.old.is_some()).await?;
    report.steps.push(Step::pass(
        NAME,
        format!("{verb}d {name}:\n{}", lines.join("\n")),
    ));
    Ok(true)
}

/// Create the secret, or put a new value in the existing one.
pub async fn write(secrets: &Client, name: &str, text: &str, exists: bool) -> Result<(), String> {
    let done = if exists {
        secrets
            .put_secret_value()
            .secret_id(name)
            .secret_string(text)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_chain(&e))
    } else {
        secrets
            .create_secret()
            .name(name)
            .description("Qapla' → Connectif bridge: one channel's settings (bridge-admin setup)")
            .secret_string(text)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_chain(&e))
    };
    done.map_err(|e| format!("{name} not written: {e}"))
}

/// Whether a setting is a key, or an Endpoint URL (the URL is the secret): never shown.
fn hidden(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with("apikey")
        || path.ends_with("qaplaApiKeyPrevious.key")
        || path.starts_with("connectif.endpoints.")
}

/// Every setting as `path = value`, keys hidden.
fn flatten(value: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let inner = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(v, &inner, out);
            }
        }
        _ if hidden(path) => {
            let shown = match value.as_str() {
                Some(text) => format!("<hidden, {} characters>", text.chars().count()),
                None => "<hidden>".to_owned(),
            };
            out.insert(path.to_owned(), shown);
        }
        _ => {
            out.insert(path.to_owned(), value.to_string());
        }
    }
}

/// The settings as lines `path = value`, keys hidden: what a new secret will hold.
pub fn shown(value: &Value) -> Vec<String> {
    let mut flat = BTreeMap::new();
    flatten(value, "", &mut flat);
    flat.into_iter()
        .map(|(k, v)| format!("  {k} = {v}"))
        .collect()
}

/// The changes from `old` to `new`, one line each (`+` added, `-` removed, `~` changed;
/// a changed key is only said to have changed). Empty when nothing changes.
pub fn diff(old: &Value, new: &Value) -> Vec<String> {
    let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
    flatten(old, "", &mut before);
    flatten(new, "", &mut after);
    let raw = |v: &Value, path: &str| -> Option<Value> {
        path.split('.').try_fold(v, |v, k| v.get(k)).cloned()
    };
    let mut lines = Vec::new();
    for (path, value) in &after {
        match before.get(path) {
            None => lines.push(format!("  + {path} = {value}")),
            Some(_) if raw(old, path) == raw(new, path) => {}
            Some(_) if hidden(path) => lines.push(format!("  ~ {path}: changed")),
            Some(was) => lines.push(format!("  ~ {path}: {was} → {value}")),
        }
    }
    for (path, value) in &before {
        if !after.contains_key(path) {
            lines.push(format!("  - {path} = {value}"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_and_endpoint_urls_are_never_shown_and_a_change_says_what() {
        let old = json!({ "qaplaApiKey": "k-old-1234", "language": "it",
            "connectif": { "mode": "endpoint", "endpoints": { "shipment": "https://w.example/secret-1" } } });
        let new = json!({ "qaplaApiKey": "k-new-5678", "language": "es", "trackingUrlSource": "qapla",
            "connectif": { "mode": "endpoint", "endpoints": { "shipment": "https://w.example/secret-1" } } });
        let lines = diff(&old, &new).join("\n");
        assert_eq!(
            lines,
            "  ~ language: \"it\" → \"es\"\n  ~ qaplaApiKey: changed\n  + trackingUrlSource = \"qapla\""
        );
        let all = shown(&new).join("\n");
        assert!(
            all.contains("qaplaApiKey = <hidden, 10 characters>"),
            "{all}"
        );
        assert!(
            all.contains("connectif.endpoints.shipment = <hidden"),
            "{all}"
        );
        assert!(!all.contains("k-new") && !all.contains("secret-1"), "{all}");
        assert!(diff(&new, &new).is_empty());
    }
}
