//! Secrets Manager and SQS answered at once, on loopback: what is left of a first invoke is
//! the function's own work (connection, signing, the request, parsing the answer). moto, a
//! Python server, spends milliseconds on each call itself.

use serde_json::{Value, json};
use wiremock::matchers::header;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server answering `GetSecretValue` with `settings`, and `SendMessage` and a one-entry
/// `SendMessageBatch` with a message id (anything else: 404).
pub async fn start(secret_name: &str, settings: &Value) -> MockServer {
    let server = MockServer::start().await;
    let secret = json!({
        "ARN": format!("arn:aws:secretsmanager:eu-west-1:000000000000:secret:{secret_name}-AbCdEf"),
        "Name": secret_name,
        "VersionId": "v1",
        "SecretString": settings.to_string(),
        "VersionStages": ["AWSCURRENT"],
        "CreatedDate": 1_764_000_000.0,
    });
    answer(&server, "secretsmanager.GetSecretValue", "1.1", secret).await;
    let sent = json!({
        "MessageId": "4c6a8e8e-0000-4000-8000-000000000001",
        "MD5OfMessageBody": "00000000000000000000000000000000",
        "SequenceNumber": "18800000000000000001",
    });
    answer(&server, "AmazonSQS.SendMessage", "1.0", sent.clone()).await;
    // A post's events go in one batch; a one-event post is entry "0".
    let mut entry = sent;
    entry["Id"] = json!("0");
    let batch = json!({ "Successful": [entry], "Failed": [] });
    answer(&server, "AmazonSQS.SendMessageBatch", "1.0", batch).await;
    server
}

async fn answer(server: &MockServer, target: &str, json_version: &str, body: Value) {
    Mock::given(header("x-amz-target", target))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "content-type",
                    format!("application/x-amz-json-{json_version}").as_str(),
                )
                .set_body_string(body.to_string()),
        )
        .mount(server)
        .await;
}
