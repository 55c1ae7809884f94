//! A channel's suppression rules and opt-in fields, through the webhook, the queue, the
//! worker and its state (in memory) to a local Connectif: each rule holds back exactly what
//! it names, with its log line and metric, and records it all the same; each opt-in field
//! reaches Connectif only when the channel asks for it.

use crate::durable_helpers::{FakeConnectif, LocalDurable, shipment};
use crate::helpers::*;
use serde_json::{Value, json};

/// A shipment of `tracking` with status `id` at `date`, by `courier`, for `email`.
fn parcel(tracking: &str, id: &str, date: &str, courier: &str, email: &str) -> String {
    let mut v: Value = serde_json::from_str(&shipment(tracking, id, date, "SCAN")).expect("json");
    v["courier"] = json!(courier);
    v["consignee"]["email"] = json!(email);
    v.to_string()
}

const CUSTOMER: &str = "giulia.rossi@example.com";
const AMAZON: &str = "8x7w2kq9vl3m@marketplace.amazon.it";

/// The worker's `delivery` line of each event, in order: (key, outcome, reason).
fn outcomes(logs: &Logs) -> Vec<(String, String, String)> {
    let text = |l: &Value, k: &str| l[k].as_str().unwrap_or_default().to_owned();
    (logs.lines().iter())
        .filter(|l| l["message"] == "delivery")
        .map(|l| (text(l, "key"), text(l, "outcome"), text(l, "reason")))
        .collect()
}

/// The `Suppressed` metric lines: (channel, reason).
fn suppressed_metrics(logs: &Logs) -> Vec<(String, String)> {
    let text = |l: &Value, k: &str| l[k].as_str().unwrap_or_default().to_owned();
    (logs.metrics().iter())
        .filter(|l| l.get("Suppressed").is_some())
        .map(|l| (text(l, "channel"), text(l, "reason")))
        .collect()
}

/// Posts `bodies` to a bridge whose channel has `patch` in its secret; what Connectif
/// accepted, and the logs.
async fn run(patch: Value, bodies: &[String]) -> (Vec<Value>, Logs) {
    let logs = Logs::capture();
    let (server, fake) = FakeConnectif::start().await;
    let d = LocalDurable::start(&server.uri(), patch).await;
    for body in bodies {
        d.post(body.clone()).await;
        d.drain().await;
    }
    (fake.accepted(), logs)
}

#[tokio::test]
async fn a_marketplace_relay_address_is_never_written_to_unless_the_channel_says_so() {
    let posts = [
        parcel("R1", "3", "2026-11-30 10:00:00", "BRT", AMAZON),
        parcel("R2", "3", "2026-11-30 10:00:00", "BRT", CUSTOMER),
    ];
    let (sent, logs) = run(json!({}), &posts).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["customerEmail"], CUSTOMER);
    let lines = outcomes(&logs);
    assert!(lines.contains(&("R1".into(), "suppressed".into(), "relay_address".into())));
    assert!(lines.contains(&("R2".into(), "delivered".into(), String::new())));
    assert_eq!(
        suppressed_metrics(&logs),
        [("it".into(), "relay_address".into())]
    );
    assert!(!logs.text().contains(AMAZON), "no address in a log line");
    let (sent, logs) = run(json!({ "rules": { "sendToRelayAddresses": true } }), &posts).await;
    assert_eq!(sent.len(), 2);
    assert!(suppressed_metrics(&logs).is_empty());
    // A domain the channel adds.
    let ebay = parcel(
        "R3",
        "3",
        "2026-11-30 10:00:00",
        "BRT",
        "u1@members.ebay.com",
    );
    let (sent, logs) = run(
        json!({ "rules": { "relayDomains": ["members.ebay.com"] } }),
        &[ebay],
    )
    .await;
    assert!(sent.is_empty());
    assert_eq!(
        suppressed_metrics(&logs),
        [("it".into(), "relay_address".into())]
    );
}

#[tokio::test]
async fn only_the_statuses_a_channel_notifies_are_sent_and_the_others_still_order_them() {
    let patch = json!({ "rules": { "notifyStatuses": [4, 99] } });
    let posts = [
        parcel("S1", "4", "2026-11-30 09:00:00", "BRT", CUSTOMER),
        // Not notified, but newer: recorded, so the older status after it is superseded.
        parcel("S1", "3", "2026-11-30 11:00:00", "BRT", CUSTOMER),
        parcel("S1", "99", "2026-11-30 10:00:00", "BRT", CUSTOMER),
        parcel("S1", "99", "2026-11-30 12:00:00", "BRT", CUSTOMER),
    ];
    let (sent, logs) = run(patch, &posts).await;
    let ids: Vec<&Value> = sent.iter().map(|e| &e["qaplaStatusID"]).collect();
    assert_eq!(ids, [&json!("4"), &json!("99")]);
    assert_eq!(sent[1]["courierStatus"], "SCAN");
    let lines: Vec<(String, String)> = (outcomes(&logs).into_iter())
        .map(|(_, outcome, reason)| (outcome, reason))
        .collect();
    assert_eq!(
        lines,
        [
            ("delivered".into(), String::new()),
            ("suppressed".into(), "status_not_notified".into()),
            (
                "superseded".into(),
                "a newer status (2026-11-30 11:00:00) was delivered already".into()
            ),
            ("delivered".into(), String::new()),
        ]
    );
    assert_eq!(
        suppressed_metrics(&logs),
        [("it".into(), "status_not_notified".into())]
    );
    let (sent, _) = run(json!({}), &posts[1..2]).await;
    assert_eq!(sent.len(), 1, "every status by default");
}

#[tokio::test]
async fn a_courier_left_out_sends_nothing_and_the_others_are_sent() {
    let patch = json!({ "rules": { "skipCouriers": ["sda"] } });
    let posts = [
        parcel("C1", "3", "2026-11-30 10:00:00", "SDA", CUSTOMER),
        parcel("C2", "3", "2026-11-30 10:00:00", "BRT", CUSTOMER),
    ];
    let (sent, logs) = run(patch, &posts).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["trackingNumber"], "C2");
    let lines = outcomes(&logs);
    assert!(lines.contains(&("C1".into(), "suppressed".into(), "courier_left_out".into())));
    assert_eq!(
        suppressed_metrics(&logs),
        [("it".into(), "courier_left_out".into())]
    );
    let (sent, _) = run(json!({}), &posts).await;
    assert_eq!(sent.len(), 2);
}

#[tokio::test]
async fn opt_in_fields_reach_connectif_only_when_the_channel_asks_for_them() {
    let posts = [
        parcel("F1", "2", "2026-11-30 08:00:00", "GLS-ITA", CUSTOMER),
        parcel("F1", "20", "2026-11-30 09:00:00", "GLS-ITA", CUSTOMER),
        parcel("F1", "4", "2026-12-01 09:00:00", "GLS-ITA", CUSTOMER),
    ];
    let (sent, _) = run(json!({}), &posts).await;
    assert_eq!(sent.len(), 3);
    for event in &sent {
        assert_eq!(event.as_object().expect("object").len(), 9, "{event}");
    }
    let all = json!({ "extraFields": ["statusGroup", "courierName", "shippedAt"] });
    let (sent, _) = run(all, &posts).await;
    let extras: Vec<(Value, Value, Value)> = (sent.iter())
        .map(|e| {
            (
                e["statusGroup"].clone(),
                e["courierName"].clone(),
                e["shippedAt"].clone(),
            )
        })
        .collect();
    assert_eq!(
        extras,
        [
            (json!("pending"), json!("GLS"), Value::Null),
            (
                json!("in_transit"),
                json!("GLS"),
                json!("2026-11-30 09:00:00")
            ),
            (
                json!("out_for_delivery"),
                json!("GLS"),
                json!("2026-11-30 09:00:00")
            ),
        ],
        "shippedAt is the first status with the courier, remembered"
    );
    let one = json!({ "extraFields": ["courierName"], "courierNames": { "GLS-ITA": "GLS Italy" } });
    let (sent, _) = run(one, &posts[..1]).await;
    let fields = sent[0].as_object().expect("object");
    assert_eq!(
        (fields.len(), &sent[0]["courierName"]),
        (10, &json!("GLS Italy"))
    );
}
