//! `bridge-admin backfill` against a deployed bridge on moto and a wiremock Qapla' serving a
//! year of daily windows: a few with status changes (one shipment without an e-mail, one
//! Qapla' no longer knows, one already delivered live), a 429 with Retry-After, the rest
//! empty.

use crate::common::*;
use crate::twin::Twin;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::Moto;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// (day, tracking number, status id, status time).
const STATUSES: [(&str, &str, &str, &str); 7] = [
    ("2025-03-10", "A-100", "3", "2025-03-10 09:00:00"),
    ("2025-03-10", "B-200", "99", "2025-03-10 15:00:00"),
    ("2025-03-11", "A-100", "99", "2025-03-11 10:00:00"),
    ("2025-06-01", "NOEMAIL-1", "99", "2025-06-01 11:00:00"),
    ("2025-06-02", "GONE-1", "99", "2025-06-02 11:00:00"),
    ("2025-07-01", "LIVE-1", "99", "2025-07-01 12:00:00"),
    ("2025-08-01", "C-300", "99", "2025-08-01 08:30:00"),
];
/// The day whose first call is answered 429 (Retry-After: 1).
pub(super) const BUSY_DAY: &str = "2025-08-01";
/// The day Qapla' fails while `down` is set.
pub(super) const DOWN_DAY: &str = "2025-06-01";
pub(super) const YEAR: [&str; 4] = ["--from", "2025-01-01", "--to", "2025-12-31"];

#[derive(Clone, Default)]
pub(super) struct QaplaYear {
    pub(super) busy: Arc<Mutex<HashSet<String>>>,
    pub(super) down: Arc<AtomicBool>,
    /// Every answer takes 200 ms (time to interrupt a run).
    pub(super) slow: Arc<AtomicBool>,
    /// The day of every `trackingByTimeFrame` call, in order.
    pub(super) calls: Arc<Mutex<Vec<String>>>,
}

impl Respond for QaplaYear {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let day: String = query(req, "dateFrom").chars().take(10).collect();
        assert_eq!(query(req, "apiKey"), QAPLA_KEY);
        self.calls.lock().expect("calls").push(day.clone());
        if self.busy.lock().expect("busy").remove(&day) {
            return ResponseTemplate::new(429).insert_header("retry-after", "1");
        }
        if self.down.load(Ordering::SeqCst) && day == DOWN_DAY {
            return ResponseTemplate::new(503).insert_header("retry-after", "0");
        }
        let entries: Vec<_> = STATUSES
            .iter()
            .filter(|s| s.0 == day)
            .map(|s| (s.1, s.2, s.3))
            .collect();
        let answer = ResponseTemplate::new(200).set_body_json(testkit::time_frame_answer(&entries));
        match self.slow.load(Ordering::SeqCst) {
            true => answer.set_delay(Duration::from_millis(200)),
            false => answer,
        }
    }
}

/// `getShipment`: the customer, none for NOEMAIL-1, KO for GONE-1.
fn get_shipment(req: &Request) -> ResponseTemplate {
    let tracking = query(req, "trackingNumber");
    let consignee = match tracking.as_str() {
        "GONE-1" => {
            let ko = json!({ "getShipment": { "result": "KO", "error": "Shipment not found" } });
            return ResponseTemplate::new(200).set_body_json(ko);
        }
        "NOEMAIL-1" => json!({ "name": "Mario Bianchi", "country": "IT" }),
        _ => {
            json!({ "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "country": "IT" })
        }
    };
    let shipment = json!({ "trackingNumber": tracking, "url": "https://tracking.qapla.it/x", "consignee": consignee });
    // As Qapla' documents it: the consignee only when asked for (`testkit::qapla`).
    let full = json!({ "getShipment": { "result": "OK", "error": "", "shipments": [shipment] } });
    ResponseTemplate::new(200).set_body_json(testkit::qapla::answer(req, &full))
}

pub(super) async fn qapla() -> (MockServer, QaplaYear) {
    let server = MockServer::start().await;
    let year = QaplaYear::default();
    year.busy.lock().expect("busy").insert(BUSY_DAY.to_owned());
    Mock::given(method("GET"))
        .and(path("/1.2/trackingByTimeFrame/"))
        .respond_with(year.clone())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.3/getShipment/"))
        .respond_with(get_shipment)
        .mount(&server)
        .await;
    (server, year)
}

/// The stack deployed with the year's Qapla' and a Connectif accepting everything, and the
/// bridge running (its worker delivers what is queued).
pub(super) async fn delivering(moto: &Moto) -> (MockServer, QaplaYear, MockServer, Deployed, Twin) {
    let (qapla, year) = qapla().await;
    let connectif = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&connectif)
        .await;
    let (listener, api_url) = Twin::bind().await;
    let secret = settings_with(&qapla.uri(), &connectif.uri());
    let deployed = deploy(moto, &secret, &api_url).await;
    let twin = Twin::start(listener, moto, &deployed).await;
    (qapla, year, connectif, deployed, twin)
}

/// Every message on the queue, as (key, status id, alias); the queue is emptied.
pub(super) async fn drain_queue(moto: &Moto, queue_url: &str) -> Vec<(String, String, String)> {
    let sqs = aws_sdk_sqs::Client::new(&aws(moto).await);
    let mut found = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return found;
        }
        for m in messages {
            let v: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("envelope");
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            found.push((
                text(&v["key"]),
                text(&v["statusId"]),
                text(&v["event"]["alias"]),
            ));
            let receipt = m.receipt_handle().unwrap_or_default();
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(receipt)
                .send()
                .await
                .expect("delete");
        }
    }
}

pub(super) fn report_path(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("bridge-backfill-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir.join("failures.csv").display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_is_backfilled_to_the_history_alias_once_skipping_what_was_delivered_live() {
    let moto = testkit::moto_alone().await;
    let (_qapla, year, connectif, _, twin) = delivering(&moto).await;
    let cw = cloudwatch(&alarms_ok()).await;
    // LIVE-1's status reached the bridge live, months ago, and was delivered.
    let mut live: Value = serde_json::from_str(
        &std::fs::read_to_string(
            testkit::workspace().join("fixtures/qapla/shipment-v1.3-delivered.json"),
        )
        .expect("fixture"),
    )
    .expect("json");
    live["apiKey"] = json!(QAPLA_KEY);
    live["trackingNumber"] = json!("LIVE-1");
    live["date"] = json!("2025-07-01 12:00:00");
    let answer = bridge_core::http::tls::client_builder()
        .build()
        .expect("client")
        .post(format!("{}/qapla/shop-it/shipments", twin.api_url))
        .body(live.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(answer.status(), 200);

    wait_for_requests(&connectif, 1).await;

    let report = report_path("year");
    let mut args = vec![
        "backfill",
        "shop-it",
        "--window-hours",
        "24",
        "--out",
        &report,
    ];
    args.extend(YEAR);
    let (code, out, err) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("365/365 windows"), "{out}");
    assert!(
        out.contains("queued 4 · delivered before 1 · skipped 0 · failed 2"),
        "{out}"
    );
    assert!(out.contains("to alias order-status-history"), "{out}");
    let calls = year.calls.lock().expect("calls").clone();
    assert_eq!(calls.len(), 366, "365 windows and one 429 tried again");
    assert_eq!(calls.iter().filter(|d| *d == BUSY_DAY).count(), 2);

    // Delivered by the live path's worker, each once, to the history event.
    wait_for_requests(&connectif, 5).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = connectif.received_requests().await.unwrap_or_default();
    let history: Vec<(String, String)> = requests
        .iter()
        .filter(|r| r.url.path().ends_with("/order-status-history"))
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).expect("json");
            (
                v["trackingNumber"].as_str().unwrap_or_default().to_owned(),
                v["qaplaStatusID"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("A-100", "3"),
        ("B-200", "99"),
        ("A-100", "99"),
        ("C-300", "99"),
    ]
    .map(|(k, s)| (k.to_owned(), s.to_owned()));
    assert_eq!(history, expected, "in order, once each, LIVE-1 not again");
    assert_eq!(requests.len(), 5, "nothing else sent");

    let csv = std::fs::read_to_string(&report).expect("report");
    assert_eq!(
        csv,
        "tracking_number,reference,status_id,status_time,reason\n\
         NOEMAIL-1,ORDER-NOEMAIL-1,99,2025-06-01 11:00:00,no customer e-mail or name in Qapla'\n\
         GONE-1,ORDER-GONE-1,99,2025-06-02 11:00:00,not found in Qapla'\n"
    );
    assert!(!csv.contains("Mario") && !out.contains(QAPLA_KEY));

    // A second run of the same range is a new run and sends nothing again.
    let (code, out, _) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0);
    assert!(out.contains("queued 0 · delivered before 5"), "{out}");
    let (code, history, _) = run(&moto, &cw, &["backfill", "shop-it", "--history"]).await;
    assert_eq!(code, 0);
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(
        history
            .lines()
            .all(|l| l.contains("2025-01-01 00:00:00 → 2026-01-01 00:00:00")
                && l.contains("finished")),
        "{history}"
    );
    assert!(
        history.contains("sent 4 ") && history.contains("failed 2"),
        "{history}"
    );
}

/// Wait until `server` has received `n` requests (60 s at most).
pub(super) async fn wait_for_requests(server: &MockServer, n: usize) {
    let started = Instant::now();
    while server.received_requests().await.unwrap_or_default().len() < n {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "fewer than {n} requests within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_resumes_at_its_window_and_queues_nothing_twice() {
    let moto = testkit::moto_alone().await;
    let (qapla, year) = qapla().await;
    year.down.store(true, Ordering::SeqCst);
    let deployed = deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    let cw = cloudwatch(&alarms_ok()).await;
    let report = report_path("resume");
    let mut args = vec![
        "backfill",
        "shop-it",
        "--window-hours",
        "24",
        "--out",
        &report,
        "--status",
        "3,99",
    ];
    args.extend(YEAR);

    let (code, out, _) = run(&moto, &cw, &args).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Stopped: window from 2025-06-01 00:00:00"),
        "{out}"
    );
    assert!(out.contains("resume from 2025-06-01 00:00:00"), "{out}");
    let first = drain_queue(&moto, &deployed.queue_url).await;
    assert_eq!(first.len(), 3, "the windows before the failure: {first:?}");

    year.down.store(false, Ordering::SeqCst);
    year.calls.lock().expect("calls").clear();
    let (code, out, _) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("(resumed)") && out.contains("365/365 windows"),
        "{out}"
    );
    let calls = year.calls.lock().expect("calls").clone();
    assert_eq!(
        calls.first().map(String::as_str),
        Some(DOWN_DAY),
        "no finished window read again"
    );
    let rest = drain_queue(&moto, &deployed.queue_url).await;
    let all: Vec<_> = first
        .iter()
        .chain(&rest)
        .map(|(k, s, a)| (k.as_str(), s.as_str(), a.as_str()))
        .collect();
    let history = "order-status-history";
    assert_eq!(
        all,
        [
            ("A-100", "3", history),
            ("B-200", "99", history),
            ("A-100", "99", history),
            ("LIVE-1", "99", history),
            ("C-300", "99", history)
        ]
    );
    let (_, runs, _) = run(&moto, &cw, &["backfill", "shop-it", "--history"]).await;
    assert_eq!(runs.lines().count(), 1, "one run, resumed: {runs}");
    assert!(
        runs.contains("status 3,99") && runs.contains("sent 5 ") && runs.contains("failed 2"),
        "{runs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_counts_and_samples_and_limits_are_enforced() {
    let moto = testkit::moto_alone().await;
    let (qapla, _) = qapla().await;
    let deployed = deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    let cw = cloudwatch(&alarms_ok()).await;
    let mut args = vec![
        "backfill",
        "shop-it",
        "--window-hours",
        "24",
        "--dry-run",
        "--status",
        "99",
    ];
    args.extend(YEAR);
    let (code, out, err) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("would queue 6 statuses of 6 shipments"),
        "{out}"
    );
    assert!(
        out.contains("e.g. B-200  status 99  at 2025-03-10 15:00:00  → alias order-status-history"),
        "{out}"
    );
    assert!(out.contains("about 371 Qapla' API calls"), "{out}");
    assert!(
        drain_queue(&moto, &deployed.queue_url).await.is_empty(),
        "a dry run sends nothing"
    );
    let (_, runs, _) = run(&moto, &cw, &["backfill", "shop-it", "--history"]).await;
    assert!(runs.contains("no backfill runs"), "{runs}");

    for (from, to, why) in [
        ("2024-01-01", "2025-06-30", "longer than a year"),
        ("2019-01-01", "2019-06-30", "more than 5 years ago"),
        ("2025-06-30", "2025-01-01", "the range is empty"),
        ("30/06/2025", "2025-07-01", "is not a date"),
    ] {
        let (code, _, err) = run(
            &moto,
            &cw,
            &["backfill", "shop-it", "--from", from, "--to", to],
        )
        .await;
        assert_eq!(code, 1);
        assert!(err.contains(why), "{from}..{to}: {err}");
    }
    let (code, _, _) = run(&moto, &cw, &["backfill", "shop-it", "--from", "2025-01-01"]).await;
    assert_eq!(code, 2, "--to is required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_after_the_window_in_progress_and_the_next_run_resumes() {
    let moto = testkit::moto_alone().await;
    let (qapla, year) = qapla().await;
    year.slow.store(true, Ordering::SeqCst);
    deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    let cw = cloudwatch(&alarms_ok()).await;
    let args = [
        "backfill",
        "shop-it",
        "--window-hours",
        "24",
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
    ];
    let child = admin_command(&moto.endpoint, &cw.uri(), &args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("bridge-admin starts");
    let started = Instant::now();
    while year.calls.lock().expect("calls").len() < 3 {
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("thread")
        .expect("output");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Stopped: interrupted"), "{text}");
    let read_before = year.calls.lock().expect("calls").len();
    assert!(
        read_before < 31,
        "stopped early: {read_before} windows read"
    );

    year.slow.store(false, Ordering::SeqCst);
    year.calls.lock().expect("calls").clear();
    let (code, out, _) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("(resumed)") && out.contains("31/31 windows"),
        "{out}"
    );
    let calls = year.calls.lock().expect("calls").clone();
    assert_eq!(
        calls.len() + read_before,
        31,
        "each window read once: {calls:?}"
    );
    assert!(
        out.contains("queued 3"),
        "the three statuses of March, once: {out}"
    );
}
