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
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const MINUTE: Duration = Duration::from_secs(60);

/// The reconciler of `d`'s bridge as the stack wires it, with the channel `it`'s secret
/// under the bridge's prefix and another application's secret beside it.
async fn reconciler(d: &Durable, connectif: &str) -> Reconciler {
    reconciler_where(d, connectif, json!({})).await
}

/// [`reconciler`], with `patch` merged into the channel's secret.
async fn reconciler_where(d: &Durable, connectif: &str, patch: serde_json::Value) -> Reconciler {
    let secrets = secrets_client(&d.moto.endpoint);
    let mut it = secret(Mode::Api, connectif, IT_KEY, "it");
    for (k, v) in patch.as_object().expect("object") {
        it[k] = v.clone();
    }
    let it = it.to_string();
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
    // Qapla' knows the shipments: LIVE-1 (asked once, by the worker, before it marks the
    // channel live) and the two the reconciler completes.
    let customer = get_shipment_answer(
        "giulia.rossi@example.com",
        "Giulia Rossi",
        "IT",
        "https://tracking.qapla.it/x",
    );
    mount_get_shipment(&server, customer, 3).await;
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

/// A channel whose secret exists before Qapla' posts to the bridge (while Qapla's own
/// connector still sends its shipment statuses) is not reconciled: what the bridge would
/// find there is not missing, and sending it would send it twice. From the first live
/// shipment post on it is (`reconcile: auto`); `off` and a channel that sends no shipment
/// statuses never are; `on` always is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_waits_for_the_first_live_post_and_keeps_to_the_switches() {
    let cases = [
        (
            json!({}),
            false,
            Some("no live shipment post yet (reconcile: auto)"),
        ),
        (json!({}), true, None),
        (json!({ "reconcile": "on" }), false, None),
        (
            json!({ "reconcile": "off" }),
            true,
            Some("reconciliation is off for the channel"),
        ),
        (
            json!({ "send": { "shipments": false } }),
            true,
            Some("the channel does not send shipment statuses"),
        ),
    ];
    for (patch, live_post, skipped) in cases {
        let (server, fake) = FakeConnectif::start().await;
        let d = Durable::start(&server.uri(), test_policy()).await;
        // The webhooks read the same settings as the reconciler.
        let mut settings = secret(Mode::Api, &server.uri(), IT_KEY, "it");
        for (k, v) in patch.as_object().expect("object") {
            settings[k] = v.clone();
        }
        d.channels.put(channel("it"), settings.to_string());
        if live_post {
            // A real shipment: Qapla' knows it.
            let known = get_shipment_answer("g@example.com", "G", "IT", "https://t.example/1");
            let asked = u64::from(patch.get("send").is_none());
            mount_get_shipment(&server, known, asked).await;
            let body = shipment("LIVE-1", "99", "2026-11-20 10:00:00", "Consegnata");
            send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", body)).await;
            d.drain(MINUTE).await;
        }
        let entries = [("MISSED-1", "3", "2026-11-20 10:05:00")];
        let answer = testkit::time_frame_answer(&entries);
        Mock::given(method("GET"))
            .and(path("/qapla-api/1.2/trackingByTimeFrame/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .expect(u64::from(skipped.is_none()))
            .mount(&server)
            .await;
        let reconciler = reconciler_where(&d, &server.uri(), patch.clone()).await;
        let found = reconciler.run(italian_now()).await.expect("run");
        let case = format!("{patch} (live post: {live_post})");
        assert_eq!(found[0].skipped, skipped, "{case}");
        assert_eq!(found[0].found, u64::from(skipped.is_none()), "{case}");
        let sent = fake.accepted().len();
        assert_eq!(
            sent,
            usize::from(live_post && patch.get("send").is_none()),
            "{case}"
        );
    }
}

/// CloudWatch's `GetMetricData` as documented (Smithy RPC v2 CBOR; moto does not speak it):
/// refuses a request that is not one `MetricStat` query per channel on `Posts` rejected,
/// summed, and answers `refused` for the first channel.
struct FakeCloudWatch {
    refused: f64,
}

impl wiremock::Respond for FakeCloudWatch {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let text = String::from_utf8_lossy(&req.body);
        let shape = [
            "MetricDataQueries",
            "MetricStat",
            "Posts",
            "outcome",
            "rejected",
        ];
        let more = [
            "channel",
            "Sum",
            "Period",
            "StartTime",
            "EndTime",
            "ReturnData",
        ];
        if !shape.iter().chain(&more).all(|field| text.contains(field)) {
            return ResponseTemplate::new(400);
        }
        let mut body = Vec::new();
        let mut e = minicbor::Encoder::new(&mut body);
        let encoded = (e.map(1))
            .and_then(|e| e.str("MetricDataResults"))
            .and_then(|e| e.array(1))
            .and_then(|e| e.map(3))
            .and_then(|e| e.str("Id"))
            .and_then(|e| e.str("c0"))
            .and_then(|e| e.str("Values"))
            .and_then(|e| e.array(2))
            .and_then(|e| e.f64(self.refused - 5.0))
            .and_then(|e| e.f64(5.0))
            .and_then(|e| e.str("StatusCode"))
            .and_then(|e| e.str("Complete"));
        encoded.expect("cbor");
        ResponseTemplate::new(200)
            .insert_header("smithy-protocol", "rpc-v2-cbor")
            .insert_header("content-type", "application/cbor")
            .set_body_bytes(body)
    }
}

/// Qapla's failure budget, watched: each run reads every channel's refused posts of the
/// last 24 hours from CloudWatch and writes the figure the stack's three alarms (20, 50, 90)
/// read, per channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_run_reports_every_channels_refused_posts_of_the_last_day() {
    let (server, _fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    let cloudwatch = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/service/GraniteServiceVersion20100801/operation/GetMetricData",
        ))
        .respond_with(FakeCloudWatch { refused: 25.0 })
        .expect(1)
        .mount(&cloudwatch)
        .await;
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.2/trackingByTimeFrame/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(testkit::time_frame_answer(&[])))
        .mount(&server)
        .await;
    let mut reconciler = reconciler_where(&d, &server.uri(), json!({ "reconcile": "on" })).await;
    let client = testkit::aws::clients(&cloudwatch.uri()).cloudwatch;
    reconciler.refusals = Some(std::sync::Arc::new(
        bridge_core::aws::CloudWatchRefusals::new(client),
    ));
    let logs = Logs::capture();
    reconciler.run(italian_now()).await.expect("run");
    let lines = logs.metrics();
    let budget: Vec<_> = (lines.iter())
        .filter(|m| m.get("RejectedPostsLastDay").is_some())
        .collect();
    assert_eq!(budget.len(), 1, "{lines:?}");
    let (channel, refused) = (&budget[0]["channel"], &budget[0]["RejectedPostsLastDay"]);
    assert_eq!((channel, refused), (&json!("it"), &json!(25)));
    let warned = logs.lines();
    let warning = warned
        .iter()
        .any(|l| l["refused"] == 25 && l["channel"] == "it");
    assert!(warning, "{}", logs.text());
}

/// A proof post (`bridge-admin check`'s, marked `BRIDGE-CHECK-`) and a shipment Qapla' does
/// not know (what its panel's Test button posts) are delivered, but never mark the channel
/// live: reconciliation `auto` stays off while Qapla's own connector may still be sending, so
/// no customer hears a status twice. The first real shipment post turns it on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_real_shipment_post_marks_the_channel_live() {
    let (server, fake) = FakeConnectif::start().await;
    let d = Durable::start(&server.uri(), test_policy()).await;
    d.channels.put(
        channel("it"),
        secret(Mode::Api, &server.uri(), IT_KEY, "it").to_string(),
    );
    let known = get_shipment_answer("g@example.com", "G", "IT", "https://t.example/1");
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.3/getShipment/"))
        .and(query_param("trackingNumber", "REAL-1"))
        .respond_with(testkit::qapla::GetShipment { answer: known })
        .expect(1)
        .mount(&server)
        .await;
    let unknown = json!({ "getShipment": { "result": "KO", "error": "Shipment not found" } });
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.3/getShipment/"))
        .and(query_param("trackingNumber", "TEST-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(unknown))
        .expect(1)
        .mount(&server)
        .await;
    let works = json!({ "getChannel": { "result": "OK", "channel": { "name": "Shop IT" } } });
    mount_get_channel(&server, works, 1).await;
    let entries = [("MISSED-1", "3", "2026-11-20 10:05:00")];
    Mock::given(method("GET"))
        .and(path("/qapla-api/1.2/trackingByTimeFrame/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(testkit::time_frame_answer(&entries)),
        )
        .mount(&server)
        .await;
    let reconciler = reconciler_where(&d, &server.uri(), json!({})).await;
    let auto = Some("no live shipment post yet (reconcile: auto)");
    for tracking in ["BRIDGE-CHECK-1796315553", "TEST-1"] {
        let body = shipment(tracking, "3", "2026-11-20 10:00:00", "In transito");
        send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", body)).await;
        d.drain(MINUTE).await;
        let found = reconciler.run(italian_now()).await.expect("run");
        assert_eq!(found[0].skipped, auto, "{tracking} marked the channel live");
    }
    assert_eq!(fake.accepted().len(), 2, "delivered all the same");
    let body = shipment("REAL-1", "3", "2026-11-20 10:00:00", "In transito");
    send::<ShipmentPayload>(&d.deps, post("/qapla/it/shipments", body)).await;
    d.drain(MINUTE).await;
    let found = reconciler.run(italian_now()).await.expect("run");
    assert_eq!(found[0].skipped, None, "the first real post turns it on");
}
