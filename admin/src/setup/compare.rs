//! The manual steps when Connectif's API does not answer as documented (how an event type
//! compares with what the bridge sends is `doctor`'s, shared).

use super::events::{Plan, Wanted};
use crate::doctor::connectif::describe;

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
