//! Lambda triggered by the hand-off queue (SQS FIFO, `ReportBatchItemFailures`): delivers
//! each event to Connectif and reports the ones to try again.

use aws_lambda_events::event::sqs::SqsEvent;
use bridge_core::delivery::lambda::handle_invocation;
use bridge_core::{config::Config, telemetry};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread: a Lambda handles one invocation at a time, and cross-thread wake-ups are most
// of the CPU a warm invocation would otherwise spend (see `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(env!("CARGO_PKG_NAME"));
    let worker = Config::from_env()?.bridge().worker()?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        async move { Ok::<_, Error>(handle_invocation(worker, event).await) }
    }))
    .await
}
