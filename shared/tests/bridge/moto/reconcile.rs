//! The reconciler against moto (channel secrets, state table, queue) and a wiremock Qapla':
//! it queues exactly the statuses Qapla' changed but never posted, the worker delivers
//! them (completed from `getShipment`), and a second run over the overlap finds nothing.

use crate::durable_helpers::*;
use crate::helpers::*;
use bridge_core::history::reconcile::{Reconciler, Timing};
use bridge_core::qapla::ShipmentPayload;
use bridge_core::qapla::time::italian_now;
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const MINUTE: Duration = Duration::from_secs(60);

/// The reconciler of `d`'s bridge as the stack wires it, with the channel `it`'s secret
/// under the bridge's prefix and another application's secret beside it.
async fn reconciler(d: &Durable, connectif: &str) -> Reconciler {
    let secrets = secrets_client(&d.moto.endpoint);
    let it = secret(Mode::Api, connectif, IT_KEY, "it").to_string();
    let ours = format!("{}/it", d.config.secret_prefix);
    let other = format!("{}/it", testkit::unique("other-app"));
    for (name, value) in [(ours.as_str(), it.as_str()), (other.as_str(), "{}")] {
        testkit::aws::put_secret(&secrets, name, value).await;
    }
    d.bridge_where(|c| {
        c.idempotency_ttl = MINUTE;
        c.reconcile = Timing::default();
    })
    .reconciler()
    .expect("reconciler")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_queues_exactly_the_statuses_qapla_never_posted() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    // Two statuses reached the bridge live: one delivered, one older that the worker rightly
    // did not send (superseded). Both count as handled.
    let live = shipment("LIVE-1", "99", "2026-11-20 10:00:00", "Consegnata");
    let late = shipment("LIVE-1", "3", "2026-11-20 09:00:00", "In transito");
    for body in [live, late] {
        let answer = send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", body)).await;
        assert_eq!(answer, (200, ok()));
    }
    d.drain(MINUTE).await;
    assert_eq!(
        fake.accepted().len(),
        1,
        "the late, older status is superseded"
    );
    // Qapla' knows two more status changes that were never posted.
    let entries = [
        ("LIVE-1", "99", "2026-11-20 10:00:00"),
        ("LIVE-1", "3", "2026-11-20 09:00:00"),
        ("MISSED-1", "3", "2026-11-20 10:05:00"),
        ("MISSED-2", "99", "2026-11-20 10:07:00"),
    ];
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.2/trackingByTimeFrame/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(testkit::time_frame_answer(&entries)),
        )
        .expect(2)
        .mount(&server)
        .await;
    let customer = get_shipment_answer(
        "giulia.rossi@example.com",
        "Giulia Rossi",
        "IT",
        "https://tracking.qapla.it/x",
    );
    mount_get_shipment(&server, customer, 2).await;
    let reconciler = reconciler(&d, &server.uri()).await;

    let logs = Logs::capture();
    let found = reconciler.run(italian_now()).await.expect("run");
    assert_eq!(found.len(), 1, "one channel under the prefix: {found:?}");
    let counted: Vec<_> = logs
        .metrics()
        .into_iter()
        .filter(|m| m.get("StatusesFoundByReconciliation").is_some())
        .collect();
    assert_eq!(counted.len(), 1, "one metric line per channel");
    assert_eq!(
        (
            &counted[0]["channel"],
            &counted[0]["StatusesFoundByReconciliation"]
        ),
        (&json!("it"), &json!(2))
    );
    let it = &found[0];
    assert_eq!(
        (it.channel.as_str(), it.found, it.handled, it.failed),
        ("it", 2, 2, 0)
    );
    assert_eq!(it.error, None);
    d.drain(MINUTE).await;
    let accepted = fake.accepted();
    let keys: Vec<&str> = accepted
        .iter()
        .filter_map(|e| e["trackingNumber"].as_str())
        .collect();
    assert_eq!(
        keys,
        ["LIVE-1", "MISSED-1", "MISSED-2"],
        "each status once, in order"
    );
    assert_eq!(
        accepted[2]["customerEmail"], "giulia.rossi@example.com",
        "completed by the worker"
    );

    // The next run reads its overlap again: what was found is now handled, not found again.
    let again = reconciler.run(italian_now()).await.expect("run");
    assert_eq!((again[0].found, again[0].handled), (0, 4));
    d.drain(MINUTE).await;
    assert_eq!(fake.accepted().len(), 3, "nothing sent twice");
}
