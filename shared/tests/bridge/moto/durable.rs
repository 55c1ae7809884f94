//! Durable hand-off through SQS FIFO, delivery with retries, dead letters, idempotency,
//! order, replay — against moto_server and a Connectif fake that fails on command.

use crate::durable_helpers::*;
use crate::helpers::*;
use bridge_core::aws::replay;
use bridge_core::delivery::{MemoryQueue, RetryPolicy, WorkerPolicy};
use bridge_core::qapla::ShipmentPayload;
use std::sync::Arc;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

async fn post_shipment(d: &Durable, body: String) {
    let answer = send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", body)).await;
    assert_eq!(answer, (200, ok()), "accepted into the queue");
}

fn delivered() -> String {
    fixture("shipment-v1.3-delivered.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_answers_ok_once_queued_without_calling_connectif() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, delivered()).await;
    assert!(
        fake.tries().is_empty(),
        "delivery happens later, in the worker"
    );
    assert_eq!(d.queued().await, 1);
    d.drain(MINUTE).await;
    assert_eq!(fake.accepted().len(), 1);
    assert_eq!(fake.accepted()[0]["qaplaStatus"], "Consegnato");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectif_failing_k_times_then_accepting_gets_the_event_exactly_once() {
    let (server, fake) = FakeConnectif::start().await;
    fake.script([Step::Status(500), Step::Status(502), Step::Status(503)]);
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, delivered()).await;
    d.drain(MINUTE).await;
    assert_eq!(fake.tries().len(), 4, "three failures and one success");
    assert_eq!(fake.accepted().len(), 1);
    assert!(
        replay::list(&d.sqs, &d.dlq_url)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_retry_after_delays_the_next_try_at_least_that_long_clamped() {
    let (server, fake) = FakeConnectif::start().await;
    fake.script([Step::RetryAfter(2)]);
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, delivered()).await;
    d.drain(MINUTE).await;
    let tries = fake.tries();
    assert_eq!(tries.len(), 2);
    assert!(
        tries[1] - tries[0] >= Duration::from_secs(2),
        "waited {:?}",
        tries[1] - tries[0]
    );

    // An absurd Retry-After is clamped to the policy's cap (2 s here), not obeyed (the bound
    // leaves room for a moto_server busy with the other tests of the binary).
    let (server, fake) = FakeConnectif::start().await;
    fake.script([Step::RetryAfter(86_400)]);
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, delivered()).await;
    d.drain(MINUTE).await;
    let tries = fake.tries();
    assert!(
        tries[1] - tries[0] < Duration::from_secs(30),
        "clamped: {:?}",
        tries[1] - tries[0]
    );
    assert_eq!(fake.accepted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_is_dead_lettered_at_once_with_its_reason() {
    let (server, fake) = FakeConnectif::start().await;
    fake.script([Step::Status(422)]);
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, delivered()).await;
    d.drain(MINUTE).await;
    assert_eq!(fake.tries().len(), 1, "no retry of a permanent refusal");
    let letters = replay::list(&d.sqs, &d.dlq_url).await.expect("list");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason, "HTTP 422");
    assert_eq!(
        letters[0].envelope.as_ref().map(|e| e.key.as_str()),
        Some("580104809")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_of_a_channel_whose_secret_was_deleted_is_dead_lettered() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, delivered()).await;
    d.channels.remove(&channel("it"));
    d.drain(MINUTE).await;
    assert!(fake.tries().is_empty());
    let letters = replay::list(&d.sqs, &d.dlq_url).await.expect("list");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason, "channel settings no longer exist");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_and_timeouts_are_retried() {
    // Connectif not listening yet.
    let port = free_port();
    let d = Durable::start(&format!("http://127.0.0.1:{port}"), test_policy()).await;
    post_shipment(&d, delivered()).await;
    assert_eq!(d.poll().await, 1);
    assert_eq!(d.queued().await, 1, "kept for a retry");
    // Connectif comes up on that port, slow on its first answer (a timeout), then fine.
    let fake = FakeConnectif::default();
    fake.script([Step::Slow(TOO_SLOW)]);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the reserved port");
    let server = wiremock::MockServer::builder()
        .listener(listener)
        .start()
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    d.drain(MINUTE).await;
    assert_eq!(
        fake.tries().len(),
        2,
        "the timed-out try and the one that worked"
    );
    assert_eq!(fake.accepted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_qapla_post_five_times_reaches_connectif_once_even_days_later() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    for _ in 0..5 {
        post_shipment(&d, delivered()).await;
    }
    d.drain(MINUTE).await;
    assert_eq!(fake.tries().len(), 1);
    // Days later SQS's 5-minute deduplication is long over: the same event, enqueued anew
    // under another deduplication id, is stopped by the state table.
    let memory = Arc::new(MemoryQueue::new(Duration::from_secs(30)));
    let deps = d.bridge_where(|_| ()).with_memory_queue(memory.clone());
    let deps = deps.webhook_deps().await.expect("deps");
    let _ = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", delivered())).await;
    let copy = memory.receive(1).remove(0);
    d.sqs
        .send_message()
        .queue_url(&d.queue_url)
        .message_group_id(copy.group)
        .message_deduplication_id("re-posted-days-later")
        .message_body(copy.body)
        .send()
        .await
        .expect("enqueued again");
    assert_eq!(d.queued().await, 1);
    d.drain(MINUTE).await;
    assert_eq!(fake.tries().len(), 1, "still one Connectif request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_arrive_in_order_and_a_late_older_status_is_not_sent() {
    let (server, fake) = FakeConnectif::start().await;
    fake.script([Step::Status(500)]);
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(
        &d,
        shipment("T1", "3", "2024-03-15 10:00:00", "IN TRANSITO"),
    )
    .await;
    post_shipment(
        &d,
        shipment("T1", "4", "2024-03-16 08:00:00", "IN CONSEGNA"),
    )
    .await;
    post_shipment(
        &d,
        shipment("T1", "99", "2024-03-16 11:00:00", "CONSEGNATA"),
    )
    .await;
    d.drain(MINUTE).await;
    let ids: Vec<String> = fake
        .accepted()
        .iter()
        .map(|b| b["qaplaStatusID"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        ids,
        ["3", "4", "99"],
        "in order despite the failure of the first"
    );
    // A scan from before "delivered", posted late.
    post_shipment(
        &d,
        shipment("T1", "3", "2024-03-15 18:00:00", "IN TRANSITO"),
    )
    .await;
    d.drain(MINUTE).await;
    assert_eq!(
        fake.accepted().len(),
        3,
        "the late in-transit is superseded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_unreachable_makes_the_webhook_answer_503() {
    // The webhook as the stack wires it, its SQS endpoint a port nothing listens on.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let config = Config {
        queue_url: Some(format!("{nowhere}/000000000000/q.fifo")),
        aws: loopback_aws(&nowhere),
        ..test_config()
    };
    let deps = config
        .bridge()
        .with_channel_store(store(Mode::Api, "http://127.0.0.1:9"));
    let deps = deps.webhook_deps().await.expect("deps");
    let answer = send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", delivered())).await;
    assert_eq!(answer, (503, ko()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_still_failing_past_the_delivery_budget_is_dead_lettered() {
    let (server, fake) = FakeConnectif::start().await;
    fake.fail_randomly(1.0);
    // A budget of a few seconds, with room for a first try that starts late on a busy
    // machine (`make test` runs the stack's checks beside the tests).
    let policy = WorkerPolicy {
        backoff: RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(1)),
        max_age: Duration::from_secs(6),
    };
    let d = Durable::start(&server.uri(), policy).await;
    post_shipment(&d, delivered()).await;
    d.drain(MINUTE).await;
    assert!(fake.tries().len() >= 2, "retried before giving up");
    let letters = replay::list(&d.sqs, &d.dlq_url).await.expect("list");
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].reason.starts_with("gave up after 0 h: HTTP 500"),
        "{}",
        letters[0].reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_redriven_per_channel_then_delivered_once() {
    let (server, fake) = FakeConnectif::start().await;
    fake.script([Step::Status(404), Step::Status(404), Step::Status(404)]);
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, shipment("T1", "3", "2024-03-15 10:00:00", "A")).await;
    post_shipment(&d, shipment("T1", "4", "2024-03-16 08:00:00", "B")).await;
    let es = fixture("shipment-v1.3-out-for-delivery-es.json");
    let answer = send::<ShipmentPayload>(&d.deps, post("/qapla/es/shipments", es)).await;
    assert_eq!(answer, (200, ok()));
    d.drain(MINUTE).await;
    assert_eq!(
        replay::list(&d.sqs, &d.dlq_url).await.expect("list").len(),
        3
    );
    assert!(fake.accepted().is_empty());

    // The cause is fixed (the fake now accepts): redrive the Italian channel only.
    let (moved, left) = replay::redrive(&d.sqs, &d.dlq_url, &d.queue_url, Some("it"))
        .await
        .expect("redrive");
    assert_eq!((moved, left), (2, 1));
    d.drain(MINUTE).await;
    let scans: Vec<_> = fake
        .accepted()
        .iter()
        .map(|b| b["courierStatus"].clone())
        .collect();
    assert_eq!(scans, ["A", "B"], "redriven in their original order");
    // Then everything else; redriving again finds nothing for Italy.
    assert_eq!(
        replay::redrive(&d.sqs, &d.dlq_url, &d.queue_url, None)
            .await
            .expect("redrive"),
        (1, 0)
    );
    d.drain(MINUTE).await;
    assert_eq!(fake.accepted().len(), 3);
    assert_eq!(
        replay::redrive(&d.sqs, &d.dlq_url, &d.queue_url, None)
            .await
            .expect("redrive"),
        (0, 0)
    );
}

/// An orders post of `n` orders with distinct references.
pub fn orders_post(n: usize) -> String {
    let mut v = fixture_json("orders.json");
    let first = v["orders"][0].clone();
    v["orders"] = (0..n)
        .map(|i| {
            let mut o = first.clone();
            o["reference"] = serde_json::json!(format!("ORDER-{i:05}"));
            o
        })
        .collect();
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_of_1000_orders_is_queued() {
    use bridge_core::qapla::OrdersPayload;
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    let deps = d.bridge_where(|c| c.max_body_bytes = 6_000_000);
    let deps = deps.webhook_deps().await.expect("deps");
    let started = std::time::Instant::now();
    // moto's FIFO queue scans every stored message on each send (about a minute for 1,000
    // messages, from any client): a deadline for moto, not for SQS.
    let deadline = started + Duration::from_secs(300);
    let event = post("/qapla/it/orders", orders_post(1000));
    let answer = bridge_core::webhook::handle::<OrdersPayload>(&deps, event, deadline).await;
    let took = started.elapsed();
    println!("1,000 orders queued through moto in {took:?}");
    assert_eq!(answer.status_code, 200);
    assert_eq!(d.queued().await, 1000);
    assert!(fake.tries().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_not_queued_before_the_deadline_is_a_ko_and_its_retry_a_no_op() {
    use bridge_core::qapla::OrdersPayload;
    let (server, _fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    let body = orders_post(40);
    // Less than the answer margin left: KO at once, so Qapla' retries the post later.
    let too_close = std::time::Instant::now() + Duration::from_millis(500);
    let event = post("/qapla/it/orders", body.clone());
    let answer = bridge_core::webhook::handle::<OrdersPayload>(&d.deps, event, too_close).await;
    assert_eq!(
        (answer.status_code, answer.body.as_str()),
        (503, r#"{"result":"KO"}"#)
    );
    for _ in 0..2 {
        let answer = send::<OrdersPayload>(&d.deps, post("/qapla/it/orders", body.clone())).await;
        assert_eq!(answer, (200, ok()));
    }
    assert_eq!(d.queued().await, 40, "the repeat is de-duplicated");
}
