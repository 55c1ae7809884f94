//! The reference tables stay complete: every template parameter and output, every
//! environment variable the functions read, and every field of a channel's secret is named
//! in the documentation (`README.md` and `docs/*.md`), the parameters and outputs in the
//! tables of `docs/first-deployment.md`, and the Connectif field tables are the event types'
//! fields (`schema`). The lists come from the code and the
//! template, never from a second hand-written list: the variables are the ones
//! `Config::from_lookup` asks for, the secret's fields the ones its parser accepts.

use crate::helpers::*;
use bridge_core::channel::{
    Aliases, ChannelSettings, Endpoints, PreviousKey, Rules, Sends, Stalls,
};
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
    let groups: [(&str, Vec<String>); 10] = [
        ("", fields::<ChannelSettings>("")),
        ("aliases.", fields::<Aliases>("")),
        ("connectif.endpoints.", fields::<Endpoints>("")),
        (
            "connectif.",
            fields::<bridge_core::channel::ConnectifSettings>(connectif_api),
        ),
        ("qaplaApiKeyPrevious.", fields::<PreviousKey>("")),
        ("send.", fields::<Sends>("")),
        ("rules.", fields::<Rules>("")),
        ("stalls.", fields::<Stalls>("")),
        (
            "releaseLinks.",
            fields::<bridge_core::channel::ReleaseLinks>(""),
        ),
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

/// Every template parameter and output has a row in the tables of the first deployment's
/// page (where a shop reads them), not only a mention somewhere.
#[test]
fn every_parameter_and_output_has_a_row_in_the_first_deployment_page() {
    let page = std::fs::read_to_string(workspace().join("docs/first-deployment.md"))
        .expect("docs/first-deployment.md");
    let rows: Vec<&str> = page.lines().filter(|l| l.starts_with("| `")).collect();
    let template = template();
    let mut missing = Vec::new();
    for section in ["Parameters", "Outputs"] {
        for name in keys(&template[section]) {
            let cell = format!("`{name}`");
            let first = |row: &&&str| row.split('|').nth(1).is_some_and(|c| c.contains(&cell));
            if !rows.iter().any(|row| first(&row)) {
                missing.push(format!("{section}: {name}"));
            }
        }
    }
    assert!(missing.is_empty(), "no row: {missing:#?}");
}

/// The field tables a shop types by hand (docs/connectif.md) are the fields `bridge-admin
/// setup` creates: the same ids, types, required flags and primary key, from the same code.
#[test]
fn the_connectif_field_tables_are_the_event_types_fields() {
    use bridge_core::connectif::Reception;
    use bridge_core::connectif::schema::fields;
    let page =
        std::fs::read_to_string(workspace().join("docs/connectif.md")).expect("docs/connectif.md");
    for (reception, alias) in [
        (Reception::ShipmentStatus, "order-status-change"),
        (Reception::ReturnRequest, "return-request"),
        (Reception::OrderShipped, "order-shipped"),
        (Reception::ParcelStalled, "parcel-stalled"),
        (Reception::ParcelRelease, "parcel-release"),
    ] {
        let heading = format!("### `{alias}`");
        let section = page.split(&heading).nth(1).expect("a section per event");
        let rows: Vec<String> = (section.lines().skip_while(|l| !l.starts_with("| `")))
            .take_while(|l| l.starts_with("| `"))
            .map(|row| {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                let flags = match (cells[3], cells[4]) {
                    ("yes", "**yes**") => " required primary",
                    ("yes", _) => " required",
                    _ => "",
                };
                format!("{} {}{flags}", cells[1].trim_matches('`'), cells[2])
            })
            .collect();
        let code: Vec<String> = (fields(reception).iter())
            .map(|f| {
                let flags = match (f.required, f.is_primary_key) {
                    (true, true) => " required primary",
                    (true, false) => " required",
                    _ => "",
                };
                format!("{} {}{flags}", f.id, f.kind.label())
            })
            .collect();
        let mut sorted = rows.clone();
        sorted.sort();
        assert_eq!(sorted, code, "docs/connectif.md, {alias}");
    }
    for alias in ["return-status-change", "order-status-history"] {
        let section = page
            .split(&format!("### `{alias}`"))
            .nth(1)
            .expect("section");
        assert!(
            section.contains("same nine fields as `order-status-change`"),
            "{alias}"
        );
    }
    assert_eq!(
        fields(Reception::ReturnStatus),
        fields(Reception::ShipmentStatus)
    );
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`.
pub fn anchor(heading: &str) -> String {
    let kept: String = (heading.trim().to_lowercase().chars())
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .collect();
    kept.replace(' ', "-")
}

/// Every relative link of the README and the docs pages reaches a file that exists and, with
/// a `#fragment`, a heading of it: pages moved between files keep their readers.
#[test]
fn every_link_between_the_docs_pages_reaches_a_heading() {
    let root = workspace();
    let mut pages = vec![root.join("README.md")];
    for page in std::fs::read_dir(root.join("docs"))
        .expect("docs")
        .flatten()
    {
        if page.path().extension().is_some_and(|e| e == "md") {
            pages.push(page.path());
        }
    }
    let headings = |path: &std::path::Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut fence = false;
        let mut found = Vec::new();
        for line in text.lines() {
            fence ^= line.starts_with("```");
            if !fence && line.starts_with('#') {
                found.push(anchor(line.trim_start_matches('#')));
            }
        }
        found
    };
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("page");
        for link in text.split("](").skip(1) {
            let target = link.split(')').next().unwrap_or_default();
            if target.starts_with("http") || target.contains(' ') {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let file = match file {
                "" => page.clone(),
                file => page.parent().expect("dir").join(file),
            };
            let missing_file = !file.exists();
            let missing_heading =
                !fragment.is_empty() && !headings(&file).contains(&fragment.to_owned());
            if missing_file || missing_heading {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

/// A release is described before it is tagged: the workspace's version has its section in
/// CHANGELOG.md, with what an upgrade asks of a running installation.
#[test]
fn the_changelog_describes_this_version_and_how_to_upgrade_to_it() {
    let changelog =
        std::fs::read_to_string(workspace().join("CHANGELOG.md")).expect("CHANGELOG.md");
    let heading = format!("## [{}] - ", bridge_core::VERSION);
    let section = changelog.split(&heading).nth(1).unwrap_or_else(|| {
        panic!("CHANGELOG.md has no `{heading}YYYY-MM-DD` section: describe the release")
    });
    let section = section.split("\n## [").next().unwrap_or_default();
    assert!(
        section.contains("### Upgrading"),
        "{heading}: an Upgrading part"
    );
    assert!(changelog.contains("## [Unreleased]"));
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(workspace().join(license).is_file(), "{license}");
    }
}

/// docs/status-labels.md's tables, as the status table in the code makes them: every
/// status and detail in every language, the abbreviations where they differ. A mismatch
/// prints the tables to paste.
#[test]
fn the_status_label_tables_are_the_codes() {
    use bridge_core::mapping::{DETAILS, Language, STATUSES};
    let header = |first: &str| {
        let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
        let head = format!("| {first} | {} |\n", codes.join(" | "));
        let rule = format!("|---|{}\n", "---|".repeat(Language::ALL.len()));
        head + &rule
    };
    let row = |first: String, cells: Vec<&str>| format!("| {first} | {} |\n", cells.join(" | "));
    let mut tables = String::from("Names (`labelStyle: name`):\n\n");
    tables += &header("id · code");
    for s in STATUSES {
        let names = Language::ALL.map(|l| s.names.get(l)).to_vec();
        tables += &row(format!("{} · `{}`", s.id, s.code), names);
    }
    tables += "\nAbbreviations (`labelStyle: abbreviation`; statuses not listed use the name):\n\n";
    tables += &header("id");
    for s in STATUSES {
        let short = Language::ALL.map(|l| match s.abbreviation(l) {
            a if a == s.names.get(l) => "—",
            a => a,
        });
        if short.iter().any(|a| *a != "—") {
            tables += &row(s.id.to_string(), short.to_vec());
        }
    }
    tables += "\nStatus details, appended after ` - ` (`Eccezione - In giacenza`):\n\n";
    tables += &header("detail");
    for d in DETAILS {
        tables += &row(
            d.id.to_string(),
            Language::ALL.map(|l| d.names.get(l)).to_vec(),
        );
    }
    let readme = std::fs::read_to_string(workspace().join("docs/status-labels.md")).expect("page");
    assert!(
        readme.contains(&tables),
        "docs/status-labels.md's tables differ from the code's; they should read:\n\n{tables}"
    );
}

/// The numbers the docs give of the stack are the stack's: its alarms in the sample outputs
/// and the cost table, its functions in a release's list.
#[test]
fn the_docs_count_the_alarms_and_functions_the_stack_has() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("resources");
    let count = |kind: &str| {
        (resources.values())
            .filter(|r| r["Type"].as_str() == Some(kind))
            .count()
    };
    let (alarms, functions) = (
        count("AWS::CloudWatch::Alarm"),
        count("AWS::Serverless::Function"),
    );
    let page = |name: &str| {
        std::fs::read_to_string(workspace().join("docs").join(name)).expect("docs page")
    };
    for name in ["console.md", "first-deployment.md"] {
        let said = format!("✓ alarms: {alarms} alarm(s), none in ALARM");
        assert!(page(name).contains(&said), "docs/{name}: `{said}`");
    }
    let cost = format!("alarms ({alarms} alarm metrics");
    assert!(
        page("operations.md").contains(&cost),
        "docs/operations.md: `{cost}`"
    );
    let zips = format!("`<function>.zip` ×{functions}");
    assert!(
        page("releasing.md").contains(&zips),
        "docs/releasing.md: `{zips}`"
    );
}

/// One spelling of the console on every page, the one both routes have (`make deploy` puts
/// it in `.venv/bin`, the pages say to put that on `PATH`); and the answers the pages give
/// `sam deploy --guided` (Enter each) deploy: `samconfig.toml` makes "no" the default of
/// "Confirm changes before deploy", after which "Deploy this changeset? [y/N]" (where Enter
/// cancels) is never asked.
#[test]
fn the_console_is_spelt_one_way_and_enter_answers_a_guided_deploy() {
    let mut pages = vec![workspace().join("README.md")];
    for entry in std::fs::read_dir(workspace().join("docs")).expect("docs") {
        pages.push(entry.expect("entry").path());
    }
    for page in pages
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let text = std::fs::read_to_string(page).expect("page");
        assert!(
            !text.contains(".venv/bin/bridge-admin"),
            "{page:?}: type `bridge-admin` (with .venv/bin on PATH)"
        );
    }
    let samconfig = std::fs::read_to_string(workspace().join("samconfig.toml")).expect("file");
    let table: toml::Table = toml::from_str(&samconfig).expect("TOML");
    let deploy = &table["default"]["deploy"]["parameters"];
    assert_eq!(
        deploy.get("confirm_changeset").and_then(|v| v.as_bool()),
        Some(false)
    );
}

/// The README is the front door: what the bridge does, the two commands, the first
/// deployment; reference goes to docs/.
#[test]
fn the_readme_stays_a_front_door() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines: move reference to docs/"
    );
}
