//! Lambda of background backfill runs (`bridge-admin backfill --background`), triggered by
//! the backfill work queue (SQS FIFO, one message at a time) and by a schedule that counts
//! stalled runs: see `bridge_core::history::backfill::background`. A failed invocation
//! returns its message to the queue, and the run resumes from its last saved window.

use bridge_core::{config::Config, telemetry};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::time::{Duration, Instant};

// One thread: a Lambda handles one invocation at a time (see `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(env!("CARGO_PKG_NAME"));
    let backfiller = Config::from_env()?.bridge().backfiller()?;
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let backfiller = &backfiller;
        async move {
            // The invocation's deadline (epoch milliseconds) as an instant of this clock.
            let left = event
                .context
                .deadline
                .saturating_sub(bridge_core::clock::epoch_millis());
            let deadline = Instant::now() + Duration::from_millis(left);
            Ok::<_, Error>(backfiller.invoke(event.payload, deadline).await?)
        }
    }))
    .await
}
