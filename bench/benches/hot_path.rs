//! The hot path, in process (`make bench`, criterion):
//! - `post/<kind>`: one Qapla' post through `webhook::handle` — parse the API Gateway event
//!   and the body, authenticate (cached settings), plan, build the Connectif events, hand
//!   them to the in-memory queue, write the log and metric lines (to a sink);
//! - `sqs_send`: sending one event to SQS through the AWS SDK's client (sign, send, parse
//!   the answer) against an instant fake on loopback, over a kept-alive connection: the way
//!   not taken; `sqs_send_signed`, the bridge's hand-off (`aws::SqsQueue`, its request signed
//!   by `aws-sigv4`: `aws::SignedSend`); `raw_post`, the same round trip unsigned, is the
//!   floor both stand on;
//! - `sigv4/...`: signing one `SendMessageBatch` with `aws-sigv4`;
//! - `worker_batch_of_10`: ten queued events through `handle_batch` to a wiremock Connectif.

use bridge_bench::worker::{batch, connectif, worker};
use bridge_core::aws::SqsQueue;
use bridge_core::config::Config;
use bridge_core::delivery::lambda::handle_batch;
use bridge_core::delivery::{Envelope, HandOff, MemoryQueue};
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use bridge_core::webhook::{self, Deps, Webhook};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn sample(name: &str) -> Value {
    let path = testkit::workspace().join("events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("json")
}

/// The shipment function's local configuration (`events/env.json`), handing off to a
/// queue in memory.
async fn local_deps() -> Deps {
    let env = sample("env.json");
    let channels = env["ShipmentFunction"]["CHANNELS_JSON"]
        .as_str()
        .expect("CHANNELS_JSON");
    let config = Config {
        channels_json: Some(channels.to_owned()),
        secret_recheck: Duration::ZERO,
        ..Config::default()
    };
    config
        .bridge()
        .with_memory_queue(Arc::new(MemoryQueue::new(Duration::ZERO)))
        .webhook_deps()
        .await
        .expect("deps")
}

fn post<W: Webhook>(c: &mut Criterion, rt: &tokio::runtime::Runtime, kind: &str, event: &str) {
    let deps = rt.block_on(local_deps());
    let event = sample(event);
    let deadline = Instant::now() + Duration::from_secs(3600);
    let answer = rt.block_on(webhook::handle::<W>(&deps, event.clone(), deadline));
    assert_eq!(answer.body, r#"{"result":"OK"}"#, "{kind}");
    c.bench_function(&format!("post/{kind}"), |b| {
        b.to_async(rt).iter_batched(
            || event.clone(),
            |event| webhook::handle::<W>(&deps, event, deadline),
            BatchSize::SmallInput,
        )
    });
}

fn posts(c: &mut Criterion) {
    let rt = runtime();
    post::<ShipmentPayload>(c, &rt, "shipment", "shipment-v1.3-delivered.json");
    post::<ReturnsPayload>(c, &rt, "return", "return-request.json");
    post::<OrdersPayload>(c, &rt, "order", "orders.json");
}

fn sqs_send(c: &mut Criterion) {
    let rt = runtime();
    let fake = rt.block_on(bridge_bench::fake_aws::start("unused", &Value::Null));
    let vars = [
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_ENDPOINT_URL", fake.uri()),
    ];
    let config =
        Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .expect("config");
    let sqs = aws_sdk_sqs::Client::new(&config.aws.sdk_config().expect("aws"));
    let queue_url = format!("{}/000000000000/q.fifo", fake.uri());
    let signed = config.aws.signed_send().expect("signed send");
    let signed = SqsQueue::sending(Arc::new(signed), queue_url.clone());
    let fixture = testkit::workspace().join("fixtures/queue/envelopes-before-typed-events.jsonl");
    let text = std::fs::read_to_string(fixture).expect("fixture");
    let envelope: Envelope =
        serde_json::from_str(text.lines().next().expect("a line")).expect("envelope");
    let sent = rt.block_on(signed.hand_off_all(vec![envelope.clone()]));
    assert!(sent.iter().all(Result::is_ok), "sent");
    let sdk_send = |envelope: Envelope| {
        let body = serde_json::to_string(&envelope).expect("json");
        let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id("0")
            .message_group_id(bridge_core::delivery::group_id(&envelope))
            .message_deduplication_id(&envelope.event_id)
            .message_body(body)
            .build()
            .expect("entry");
        let call = sqs
            .send_message_batch()
            .queue_url(&queue_url)
            .entries(entry);
        async move { call.send().await.expect("sent") }
    };
    // The same request without the SDK: one HTTP round trip, the floor `sqs_send` stands on.
    let http = bridge_core::http::tls::client_builder()
        .build()
        .expect("client");
    let body = serde_json::to_string(&envelope).expect("json");
    c.bench_function("raw_post", |b| {
        b.to_async(&rt).iter(|| async {
            let sent = http
                .post(fake.uri())
                .header("x-amz-target", "AmazonSQS.SendMessage");
            let answer = sent.body(body.clone()).send().await.expect("answer");
            answer.bytes().await.expect("body")
        })
    });
    c.bench_function("sqs_send", |b| {
        b.to_async(&rt)
            .iter_batched(|| envelope.clone(), sdk_send, BatchSize::SmallInput)
    });
    c.bench_function("sqs_send_signed", |b| {
        b.to_async(&rt).iter_batched(
            || vec![envelope.clone()],
            |envelopes| signed.hand_off_all(envelopes),
            BatchSize::SmallInput,
        )
    });
}

/// SigV4 of one `SendMessageBatch` (a 2 kB body, a role's session token) with `aws-sigv4`,
/// which derives the signing key for every request (what `aws::SignedSend` does).
fn signing(c: &mut Criterion) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use std::time::SystemTime;
    let credentials = aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG",
        Some("IQoJb3JpZ2luX2VjE".repeat(40)),
        None,
        "bench",
    );
    let url = "https://sqs.eu-west-1.amazonaws.com/";
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "AmazonSQS.SendMessageBatch"),
        ("x-amzn-query-mode", "true"),
    ];
    let payload = vec![b'x'; 2048];
    let identity = credentials.clone().into();
    c.bench_function("sigv4/aws-sigv4, key derived per request", |b| {
        b.iter(|| {
            let signable = SignableRequest::new(
                "POST",
                url,
                headers.iter().copied(),
                SignableBody::Bytes(&payload),
            )
            .expect("signable");
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region("eu-west-1")
                .name("sqs")
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .expect("params")
                .into();
            sign(signable, &params).expect("signed").into_parts()
        })
    });
}

fn worker_batch(c: &mut Criterion) {
    let rt = runtime();
    let connectif = rt.block_on(connectif());
    let worker = worker(&connectif.uri());
    let mut n = 0;
    c.bench_function("worker_batch_of_10", |b| {
        b.to_async(&rt).iter_batched(
            || {
                n += 1;
                batch(n)
            },
            |event| handle_batch(&worker, event),
            BatchSize::SmallInput,
        )
    });
}

fn with_log_lines(c: &mut Criterion) {
    let sink = bridge_core::telemetry::dispatch(std::io::sink, tracing::Level::INFO);
    tracing::dispatcher::set_global_default(sink).expect("one subscriber");
    posts(c);
    sqs_send(c);
    signing(c);
    worker_batch(c);
}

criterion_group!(benches, with_log_lines);
criterion_main!(benches);
