//! Stalled parcels against moto's DynamoDB (the state table with its `stalls` index, as the
//! template creates it): the shipments' items are written by the worker's own state store,
//! the finder reads only the stalled ones, once each; then end to end through the
//! reconciler, SQS, the worker, Qapla's `getShipment` (wiremock) and a local Connectif.

use crate::durable_helpers::*;
use crate::helpers::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use bridge_core::Kind;
use bridge_core::aws::DynamoState;
use bridge_core::aws::table::{Pk, Table};
use bridge_core::calendar::Country;
use bridge_core::channel::ChannelSettings;
use bridge_core::delivery::state::{Seen, StateStore};
use bridge_core::delivery::{Envelope, HandOff, HandOffError, HandedOff};
use bridge_core::qapla::ShipmentPayload;
use bridge_core::qapla::time::{italian_now, parse_time, time_text};
use bridge_core::stalls::{self, last_stalled_day};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// A hand-off that keeps what it is given.
#[derive(Default)]
struct Captured(Mutex<Vec<Envelope>>);

#[async_trait]
impl HandOff for Captured {
    async fn hand_off(&self, envelope: Envelope) -> Result<HandedOff, HandOffError> {
        self.0.lock().expect("captured").push(envelope);
        Ok(HandedOff::Queued)
    }
}

impl Captured {
    fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.0.lock().expect("captured"))
    }
}

/// A shipment status of channel `it` as the webhook plans it (no customer: v1.2).
fn status(tracking: &str, id: &str, at: &str) -> Envelope {
    serde_json::from_value(json!({
        "eventId": format!("{tracking}/{id}/{at}"),
        "channel": "it",
        "kind": "shipment",
        "key": tracking,
        "statusId": id,
        "occurredAt": at,
        "courier": "BRT",
        "event": { "alias": "order-status-change", "reception": "shipmentStatus", "fields": {
            "courierStatus": "SCAN", "customerEmail": "", "customerName": "", "language": "it",
            "qaplaStatus": "In transito", "qaplaStatusID": id, "reference": "R-1",
            "trackingNumber": tracking, "trackingUrl": "https://shop.example/t/1",
            "statusGroup": "in_transit", "courierName": "BRT"
        } }
    }))
    .expect("envelope")
}

fn stalls_on(connectif: &str) -> ChannelSettings {
    let mut v = secret(Mode::Api, connectif, IT_KEY, "it");
    v["stalls"] = json!({});
    ChannelSettings::from_json(&v.to_string()).expect("settings")
}

fn at(text: &str) -> i64 {
    parse_time(text).expect("time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_open_shipments_cost_one_query_and_a_stall_is_told_once_not_early() {
    let d = Durable::start("http://127.0.0.1:9", test_policy()).await;
    let dynamo = testkit::aws::clients(&d.moto.endpoint).dynamo;
    let table = Table::new(dynamo.clone(), d.config.state_table.clone().expect("table"));
    let state = DynamoState::new(table.clone(), Duration::from_secs(86_400));
    // 2,000 parcels moving (a status on Tuesday 29 December 2026), one silent since
    // Christmas Eve, one delivered weeks ago, one silent for a month (past catching up).
    for e in [
        status("OPEN-0", "3", "2026-12-29 09:00:00"),
        status("XMAS", "3", "2026-12-24 18:00:00"),
        status("DONE", "99", "2026-12-10 10:00:00"),
        status("OLD", "3", "2026-12-01 10:00:00"),
        // Silent since Christmas Eve too, but a new status on the 30th ends that.
        status("MOVED", "3", "2026-12-24 18:00:00"),
        status("MOVED", "4", "2026-12-30 08:00:00"),
    ] {
        state.record(&e).await.expect("recorded");
    }
    // `shippedAt`: the first status with the courier, remembered in the shipment's item.
    let left = status("SHIP", "20", "2026-12-28 08:00:00").with_shipped_at(None);
    state.record(&left).await.expect("recorded");
    let next = status("SHIP", "4", "2026-12-29 08:00:00");
    let shipped = Some("2026-12-28 08:00:00".to_owned());
    assert_eq!(
        state.check(&next).await.expect("check"),
        Seen::Fresh {
            shipped_at: shipped
        }
    );
    // The other 1,999 as the worker wrote the first (moto copies the table on every
    // transaction: 2,000 of them would take minutes), 25 to a batch.
    let first = Pk::Last(Kind::Shipment, "it", "OPEN-0");
    let item = table.get(first).await.expect("read").expect("written");
    let copies: Vec<WriteRequest> = (1..2_000)
        .map(|n| {
            let mut copy = item.clone();
            copy.insert(
                "pk".into(),
                Pk::Last(Kind::Shipment, "it", &format!("OPEN-{n}")).value(),
            );
            let put = PutRequest::builder()
                .set_item(Some(copy))
                .build()
                .expect("put");
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    for batch in copies.chunks(25) {
        (dynamo.batch_write_item())
            .request_items(table.name(), batch.to_vec())
            .send()
            .await
            .expect("batch");
    }

    // The index holds every open shipment (the delivered one is not in it)...
    let (open, _) = (table.watched("it", "2000-01-01 00:00:00", "2100-01-01 00:00:00"))
        .await
        .expect("index");
    assert_eq!(open.len(), 2_004);
    let settings = stalls_on("http://127.0.0.1:9");
    let it = channel("it");
    let queue = Captured::default();
    let check = |now: &str| {
        let now = at(now);
        let (table, queue, it, settings) = (&table, &queue, &it, &settings);
        async move {
            let done = stalls::check(table, queue, it, settings, now).await;
            done.expect("check").expect("stalls on")
        }
    };
    // Wednesday 30th: Christmas, Santo Stefano and a Sunday do not count, two days do.
    let early = check("2026-12-30 10:00:00").await;
    assert_eq!((early.queued, early.read, early.calls), (0, 0, 1));
    // A channel without `stalls`, or sending no shipment statuses, does not look.
    let mut off = secret(Mode::Api, "http://127.0.0.1:9", IT_KEY, "it");
    for (field, value) in [
        ("stalls", Value::Null),
        ("send", json!({ "shipments": false })),
    ] {
        if !value.is_null() {
            off["stalls"] = json!({});
        }
        off[field] = value;
        let off = ChannelSettings::from_json(&off.to_string()).expect("settings");
        let late = at("2027-01-31 10:00:00");
        let none = stalls::check(&table, &queue, &it, &off, late).await;
        assert_eq!(none.expect("check"), None, "{field}");
    }
    // Thursday 31st: the third business day is over.
    let due = check("2026-12-31 10:00:00").await;
    assert_eq!(
        (due.queued, due.read, due.calls),
        (1, 1, 1),
        "one query, reading only the stalled parcel of 2,005"
    );
    let told = queue.take();
    assert_eq!(told[0].key, "XMAS");
    let event = serde_json::to_value(&told[0].event.fields).expect("fields");
    assert_eq!(event["daysWithoutNews"], 3);
    assert_eq!(event["lastStatusAt"], "2026-12-24 18:00:00");
    assert_eq!(
        (&event["qaplaStatusID"], &event["trackingUrl"]),
        (&json!("3"), &json!("https://shop.example/t/1"))
    );
    assert_eq!(
        event["customerEmail"], "",
        "completed from Qapla' by the worker"
    );
    assert!(told[0].enrich.as_ref().is_some_and(|e| e.customer));
    // Once: the next run (the same day, or later) does not find it again.
    let again = check("2026-12-31 10:15:00").await;
    assert_eq!((again.queued, again.read), (0, 0));
    assert!(queue.take().is_empty());
    // The stall's event id is its shipment's and last status's: queued twice (a crash
    // before it was marked), the worker drops the second as a duplicate.
    assert_eq!(
        told[0].event_id,
        Envelope::id_of(
            &it,
            bridge_core::Kind::Shipment,
            &["stalled", "XMAS", "2026-12-24 18:00:00"]
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_parcel_reaches_connectif_once_and_a_new_status_ends_the_stall() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    let customer = get_shipment_answer(
        "giulia.rossi@example.com",
        "Giulia Rossi",
        "IT",
        "https://tracking.qapla.it/x",
    );
    mount_get_shipment(&server, customer, 1).await;
    // Times relative to today (Italian time): the last day whose statuses are stalled now,
    // and the day after it, which is not.
    let today = italian_now().div_euclid(86_400);
    let last = last_stalled_day(Country::IT, 3, today);
    let noon = |day: i64| time_text(day * 86_400 + 12 * 3600);
    let posts = [
        shipment("STUCK", "3", &noon(last), "IN TRANSITO"),
        shipment("MOVING", "3", &noon(last + 1), "IN TRANSITO"),
        shipment("GONE", "99", &noon(last - 1), "CONSEGNATA"),
    ];
    for body in posts {
        let answer = send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", body)).await;
        assert_eq!(answer, (200, ok()));
    }
    d.drain(MINUTE).await;
    assert_eq!(fake.accepted().len(), 3);
    let secrets = secrets_client(&d.moto.endpoint);
    let mut it = secret(Mode::Api, &server.uri(), IT_KEY, "it");
    (it["stalls"], it["reconcile"]) = (json!({}), json!("off"));
    let name = format!("{}/it", d.config.secret_prefix);
    testkit::aws::put_secret(&secrets, &name, &it.to_string()).await;
    let reconciler = d.bridge_where(|_| {}).reconciler().expect("reconciler");

    let logs = Logs::capture();
    let found = reconciler.run(italian_now()).await.expect("run");

    assert_eq!((found[0].stalled, &found[0].stall_error), (1, &None));
    let counted: Vec<Value> = (logs.metrics().into_iter())
        .filter(|m| m.get("StalledParcels").is_some())
        .collect();
    assert_eq!(counted[0]["StalledParcels"], 1);
    d.drain(MINUTE).await;
    let stalled: Vec<Value> = (fake.accepted().into_iter())
        .filter(|e| e.get("daysWithoutNews").is_some())
        .collect();
    assert_eq!(stalled.len(), 1);
    assert_eq!(
        (
            &stalled[0]["trackingNumber"],
            &stalled[0]["daysWithoutNews"],
            &stalled[0]["customerEmail"]
        ),
        (
            &json!("STUCK"),
            &json!(3),
            &json!("giulia.rossi@example.com")
        )
    );
    assert_eq!(stalled[0]["lastStatusAt"], json!(noon(last)));
    assert_eq!(stalled[0]["qaplaStatus"], "In transito");
    // What the table keeps for it: no e-mail, no name.
    let dynamo = testkit::aws::clients(&d.moto.endpoint).dynamo;
    let table = Table::new(dynamo, d.config.state_table.clone().expect("table"));
    let kept = table
        .get(Pk::Last(Kind::Shipment, "it", "STUCK"))
        .await
        .expect("read");
    let kept = format!("{:?}", kept.expect("item"));
    assert!(
        kept.contains("ORDER-") && !kept.contains("giulia") && !kept.contains("Giulia"),
        "{kept}"
    );
    assert!(stalled[0].get("statusGroup").is_none(), "not asked for");

    // Told once; then a new status ends the stall: nothing more is found.
    assert_eq!(
        reconciler.run(italian_now()).await.expect("run")[0].stalled,
        0
    );
    let now = time_text(italian_now() - 3600);
    let moved = shipment("STUCK", "4", &now, "IN CONSEGNA");
    send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", moved)).await;
    d.drain(MINUTE).await;
    assert_eq!(
        reconciler.run(italian_now()).await.expect("run")[0].stalled,
        0
    );
    assert_eq!(
        fake.accepted().len(),
        5,
        "three statuses, one stall, the new status"
    );
}
