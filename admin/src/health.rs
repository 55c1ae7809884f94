//! Step 3 of `bridge-admin check`: the stack is healthy (routes, queues, dead letters,
//! alarms).

use crate::clients::Clients;
use crate::report::Step;
use crate::stack::Stack;
use bridge_core::telemetry::error_chain;

/// The webhook routes the template creates.
const ROUTES: [&str; 3] = [
    "ANY /qapla/{channel}/shipments",
    "ANY /qapla/{channel}/returns",
    "ANY /qapla/{channel}/orders",
];

/// Step 3a: the three webhook routes exist.
pub async fn routes(clients: &Clients, stack: &Stack) -> Step {
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

/// How many messages the queue of `output` holds, or the failed step `name` saying why that
/// is not known.
async fn queue_depth(
    clients: &Clients,
    stack: &Stack,
    name: &'static str,
    url: &Option<String>,
    output: &str,
) -> Result<u64, Step> {
    use aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages as Count;
    let url = stack
        .need(url, output)
        .map_err(|why| Step::fail(name, "queue URL unknown", why))?;
    let answer = clients
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(Count)
        .send()
        .await;
    let answer = answer.map_err(|e| {
        Step::fail(
            name,
            format!("not reachable: {}", error_chain(&e)),
            "use credentials and a region that may read the stack's queues (sqs:GetQueueAttributes)",
        )
    })?;
    let count = answer
        .attributes()
        .and_then(|a| a.get(&Count))
        .and_then(|v| v.parse().ok());
    Ok(count.unwrap_or(0))
}

/// Step 3b: the hand-off queue is reachable.
pub async fn queue(clients: &Clients, stack: &Stack) -> Step {
    const NAME: &str = "queue";
    match queue_depth(clients, stack, NAME, &stack.queue_url, "EventQueueUrl").await {
        Ok(n) => Step::pass(
            NAME,
            format!("reachable, {n} event(s) waiting for delivery"),
        ),
        Err(step) => step,
    }
}

/// Step 3c: the dead-letter queue is reachable and empty.
pub async fn dead_letters(clients: &Clients, stack: &Stack) -> Step {
    const NAME: &str = "dead letters";
    let url = &stack.dead_letter_url;
    match queue_depth(clients, stack, NAME, url, "DeadLetterQueueUrl").await {
        Ok(0) => Step::pass(NAME, "none"),
        Ok(n) => Step::fail(
            NAME,
            format!("{n} event(s) the bridge gave up on"),
            "`bridge-admin dead-letters` shows each reason; fix it, then `bridge-admin redrive`",
        ),
        Err(step) => step,
    }
}

/// Step 3d: no alarm of the stack is firing.
pub async fn alarms(clients: &Clients, stack: &Stack) -> Step {
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
            "see docs/operations.md, \"Alarms\", for each alarm",
        )
    }
}
