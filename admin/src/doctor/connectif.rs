//! The Connectif half of `doctor`: the integration and each reception event a channel uses,
//! listed and read back through the documented calls, compared field by field with what the
//! bridge sends. `setup` compares with the same functions.

use crate::connectif::{ConnectifAdmin, EventType, Integration, Unexpected};
use crate::report::Step;
use bridge_core::channel::{ChannelSettings, ExtraField, ReturnShipments};
use bridge_core::connectif::Reception;
use bridge_core::connectif::schema::{self, FieldDef};

/// A reception event the channel uses, under its alias.
pub struct Wanted {
    pub reception: Reception,
    pub alias: String,
    /// The opt-in fields the channel adds (`extraFields`).
    pub extras: Vec<ExtraField>,
}

impl Wanted {
    /// The fields Connectif must define for it.
    pub fn fields(&self) -> Vec<FieldDef> {
        schema::fields_with(self.reception, &self.extras)
    }
}

/// The reception events `settings` send to.
pub fn wanted(settings: &ChannelSettings) -> Vec<Wanted> {
    let send = settings.send;
    let used = [
        (Reception::ShipmentStatus, send.shipments),
        (
            Reception::ReturnStatus,
            send.shipments && settings.return_shipments == ReturnShipments::Separate,
        ),
        (Reception::ReturnRequest, send.returns),
        (Reception::OrderShipped, send.orders),
        (Reception::ShipmentHistory, send.shipments),
        (
            Reception::ParcelStalled,
            send.shipments && settings.stalls.is_some(),
        ),
        (
            Reception::ParcelRelease,
            send.shipments && settings.release_links.is_some(),
        ),
    ];
    used.into_iter()
        .filter(|(_, used)| *used)
        .map(|(reception, _)| {
            let mut extras = settings.extra_fields.clone();
            // A held parcel's link: on its live status event only.
            if reception == Reception::ShipmentStatus && settings.release_links.is_some() {
                extras.push(ExtraField::ReleaseUrl);
            }
            Wanted {
                reception,
                alias: settings.aliases.get(reception).to_owned(),
                extras,
            }
        })
        .collect()
}

/// What `have` lacks of `want`, and how its fields differ (type, required, primary key, or a
/// required field the bridge never sends); its context is [`context`]'s.
pub fn compare(have: &EventType, want: &EventType) -> (Vec<FieldDef>, Vec<String>) {
    let mut missing = Vec::new();
    let mut differences = Vec::new();
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
    let key = if f.is_primary_key {
        ", primary key"
    } else {
        ""
    };
    format!("{}{required}{key}", f.kind.label())
}

/// The panel steps that add `missing` to the event `alias` (Connectif documents no update of
/// an event type: the bridge never changes one).
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

/// The event type the bridge needs for `w`, in the context `receive_type`.
pub fn definition(w: &Wanted, receive_type: &str) -> EventType {
    EventType {
        id: String::new(),
        name: format!("Qapla' {}", w.alias),
        alias: w.alias.clone(),
        category: "receive".into(),
        receive_type: receive_type.into(),
        fields: w.fields(),
        endpoint_url: None,
    }
}

/// Every check of the Connectif account: the integration list, each integration's event
/// list, and each wanted event found by its alias (unique in an account, in whichever
/// integration holds it), read back by id and compared.
pub async fn checks(admin: &ConnectifAdmin, receive_type: &str, wanted: &[Wanted]) -> Vec<Step> {
    let mut steps = Vec::new();
    let integrations = match admin.integrations().await {
        Ok(list) => list,
        Err(e) => return vec![differs("connectif integrations", &e)],
    };
    steps.push(Step::pass(
        "connectif integrations",
        format!(
            "GET /custom-integrations/: {} listed, as documented ({{links, results}}, paged)",
            integrations.len()
        ),
    ));
    let types = match account(admin, &integrations).await {
        Ok(types) => types,
        Err(e) => {
            steps.push(differs("connectif reception events", &e));
            return steps;
        }
    };
    steps.push(Step::pass(
        "connectif reception events",
        format!(
            "{} event types listed in {} integrations",
            types.len(),
            integrations.len()
        ),
    ));
    for w in wanted {
        steps.extend(event(admin, &types, &definition(w, receive_type)).await);
    }
    steps
}

/// Every event type of the account, with the integration that holds it (aliases are unique
/// in an account: a shop on Qapla's own connector has `order-status-change` in another).
pub async fn account(
    admin: &ConnectifAdmin,
    integrations: &[Integration],
) -> Result<Vec<(Integration, EventType)>, Unexpected> {
    let mut types = Vec::new();
    for integration in integrations {
        let list = admin.event_types(&integration.id).await?;
        types.extend(list.into_iter().map(|t| (integration.clone(), t)));
    }
    Ok(types)
}

/// One wanted event: in a list, read back by id, and fit for what the bridge sends.
async fn event(
    admin: &ConnectifAdmin,
    listed: &[(Integration, EventType)],
    want: &EventType,
) -> Vec<Step> {
    const NAME: &str = "connectif reception event";
    let alias = &want.alias;
    let Some((integration, have)) = listed.iter().find(|(_, t)| &t.alias == alias) else {
        return vec![Step::fail(
            NAME,
            format!("`{alias}` is in no integration of the account"),
            "run `bridge-admin setup <channel>` (it creates it)",
        )];
    };
    let read = match admin.event_type(&integration.id, &have.id).await {
        Ok(read) => read,
        Err(e) => return vec![differs(NAME, &e)],
    };
    let name = &integration.name;
    let unfit = misfits(NAME, name, &read, want);
    if !unfit.is_empty() {
        return unfit;
    }
    let n = want.fields.len();
    vec![Step::pass(
        NAME,
        format!("`{alias}` (in \"{name}\"): read back by id, the bridge's {n} fields"),
    )]
}

/// How `have`'s context differs from the one the channel sends through, if it does: a
/// Public API event takes no post to an Endpoint URL, nor the reverse.
pub fn context(have: &EventType, want: &EventType) -> Option<String> {
    (have.receive_type != want.receive_type).then(|| {
        format!(
            "its context is `{}`, the channel sends through `{}`",
            have.receive_type, want.receive_type
        )
    })
}

/// What keeps `have` (in the integration `integration`) from taking what the bridge sends
/// for `want`, a failed step each with its panel fix: fields that differ, fields it lacks.
/// Empty when it fits. Nothing is ever retyped or deleted, and Connectif documents no update
/// of an event type: fixes are the panel's.
pub fn misfits(
    name: &'static str,
    integration: &str,
    have: &EventType,
    want: &EventType,
) -> Vec<Step> {
    let alias = &want.alias;
    let (missing, differences) = compare(have, want);
    let mut steps = Vec::new();
    if let Some(context) = context(have, want) {
        // Qapla's own connector posts to an Endpoint URL: its event is of the webhook context.
        let fix = match have.receive_type.as_str() {
            "webhook" => format!(
                "the bridge can deliver to this event through its Endpoint URL (Connectif shows it on the event's page; Qapla's own connector uses the same one): run setup with `--mode endpoint` and `--endpoint <setting>=<that URL>` for `{alias}` (docs/migrating.md), or give the bridge's events aliases of their own (`aliases` in the secret)"
            ),
            _ => format!(
                "run setup with `--mode api` (this event takes the Public API), or give the bridge's events aliases of their own (`aliases` in the secret); nothing is changed in \"{integration}\""
            ),
        };
        steps.push(Step::fail(
            name,
            format!("`{alias}` (in \"{integration}\"): {context}"),
            fix,
        ));
    }
    if !differences.is_empty() {
        steps.push(Step::fail(
            name,
            format!("`{alias}` differs: {}", differences.join("; ")),
            format!("change it in Connectif (Integrations > \"{integration}\" > Receive Data > `{alias}`) to the fields in docs/connectif.md (the primary key is the Email field, marked required and primary key); the bridge never retypes or deletes a field"),
        ));
    }
    if !missing.is_empty() {
        let detail = format!(
            "`{alias}` lacks {} of the fields the bridge sends: every event would be refused",
            missing.len()
        );
        steps.push(Step::fail(
            name,
            detail,
            add_by_hand(integration, alias, &missing),
        ));
    }
    steps
}

/// A call whose answer is not the documented one: the call, what came back, what to do.
pub fn differs(name: &'static str, e: &Unexpected) -> Step {
    let detail = format!("expected the documented answer, found: {e}");
    let fix = match e.answer.get(..8) {
        Some("HTTP 401") => {
            "Connectif refuses the API key: use a key from Store settings > API and Access IPs > API Keys (`keyId:keySecret`)"
        }
        Some("HTTP 403") => {
            "the API key lacks a permission: give it read and write access to integrations and custom events (docs/connectif.md, \"The Connectif API key\")"
        }
        _ => {
            "Connectif did not answer as its reference pages document: the steps by hand are in docs/connectif.md (\"In Connectif, step by step\"); report the call and the answer (docs/contracts.md, \"When a live answer differs\")"
        }
    };
    Step::fail(name, detail, fix)
}

/// `contactFields`: the bridge's three contact fields exist with their types (`GET
/// /contact-fields/`, read-only).
pub async fn contact_fields(admin: &ConnectifAdmin, channel: &str) -> Step {
    use bridge_core::connectif::contact::FIELDS;
    const NAME: &str = "connectif contact fields";
    let have = match admin.contact_fields().await {
        Ok(have) => have,
        Err(e) => {
            let fix = "Connectif did not list the contact fields as documented: report the call and the answer (docs/contracts.md)";
            return Step::fail(NAME, format!("Connectif answered unexpectedly: {e}"), fix);
        }
    };
    let mut wrong = Vec::new();
    for field in FIELDS {
        match have.iter().find(|h| h.id == field.id) {
            Some(h) if h.kind == field.kind => {}
            Some(h) => wrong.push(format!("`{}` is {}, not {}", field.id, h.kind, field.kind)),
            None => wrong.push(format!("`{}` ({}) is missing", field.id, field.kind)),
        }
    }
    if wrong.is_empty() {
        let ids: Vec<&str> = FIELDS.iter().map(|f| f.id).collect();
        return Step::pass(NAME, format!("{} exist with their types", ids.join(", ")));
    }
    let fix = format!(
        "run `bridge-admin setup {channel} --contact-fields` (it creates what is missing; a field of another type must be deleted in Connectif first): until then every contact update is refused and dead-lettered"
    );
    Step::fail(NAME, wrong.join("; "), fix)
}
