//! The webhooks' own SigV4 `SendMessage` (`delivery::SignedSend`), against `moto_server`
//! with its signature and IAM policy check on, with a role's temporary credentials as Lambda
//! gives them; and its retry against a local server.

use crate::durable_helpers::{shipment, signed_send};
use crate::helpers::{
    Config, IT_KEY, Logs, Mode, config_from, loopback_aws, ok, post, secret, send, store,
    test_config,
};
use bridge_core::aws::{Entry, SendError, SqsQueue};
use bridge_core::delivery::{Envelope, HandOff, group_id};
use bridge_core::qapla::ShipmentPayload;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use testkit::Moto;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn entry<'a>(id: &'a str, dedup: &'a str) -> Entry<'a> {
    Entry {
        id,
        message_body: "{}",
        message_group_id: "g",
        message_deduplication_id: dedup,
        message_attributes: &[],
    }
}

/// moto with the channel `it`'s secret and a FIFO queue, set up before signatures are
/// checked; the queue's URL and ARN.
async fn stack(moto: &Moto) -> (aws_types::SdkConfig, String) {
    let aws = loopback_aws(&moto.endpoint).sdk_config().expect("aws");
    let settings = secret(Mode::Api, "http://127.0.0.1:9", IT_KEY, "it");
    aws_sdk_secretsmanager::Client::new(&aws)
        .create_secret()
        .name("qapla-connectif/it")
        .secret_string(settings.to_string())
        .send()
        .await
        .expect("secret");
    let queue_url = aws_sdk_sqs::Client::new(&aws)
        .create_queue()
        .queue_name("bridge-events.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    (aws, queue_url)
}

/// The webhook role's policy in `template.yaml`: read the channel secrets, send to the
/// queue. (moto checks Secrets Manager calls against `"*"`, SQS calls against the queue.)
fn webhook_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage",
         "Resource": "arn:aws:sqs:eu-west-1:123456789012:bridge-events.fifo"},
    ]})
}

async fn received(aws: &aws_types::SdkConfig, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    aws_sdk_sqs::Client::new(aws)
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_system_attribute_names(A::MessageGroupId)
        .message_system_attribute_names(A::MessageDeduplicationId)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default()
}

async fn answer(server: &MockServer, target: &str, status: u16, body: Value, times: u64) {
    Mock::given(method("POST"))
        .and(header("x-amz-target", target))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .up_to_n_times(times)
        .mount(server)
        .await;
}

const BATCH: &str = "AmazonSQS.SendMessageBatch";

#[tokio::test]
async fn throttling_and_server_errors_are_tried_again_three_times_at_most() {
    let server = MockServer::start().await;
    let sender = signed_send(&server.uri()).await;
    let throttled = json!({"__type": "com.amazonaws.sqs#RequestThrottled", "message": "slow down"});
    answer(&server, BATCH, 400, throttled, 1).await;
    answer(&server, BATCH, 503, json!({}), 1).await;
    let sent = json!({"Successful": [{"Id": "0", "MessageId": "m"}], "Failed": []});
    answer(&server, BATCH, 200, sent, 1).await;
    let url = format!("{}/123456789012/q.fifo", server.uri());
    let accepted = sender
        .send_message_batch(&url, &[entry("0", "d")])
        .await
        .expect("third attempt");
    assert_eq!(accepted, ["0"]);
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 3);
    let sent: Value = serde_json::from_slice(&requests[2].body).expect("json");
    let entry = json!({"Id": "0", "MessageBody": "{}", "MessageGroupId": "g", "MessageDeduplicationId": "d"});
    assert_eq!(sent, json!({"QueueUrl": url, "Entries": [entry]}));
    let authorization = requests[2].headers.get("authorization").expect("signed");
    let authorization = authorization.to_str().expect("text");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=test/")
            && authorization.contains("/eu-west-1/sqs/aws4_request"),
        "{authorization}"
    );

    server.reset().await;
    answer(&server, BATCH, 500, json!({}), 10).await;
    let failed = sender
        .send_message_batch(&url, &[self::entry("0", "d")])
        .await;
    assert!(
        matches!(failed, Err(SendError::Refused { status: 500, .. })),
        "{failed:?}"
    );
    assert_eq!(server.received_requests().await.expect("recorded").len(), 3);
}

/// A batch's entries are queued only when SQS lists them as successful; the others are
/// sent again singly, and only those that fail then are reported failed.
#[tokio::test]
async fn entries_a_batch_did_not_list_as_sent_are_sent_singly() {
    let server = MockServer::start().await;
    let url = format!("{}/123456789012/q.fifo", server.uri());
    let queue = SqsQueue::sending(Arc::new(signed_send(&server.uri()).await), url);
    let failed = json!({"Id": "1", "SenderFault": false, "Code": "InternalError"});
    // Entry 2 is in neither list.
    let batch = json!({"Successful": [{"Id": "0", "MessageId": "m0"}], "Failed": [failed]});
    answer(&server, BATCH, 200, batch, 1).await;
    answer(
        &server,
        "AmazonSQS.SendMessage",
        200,
        json!({"MessageId": "m"}),
        1,
    )
    .await;
    answer(
        &server,
        "AmazonSQS.SendMessage",
        400,
        json!({"__type": "InvalidParameterValue"}),
        1,
    )
    .await;
    let envelopes: Vec<Envelope> = (0..3).map(envelope).collect();
    let results = queue.hand_off_all(envelopes.clone()).await;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    let error = results[2].as_ref().expect_err("refused singly");
    assert!(
        error.to_string().contains("InvalidParameterValue")
            || format!("{error:?}").contains("InvalidParameterValue"),
        "{error:?}"
    );
    let singles: Vec<Value> = (server.received_requests().await.expect("recorded").iter())
        .filter(|r| {
            r.headers
                .get("x-amz-target")
                .is_some_and(|t| t == "AmazonSQS.SendMessage")
        })
        .map(|r| serde_json::from_slice(&r.body).expect("json"))
        .collect();
    let dedups: Vec<&str> = singles
        .iter()
        .map(|s| s["MessageDeduplicationId"].as_str().expect("id"))
        .collect();
    assert_eq!(
        dedups,
        [
            envelopes[1].event_id.as_str(),
            envelopes[2].event_id.as_str()
        ]
    );
}

fn envelope(n: usize) -> Envelope {
    let text = std::fs::read_to_string(
        testkit::workspace().join("fixtures/queue/envelopes-before-typed-events.jsonl"),
    )
    .expect("fixture");
    let mut envelope: Envelope =
        serde_json::from_str(text.lines().next().expect("a line")).expect("envelope");
    envelope.event_id = format!("event-{n}");
    envelope
}

/// SQS's answer to a `SendMessageBatch`: every entry sent.
struct AllSent;

impl wiremock::Respond for AllSent {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let sent: Value = serde_json::from_slice(&request.body).expect("json");
        let ids: Vec<Value> = (sent["Entries"].as_array().expect("entries").iter())
            .map(|e| json!({"Id": e["Id"], "MessageId": "m"}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"Successful": ids, "Failed": []}))
    }
}

/// The webhook as the stack wires it (channel `it`), its SQS on a fake that takes every
/// batch whole; Init's connection as `preconnect` says.
async fn webhook_on_fake(preconnect: Option<Duration>) -> (MockServer, bridge_core::webhook::Deps) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", BATCH))
        .respond_with(AllSent)
        .mount(&server)
        .await;
    let defaults = test_config();
    let config = Config {
        queue_url: Some(format!("{}/123456789012/q.fifo", server.uri())),
        aws: loopback_aws(&server.uri()),
        max_body_bytes: 6_000_000,
        preconnect: preconnect.unwrap_or(defaults.preconnect),
        ..defaults
    };
    let deps = config
        .bridge()
        .with_channel_store(store(Mode::Api, "http://127.0.0.1:9"))
        .webhook_deps()
        .await
        .expect("deps");
    (server, deps)
}

/// The requests `server` received with `method`.
async fn requests_with(server: &MockServer, method: &str) -> usize {
    let requests = server.received_requests().await.expect("recorded");
    requests
        .iter()
        .filter(|r| r.method.as_str() == method)
        .count()
}

#[tokio::test]
async fn a_post_of_1000_orders_is_sent_in_100_batch_calls() {
    use bridge_core::qapla::OrdersPayload;
    let (server, deps) = webhook_on_fake(None).await;
    let event = post("/qapla/it/orders", crate::moto::durable::orders_post(1000));
    assert_eq!(send::<OrdersPayload>(&deps, event).await, (200, ok()));
    let sends = requests_with(&server, "POST").await;
    assert_eq!(sends, 100, "SendMessageBatch, 10 messages each");
}

#[tokio::test]
async fn a_webhook_opens_its_connection_to_aws_during_init_unless_told_not_to() {
    for (preconnect, opened) in [(None, 1), (Some(Duration::ZERO), 0)] {
        let (server, deps) = webhook_on_fake(preconnect).await;
        let heads = requests_with(&server, "HEAD").await;
        assert_eq!(heads, opened, "HEAD / during Init ({preconnect:?})");
        let body = shipment("A1", "4", "2024-03-16 11:42:10", "Consegnata");
        let event = post("/qapla/it/shipments", body);
        let answer = send::<ShipmentPayload>(&deps, event).await;
        assert_eq!(answer, (200, ok()), "the first post after ({preconnect:?})");
        assert_eq!(
            requests_with(&server, "POST").await,
            1,
            "one SendMessageBatch"
        );
    }
}

/// Against `moto_server`: run by `make test`, skipped by `make check`.
mod moto {
    use super::*;

    #[tokio::test]
    async fn the_webhook_hands_off_with_a_signature_moto_checks() {
        // Fixed names, and moto's IAM check switched on: moto to this test alone.
        let moto = testkit::moto_alone().await;
        let (setup, queue_url) = stack(&moto).await;
        let [key_id, secret_key, token] = moto.role_credentials("webhook", &webhook_policy()).await;
        moto.check_signatures(true).await;
        // The shipment function's configuration in the stack, with the role's credentials.
        let function = config_from(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", &key_id),
            ("AWS_SECRET_ACCESS_KEY", &secret_key),
            ("AWS_SESSION_TOKEN", &token),
            ("AWS_ENDPOINT_URL", &moto.endpoint),
            ("SECRET_PREFIX", "qapla-connectif"),
            ("HAND_OFF_QUEUE_URL", &queue_url),
        ]);
        let deps = function.bridge().webhook_deps().await.expect("deps");
        let logs = Logs::capture();
        let body = shipment("TRK-SIGNED-1", "11", "2026-11-24 10:00:00", "In consegna");
        for _ in 0..2 {
            let answer =
                send::<ShipmentPayload>(&deps, post("/qapla/it/shipment", body.clone())).await;
            assert_eq!(answer, (200, ok()), "{}", logs.text());
        }
        for secret in [&secret_key, &token] {
            assert!(
                !logs.text().contains(secret.as_str()),
                "a credential in the logs"
            );
        }

        moto.check_signatures(false).await;
        let messages = received(&setup, &queue_url).await;
        assert_eq!(
            messages.len(),
            1,
            "posted twice, queued once (FIFO deduplication)"
        );
        let message = &messages[0];
        let envelope: Envelope =
            serde_json::from_str(message.body().expect("body")).expect("an envelope");
        assert_eq!(envelope.key, "TRK-SIGNED-1");
        let attrs = message.attributes().expect("attributes");
        let attr = |name| attrs.get(&name).map(String::as_str);
        use aws_sdk_sqs::types::MessageSystemAttributeName as A;
        assert_eq!(attr(A::MessageGroupId), Some(group_id(&envelope).as_str()));
        assert_eq!(
            attr(A::MessageDeduplicationId),
            Some(envelope.event_id.as_str())
        );
    }

    #[tokio::test]
    async fn a_wrong_secret_or_a_queue_outside_the_policy_is_refused_at_once() {
        // Fixed names, and moto's IAM check switched on: moto to this test alone.
        let moto = testkit::moto_alone().await;
        let (_, queue_url) = stack(&moto).await;
        let [key_id, secret_key, token] = moto.role_credentials("webhook", &webhook_policy()).await;
        moto.check_signatures(true).await;
        let sender = |secret: &str| {
            let vars = [
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ACCESS_KEY_ID", key_id.as_str()),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_SESSION_TOKEN", token.as_str()),
                ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
            ];
            let aws = config_from(&vars).aws;
            async move { aws.signed_send().expect("sender") }
        };
        let good = sender(&secret_key).await;
        good.send_message(&queue_url, &entry("", "d1"))
            .await
            .expect("signed right, allowed");

        let started = std::time::Instant::now();
        let wrong = sender("not-the-secret").await;
        let refused = wrong.send_message(&queue_url, &entry("", "d2")).await;
        assert!(
            matches!(&refused, Err(SendError::Refused { status: 403, code: Some(c) }) if c == "SignatureDoesNotMatch"),
            "{refused:?}"
        );
        let other = queue_url.replace("bridge-events", "other");
        let denied = good.send_message_batch(&other, &[entry("0", "d3")]).await;
        assert!(
            matches!(&denied, Err(SendError::Refused { status: 403, code: Some(c) }) if c == "AccessDenied"),
            "{denied:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_millis(900),
            "refusals are not tried again"
        );
        let text = format!(
            "{refused:?} {denied:?} {}",
            refused.as_ref().expect_err("refused")
        );
        assert!(!text.contains(&secret_key) && !text.contains(&token));
    }
}
