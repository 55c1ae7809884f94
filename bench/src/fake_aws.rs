//! Secrets Manager, SQS and DynamoDB answered at once, on loopback: what is left of an
//! invocation is the function's own work (connection, signing, the request, parsing the
//! answer). moto, a Python server, spends milliseconds on each call itself.
//!
//! The answers are those of an empty stack with one live channel: the channel's secret,
//! every message sent, no item in the state table but the channel's "live" marker (each write
//! succeeds). Any other call: 400.

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A server answering as [`Aws`] does for the channel secret `secret_name`.
pub async fn start(secret_name: &str, settings: &Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Aws::new(secret_name, settings))
        .mount(&server)
        .await;
    server
}

/// The answers, by the `x-amz-target` of the call.
pub struct Aws {
    secret: Value,
}

impl Aws {
    pub fn new(secret_name: &str, settings: &Value) -> Aws {
        let secret = json!({
            "ARN": format!("arn:aws:secretsmanager:eu-west-1:000000000000:secret:{secret_name}-AbCdEf"),
            "Name": secret_name,
            "VersionId": "v1",
            "SecretString": settings.to_string(),
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1_764_000_000.0,
        });
        Aws { secret }
    }

    fn answer(&self, target: &str, request: &Value) -> Option<(&'static str, Value)> {
        let sent = |id: &Value| {
            json!({
                "Id": id,
                "MessageId": "4c6a8e8e-0000-4000-8000-000000000001",
                "MD5OfMessageBody": "00000000000000000000000000000000",
                "SequenceNumber": "18800000000000000001",
            })
        };
        let (json_version, body) = match target.split_once('.')? {
            ("secretsmanager", "GetSecretValue") => ("1.1", self.secret.clone()),
            ("secretsmanager", "ListSecrets") => ("1.1", json!({ "SecretList": [self.secret] })),
            ("AmazonSQS", "SendMessage") => ("1.0", sent(&Value::Null)),
            ("AmazonSQS", "SendMessageBatch") => {
                let entries = request["Entries"].as_array().cloned().unwrap_or_default();
                let successful: Vec<Value> = entries.iter().map(|e| sent(&e["Id"])).collect();
                ("1.0", json!({ "Successful": successful, "Failed": [] }))
            }
            ("DynamoDB_20120810", "Query" | "Scan") => {
                ("1.0", json!({ "Items": [], "Count": 0, "ScannedCount": 0 }))
            }
            ("DynamoDB_20120810", "BatchGetItem") => {
                ("1.0", json!({ "Responses": {}, "UnprocessedKeys": {} }))
            }
            // The channel's webhooks have posted (so the reconciler asks Qapla' about it).
            ("DynamoDB_20120810", "GetItem") => match request["Key"]["pk"]["S"].as_str() {
                Some(pk) if pk.starts_with("live#") => {
                    let since = json!({ "N": "1764000000" });
                    (
                        "1.0",
                        json!({ "Item": { "pk": { "S": pk }, "since": since } }),
                    )
                }
                _ => ("1.0", json!({})),
            },
            ("DynamoDB_20120810", "PutItem" | "UpdateItem" | "DeleteItem") => ("1.0", json!({})),
            ("DynamoDB_20120810", "TransactWriteItems") => ("1.0", json!({})),
            _ => return None,
        };
        Some((json_version, body))
    }
}

impl Respond for Aws {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let target = request
            .headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match self.answer(target, &body) {
            Some((json_version, body)) => ResponseTemplate::new(200)
                .insert_header(
                    "content-type",
                    format!("application/x-amz-json-{json_version}").as_str(),
                )
                .set_body_string(body.to_string()),
            None => ResponseTemplate::new(400).set_body_string(format!(
                "{{\"__type\":\"UnknownOperationException\",\"message\":\"{target}\"}}"
            )),
        }
    }
}
