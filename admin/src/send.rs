//! Step 4 of `bridge-admin check --send`: one synthetic post per kind (shipment, return,
//! order) for the test contact, through the deployed webhook URL, followed until its
//! delivery is recorded in the state table, it is dead-lettered (Connectif's refusal
//! explained), or the wait runs out.
//!
//! Test posts are marked: their tracking number and references are `BRIDGE-CHECK-<time>`,
//! the customer is the test e-mail (never a real customer) named "Bridge Check".

use crate::clients::Clients;
use crate::probe::{self, Expect, Probe};
use crate::report::Step;
use crate::stack::Stack;
use bridge_core::aws::DynamoState;
use bridge_core::aws::SecretsManagerStore;
use bridge_core::aws::replay;
use bridge_core::channel::{ChannelId, ChannelSettings, Channels};
use bridge_core::customer::Email;
use bridge_core::telemetry::error_chain;
use indicatif::ProgressBar;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `--send` needs besides the clients.
pub struct Send<'a> {
    pub stack: &'a Stack,
    pub channel: &'a ChannelId,
    pub settings: &'a ChannelSettings,
    pub email: &'a Email,
    pub wait: Duration,
    pub spinner: bool,
}

/// The steps of `--send`, and where to look in Connectif when something was delivered.
pub async fn send(clients: &Clients, s: &Send<'_>) -> (Vec<Step>, Option<String>) {
    let (Some(api), Some(prefix)) = (&s.stack.api_url, &s.stack.secret_prefix) else {
        let missing = if s.stack.api_url.is_none() {
            "WebhookApiUrl"
        } else {
            "SecretPrefix"
        };
        let step = Step::fail("send", "webhook URL unknown", s.stack.missing(missing));
        return (vec![step], None);
    };
    let Some(table) = &s.stack.state_table else {
        let why = s.stack.missing("StateTableName");
        return (vec![Step::fail("send", "state table unknown", why)], None);
    };
    let store = SecretsManagerStore::new(clients.secrets.clone(), prefix);
    let auth = Channels::new(Arc::new(store), Duration::from_secs(300), Duration::ZERO);
    let mut probes = probe::all(s.settings, s.email);
    for p in &mut probes {
        p.plan(&auth, s.channel).await;
        p.post(&clients.http, api, s.channel).await;
    }
    let state = DynamoState::new(
        bridge_core::aws::table::Table::new(clients.dynamo.clone(), table.as_str()),
        Duration::ZERO,
    );
    follow(clients, s, &state, &mut probes).await;
    let delivered = probes.iter().any(|p| p.step.as_ref().is_some_and(|s| s.ok));
    let steps = probes.into_iter().filter_map(|p| p.step).collect();
    let where_ = delivered.then(|| {
        format!(
            "See the test events in Connectif: Contacts > {} > Activity",
            s.email.as_str()
        )
    });
    (steps, where_)
}

/// Wait until every probe expecting a delivery is delivered or dead-lettered, or `wait`
/// has passed.
async fn follow(clients: &Clients, s: &Send<'_>, state: &DynamoState, probes: &mut [Probe]) {
    let spinner = if s.spinner {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    spinner.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    loop {
        let waiting: Vec<&str> = probes
            .iter()
            .filter(|p| p.step.is_none())
            .map(|p| p.kind)
            .collect();
        if waiting.is_empty() {
            break;
        }
        spinner.set_message(format!(
            "waiting for delivery to Connectif ({}), {} s",
            waiting.join(", "),
            started.elapsed().as_secs()
        ));
        if started.elapsed() >= s.wait {
            for p in probes.iter_mut().filter(|p| p.step.is_none()) {
                p.step = Some(p.timed_out(s.channel, s.wait));
            }
            break;
        }
        for p in probes.iter_mut().filter(|p| p.step.is_none()) {
            if let Expect::Delivery { event_id, .. } = &p.expect {
                match state.delivered(event_id).await {
                    Ok(true) => p.step = Some(p.delivered()),
                    Ok(false) => {}
                    Err(e) => p.step = Some(p.unobservable(&error_chain(&e))),
                }
            }
        }
        dead_letters(clients, s.stack, probes).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    spinner.finish_and_clear();
}

/// Settle the probes whose event is in the dead-letter queue.
async fn dead_letters(clients: &Clients, stack: &Stack, probes: &mut [Probe]) {
    let Some(dlq) = &stack.dead_letter_url else {
        return;
    };
    let Ok(letters) = replay::list(&clients.sqs, dlq).await else {
        return;
    };
    for p in probes.iter_mut().filter(|p| p.step.is_none()) {
        let Expect::Delivery { event_id, .. } = &p.expect else {
            continue;
        };
        let letter = letters
            .iter()
            .find(|l| l.envelope.as_ref().is_some_and(|e| e.event_id == *event_id));
        if let Some(letter) = letter {
            p.step = Some(p.dead_lettered(&letter.reason));
        }
    }
}
