//! `bridge-admin check <channel>`: does the channel work, end to end? Each step names what
//! is wrong and the fix; nothing secret is printed. Its Connectif steps are `doctor`'s.

use crate::clients::Clients;
use crate::connectif::ConnectifAdmin;
use crate::health::{alarms, dead_letters, queue, routes};
use crate::report::{Report, Step};
use crate::stack::Stack;
use bridge_core::aws::SecretsManagerStore;
use bridge_core::channel::StoreError;
use bridge_core::channel::{ChannelId, ChannelSettings, ChannelStore, ConnectifSettings};
use bridge_core::customer::Email;
use bridge_core::qapla::api::{ApiError, QaplaApi};
use bridge_core::telemetry::error_chain;
use std::time::Duration;

/// With `--send`: the test contact, how long to wait for deliveries, and whether to show
/// a spinner meanwhile.
pub struct SendOptions {
    pub email: Email,
    pub wait: Duration,
    pub spinner: bool,
}

pub async fn check(
    clients: &Clients,
    stack: &Stack,
    channel: &ChannelId,
    send: Option<SendOptions>,
) -> Report {
    let mut report = Report::default();
    let settings = secret(clients, stack, channel, &mut report).await;
    if let Some(settings) = &settings {
        report.steps.push(qapla_key(&clients.qapla, settings).await);
        report
            .steps
            .extend(reception_events(clients, settings).await);
    }
    report.steps.push(Step::skipped(
        "qapla connector",
        "whether Qapla's own Connectif connector still sends cannot be seen from here (it posts to Connectif directly; Connectif documents no read of a contact's events): it must be off in every channel the bridge serves (docs/migrating.md)",
    ));
    report.steps.push(routes(clients, stack).await);
    report.steps.push(queue(clients, stack).await);
    report.steps.push(dead_letters(clients, stack).await);
    report.steps.push(alarms(clients, stack).await);
    match (send, &settings) {
        (Some(options), Some(settings)) => {
            let send = crate::send::Send {
                stack,
                channel,
                settings,
                email: &options.email,
                wait: options.wait,
                spinner: options.spinner,
            };
            let (steps, where_) = crate::send::send(clients, &send).await;
            report.steps.extend(steps);
            report.notes.extend(where_);
        }
        (Some(_), None) => report.steps.push(Step::fail(
            "send",
            "not sent: the channel's secret is not usable",
            "fix the secret first (step \"secret\")",
        )),
        (None, _) => {}
    }
    report
}

/// Step 1: the channel's secret exists, parses, and names every required field.
async fn secret(
    clients: &Clients,
    stack: &Stack,
    channel: &ChannelId,
    report: &mut Report,
) -> Option<ChannelSettings> {
    const NAME: &str = "secret";
    let prefix = match stack.need(&stack.secret_prefix, "SecretPrefix") {
        Ok(prefix) => prefix,
        Err(why) => {
            report
                .steps
                .push(Step::fail(NAME, "secret prefix unknown", why));
            return None;
        }
    };
    let store = SecretsManagerStore::new(clients.secrets.clone(), prefix);
    let name = store.secret_name(channel);
    let step = match store.load(channel).await {
        Ok(Some(settings)) => {
            let mode = match settings.connectif {
                ConnectifSettings::Api { .. } => "Connectif Public API",
                ConnectifSettings::Endpoint { .. } => "Connectif Endpoint URLs",
            };
            report.steps.push(Step::pass(
                NAME,
                format!("{name} is readable and complete ({mode})"),
            ));
            return Some(settings);
        }
        Ok(None) => Step::fail(
            NAME,
            format!("{name} does not exist"),
            format!(
                "create it with `bridge-admin setup {channel}`, or by hand (docs/configuration.md): aws secretsmanager create-secret --name {name} --secret-string file://{channel}.json"
            ),
        ),
        Err(StoreError::Invalid(e)) => Step::fail(
            NAME,
            format!("{name}: field `{}`: {}", e.field, e.problem),
            format!(
                "correct `{}` in the secret {name} (docs/configuration.md lists every field), or run `bridge-admin setup`",
                e.field
            ),
        ),
        Err(e) => Step::fail(
            NAME,
            format!("{name} not readable: {}", error_chain(&e)),
            format!(
                "use credentials and a region that may read secrets under {prefix}/ (secretsmanager:GetSecretValue)"
            ),
        ),
    };
    report.steps.push(step);
    None
}

/// Step 2: Qapla' accepts the channel's key (`getChannel`).
async fn qapla_key(api: &QaplaApi, settings: &ChannelSettings) -> Step {
    const NAME: &str = "qapla key";
    let base = &settings.qapla_api_base_url;
    match api.get_channel(base, &settings.qapla_api_key).await {
        Ok(channel) => {
            let name = channel
                .name
                .map(|n| format!(" (channel \"{n}\")"))
                .unwrap_or_default();
            Step::pass(NAME, format!("Qapla' accepts the key{name}"))
        }
        Err(e @ (ApiError::Ko { .. } | ApiError::Refused { .. })) => Step::fail(
            NAME,
            format!("Qapla' refuses the key: {e}"),
            "copy the channel's private API key (Qapla' panel > Channels > the channel > API key) into `qaplaApiKey` of the secret",
        ),
        Err(e @ (ApiError::Unreachable(_) | ApiError::Busy { .. })) => Step::fail(
            NAME,
            format!("Qapla' not reachable: {e}"),
            format!(
                "Qapla' is down or not reachable from here ({base}): check the network, then run the check again"
            ),
        ),
        Err(e @ ApiError::Unreadable { .. }) => Step::fail(
            NAME,
            e.to_string(),
            "point `qaplaApiBaseUrl` at Qapla's API (https://api.qapla.it/1.3) or remove it for the default",
        ),
    }
}

/// Step 3 (Public API channels): each reception event the channel uses exists in Connectif
/// with the fields the bridge sends (`doctor`'s Connectif checks). A channel delivering to
/// Endpoint URLs has no API key to ask with: `bridge-admin doctor --connectif-key` does.
async fn reception_events(clients: &Clients, settings: &ChannelSettings) -> Vec<Step> {
    let ConnectifSettings::Api { api_key, base_url } = &settings.connectif else {
        return Vec::new();
    };
    let admin = ConnectifAdmin::new(clients.http.clone(), base_url, api_key.clone());
    let wanted = crate::doctor::connectif::wanted(settings);
    crate::doctor::connectif::checks(&admin, "api", &wanted).await
}
