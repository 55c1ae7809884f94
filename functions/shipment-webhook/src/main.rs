//! Lambda for Qapla's shipment webhook: `POST /qapla/{channel}/shipments`.

use bridge_core::qapla::ShipmentPayload;
use bridge_core::{config::Config, telemetry, webhook};
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let deps = config.webhook_deps().await?;
    run(service_fn(|req: Request| {
        let deps = &deps;
        async move { Ok::<_, Error>(webhook::handle::<ShipmentPayload>(deps, req).await) }
    }))
    .await
}
