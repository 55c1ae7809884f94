//! The delivery path when the state table fails at the worst moment: every single write of
//! a delivery's record failed in turn (the worker dying there, or the table throttling
//! there), through a proxy in front of moto_server that fails chosen DynamoDB calls.

use crate::durable_helpers::*;
use crate::helpers::*;
use bridge_core::aws::replay;
use bridge_core::qapla::ShipmentPayload;
use std::time::Duration;
use testkit::faults::{Fault, FaultyAws};

const MINUTE: Duration = Duration::from_secs(60);
/// Every DynamoDB call that writes.
const WRITES: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

async fn post_shipment(d: &Durable, body: String) {
    let answer = send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", body)).await;
    assert_eq!(answer, (200, ok()), "accepted into the queue");
}

/// A shipment's "delivered", then its late "in transit" of the day before.
fn newer(tracking: &str) -> String {
    shipment(tracking, "99", "2024-03-16 11:00:00", "CONSEGNATA")
}

fn older(tracking: &str) -> String {
    shipment(tracking, "3", "2024-03-15 18:00:00", "IN TRANSITO")
}

/// The status ids Connectif accepted for `tracking`, in order.
fn sent(fake: &FakeConnectif, tracking: &str) -> Vec<String> {
    let accepted = fake.accepted();
    let of = accepted.iter().filter(|e| e["trackingNumber"] == tracking);
    of.map(|e| e["qaplaStatusID"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_at_any_state_write_never_lets_an_older_status_through() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    let proxy = FaultyAws::to(&d.moto.endpoint).await;
    let through_proxy = || {
        let bridge = d.bridge_where(|c| c.aws = loopback_aws(&proxy.endpoint));
        bridge.worker().expect("worker")
    };
    // How many writes a delivery makes, counted on a clean one.
    proxy.count(WRITES);
    post_shipment(&d, newer("CLEAN")).await;
    d.drain_with(&through_proxy(), MINUTE).await;
    let writes = proxy.seen();
    assert!(writes >= 1, "a delivery is recorded");
    for k in 0..writes {
        for (ending, fault) in [
            (Ending::Crashes, Fault::Drop),
            (Ending::Returns, Fault::Throttle),
            (Ending::Returns, Fault::ServerError),
        ] {
            let tracking = format!("F{k}{ending:?}{fault:?}");
            post_shipment(&d, newer(&tracking)).await;
            // The first k writes land, the rest fail.
            let worker = through_proxy();
            proxy.fail_from(WRITES, k, fault);
            d.poll_with(&worker, ending).await;
            proxy.heal();
            // Redelivered to a new process (a crash), retried (a failure reported), or done;
            // then the late, older status of the same shipment.
            let worker = if ending == Ending::Crashes {
                through_proxy()
            } else {
                worker
            };
            d.drain_with(&worker, MINUTE).await;
            post_shipment(&d, older(&tracking)).await;
            d.drain_with(&through_proxy(), MINUTE).await;
            let sent = sent(&fake, &tracking);
            let case = format!("write {} of {writes} failed ({ending:?}, {fault:?})", k + 1);
            assert!(!sent.contains(&"3".to_owned()), "{case}: sent {sent:?}");
            assert!(sent.contains(&"99".to_owned()), "{case}: sent {sent:?}");
        }
    }
}

/// A throttled record keeps the message's group waiting: the next status of the shipment
/// is not sent before the first is recorded, and this process does not send the first again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_not_recorded_holds_its_group_and_is_not_sent_twice_by_its_process() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    let proxy = FaultyAws::to(&d.moto.endpoint).await;
    let bridge = d.bridge_where(|c| c.aws = loopback_aws(&proxy.endpoint));
    let worker = bridge.worker().expect("worker");
    post_shipment(
        &d,
        shipment("HOLD", "3", "2024-03-15 10:00:00", "IN TRANSITO"),
    )
    .await;
    post_shipment(
        &d,
        shipment("HOLD", "4", "2024-03-16 08:00:00", "IN CONSEGNA"),
    )
    .await;
    proxy.fail_from(WRITES, 0, Fault::Throttle);
    d.poll_with(&worker, Ending::Returns).await;
    assert_eq!(
        sent(&fake, "HOLD"),
        ["3"],
        "the second waits behind the first"
    );
    assert_eq!(d.queued().await, 2, "both still queued");
    proxy.heal();
    d.drain_with(&worker, MINUTE).await;
    assert_eq!(sent(&fake, "HOLD"), ["3", "4"], "in order, each once");
}

/// A worker that dies after dead-lettering a refused event, before its batch is answered,
/// sees the message again: still one dead letter (its id once held the second of failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_dead_lettering_leaves_one_dead_letter() {
    let (server, fake) = FakeConnectif::start().await;
    fake.script([Step::Status(422), Step::Status(422)]);
    let d = Durable::start(&server.uri(), test_policy()).await;
    post_shipment(&d, newer("DEAD")).await;
    d.poll_with(&d.worker, Ending::Crashes).await;
    // The redelivery a second later or more.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    d.drain(MINUTE).await;
    assert_eq!(
        fake.tries().len(),
        2,
        "refused once per delivery of the message"
    );
    let letters = replay::list(&d.sqs, &d.dlq_url).await.expect("list");
    assert_eq!(letters.len(), 1, "{letters:?}");
}

/// Two workers recording the same shipment at once: DynamoDB cancels one transaction with
/// `TransactionConflict` (injected at the proxy, shaped as DynamoDB answers it). That is a
/// failed record, retried, never "a newer status is stored": were it read so, the shipment's
/// newest status would stay unwritten and a late, older status would go out after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_conflict_is_retried_never_read_as_a_newer_status_stored() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    let proxy = FaultyAws::to(&d.moto.endpoint).await;
    let bridge = d.bridge_where(|c| c.aws = loopback_aws(&proxy.endpoint));
    let worker = bridge.worker().expect("worker");
    post_shipment(&d, newer("CONFLICT")).await;
    proxy.fail_from(&["TransactWriteItems"], 0, Fault::TransactionConflict);
    d.poll_with(&worker, Ending::Returns).await;
    assert!(proxy.failed() >= 1, "the record met the conflict");
    assert_eq!(d.queued().await, 1, "not done: retried");
    proxy.heal();
    d.drain_with(&worker, MINUTE).await;
    post_shipment(&d, older("CONFLICT")).await;
    d.drain_with(&worker, MINUTE).await;
    assert_eq!(
        sent(&fake, "CONFLICT"),
        ["99"],
        "sent once, and the older status after it superseded"
    );
}
