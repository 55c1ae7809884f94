//! The yardstick of `make bench`: Qapla's shipment webhook as a Rust developer would write it
//! from the AWS SDK's getting-started pages — `aws_config::load_defaults`, one client per
//! service built during Init, the channel's secret read on its first post and kept, one
//! `SendMessage` per post, `lambda_runtime` with the SDK's default features (its own HTTPS
//! client, rustls with aws-lc, the system's root certificates, the default credentials chain).
//! It checks the key and forwards the body; no mapping, no batching. Never deployed.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};
use std::collections::HashMap;
use tokio::sync::Mutex;

struct App {
    secrets: aws_sdk_secretsmanager::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    prefix: String,
    keys: Mutex<HashMap<String, String>>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // As `cargo lambda new` writes it.
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = App {
        secrets: aws_sdk_secretsmanager::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        queue_url: std::env::var("HAND_OFF_QUEUE_URL")?,
        prefix: std::env::var("SECRET_PREFIX")?,
        keys: Mutex::new(HashMap::new()),
    };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| {
        handle(app, event)
    }))
    .await
}

async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let ok = |result: &str| json!({ "statusCode": 200, "body": json!({ "result": result }).to_string() });
    let channel = event.payload["pathParameters"]["channel"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let body = event.payload["body"].as_str().unwrap_or_default();
    let Ok(post) = serde_json::from_str::<Value>(body) else {
        return Ok(ok("KO"));
    };
    let cached = app.keys.lock().await.get(&channel).cloned();
    let key = match cached {
        Some(key) => key,
        None => {
            let secret = app
                .secrets
                .get_secret_value()
                .secret_id(format!("{}/{channel}", app.prefix))
                .send()
                .await?;
            let settings: Value = serde_json::from_str(secret.secret_string().unwrap_or("{}"))?;
            let key = settings["qaplaApiKey"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            app.keys.lock().await.insert(channel.clone(), key.clone());
            key
        }
    };
    if key.is_empty() || post["apiKey"].as_str() != Some(key.as_str()) {
        return Ok(ok("KO"));
    }
    let tracking = post["trackingNumber"].as_str().unwrap_or_default();
    let status = post["qaplaStatusID"].to_string();
    app.sqs
        .send_message()
        .queue_url(&app.queue_url)
        .message_body(body)
        .message_group_id(format!("{channel}:{tracking}"))
        .message_deduplication_id(format!("{channel}:{tracking}:{status}"))
        .send()
        .await?;
    Ok(ok("OK"))
}
