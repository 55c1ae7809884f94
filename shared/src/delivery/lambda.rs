//! The delivery worker's Lambda handler: one SQS invocation (`ReportBatchItemFailures`).

use super::{QueueMessage, Worker};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

/// Every record is processed in order; the ones to try again (a retryable failure, and the
/// later messages of its FIFO group held back behind it) are reported by message id.
pub async fn handle_batch(worker: &Worker, event: SqsEvent) -> SqsBatchResponse {
    let batch: Vec<QueueMessage> = event.records.iter().map(QueueMessage::from_sqs).collect();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = worker
        .process(&batch)
        .await
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}
