//! `bridge-admin trace`: a shipment that went through delivered, repeat, superseded and
//! dead-lettered (and one refused post) shows all of it, in time order, from the state
//! table, the dead-letter queue and the functions' log lines in CloudWatch Logs.
//!
//! Seam: moto runs a Logs Insights query without its `filter` (it returns every line of
//! the period), so the exact match of each line to the key, which `trace` does for real
//! Insights too (`like` matches substrings), is what selects the lines here.

use crate::common::*;
use crate::moto::send::Live;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, ResponseTemplate};

const KEY: &str = "TRK-TRACE-1";

fn shipment(status: &str, date: &str, key: &str) -> String {
    json!({
        "apiKey": key, "trackingNumber": KEY, "return": 0, "hasChildren": 0, "isChild": 0,
        "courier": "BRT", "reference": "ORDER-TRACE-1", "date": date, "courierStatus": "scan",
        "place": "MILANO", "qaplaStatusID": status, "qaplaStatus": "STATUS", "statusDetails": [],
        "consignee": { "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "country": "IT" },
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipments_story_shows_delivered_repeat_superseded_and_dead_lettered_in_order() {
    let live = Live::start(ResponseTemplate::new(201)).await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "qaplaStatusID": "4" })))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_string(r#"{"status":422,"title":"Unprocessable Entity"}"#),
        )
        .with_priority(1)
        .mount(&live.connectif)
        .await;
    let http = bridge_core::http::tls::client_builder()
        .build()
        .expect("client");
    let url = format!("{}/qapla/shop-it/shipments", live.twin.api_url);
    let posts = [
        ("3", "2026-11-20 10:00:00", QAPLA_KEY),
        ("3", "2026-11-20 12:00:00", QAPLA_KEY),
        ("2", "2026-11-20 09:00:00", QAPLA_KEY),
        ("4", "2026-11-21 08:00:00", QAPLA_KEY),
        ("5", "2026-11-21 09:00:00", "not-the-key"),
    ];
    for (i, (status, date, key)) in posts.into_iter().enumerate() {
        let answer = http
            .post(&url)
            .body(shipment(status, date, key))
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status().as_u16(), if i < 4 { 200 } else { 401 });
        // One at a time, as Qapla' posts a shipment's statuses.
        wait_for(&live, i.min(3) + 1).await;
    }
    live.twin.ship_logs().await;

    let (code, out, err) = live.admin(&["trace", "shop-it", KEY]).await;
    println!("{out}"); // the README's "Verify it works" shows this output
    assert_eq!(code, 1, "a dead letter waits: exit 1\n{out}\n{err}");
    let at = |needle: &str| {
        out.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{out}"))
    };
    let delivered = at("DeliveryFunction-D4  delivered ");
    let repeat = at(" repeat ");
    let superseded = at(" superseded ");
    let dead = at(" dead_lettered ");
    let refused = at(" rejected ");
    assert!(
        delivered < repeat && repeat < superseded && superseded < dead && dead < refused,
        "in time order:\n{out}"
    );
    assert!(
        out.lines()
            .nth(superseded)
            .is_some_and(|l| l.contains("status 2"))
    );
    assert!(at("last delivered") > 0 && out.contains("status 3 of 2026-11-20 10:00:00"));
    let waiting = out.lines().nth(at("dead letters")).expect("line");
    assert!(
        waiting.contains("status 4: HTTP 422 (Unprocessable Entity)"),
        "{out}"
    );
    assert!(
        out.lines()
            .nth(refused)
            .is_some_and(|l| l.contains("wrong_api_key")),
        "{out}"
    );
    assert!(
        out.contains("g***@example.com"),
        "customer shown masked:\n{out}"
    );
    assert!(
        !out.contains("giulia.rossi@example.com") && !out.contains("not-the-key"),
        "{out}"
    );

    let (_, json_out, _) = live.admin(&["--json", "trace", "shop-it", KEY]).await;
    let trace: Value = serde_json::from_str(&json_out).expect("--json prints JSON");
    assert_eq!(trace["deadLetters"], 1);
    let outcomes: Vec<&str> = trace["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    for o in [
        "received",
        "delivered",
        "repeat",
        "superseded",
        "dead_lettered",
        "rejected",
    ] {
        assert!(outcomes.contains(&o), "{o} in {outcomes:?}");
    }

    // A key the bridge never saw: nothing known, exit 1.
    let (code, out, _) = live.admin(&["trace", "shop-it", "NEVER-SEEN"]).await;
    assert_eq!(code, 1);
    assert!(out.contains("nothing known"), "{out}");
}

/// Until the worker has settled `n` events.
async fn wait_for(live: &Live, n: usize) {
    let started = Instant::now();
    while live
        .twin
        .lines()
        .matches("\"message\":\"delivery\"")
        .count()
        < n
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "worker did not settle {n} events:\n{}",
            live.twin.lines()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
