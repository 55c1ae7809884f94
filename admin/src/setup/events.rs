//! Step 3: the Connectif integration and each reception event the channel will use, with
//! exactly the fields the bridge sends (`bridge_core::connectif::schema`). What exists is
//! compared field by field: what is missing or differs is reported with the panel steps
//! (Connectif documents no update of an event type), nothing is deleted or retyped. Every
//! creation is read back; an answer that is not what was asked for stops `setup` with the
//! manual steps for what is left.

use super::compare::{manual_events, manual_integration};
use crate::connectif::{ConnectifAdmin, EventType, Integration, Unexpected};
use crate::doctor::connectif::{account, compare, context, misfits};
use crate::report::{Report, Step};
use bridge_core::connectif::Reception;

pub use crate::doctor::connectif::{Wanted, definition};

/// `setup`'s view of Connectif for this run.
pub struct Plan<'a> {
    pub admin: &'a ConnectifAdmin,
    pub integration: &'a str,
    /// `api` or `webhook`.
    pub receive_type: &'static str,
    pub dry_run: bool,
}

/// The integration's id (`None` in a dry run that would create it), and every integration
/// the account had; `Err` stops `setup`.
pub async fn integration(
    plan: &Plan<'_>,
    report: &mut Report,
) -> Result<(Option<String>, Vec<Integration>), ()> {
    const NAME: &str = "connectif integration";
    let listed = match plan.admin.integrations().await {
        Ok(list) => list,
        Err(e) => {
            return stop(report, NAME, &e, &manual_integration(plan.integration));
        }
    };
    if let Some(found) = listed.iter().find(|i| i.name == plan.integration) {
        report.steps.push(Step::pass(
            NAME,
            format!("\"{}\" exists (id {})", found.name, found.id),
        ));
        return Ok((Some(found.id.clone()), listed));
    }
    if plan.dry_run {
        report.steps.push(Step::skipped(
            NAME,
            format!("would create \"{}\"", plan.integration),
        ));
        return Ok((None, listed));
    }
    match plan.admin.create_integration(plan.integration).await {
        Ok(created) if created.name == plan.integration && !created.id.is_empty() => {
            report.steps.push(Step::pass(
                NAME,
                format!("created \"{}\" (id {})", created.name, created.id),
            ));
            Ok((Some(created.id), listed))
        }
        Ok(other) => {
            let e = Unexpected {
                call: "POST /custom-integrations/".into(),
                answer: format!("an integration named \"{}\"", other.name),
            };
            stop(report, NAME, &e, &manual_integration(plan.integration))
        }
        Err(e) => stop(report, NAME, &e, &manual_integration(plan.integration)),
    }
}

/// Each wanted event created, or found by its alias anywhere in the account (aliases are
/// unique in an account) and compared: reused when it fits; returns the Endpoint URLs the
/// answers carried. `Err` stops `setup` (the report holds the manual steps).
pub async fn events(
    plan: &Plan<'_>,
    (integration, integrations): (Option<&str>, &[Integration]),
    wanted: &[Wanted],
    report: &mut Report,
) -> Result<Vec<(Reception, Option<String>)>, ()> {
    let account = match account(plan.admin, integrations).await {
        Ok(account) => account,
        Err(e) => {
            return stop(report, "reception events", &e, &manual_events(plan, wanted));
        }
    };
    let mut urls = Vec::new();
    for (i, w) in wanted.iter().enumerate() {
        let want = definition(w, plan.receive_type);
        let found = account.iter().find(|(_, e)| e.alias == w.alias);
        let done = match (found, integration) {
            (Some((holder, have)), _) => {
                let own = Some(holder.id.as_str()) == integration;
                complete(&holder.name, own, have, &want, report)
            }
            (None, Some(id)) if !plan.dry_run => create(plan, id, &want, report).await,
            _ => {
                let n = want.fields.len();
                report.steps.push(Step::skipped(
                    "reception event",
                    format!("`{}`: would create it with {n} fields", w.alias),
                ));
                Ok(None)
            }
        };
        match done {
            Ok(url) => urls.push((w.reception, url)),
            Err(()) => {
                let fix = manual_events(plan, &wanted[i..]);
                if let Some(step) = report.steps.last_mut() {
                    step.fix = Some(fix);
                }
                return Err(());
            }
        }
    }
    Ok(urls)
}

async fn create(
    plan: &Plan<'_>,
    integration: &str,
    want: &EventType,
    report: &mut Report,
) -> Result<Option<String>, ()> {
    const NAME: &str = "reception event";
    let created = plan.admin.create_event_type(integration, want).await;
    let read = match created {
        Ok(created) if !created.id.is_empty() => {
            plan.admin.event_type(integration, &created.id).await
        }
        Ok(_) => Err(Unexpected {
            call: "POST custom-event-types".into(),
            answer: "no id in the answer".into(),
        }),
        Err(e) => Err(e),
    };
    let read = read.map_err(|e| {
        report.steps.push(Step::fail(
            NAME,
            format!("`{}`: {e}", want.alias),
            String::new(),
        ))
    })?;
    let (missing, mut differences) = compare(&read, want);
    differences.extend(context(&read, want));
    if !missing.is_empty() || !differences.is_empty() {
        let what = differences
            .into_iter()
            .chain(missing.iter().map(|f| format!("`{}` missing", f.id)));
        let detail = format!(
            "`{}`: read back, it is not what was created: {}",
            want.alias,
            what.collect::<Vec<_>>().join("; ")
        );
        report.steps.push(Step::fail(NAME, detail, String::new()));
        return Err(());
    }
    let n = want.fields.len();
    report.steps.push(Step::pass(
        NAME,
        format!("`{}`: created with {n} fields, read back", want.alias),
    ));
    Ok(read.endpoint_url)
}

/// An existing event compared, in the integration `holder` (the bridge's own, or another:
/// Qapla's own connector's, say): reused as it is when it fits, else each misfit reported.
fn complete(
    holder: &str,
    own: bool,
    have: &EventType,
    want: &EventType,
    report: &mut Report,
) -> Result<Option<String>, ()> {
    let unfit = misfits("reception event", holder, have, want);
    if unfit.is_empty() {
        let (alias, n) = (&want.alias, want.fields.len());
        let detail = match own {
            true => format!("`{alias}`: exists with the bridge's {n} fields"),
            false => format!(
                "`{alias}`: reused from \"{holder}\" (its fields fit the bridge's {n}); setup changes nothing in it"
            ),
        };
        report.steps.push(Step::pass("reception event", detail));
    }
    report.steps.extend(unfit);
    Ok(have.endpoint_url.clone())
}

/// A failed step with the manual steps for what is left: `setup` stops.
fn stop<T>(report: &mut Report, name: &'static str, e: &Unexpected, fix: &str) -> Result<T, ()> {
    let detail = format!("Connectif answered unexpectedly: {e}");
    report.steps.push(Step::fail(name, detail, fix));
    Err(())
}

/// `contactFields`: the bridge's three custom contact fields (`bridge_core::connectif::
/// contact::FIELDS`), created where missing (`POST /contact-fields/`); one that exists with
/// another type is reported with the panel steps, never retyped. `false` stops `setup`.
pub async fn contact_fields(plan: &Plan<'_>, mode: super::Mode, report: &mut Report) -> bool {
    use bridge_core::connectif::contact::FIELDS;
    const NAME: &str = "contact fields";
    let manual = || {
        let rows: Vec<String> = (FIELDS.iter())
            .map(|f| format!("{} ({}, type {})", f.id, f.name, f.kind))
            .collect();
        format!(
            "in Connectif, Contacts > Contact fields > Add new custom field: {}; then run setup again",
            rows.join("; ")
        )
    };
    if mode != super::Mode::Api {
        let fix = "run setup with `--mode api`: contacts are written with the Public API";
        report
            .steps
            .push(Step::fail(NAME, "contactFields needs the api mode", fix));
        return false;
    }
    let have = match plan.admin.contact_fields().await {
        Ok(have) => have,
        Err(e) => return stop::<()>(report, NAME, &e, &manual()).is_ok(),
    };
    // Every misfit first: nothing is created while one stands.
    for field in FIELDS {
        if let Some(h) = have
            .iter()
            .find(|h| h.id == field.id && h.kind != field.kind)
        {
            let detail = format!(
                "`{}` exists as {}, the bridge writes {}",
                field.id, h.kind, field.kind
            );
            let fix = format!(
                "in Connectif, delete the contact field `{}` (or pick another) and run setup again",
                field.id
            );
            report.steps.push(Step::fail(NAME, detail, fix));
            return false;
        }
    }
    let mut done = Vec::new();
    for field in FIELDS {
        match have.iter().find(|h| h.id == field.id) {
            Some(_) => done.push(format!("{} exists", field.id)),
            None if plan.dry_run => done.push(format!("would create {}", field.id)),
            None => match plan.admin.create_contact_field(&field).await {
                Ok(_) => done.push(format!("created {}", field.id)),
                Err(e) => return stop::<()>(report, NAME, &e, &manual()).is_ok(),
            },
        }
    }
    report.steps.push(Step::pass(NAME, done.join("; ")));
    true
}
