//! Lambda triggered by the hand-off queue (SQS FIFO, `ReportBatchItemFailures`): delivers
//! each event to Connectif and reports the ones to try again.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use bridge_core::delivery::QueueMessage;
use bridge_core::{config::Config, telemetry};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let worker = Config::from_env()?.worker().await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        async move {
            let batch: Vec<QueueMessage> = event
                .payload
                .records
                .iter()
                .map(QueueMessage::from_sqs)
                .collect();
            let failed = worker.process(&batch).await;
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = failed
                .into_iter()
                .map(|id| {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    failure
                })
                .collect();
            Ok::<_, Error>(response)
        }
    }))
    .await
}
