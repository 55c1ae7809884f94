//! Where the deployed bridge is: read from the CloudFormation stack's outputs (the names
//! the SAM template gives them), each overridable by the environment variable of old.

use aws_sdk_cloudformation::Client;
use std::collections::HashMap;

/// What the console needs to know about a deployed stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stack {
    pub name: String,
    pub queue_url: Option<String>,
    pub dead_letter_url: Option<String>,
    pub state_table: Option<String>,
    pub secret_prefix: Option<String>,
    /// `https://<id>.execute-api.<region>.amazonaws.com`, no trailing slash.
    pub api_url: Option<String>,
    /// The work queue of background backfill runs.
    pub backfill_queue_url: Option<String>,
    pub api_id: Option<String>,
    pub alarm_names: Vec<String>,
    /// The functions' log groups (all six).
    pub log_groups: Vec<String>,
    /// The stack's `AlarmEmail` parameter (`None` when the stack could not be read).
    pub alarm_email: Option<String>,
}

/// (stack output, environment override) for each value.
const OUTPUTS: [(&str, &str); 9] = [
    ("EventQueueUrl", "HAND_OFF_QUEUE_URL"),
    ("DeadLetterQueueUrl", "DEAD_LETTER_QUEUE_URL"),
    ("StateTableName", "STATE_TABLE"),
    ("SecretPrefix", "SECRET_PREFIX"),
    ("WebhookApiUrl", "WEBHOOK_API_URL"),
    ("WebhookApiId", "WEBHOOK_API_ID"),
    ("AlarmNames", "ALARM_NAMES"),
    ("LogGroupNames", "LOG_GROUPS"),
    ("BackfillQueueUrl", "BACKFILL_QUEUE_URL"),
];

impl Stack {
    /// The stack's outputs, each overridden by its environment variable when set. A stack
    /// that cannot be read is an error only when no override is set either.
    pub async fn find(
        cfn: &Client,
        name: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Stack, String> {
        // A stack deployed from the Serverless Application Repository (Launch Stack) is
        // named `serverlessrepo-<application>`: found by the application's name too.
        let (name, outputs) = match outputs(cfn, name).await {
            Err(e) if !name.starts_with(SAR_PREFIX) => {
                let sar = format!("{SAR_PREFIX}{name}");
                match outputs(cfn, &sar).await {
                    Ok(found) => (sar, Ok(found)),
                    Err(_) => (name.to_owned(), Err(e)),
                }
            }
            answer => (name.to_owned(), answer),
        };
        let name = name.as_str();
        let mut values: HashMap<&str, String> = HashMap::new();
        for (output, variable) in OUTPUTS {
            let value = env(variable)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| outputs.as_ref().ok().and_then(|o| o.get(output).cloned()));
            if let Some(value) = value {
                values.insert(output, value);
            }
        }
        if let Err(e) = &outputs
            && values.is_empty()
        {
            return Err(format!(
                "stack {name} not readable ({e}): deploy it with `sam deploy`, pass --stack, or set the overrides {}",
                OUTPUTS.map(|(_, v)| v).join(", ")
            ));
        }
        let mut take = |k: &str| values.remove(k);
        Ok(Stack {
            name: name.to_owned(),
            queue_url: take("EventQueueUrl"),
            dead_letter_url: take("DeadLetterQueueUrl"),
            state_table: take("StateTableName"),
            secret_prefix: take("SecretPrefix").map(|p| p.trim_end_matches('/').to_owned()),
            api_url: take("WebhookApiUrl").map(|u| u.trim_end_matches('/').to_owned()),
            api_id: take("WebhookApiId"),
            backfill_queue_url: take("BackfillQueueUrl"),
            alarm_names: list(take("AlarmNames")),
            log_groups: list(take("LogGroupNames")),
            alarm_email: outputs.ok().and_then(|mut o| o.remove(ALARM_EMAIL)),
        })
    }

    /// A value the command needs, or what to do about its absence.
    pub fn need<'a>(&self, value: &'a Option<String>, output: &str) -> Result<&'a str, String> {
        value.as_deref().ok_or_else(|| self.missing(output))
    }

    /// What to do about a missing output.
    pub fn missing(&self, output: &str) -> String {
        let variable = OUTPUTS
            .iter()
            .find(|(o, _)| *o == output)
            .map_or("", |(_, v)| v);
        format!(
            "stack {} has no output {output}: redeploy it with this version's template, or set {variable}",
            self.name
        )
    }
}

/// A comma-separated output as a list.
fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where [`outputs`] keeps the `AlarmEmail` parameter.
const ALARM_EMAIL: &str = "parameter AlarmEmail";

/// The stack's outputs, and its `AlarmEmail` parameter under [`ALARM_EMAIL`].
/// The name prefix of a stack the Serverless Application Repository deployed.
const SAR_PREFIX: &str = "serverlessrepo-";

async fn outputs(cfn: &Client, name: &str) -> Result<HashMap<String, String>, String> {
    let answer = cfn.describe_stacks().stack_name(name).send().await;
    let answer = answer.map_err(|e| bridge_core::telemetry::error_chain(&e))?;
    let stack = answer.stacks().first().ok_or("no such stack")?;
    let mut found: HashMap<String, String> = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect();
    let email = stack
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("AlarmEmail"))
        .and_then(|p| p.parameter_value());
    found.insert(ALARM_EMAIL.to_owned(), email.unwrap_or_default().to_owned());
    Ok(found)
}
