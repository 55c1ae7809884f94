//! The floor: a bare Rust Lambda (lambda_runtime, the runtime the bridge's functions use)
//! answering every event with a fixed OK, built with the same profile.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "statusCode": 200, "body": "{\"result\":\"OK\"}" }))
    }))
    .await
}
