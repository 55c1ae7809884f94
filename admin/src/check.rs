//! `bridge-admin check <channel>`: does the channel work, end to end? Each step names what
//! is wrong and the fix; nothing secret is printed.

use crate::report::{Report, Step};
use crate::stack::Stack;
use bridge_core::channel::{ChannelId, ChannelSettings, ChannelStore, ConnectifSettings};
use bridge_core::channel::{SecretsManagerStore, StoreError};
use bridge_core::qapla::api::{ApiError, QaplaApi};
use bridge_core::telemetry::error_chain;

/// The AWS and HTTP clients a check uses.
pub struct Clients {
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub apis: aws_sdk_apigatewayv2::Client,
    pub alarms: aws_sdk_cloudwatch::Client,
    pub qapla: QaplaApi,
}

/// The webhook routes the template creates.
const ROUTES: [&str; 3] = [
    "ANY /qapla/{channel}/shipments",
    "ANY /qapla/{channel}/returns",
    "ANY /qapla/{channel}/orders",
];

pub async fn check(clients: &Clients, stack: &Stack, channel: &ChannelId) -> Report {
    let mut report = Report::default();
    let settings = secret(clients, stack, channel, &mut report).await;
    if let Some(settings) = &settings {
        report.steps.push(qapla_key(&clients.qapla, settings).await);
    }
    report.steps.push(routes(clients, stack).await);
    report.steps.push(queue(clients, stack).await);
    report.steps.push(dead_letters(clients, stack).await);
    report.steps.push(alarms(clients, stack).await);
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
                "create it with the channel's settings (README, \"Channel secret\"): aws secretsmanager create-secret --name {name} --secret-string file://{channel}.json"
            ),
        ),
        Err(StoreError::Invalid(e)) => Step::fail(
            NAME,
            format!("{name}: field `{}`: {}", e.field, e.problem),
            format!(
                "correct `{}` in the secret {name} (README, \"Channel secret\", lists every field)",
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

/// Step 3a: the three webhook routes exist.
async fn routes(clients: &Clients, stack: &Stack) -> Step {
    const NAME: &str = "webhook routes";
    let id = match stack.need(&stack.api_id, "WebhookApiId") {
        Ok(id) => id,
        Err(why) => return Step::fail(NAME, "API id unknown", why),
    };
    let answer = clients.apis.get_routes().api_id(id).send().await;
    let found: Vec<String> = match answer {
        Ok(out) => out
            .items()
            .iter()
            .filter_map(|r| r.route_key().map(str::to_owned))
            .collect(),
        Err(e) => {
            return Step::fail(
                NAME,
                format!("API {id} not readable: {}", error_chain(&e)),
                "use credentials and a region that may read the stack's API (apigateway:GET)",
            );
        }
    };
    let missing: Vec<&str> = ROUTES
        .into_iter()
        .filter(|r| !found.iter().any(|f| f == r))
        .collect();
    if missing.is_empty() {
        Step::pass(NAME, "shipments, returns and orders routes exist")
    } else {
        Step::fail(
            NAME,
            format!("missing: {}", missing.join(", ")),
            "redeploy the stack (sam deploy): the routes are part of the template",
        )
    }
}

/// How many messages a queue holds, or why it cannot be read.
async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<u64, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let answer = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    let count = answer
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|v| v.parse().ok());
    Ok(count.unwrap_or(0))
}

/// Step 3b: the hand-off queue is reachable.
async fn queue(clients: &Clients, stack: &Stack) -> Step {
    const NAME: &str = "queue";
    let url = match stack.need(&stack.queue_url, "EventQueueUrl") {
        Ok(url) => url,
        Err(why) => return Step::fail(NAME, "queue URL unknown", why),
    };
    match depth(&clients.sqs, url).await {
        Ok(n) => Step::pass(
            NAME,
            format!("reachable, {n} event(s) waiting for delivery"),
        ),
        Err(e) => Step::fail(
            NAME,
            format!("not reachable: {e}"),
            "use credentials and a region that may read the stack's queues (sqs:GetQueueAttributes)",
        ),
    }
}

/// Step 3c: the dead-letter queue is reachable and empty.
async fn dead_letters(clients: &Clients, stack: &Stack) -> Step {
    const NAME: &str = "dead letters";
    let url = match stack.need(&stack.dead_letter_url, "DeadLetterQueueUrl") {
        Ok(url) => url,
        Err(why) => return Step::fail(NAME, "dead-letter queue URL unknown", why),
    };
    match depth(&clients.sqs, url).await {
        Ok(0) => Step::pass(NAME, "none"),
        Ok(n) => Step::fail(
            NAME,
            format!("{n} event(s) the bridge gave up on"),
            "`bridge-admin dead-letters` shows each reason; fix it, then `bridge-admin redrive`",
        ),
        Err(e) => Step::fail(
            NAME,
            format!("not reachable: {e}"),
            "use credentials and a region that may read the stack's queues (sqs:GetQueueAttributes)",
        ),
    }
}

/// Step 3d: no alarm of the stack is firing.
async fn alarms(clients: &Clients, stack: &Stack) -> Step {
    const NAME: &str = "alarms";
    if stack.alarm_names.is_empty() {
        return Step::fail(NAME, "alarm names unknown", stack.missing("AlarmNames"));
    }
    let answer = clients
        .alarms
        .describe_alarms()
        .set_alarm_names(Some(stack.alarm_names.clone()))
        .send()
        .await;
    let alarms = match answer {
        Ok(out) => out.metric_alarms().to_vec(),
        Err(e) => {
            return Step::fail(
                NAME,
                format!("not readable: {}", error_chain(&e)),
                "use credentials and a region that may read alarms (cloudwatch:DescribeAlarms)",
            );
        }
    };
    let firing: Vec<&str> = alarms
        .iter()
        .filter(|a| a.state_value().is_some_and(|s| s.as_str() == "ALARM"))
        .filter_map(|a| a.alarm_name())
        .collect();
    if alarms.len() < stack.alarm_names.len() {
        let found: Vec<&str> = alarms.iter().filter_map(|a| a.alarm_name()).collect();
        let missing: Vec<&str> = stack
            .alarm_names
            .iter()
            .map(String::as_str)
            .filter(|n| !found.contains(n))
            .collect();
        Step::fail(
            NAME,
            format!("not found: {}", missing.join(", ")),
            "redeploy the stack (sam deploy): the alarms are part of the template",
        )
    } else if firing.is_empty() {
        Step::pass(NAME, format!("{} alarm(s), none in ALARM", alarms.len()))
    } else {
        Step::fail(
            NAME,
            format!("in ALARM: {}", firing.join(", ")),
            "see the README's Troubleshooting table for each alarm",
        )
    }
}
