//! The AWS side of a test bridge on `moto_server`: real SDK clients with dummy credentials
//! on a loopback endpoint, and the stack's queues and secrets as the template makes them.

use std::time::Duration;

/// SDK clients for the services the bridge uses, on `endpoint`.
#[derive(Clone, Debug)]
pub struct Clients {
    pub sqs: aws_sdk_sqs::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

/// Clients with dummy credentials in eu-west-1, pointed at a loopback `endpoint`.
pub fn clients(endpoint: &str) -> Clients {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let creds = Credentials::new("test", "test", None, None, "test");
    let http = bridge_core::aws::connector::client(Duration::from_secs(2)).expect("client");
    let region = Region::new("eu-west-1");
    macro_rules! client {
        ($sdk:ident) => {
            $sdk::Client::from_conf(
                $sdk::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(region.clone())
                    .credentials_provider(creds.clone())
                    .http_client(http.clone())
                    .endpoint_url(endpoint)
                    .build(),
            )
        };
    }
    Clients {
        sqs: client!(aws_sdk_sqs),
        dynamo: client!(aws_sdk_dynamodb),
        secrets: client!(aws_sdk_secretsmanager),
        cloudwatch: client!(aws_sdk_cloudwatch),
    }
}

/// The event queue and its dead-letter queue.
#[derive(Clone, Debug)]
pub struct Queues {
    pub queue_url: String,
    pub dlq_url: String,
}

/// `<prefix>-events.fifo`, redriving to `<prefix>-dead-letters.fifo` (14 days), as the
/// template makes them (the receive count is high: the worker dead-letters itself).
pub async fn queues(sqs: &aws_sdk_sqs::Client, prefix: &str) -> Queues {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{prefix}-dead-letters.fifo"))
        .attributes(A::FifoQueue, "true")
        .attributes(A::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .expect("dead-letter queue")
        .queue_url
        .expect("dead-letter queue url");
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .expect("dead-letter queue attributes")
        .attributes
        .and_then(|a| a.get(&A::QueueArn).cloned())
        .expect("dead-letter queue arn");
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":1000}}"#);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{prefix}-events.fifo"))
        .attributes(A::FifoQueue, "true")
        .attributes(A::VisibilityTimeout, "30")
        .attributes(A::RedrivePolicy, redrive)
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    Queues { queue_url, dlq_url }
}

/// A secret named `name` holding `value`.
pub async fn put_secret(secrets: &aws_sdk_secretsmanager::Client, name: &str, value: &str) {
    secrets
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("secret");
}

/// What Lambda's SQS event source hands the worker: up to ten messages of `queue_url`, with
/// their system attributes, hidden `visibility` seconds if given, waiting `wait` seconds at
/// most for one. Empty when SQS cannot be asked.
pub async fn receive(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    visibility: Option<i32>,
    wait: i32,
) -> Vec<aws_sdk_sqs::types::Message> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .set_visibility_timeout(visibility)
        .wait_time_seconds(wait)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await;
    out.ok().and_then(|o| o.messages).unwrap_or_default()
}

/// One invocation of the delivery worker as Lambda's SQS event source makes it: receive a
/// batch, hand it to `worker`, delete every message it did not report failed. The batch's
/// size (0: the queue had nothing visible).
pub async fn trigger(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    worker: &bridge_core::delivery::Worker,
) -> usize {
    let messages = receive(sqs, queue_url, None, 0).await;
    let batch: Vec<_> = messages.iter().map(bridge_core::aws::message_of).collect();
    let failed = worker.process(&batch).await;
    delete(
        sqs,
        queue_url,
        batch.iter().filter(|m| !failed.contains(&m.id)),
    )
    .await;
    batch.len()
}

/// Delete `messages` from the queue (as the event source does after an invocation; one not
/// deleted comes back, as on Lambda).
pub async fn delete<'a>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: impl Iterator<Item = &'a bridge_core::delivery::QueueMessage>,
) {
    for m in messages {
        let delete = sqs.delete_message().queue_url(queue_url);
        let _ = delete.receipt_handle(&m.receipt).send().await;
    }
}

/// Messages in the queue at `queue_url`, visible or in flight (SQS's approximate counts).
pub async fn queued(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = (sqs.get_queue_attributes())
        .queue_url(queue_url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let attrs = out.attributes.unwrap_or_default();
    let n = |k: A| {
        attrs
            .get(&k)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    n(A::ApproximateNumberOfMessages) + n(A::ApproximateNumberOfMessagesNotVisible)
}
