//! Lambda for Qapla's shipment webhook: `POST /qapla/{channel}/shipments`.

use bridge_core::qapla::ShipmentPayload;
use bridge_core::{config::Config, telemetry, webhook};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread: a Lambda handles one invocation at a time, and cross-thread wake-ups are most
// of the CPU a warm invocation would otherwise spend (see `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(env!("CARGO_PKG_NAME"));
    let deps = Config::from_env()?.bridge().webhook_deps().await?;
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        webhook::invoke::<ShipmentPayload>(&deps, event)
    }))
    .await
}
