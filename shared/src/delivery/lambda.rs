//! The delivery worker's Lambda handler: one SQS invocation (`ReportBatchItemFailures`).

use super::{QueueMessage, Worker};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use std::time::{Duration, Instant};

/// One invocation: [`handle_batch_until`] the invocation's deadline.
pub async fn handle_invocation(worker: &Worker, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    let deadline = deadline(event.context.deadline, crate::clock::epoch_millis());
    handle_batch_until(worker, event.payload, Some(deadline)).await
}

/// When an invocation with Lambda's `deadline` (epoch milliseconds) must end, as an
/// `Instant`, given the time now (epoch milliseconds).
fn deadline(deadline_ms: u64, now_ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// Every record is processed in order; the ones to try again (a retryable failure, and the
/// later messages of its FIFO group held back behind it) are reported by message id.
pub async fn handle_batch(worker: &Worker, event: SqsEvent) -> SqsBatchResponse {
    handle_batch_until(worker, event, None).await
}

/// [`handle_batch`], starting no message the time left before `deadline` cannot cover.
pub async fn handle_batch_until(
    worker: &Worker,
    event: SqsEvent,
    deadline: Option<Instant>,
) -> SqsBatchResponse {
    let batch: Vec<QueueMessage> = event.records.iter().map(QueueMessage::from_sqs).collect();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = worker
        .process_until(&batch, deadline)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_time_left_from_now() {
        let left = deadline(1_000_120_000, 1_000_000_000).saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_secs(120) && left > Duration::from_secs(119),
            "{left:?}"
        );
        let past = deadline(1_000, 2_000).saturating_duration_since(Instant::now());
        assert_eq!(past, Duration::ZERO);
    }
}
