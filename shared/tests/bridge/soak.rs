//! Soak: many events across many shipments with Connectif failing 30 % of tries at random.
//! Every event must reach Connectif exactly once and in per-shipment order.

use crate::durable_helpers::*;
use crate::helpers::*;
use bridge_core::delivery::MemoryQueue;
use bridge_core::qapla::ShipmentPayload;
use bridge_core::webhook::Deps;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn date(i: usize) -> String {
    format!(
        "2024-03-15 1{}:{:02}:{:02}",
        i / 3600,
        (i / 60) % 60,
        i % 60
    )
}

/// Every shipment's scans arrived once each, in order `0..per_shipment`.
fn assert_exactly_once_in_order(accepted: &[Value], shipments: usize, per_shipment: usize) {
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for body in accepted {
        let tracking = body["trackingNumber"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let scan: usize = body["courierStatus"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("scan number");
        seen.entry(tracking).or_default().push(scan);
    }
    assert_eq!(seen.len(), shipments, "every shipment delivered");
    let expected: Vec<usize> = (0..per_shipment).collect();
    for (tracking, scans) in seen {
        assert_eq!(scans, expected, "shipment {tracking}: once each, in order");
    }
    assert_eq!(accepted.len(), shipments * per_shipment);
}

/// Posts `shipments × per_shipment` statuses through the webhook, round-robin across
/// shipments (so groups interleave in the queue as they would in real traffic). The status
/// alternates, so no event is a repeat of the one before.
async fn post_all(deps: &Deps, shipments: usize, per_shipment: usize) {
    for i in 0..per_shipment {
        for s in 0..shipments {
            let status = if i % 2 == 0 { "3" } else { "20" };
            let body = shipment(&format!("S{s:04}"), status, &date(i), &i.to_string());
            let answer = send::<ShipmentPayload>(deps, post("/qapla/it/shipments", body)).await;
            assert_eq!(answer, (200, ok()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_in_process_10000_events_500_shipments_30_percent_failures() {
    const SHIPMENTS: usize = 500;
    const PER_SHIPMENT: usize = 20;
    const POLLERS: usize = 4;
    let (server, fake) = FakeConnectif::start().await;
    fake.fail_randomly(0.3);
    let queue = Arc::new(MemoryQueue::new(Duration::from_millis(50)));
    let config = Config {
        request_timeout: Duration::from_secs(5),
        worker: fast_worker(),
        ..test_config()
    };
    let bridge = config
        .bridge()
        .with_channel_store(store(Mode::Api, &server.uri()))
        .with_memory_queue(queue.clone());
    let deps = bridge.webhook_deps().await.expect("deps");
    let started = Instant::now();
    post_all(&deps, SHIPMENTS, PER_SHIPMENT).await;
    let posted = started.elapsed();
    let worker = Arc::new(bridge.worker().expect("worker"));
    let pollers: Vec<_> = (0..POLLERS)
        .map(|_| {
            let (queue, worker) = (queue.clone(), worker.clone());
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(600);
                while !queue.is_empty() && Instant::now() < deadline {
                    let batch = queue.receive(10);
                    if batch.is_empty() {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                    let failed = worker.process(&batch).await;
                    queue.settle(&batch, &failed);
                }
            })
        })
        .collect();
    for p in pollers {
        p.await.expect("poller");
    }
    let total = started.elapsed();
    assert!(queue.is_empty(), "drained");
    assert!(queue.dead_letters().is_empty(), "nothing dead-lettered");
    let accepted = fake.accepted();
    assert_exactly_once_in_order(&accepted, SHIPMENTS, PER_SHIPMENT);
    println!(
        "soak in-process: {} events, {} shipments, {} Connectif tries ({} failed), posted in {:?}, all delivered in {:?}",
        accepted.len(),
        SHIPMENTS,
        fake.tries().len(),
        fake.tries().len() - accepted.len(),
        posted,
        total
    );
}

/// Against `moto_server`: run by `make test`, skipped by `make check`.
mod moto {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn soak_against_moto_200_events_20_shipments_30_percent_failures() {
        const SHIPMENTS: usize = 20;
        const PER_SHIPMENT: usize = 10;
        let (server, fake) = FakeConnectif::start().await;
        fake.fail_randomly(0.3);
        let d = Durable::start(&server.uri(), test_policy()).await;
        let started = Instant::now();
        post_all(&d.deps, SHIPMENTS, PER_SHIPMENT).await;
        d.drain(Duration::from_secs(300)).await;
        let accepted = fake.accepted();
        assert_exactly_once_in_order(&accepted, SHIPMENTS, PER_SHIPMENT);
        println!(
            "soak against moto: {} events, {} shipments, {} Connectif tries, {:?}",
            accepted.len(),
            SHIPMENTS,
            fake.tries().len(),
            started.elapsed()
        );
    }
}
