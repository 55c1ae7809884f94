//! The backfill benchmark (`make bench-backfill`, not part of `make test`): how long a year
//! of a shop with 200 shipments a day takes, and whether Qapla's rate limit or our code sets
//! that time. Ignored by default: run with `-- --ignored --nocapture`.
//!
//! A fake Qapla' on loopback serves 200 new shipments a day, each with four status changes
//! over three days (800 changes a day), and the real `bridge-admin backfill` (6-hour
//! windows, the deployed stack on moto_server) reads them:
//! 1. with the real budget (120 burst, 2 calls/s, 20 kept for live enrichment) over one
//!    day: the measured time against the limit's own time for the same calls;
//! 2. with no budget, three runs of 2 days: our code's time per call with moto_server as
//!    AWS (a Python emulator, by far the slowest part: an upper bound of our side).
//!
//! A year is 1,460 windows + 73,000 `getShipment` calls.
//!
//! Then the same in the background (`--background`): the backfill function's real handler,
//! fed by its work queue on moto as Lambda's trigger feeds it, slices of 60 s (Lambda's are
//! 900 s: a year here takes more invocations than it would there), measured from the
//! console's start to the run's end.

use crate::common::*;
use bridge_core::qapla::time::{parse_time, time_text};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PER_DAY: i64 = 200;
const FIRST_DAY: &str = "2025-03-01 00:00:00";
/// A shipment's statuses: (status id, seconds after its first).
const LIFE: [(&str, i64); 4] = [
    ("1", 0),
    ("3", 86_400),
    ("5", 2 * 86_400),
    ("99", 2 * 86_400 + 4 * 3600),
];

/// A `trackingByTimeFrame` request's window (`from`, `to`) and the shipments that may have
/// a status in it: those born from three days before it to its end (`lo..hi`).
fn window(req: &Request) -> (i64, i64, i64, i64) {
    let q = |k: &str| query(req, k);
    let (from, to) = (
        parse_time(&q("dateFrom")).unwrap_or(0),
        parse_time(&q("dateTo")).unwrap_or(0),
    );
    let first = parse_time(FIRST_DAY).unwrap_or(0);
    let lo = ((from - first - 3 * 86_400) / 86_400 * PER_DAY).max(0);
    (from, to, lo, ((to - first) / 86_400 + 1) * PER_DAY)
}

struct Shop;

impl Respond for Shop {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let (from, to, lo, hi) = window(req);
        let first = parse_time(FIRST_DAY).unwrap_or(0);
        let mut shipments = Vec::new();
        for n in lo..hi {
            let born = first + n / PER_DAY * 86_400 + (n % PER_DAY) * 86_400 / PER_DAY;
            for (status, after) in LIFE {
                let at = born + after;
                if (from..=to).contains(&at) {
                    shipments.push(json!({ "id": n, "reference": format!("ORD-{n}"), "trackingNumber": format!("TN{n:07}"), "courier": "BRT",
                        "status": { "dateISO": time_text(at), "place": "MILANO", "qaplaStatus": { "id": status.parse::<u32>().unwrap_or(0), "status": "", "detailID": 0, "detail": null } } }));
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(json!({ "trackingByTimeFrame": { "result": "OK", "error": null, "count": shipments.len(), "shipments": shipments } }))
    }
}

/// The shop as Qapla's pages describe the calls (`trackingbytimeframe.md`: each shipment
/// "with its current status only"): a window lists every shipment whose status changed in
/// it, each with its status of today (for a past year, its last), and `getShipment` with
/// `data=history` gives its four statuses, newest first (`--statuses all`).
struct Histories;

impl Histories {
    /// When shipment `n` was born, and its statuses (id, time), newest first.
    fn life(n: i64) -> Vec<(&'static str, i64)> {
        let first = parse_time(FIRST_DAY).unwrap_or(0);
        let born = first + n / PER_DAY * 86_400 + (n % PER_DAY) * 86_400 / PER_DAY;
        LIFE.iter()
            .rev()
            .map(|(s, after)| (*s, born + after))
            .collect()
    }
}

fn status_json(status: &str, at: i64) -> serde_json::Value {
    json!({ "dateISO": time_text(at), "place": "MILANO",
            "qaplaStatus": { "id": status.parse::<u32>().unwrap_or(0), "status": "", "detailID": 0, "detail": null } })
}

impl Respond for Histories {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let (from, to, lo, hi) = window(req);
        let shipments: Vec<_> = (lo..hi)
            .filter(|n| Histories::life(*n).iter().any(|(_, at)| (from..=to).contains(at)))
            .map(|n| {
                let (status, at) = Histories::life(n)[0];
                json!({ "id": n, "reference": format!("ORD-{n}"), "trackingNumber": format!("TN{n:07}"),
                        "courier": "BRT", "status": status_json(status, at) })
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({ "trackingByTimeFrame": { "result": "OK", "error": null, "count": shipments.len(), "shipments": shipments } }))
    }
}

fn get_shipment_history(req: &Request) -> ResponseTemplate {
    let tracking = query(req, "trackingNumber");
    let n: i64 = tracking.trim_start_matches("TN").parse().unwrap_or(0);
    let history: Vec<_> = (Histories::life(n).into_iter())
        .map(|(status, at)| status_json(status, at))
        .collect();
    let shipment = json!({ "trackingNumber": tracking, "trackingHistory": history,
        "consignee": { "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "country": "IT" } });
    let full = json!({ "getShipment": { "result": "OK", "error": "", "shipments": [shipment] } });
    ResponseTemplate::new(200).set_body_json(testkit::qapla::answer(req, &full))
}

fn get_shipment(req: &Request) -> ResponseTemplate {
    let tracking = query(req, "trackingNumber");
    let shipment = json!({ "trackingNumber": tracking, "consignee": { "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "country": "IT" } });
    // As Qapla' documents it: the consignee only when asked for (`testkit::qapla`).
    let full = json!({ "getShipment": { "result": "OK", "error": "", "shipments": [shipment] } });
    ResponseTemplate::new(200).set_body_json(testkit::qapla::answer(req, &full))
}

/// A fresh stack and a fake Qapla' of the shop (its whole histories with `histories`):
/// (moto, Qapla', the stack).
async fn shop(
    histories: bool,
) -> (
    tokio::sync::RwLockWriteGuard<'static, testkit::Moto>,
    MockServer,
    Deployed,
) {
    let moto = testkit::moto_alone().await;
    let qapla = MockServer::start().await;
    let frame = Mock::given(method("GET")).and(path("/1.2/trackingByTimeFrame/"));
    let full = Mock::given(method("GET")).and(path("/1.3/getShipment/"));
    match histories {
        true => {
            frame.respond_with(Histories).mount(&qapla).await;
            full.respond_with(get_shipment_history).mount(&qapla).await;
        }
        false => {
            frame.respond_with(Shop).mount(&qapla).await;
            full.respond_with(get_shipment).mount(&qapla).await;
        }
    }
    let deployed = deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    (moto, qapla, deployed)
}

/// One background backfill of `days` from [`FIRST_DAY`] against a fresh stack: (wall time
/// from the console's start to the run's end, API calls, invocations).
async fn background(days: i64, budget: &str) -> (Duration, u64, usize) {
    background_of(days, budget, false).await
}

/// [`background`], of whole histories (`--statuses all`) when `histories`.
async fn background_of(days: i64, budget: &str, histories: bool) -> (Duration, u64, usize) {
    let (moto, qapla, deployed) = shop(histories).await;
    let function = super::background::Function::with_bucket(
        &moto,
        &moto.endpoint,
        &deployed,
        Duration::from_secs(60),
        budget,
    )
    .await;
    let to = time_text(parse_time(FIRST_DAY).unwrap_or(0) + days * 86_400);
    let cw = cloudwatch(&alarms_ok()).await;
    let started = Instant::now();
    let mut args = vec![
        "backfill",
        "shop-it",
        "--background",
        "--from",
        FIRST_DAY,
        "--to",
        &to,
    ];
    if histories {
        args.extend(["--statuses", "all"]);
    }
    let (code, out, err) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let id = super::background::started(&out);
    let run = loop {
        let run = super::background::recorded(&moto, id).await;
        if run.finished {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let elapsed = started.elapsed();
    match histories {
        // Every shipment with a change in the range, each with its four statuses.
        true => assert_eq!(
            (run.sent as i64, run.shipments as i64),
            (days * PER_DAY * LIFE.len() as i64, days * PER_DAY),
            "{run:?}"
        ),
        false => assert_eq!(run.sent as i64, statuses(days), "{run:?}"),
    }
    let calls = qapla.received_requests().await.unwrap_or_default().len() as u64;
    let invocations = function
        .invocations
        .load(std::sync::atomic::Ordering::SeqCst);
    (elapsed, calls, invocations)
}

/// One backfill of `days` from [`FIRST_DAY`] against a fresh stack: (wall time, API calls).
async fn backfill(days: i64, budget: Option<&'static str>) -> (Duration, u64) {
    let (moto, _qapla, _) = shop(false).await;
    let first = parse_time(FIRST_DAY).unwrap_or(0);
    let to = time_text(first + days * 86_400);
    let endpoint = moto.endpoint.clone();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bridge-admin"));
        cmd.args([
            "--stack", "bridge", "--json", "backfill", "shop-it", "--from", FIRST_DAY, "--to", &to,
        ])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
        match budget {
            Some(b) => cmd.env("QAPLA_API_BUDGET", b),
            None => cmd.env_remove("QAPLA_API_BUDGET"),
        };
        cmd.output().expect("bridge-admin runs")
    })
    .await
    .expect("thread");
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(text.trim()).expect("JSON summary");
    assert_eq!(summary["run"]["finished"], true, "{text}");
    assert_eq!(summary["run"]["sent"], statuses(days), "{text}");
    (elapsed, summary["apiCalls"].as_u64().unwrap_or(0))
}

/// How many status changes the shop has in its first `days`.
fn statuses(days: i64) -> i64 {
    let end = days * 86_400;
    let born = |n: i64| n / PER_DAY * 86_400 + (n % PER_DAY) * 86_400 / PER_DAY;
    (0..days * PER_DAY)
        .map(|n| {
            LIFE.iter()
                .filter(|(_, after)| born(n) + after < end)
                .count() as i64
        })
        .sum()
}

/// Qapla's limit's own time for `calls` (a full bucket less the backfill's reserve first).
fn limit_time(calls: u64) -> f64 {
    (calls as f64 - 100.0).max(0.0) / 2.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: make bench-backfill"]
async fn bench_a_year_of_200_shipments_a_day() {
    let (real, real_calls) = backfill(1, None).await;
    println!(
        "1 day at Qapla's budget: {real_calls} calls in {:.1} s; the limit alone: {:.1} s",
        real.as_secs_f64(),
        limit_time(real_calls)
    );
    let mut runs = Vec::new();
    let mut calls = 0;
    for _ in 0..3 {
        let (t, c) = backfill(2, Some("1000000,1000000")).await;
        runs.push(t.as_secs_f64());
        calls = c;
    }
    runs.sort_by(f64::total_cmp);
    let per_call = runs[1] / calls as f64;
    let year_calls = 1_460 + 365 * PER_DAY as u64;
    println!(
        "2 days, no budget: {calls} calls; runs {runs:.1?} s; median {:.1} s = {:.2} ms per call",
        runs[1],
        per_call * 1000.0
    );
    println!(
        "a year ({year_calls} calls): Qapla's limit {:.1} h; our code (moto included) {:.1} min ({:.1} % of the limit's time)",
        limit_time(year_calls) / 3600.0,
        per_call * year_calls as f64 / 60.0,
        100.0 * per_call * year_calls as f64 / limit_time(year_calls)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: make bench-backfill"]
async fn bench_a_year_in_the_background() {
    let (real, real_calls, invocations) = background(1, "120,2").await;
    println!(
        "background, 1 day at Qapla's budget: {real_calls} calls in {:.1} s ({invocations} invocations of 60 s); the limit alone: {:.1} s",
        real.as_secs_f64(),
        limit_time(real_calls)
    );
    let mut runs = Vec::new();
    let (mut calls, mut slices) = (0, 0);
    for _ in 0..3 {
        let (t, c, i) = background(2, "1000000,1000000").await;
        runs.push(t.as_secs_f64());
        (calls, slices) = (c, i);
    }
    runs.sort_by(f64::total_cmp);
    let per_call = runs[1] / calls as f64;
    let year_calls = 1_460 + 365 * PER_DAY as u64;
    let year = limit_time(year_calls).max(per_call * year_calls as f64);
    println!(
        "background, 2 days, no budget: {calls} calls, {slices} invocations; runs {runs:.1?} s; median {:.1} s = {:.2} ms per call",
        runs[1],
        per_call * 1000.0
    );
    println!(
        "background, a year ({year_calls} calls): {:.1} h at Qapla's limit, in about {:.0} invocations of Lambda's 900 s; our code (moto included) {:.1} min of it ({:.1} %)",
        year / 3600.0,
        (year / 880.0).ceil(),
        per_call * year_calls as f64 / 60.0,
        100.0 * per_call * year_calls as f64 / year
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: make bench-backfill"]
async fn bench_a_year_of_whole_histories_in_the_background() {
    let (real, real_calls, invocations) = background_of(1, "120,2", true).await;
    println!(
        "whole histories, background, 1 day at Qapla's budget: {real_calls} calls in {:.1} s ({invocations} invocations of 60 s), {} statuses per shipment; the limit alone: {:.1} s",
        real.as_secs_f64(),
        LIFE.len(),
        limit_time(real_calls)
    );
    // One day, not two: moto's SQS checks every queued message on each send, and a queue of
    // more than ~1,500 whole histories (no worker drains it here) slows it to a crawl.
    let mut runs = Vec::new();
    let mut calls = 0;
    for _ in 0..3 {
        let (t, c, _) = background_of(1, "1000000,1000000", true).await;
        runs.push(t.as_secs_f64());
        calls = c;
    }
    runs.sort_by(f64::total_cmp);
    let per_call = runs[1] / calls as f64;
    // A year: its windows and one `getShipment` (with its history) per shipment.
    let year_calls = 1_460 + 365 * PER_DAY as u64;
    let year = limit_time(year_calls).max(per_call * year_calls as f64);
    let statuses = 365 * PER_DAY as u64 * LIFE.len() as u64;
    // Lambda: the run's hours at 128 MB (arm64, eu-west-1, 2026: $0.0000133334 per GB-s).
    let gb_s = year * 0.125;
    println!(
        "whole histories, background, 1 day, no budget: {calls} calls; runs {runs:.1?} s; median {:.1} s = {:.2} ms per call",
        runs[1],
        per_call * 1000.0
    );
    println!(
        "whole histories, a year: {year_calls} calls, {statuses} statuses sent; {:.1} h at Qapla's limit, about {:.0} invocations of 900 s, {gb_s:.0} GB-s of Lambda (${:.2}); our code (moto included) {:.1} min of it",
        year / 3600.0,
        (year / 880.0).ceil(),
        gb_s * 0.000_013_333_4,
        per_call * year_calls as f64 / 60.0,
    );
}
