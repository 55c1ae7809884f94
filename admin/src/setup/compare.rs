//! How an event type in Connectif compares with what the bridge sends, and the manual steps
//! when Connectif's API does not answer as documented.

use super::events::{Plan, Wanted};
use crate::connectif::EventType;
use bridge_core::connectif::schema::FieldDef;

/// What `have` lacks of `want`, and how it differs (type, required, primary key, context, or
/// a required field the bridge never sends).
pub fn compare(have: &EventType, want: &EventType) -> (Vec<FieldDef>, Vec<String>) {
    let mut missing = Vec::new();
    let mut differences = Vec::new();
    if have.receive_type != want.receive_type {
        differences.push(format!(
            "its context is `{}`, the channel sends through `{}`",
            have.receive_type, want.receive_type
        ));
    }
    for w in &want.fields {
        match have.fields.iter().find(|h| h.id == w.id) {
            None => missing.push(w.clone()),
            Some(h) if !h.fits(w) => differences.push(format!(
                "`{}` is {}, the bridge needs {}",
                w.id,
                describe(h),
                describe(w)
            )),
            Some(_) => {}
        }
    }
    for h in have.fields.iter().filter(|h| h.required) {
        if want.fields.iter().all(|w| w.id != h.id) {
            differences.push(format!(
                "`{}` is required but the bridge never sends it (every event would be refused)",
                h.id
            ));
        }
    }
    (missing, differences)
}

pub fn describe(f: &FieldDef) -> String {
    let required = if f.required {
        ", required"
    } else {
        ", optional"
    };
    let key = if f.is_primary_key { ", primary key" } else { "" };
    format!("{}{required}{key}", f.kind.label())
}

pub fn manual_integration(name: &str) -> String {
    format!(
        "Connectif's API did not answer as documented (docs/connectif.md, \"What setup calls\"); by hand: Store settings > Integrations > Customized integrations (webhook) > Create New Integration, named \"{name}\"; then run setup again (it finds it)"
    )
}

/// The manual steps for `wanted`'s events (docs/connectif.md, "By hand").
pub fn manual_events(plan: &Plan<'_>, wanted: &[Wanted]) -> String {
    let context = if plan.receive_type == "api" {
        "Public API"
    } else {
        "Webhook"
    };
    let mut text = format!(
        "Connectif did not answer as documented; create these by hand in Integrations > \"{}\" > Receive Data > Create New Reception Event (context: {context}), then run setup again (it finds them):",
        plan.integration
    );
    for w in wanted {
        let fields: Vec<String> = w
            .fields()
            .iter()
            .map(|f| format!("{} (\"{}\", {})", f.id, f.name, describe(f)))
            .collect();
        text.push_str(&format!("\n      `{}`: {}", w.alias, fields.join(", ")));
    }
    text
}

/// The panel steps that add `missing` to the event `alias` (Connectif documents no update of
/// an event type: `setup` never changes one).
pub fn add_by_hand(integration: &str, alias: &str, missing: &[FieldDef]) -> String {
    let fields: Vec<String> = missing
        .iter()
        .map(|f| format!("ID `{}`, name \"{}\", {}", f.id, f.name, describe(f)))
        .collect();
    format!(
        "in Connectif, Integrations > \"{integration}\" > Receive Data > `{alias}` > Add a New Field, for each: {}; then run setup again (`bridge-admin doctor` and `check` fail until they exist)",
        fields.join("; ")
    )
}
