//! Lambda run by an EventBridge schedule (default every 15 minutes): reconciles every
//! channel with Qapla's `trackingByTimeFrame` (see `bridge_core::history::reconcile`).
//! A run that cannot list the channels fails (and is retried by the schedule's next run);
//! one channel's trouble is logged and leaves the others alone.

use bridge_core::qapla::time::italian_now;
use bridge_core::{config::Config, telemetry};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread: a Lambda handles one invocation at a time, and cross-thread wake-ups are most
// of the CPU a warm invocation would otherwise spend (see `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(env!("CARGO_PKG_NAME"));
    let reconciler = Config::from_env()?.bridge().reconciler()?;
    run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let reconciler = &reconciler;
        async move {
            let found = reconciler.run(italian_now()).await?;
            let total: u64 = found.iter().map(|f| f.found).sum();
            Ok::<_, Error>(serde_json::json!({ "channels": found.len(), "found": total }))
        }
    }))
    .await
}
