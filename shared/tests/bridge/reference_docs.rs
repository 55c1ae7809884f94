//! The reference tables stay complete: every template parameter and output, every
//! environment variable the functions read, and every field of a channel's secret is named
//! in the documentation (`README.md` and `docs/*.md`). The lists come from the code and the
//! template, never from a second hand-written list: the variables are the ones
//! `Config::from_lookup` asks for, the secret's fields the ones its parser accepts.

use crate::helpers::*;
use bridge_core::channel::{Aliases, ChannelSettings, Endpoints, PreviousKey, Sends};
use bridge_core::config::Config;
use serde::de::DeserializeOwned;
use serde_yaml::Value as Yaml;
use std::sync::Mutex;

/// README.md and every page under docs/.
fn docs() -> String {
    let root = workspace();
    let mut text = std::fs::read_to_string(root.join("README.md")).expect("README");
    if let Ok(pages) = std::fs::read_dir(root.join("docs")) {
        for page in pages
            .flatten()
            .filter(|p| p.path().extension().is_some_and(|e| e == "md"))
        {
            text.push_str(&std::fs::read_to_string(page.path()).expect("docs page"));
        }
    }
    text
}

fn template() -> Yaml {
    let text = std::fs::read_to_string(workspace().join("template.yaml")).expect("template");
    serde_yaml::from_str(&text).expect("template is YAML")
}

fn keys(map: &Yaml) -> Vec<String> {
    let map = map.as_mapping().expect("a mapping");
    map.keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect()
}

/// The fields a type's parser accepts, as its "unknown field" error lists them.
fn fields<T: DeserializeOwned>(extra: &str) -> Vec<String> {
    let json = format!(r#"{{{extra}"zz-not-a-field": 1}}"#);
    let error = serde_json::from_str::<T>(&json)
        .err()
        .expect("an unknown field is refused");
    let error = error.to_string();
    let list = (error.split("expected one of ").nth(1))
        .or_else(|| error.split("expected ").nth(1))
        .expect("the accepted fields");
    let list = list.split(" at line").next().unwrap_or(list);
    list.split(", ")
        .flat_map(|f| f.split(" or "))
        .map(|f| f.trim().trim_matches('`').to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

#[test]
fn every_template_parameter_and_output_is_documented() {
    let (template, docs) = (template(), docs());
    let mut missing = Vec::new();
    for section in ["Parameters", "Outputs"] {
        for name in keys(&template[section]) {
            if !docs.contains(&format!("`{name}`")) {
                missing.push(format!("{section}: {name}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in the docs: {missing:#?}");
}

#[test]
fn every_environment_variable_the_functions_read_is_documented() {
    let asked = Mutex::new(Vec::new());
    let _ = Config::from_lookup(|name| {
        asked.lock().expect("names").push(name.to_owned());
        None
    });
    let mut names = asked.into_inner().expect("names");
    // Read outside the configuration: the metrics' namespace and the log level.
    names.extend(["METRICS_NAMESPACE".to_owned(), "RUST_LOG".to_owned()]);
    let docs = docs();
    let missing: Vec<_> = (names.iter())
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(names.len() > 20, "{names:?}");
    assert!(missing.is_empty(), "not in the docs: {missing:?}");
}

#[test]
fn every_field_of_a_channels_secret_is_documented() {
    let docs = docs();
    let rows: Vec<&str> = docs.lines().filter(|l| l.starts_with('|')).collect();
    let documented = |parent: &str, field: &str| {
        let whole = format!("`{parent}{field}`");
        let short = format!("`.{field}`");
        // An object is documented by its fields (`send.shipments`).
        let object = format!("`{parent}{field}.");
        rows.iter().any(|row| {
            let sibling =
                !parent.is_empty() && row.contains(&format!("`{parent}")) && row.contains(&short);
            row.contains(&whole) || row.contains(&object) || sibling
        })
    };
    let connectif_api = r#""mode": "api", "#;
    let groups: [(&str, Vec<String>); 7] = [
        ("", fields::<ChannelSettings>("")),
        ("aliases.", fields::<Aliases>("")),
        ("connectif.endpoints.", fields::<Endpoints>("")),
        (
            "connectif.",
            fields::<bridge_core::channel::ConnectifSettings>(connectif_api),
        ),
        ("qaplaApiKeyPrevious.", fields::<PreviousKey>("")),
        ("send.", fields::<Sends>("")),
        ("connectif.", vec!["mode".to_owned()]),
    ];
    let mut missing = Vec::new();
    for (parent, fields) in &groups {
        assert!(!fields.is_empty(), "{parent}");
        for field in fields {
            if !documented(parent, field) {
                missing.push(format!("{parent}{field}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "secret fields not in the docs' tables: {missing:?}"
    );
}
