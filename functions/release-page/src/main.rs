//! Lambda for the release page of a parcel held at the depot: `GET` and `POST
//! /release/{token}` (`bridge_core::release`).

use bridge_core::{config::Config, release, telemetry};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread, as the webhooks: one invocation at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(env!("CARGO_PKG_NAME"));
    let deps = Config::from_env()?.bridge().release_deps().await?;
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        release::invoke(&deps, event)
    }))
    .await
}
