//! `bridge-admin backfill --background` against the deployed stack on moto: the backfill
//! function's real handler (`Backfiller::invoke`) fed as Lambda's SQS trigger feeds it (one
//! work message at a time, deleted when the invocation succeeds, visible again 2 s after one
//! fails or is killed), with a short function time so that a year takes many invocations,
//! and the same fake Qapla' of a small shop as the foreground tests (`backfill.rs`).

use super::backfill::{
    BUSY_DAY, QaplaYear, YEAR, delivering, drain_queue, qapla, wait_for_requests,
};
use crate::common::*;
use bridge_core::aws::table::Table;
use bridge_core::channel::ChannelId;
use bridge_core::config::Config;
use bridge_core::history::backfill::background::Backfiller;
use bridge_core::history::backfill::runs::{Run, Runs};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use testkit::Moto;
use testkit::faults::{Fault, FaultyAws};
use tracing::instrument::WithSubscriber;
use wiremock::MockServer;

const CSV: &str = "tracking_number,reference,status_id,status_time,reason\n\
                   NOEMAIL-1,ORDER-NOEMAIL-1,99,2025-06-01 11:00:00,no customer e-mail or name in Qapla'\n\
                   GONE-1,ORDER-GONE-1,99,2025-06-02 11:00:00,not found in Qapla'\n";

/// The backfill function as Lambda runs it.
pub(super) struct Function {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub(super) invocations: Arc<AtomicUsize>,
    /// Invocations killed (by [`Function::crash_next`]).
    crashes: Arc<AtomicUsize>,
    crash_after_ms: Arc<AtomicU64>,
    logs: testkit::LogBuffer,
}

impl Drop for Function {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Function {
    /// The function of `deployed`, its AWS calls to `endpoint` (moto, or a proxy in front
    /// of it), `time` per invocation.
    async fn start(moto: &Moto, endpoint: &str, deployed: &Deployed, time: Duration) -> Function {
        Function::with_bucket(moto, endpoint, deployed, time, "10000,10000").await
    }

    /// As [`Function::start`], with Qapla's API budget `budget` (`QAPLA_API_BUDGET`).
    pub(super) async fn with_bucket(
        moto: &Moto,
        endpoint: &str,
        deployed: &Deployed,
        time: Duration,
        budget: &str,
    ) -> Function {
        let mut backfiller = backfiller(endpoint, deployed, budget);
        backfiller.margin = Duration::from_millis(300);
        let mut function = Function {
            tasks: Vec::new(),
            invocations: Arc::default(),
            crashes: Arc::default(),
            crash_after_ms: Arc::default(),
            logs: testkit::LogBuffer::default(),
        };
        let sqs = aws_sdk_sqs::Client::new(&aws(moto).await);
        let trigger = trigger(
            sqs,
            deployed.backfill_url.clone(),
            backfiller,
            time,
            &function,
        );
        function.tasks.push(tokio::spawn(trigger));
        function
    }

    /// Kill the next invocation `after` it starts (as a crash or an out-of-memory would).
    fn crash_next(&self, after: Duration) {
        self.crash_after_ms
            .store(after.as_millis() as u64, Ordering::SeqCst);
    }
}

/// The backfill function's parts as the stack configures them, AWS at `endpoint`.
fn backfiller(endpoint: &str, deployed: &Deployed, budget: &str) -> Backfiller {
    let config = Config::from_lookup(|name| {
        let value = match name {
            "AWS_REGION" => "eu-west-1",
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => "test",
            "AWS_ENDPOINT_URL" => endpoint,
            "HAND_OFF_QUEUE_URL" => deployed.queue_url.as_str(),
            "BACKFILL_QUEUE_URL" => deployed.backfill_url.as_str(),
            "STATE_TABLE" => TABLE,
            "QAPLA_API_BUDGET" => budget,
            _ => return None,
        };
        Some(value.to_owned())
    })
    .expect("config");
    config.bridge().backfiller().expect("backfiller")
}

/// Lambda's SQS trigger: one message, one invocation with the deadline `time` away, the
/// message deleted when it succeeds; again and again.
fn trigger(
    sqs: aws_sdk_sqs::Client,
    url: String,
    backfiller: Backfiller,
    time: Duration,
    f: &Function,
) -> impl Future<Output = ()> + use<> {
    let (invocations, crashes, crash) = (
        f.invocations.clone(),
        f.crashes.clone(),
        f.crash_after_ms.clone(),
    );
    let dispatch = f.logs.dispatch(|writer| {
        bridge_core::telemetry::dispatch(move || writer.clone(), tracing::Level::INFO)
    });
    async move {
        loop {
            let out = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(1)
                .send()
                .await;
            let Some(m) = out
                .ok()
                .and_then(|o| o.messages)
                .and_then(|m| m.into_iter().next())
            else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            invocations.fetch_add(1, Ordering::SeqCst);
            let event = json!({ "Records": [{ "messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                "body": m.body(), "eventSource": "aws:sqs" }] });
            let deadline = Instant::now() + time;
            let limit = match crash.swap(0, Ordering::SeqCst) {
                0 => time,
                ms => Duration::from_millis(ms),
            };
            let invoke = Scoped::new(backfiller.invoke(event, deadline), dispatch.clone());
            match tokio::time::timeout(limit, invoke).await {
                Ok(Ok(_)) => {
                    let receipt = m.receipt_handle().unwrap_or_default();
                    let _ = sqs
                        .delete_message()
                        .queue_url(&url)
                        .receipt_handle(receipt)
                        .send()
                        .await;
                }
                Ok(Err(_)) => {}
                Err(_) => {
                    crashes.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }
}

/// A future run under `dispatch`, and dropped under it too: a killed invocation's spans are
/// closed by the subscriber that opened them (`with_subscriber` drops the future outside
/// its scope, and the global subscriber then panics on spans it never saw).
struct Scoped<F> {
    inner: Option<std::pin::Pin<Box<F>>>,
    dispatch: tracing::Dispatch,
}

impl<F> Scoped<F> {
    fn new(inner: F, dispatch: tracing::Dispatch) -> Self {
        Scoped {
            inner: Some(Box::pin(inner)),
            dispatch,
        }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let _scope = tracing::dispatcher::set_default(&self.dispatch);
        match self.inner.as_mut() {
            Some(inner) => inner.as_mut().poll(cx),
            None => std::task::Poll::Pending,
        }
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        let _scope = tracing::dispatcher::set_default(&self.dispatch);
        drop(self.inner.take());
    }
}

/// The run `id` of `shop-it` as recorded.
pub(super) async fn recorded(moto: &Moto, id: u64) -> Run {
    let table = Table::new(aws_sdk_dynamodb::Client::new(&aws(moto).await), TABLE);
    let channel = ChannelId::try_from("shop-it").expect("channel");
    Runs::new(std::sync::Arc::new(table), &channel)
        .get(id)
        .await
        .expect("run")
}

/// The id in `Run <id> started in the stack`.
pub(super) fn started(out: &str) -> u64 {
    assert!(out.contains("started in the stack"), "{out}");
    out.split_whitespace()
        .nth(1)
        .and_then(|id| id.parse().ok())
        .expect("run id")
}

/// Wait until `done` holds of run `id` (60 s at most).
async fn until(moto: &Moto, id: u64, what: &str, done: impl Fn(&Run) -> bool) -> Run {
    let began = Instant::now();
    loop {
        let run = recorded(moto, id).await;
        if done(&run) {
            return run;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "{what} within 60 s: {run:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn year_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["backfill", "shop-it", "--window-hours", "24"];
    args.extend(extra);
    args.extend(YEAR);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_run_sends_what_a_foreground_run_sends_and_history_watch_report_show_it() {
    let moto = testkit::moto_alone().await;
    let (qapla, year) = qapla().await;
    let cw = cloudwatch(&alarms_ok()).await;
    let deployed = deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    let (code, out, err) = run(&moto, &cw, &year_args(&[])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let foreground = drain_queue(&moto, &deployed.queue_url).await;
    assert_eq!(foreground.len(), 5, "{foreground:?}");

    // The same range again on a fresh stack, in the background.
    let (status, body) = moto.post("/moto-api/reset", &[], "").await;
    assert_eq!(status, 200, "{body}");
    let deployed = deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    year.busy.lock().expect("busy").insert(BUSY_DAY.to_owned());
    let (code, out, err) = run(&moto, &cw, &year_args(&["--background"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let id = started(&out);
    assert!(out.contains(&format!("--watch {id}")), "{out}");
    let watcher = admin_command(
        &moto.endpoint,
        &cw.uri(),
        &[
            "backfill",
            "shop-it",
            "--watch",
            &id.to_string(),
            "--every-ms",
            "100",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .expect("watch starts");
    let function = Function::start(&moto, &moto.endpoint, &deployed, Duration::from_secs(3)).await;
    let watched = tokio::task::spawn_blocking(move || watcher.wait_with_output())
        .await
        .expect("thread")
        .expect("watch output");
    let text = String::from_utf8_lossy(&watched.stdout).into_owned();
    assert_eq!(watched.status.code(), Some(0), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("running: ") && l.contains(" windows (")),
        "{text}"
    );
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.contains("finished (background)") && last.contains("365/365 windows (100%)"),
        "{text}"
    );

    let background = drain_queue(&moto, &deployed.queue_url).await;
    assert_eq!(
        background, foreground,
        "the same statuses, in the same order"
    );
    assert!(
        function.invocations.load(Ordering::SeqCst) >= 3,
        "a year takes several invocations"
    );
    let lines = function.logs.text();
    assert!(
        lines.contains("\"outcome\":\"Continued\"") && lines.contains("Ended(Finished)"),
        "{lines}"
    );
    assert!(!lines.contains("giulia") && !lines.contains("Rossi") && !lines.contains(QAPLA_KEY));

    // A run here of the same range afterwards: the history lists both.
    let (code, _, _) = run(&moto, &cw, &year_args(&[])).await;
    assert_eq!(code, 0);
    let (_, history, _) = run(&moto, &cw, &["backfill", "shop-it", "--history"]).await;
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(
        lines[0].starts_with(&format!("{id}  finished (background)")),
        "{history}"
    );
    assert!(
        lines[0].contains("sent 5  delivered before 0  skipped 0  failed 2"),
        "{history}"
    );
    assert!(lines[1].contains("finished (console)"), "{history}");
    let (_, json, _) = run(&moto, &cw, &["--json", "backfill", "shop-it", "--history"]).await;
    let runs: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(runs[0]["state"], "finished");
    assert_eq!(runs[0]["percent"], 100);

    // The report, as the stack keeps it: printed, or written to a file.
    let (code, printed, _) = run(
        &moto,
        &cw,
        &["backfill", "shop-it", "--report", &id.to_string()],
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(printed, CSV);
    let file = super::backfill::report_path("background");
    let (code, out, _) = run(
        &moto,
        &cw,
        &[
            "backfill",
            "shop-it",
            "--report",
            &id.to_string(),
            "--out",
            &file,
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 failures of run"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).expect("report"), CSV);
    let (code, _, err) = run(&moto, &cw, &["backfill", "shop-it", "--report", "12345"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("no run 12345"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_window_and_a_throttled_state_write_are_resumed_sending_each_status_once() {
    let moto = testkit::moto_alone().await;
    let (_qapla, year, connectif, deployed, _twin) = delivering(&moto).await;
    let cw = cloudwatch(&alarms_ok()).await;
    let faulty = FaultyAws::to(&moto.endpoint).await;
    let function =
        Function::start(&moto, &faulty.endpoint, &deployed, Duration::from_secs(2)).await;

    // Killed 700 ms into its first invocation, while Qapla' takes 200 ms an answer.
    year.slow.store(true, Ordering::SeqCst);
    function.crash_next(Duration::from_millis(700));
    let (code, out, err) = run(&moto, &cw, &year_args(&["--background"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let id = started(&out);
    let began = Instant::now();
    while function.crashes.load(Ordering::SeqCst) == 0 {
        assert!(began.elapsed() < Duration::from_secs(30), "no crash");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let crashed_at = recorded(&moto, id).await.windows_done;
    assert!(crashed_at < 5, "killed early: {crashed_at} windows saved");
    year.slow.store(false, Ordering::SeqCst);

    // The state table throttles every write for a while, once the run has gone on.
    until(&moto, id, "progress after the crash", |r| {
        r.windows_done > crashed_at + 20
    })
    .await;
    faulty.fail_from(&["PutItem"], 0, Fault::Throttle);
    let began = Instant::now();
    while !function.logs.text().contains("not saved") {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "no failed save: {}",
            function.logs.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    faulty.heal();
    assert!(faulty.failed() > 0);

    let ended = until(&moto, id, "the end", |r| {
        !r.state(bridge_core::clock::epoch_secs()).active()
    })
    .await;
    assert_eq!((ended.windows_done, ended.windows), (365, 365), "{ended:?}");
    // A window done again after its events went out counts them as delivered before.
    assert_eq!(
        (ended.sent + ended.delivered_before, ended.failed),
        (5, 2),
        "each status counted once: {ended:?}"
    );
    wait_for_requests(&connectif, 5).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = connectif.received_requests().await.unwrap_or_default();
    let mut sent: Vec<String> = requests
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).expect("json");
            format!(
                "{}/{}",
                v["trackingNumber"].as_str().unwrap_or_default(),
                v["qaplaStatusID"].as_str().unwrap_or_default()
            )
        })
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        ["A-100/3", "A-100/99", "B-200/99", "C-300/99", "LIVE-1/99"],
        "nothing twice, nothing missed"
    );
    let (_, printed, _) = run(
        &moto,
        &cw,
        &["backfill", "shop-it", "--report", &id.to_string()],
    )
    .await;
    assert_eq!(printed, CSV, "each failure reported once");
    assert!(function.invocations.load(Ordering::SeqCst) >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_per_channel_cancel_stops_it_and_failing_runs_stop_then_resume() {
    let moto = testkit::moto_alone().await;
    let (qapla, year) = qapla().await;
    let cw = cloudwatch(&alarms_ok()).await;
    let deployed = deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    year.slow.store(true, Ordering::SeqCst);
    let (code, out, err) = run(&moto, &cw, &year_args(&["--background"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let id = started(&out);

    // Queued, not picked up yet: any other run of the channel is refused with its id.
    for extra in [&["--background"][..], &[][..]] {
        let mut args = vec![
            "backfill",
            "shop-it",
            "--from",
            "2024-06-01",
            "--to",
            "2024-06-30",
        ];
        args.extend(extra);
        let (code, _, err) = run(&moto, &cw, &args).await;
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!("run {id} of this channel is queued"))
                && err.contains(&format!("--cancel {id}")),
            "{err}"
        );
    }

    let function = Function::start(&moto, &moto.endpoint, &deployed, Duration::from_secs(2)).await;
    until(&moto, id, "two windows", |r| r.windows_done >= 2).await;
    let (code, out, _) = run(
        &moto,
        &cw,
        &["backfill", "shop-it", "--cancel", &id.to_string()],
    )
    .await;
    assert_eq!(code, 0);
    assert!(out.contains("asked to stop"), "{out}");
    let (code, out, _) = run(
        &moto,
        &cw,
        &[
            "backfill",
            "shop-it",
            "--watch",
            &id.to_string(),
            "--every-ms",
            "100",
        ],
    )
    .await;
    assert_eq!(code, 1, "a cancelled run is not a finished one: {out}");
    assert!(out.contains("cancelled (background)"), "{out}");
    let cancelled = recorded(&moto, id).await;
    assert!(cancelled.windows_done < 365, "stopped early: {cancelled:?}");
    let (_, out, _) = run(
        &moto,
        &cw,
        &["backfill", "shop-it", "--cancel", &id.to_string()],
    )
    .await;
    assert!(out.contains(&format!("Run {id} is cancelled.")), "{out}");

    // Qapla' fails one day for good: five failed attempts, then the run stops (resumable).
    year.slow.store(false, Ordering::SeqCst);
    year.down.store(true, Ordering::SeqCst);
    let (code, out, err) = run(&moto, &cw, &year_args(&["--background"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let second = started(&out);
    assert_ne!(second, id, "a cancelled run is not resumed");
    let stopped = until(&moto, second, "the stop", |r| {
        r.state(bridge_core::clock::epoch_secs()).as_str() == "stopped"
    })
    .await;
    assert!(
        stopped
            .problem
            .starts_with("stopped after 5 failed tries: window from 2025-06-01"),
        "{stopped:?}"
    );
    let (_, history, _) = run(&moto, &cw, &["backfill", "shop-it", "--history"]).await;
    assert!(
        history.contains("stopped (background)")
            && history.contains("(stopped after 5 failed tries"),
        "{history}"
    );

    year.down.store(false, Ordering::SeqCst);
    let (code, out, _) = run(&moto, &cw, &year_args(&["--background"])).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        started(&out),
        second,
        "the same ask resumes the stopped run"
    );
    let done = until(&moto, second, "the end", |r| r.finished).await;
    assert_eq!((done.windows_done, done.tries), (365, 0), "{done:?}");
    drop(function);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_counts_running_and_stalled_runs() {
    let moto = testkit::moto_alone().await;
    let (qapla, _): (MockServer, QaplaYear) = qapla().await;
    let cw = cloudwatch(&alarms_ok()).await;
    let deployed = deploy(&moto, &settings(&qapla.uri()), "http://127.0.0.1:9").await;
    let backfiller = backfiller(&moto.endpoint, &deployed, "10000,10000");
    let logs = testkit::LogBuffer::default();
    let dispatch = logs
        .dispatch(|w| bridge_core::telemetry::dispatch(move || w.clone(), tracing::Level::INFO));
    let schedule = json!({ "source": "aws.events", "detail-type": "Scheduled Event" });
    let deadline = Instant::now() + Duration::from_secs(60);
    let counted = backfiller
        .invoke(schedule.clone(), deadline)
        .with_subscriber(dispatch.clone())
        .await;
    assert_eq!(counted, Ok(json!({ "running": 0, "stalled": 0 })));

    // A run that finished no window for 31 minutes.
    let (code, out, _) = run(&moto, &cw, &year_args(&["--background"])).await;
    assert_eq!(code, 0, "{out}");
    let mut run = recorded(&moto, started(&out)).await;
    run.updated_at -= 31 * 60;
    let table = Table::new(aws_sdk_dynamodb::Client::new(&aws(&moto).await), TABLE);
    let channel = ChannelId::try_from("shop-it").expect("channel");
    Runs::new(std::sync::Arc::new(table), &channel)
        .save(&mut run)
        .await
        .expect("saved");
    let counted = backfiller
        .invoke(schedule, deadline)
        .with_subscriber(dispatch)
        .await;
    assert_eq!(counted, Ok(json!({ "running": 1, "stalled": 1 })));
    let lines = logs.text();
    let metric = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .rfind(|v| v["BackfillsStalled"].is_number())
        .expect("metric line");
    assert_eq!(
        (
            metric["BackfillsRunning"].as_u64(),
            metric["BackfillsStalled"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        lines.contains("backfill run stalled") && lines.contains(&run.id().to_string()),
        "{lines}"
    );
}

/// Qapla' of a shop with one parcel whose whole history matters: `trackingByTimeFrame`
/// lists H-1 on the day it was in transit and on the day it was delivered (its current
/// status each time, as Qapla' documents), and its `getShipment` with `data=history` gives
/// four entries, newest first, one of them without a time (as in Qapla's own example).
async fn qapla_with_history() -> MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, Request, ResponseTemplate};
    let server = MockServer::start().await;
    let frame = |req: &Request| {
        let day: String = (req.url.query_pairs())
            .find(|(k, _)| k == "dateFrom")
            .map(|(_, v)| v.chars().take(10).collect())
            .unwrap_or_default();
        let entries: &[(&str, &str, &str)] = match day.as_str() {
            "2025-04-02" | "2025-04-03" => &[("H-1", "99", "2025-04-03 10:00:00")],
            _ => &[],
        };
        ResponseTemplate::new(200).set_body_json(testkit::time_frame_answer(entries))
    };
    let status = |id: u32, at: Value| {
        json!({ "date": at, "dateISO": at, "status": "", "place": "MILANO",
                "qaplaStatus": { "id": id, "status": "", "detailID": 0, "detail": null } })
    };
    let full = json!({ "getShipment": { "result": "OK", "error": "", "shipments": [{
        "trackingNumber": "H-1", "url": "https://tracking.qapla.it/h1",
        "consignee": { "name": "Giulia Rossi", "email": "giulia.rossi@example.com", "country": "IT" },
        "trackingHistory": [
            status(99, json!("2025-04-03 10:00:00")),
            status(3, json!("2025-04-02 08:00:00")),
            status(20, Value::Null),
            status(1, json!("2025-04-01 17:00:00")),
        ],
    }] } });
    Mock::given(method("GET"))
        .and(path("/1.2/trackingByTimeFrame/"))
        .respond_with(frame)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.3/getShipment/"))
        .respond_with(move |req: &Request| {
            ResponseTemplate::new(200).set_body_json(testkit::qapla::answer(req, &full))
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_run_of_whole_histories_sends_each_status_once_oldest_first() {
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};
    let moto = testkit::moto_alone().await;
    let qapla = qapla_with_history().await;
    let connectif = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&connectif)
        .await;
    let cw = cloudwatch(&alarms_ok()).await;
    let (listener, api_url) = crate::twin::Twin::bind().await;
    let secret = settings_with(&qapla.uri(), &connectif.uri());
    let deployed = deploy(&moto, &secret, &api_url).await;
    let _twin = crate::twin::Twin::start(listener, &moto, &deployed).await;
    let _function = Function::start(&moto, &moto.endpoint, &deployed, Duration::from_secs(3)).await;
    let args = [
        "backfill",
        "shop-it",
        "--window-hours",
        "24",
        "--statuses",
        "all",
        "--background",
        "--from",
        "2025-04-01",
        "--to",
        "2025-04-05",
    ];
    let (code, out, err) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let run1 = until(&moto, started(&out), "the first run finishes", |r| {
        r.finished
    })
    .await;
    assert!(run1.history, "{run1:?}");
    assert_eq!(
        (run1.sent, run1.shipments, run1.skipped),
        (3, 1, 1),
        "{run1:?}"
    );

    // Delivered by the bridge's worker to the history event, oldest first, once each.
    super::backfill::wait_for_requests(&connectif, 3).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent: Vec<(String, String)> = (connectif.received_requests().await.unwrap_or_default())
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).expect("json");
            let alias = r
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            (
                alias,
                v["qaplaStatusID"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let history = |s: &str| ("order-status-history".to_owned(), s.to_owned());
    assert_eq!(sent, [history("1"), history("3"), history("99")]);

    // A second run sends none: the ledger has every status.
    let (code, out, err) = run(&moto, &cw, &args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let run2 = until(&moto, started(&out), "the second run finishes", |r| {
        r.finished
    })
    .await;
    assert_eq!((run2.sent, run2.delivered_before), (0, 3), "{run2:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        connectif
            .received_requests()
            .await
            .unwrap_or_default()
            .len(),
        3
    );
    let (_, listed, _) = run(&moto, &cw, &["backfill", "shop-it", "--history"]).await;
    assert!(
        listed.contains("whole histories: 3.0 statuses per shipment"),
        "{listed}"
    );
    // And here, in the console: the same flag, the same nothing left to send.
    let here: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "--background")
        .collect();
    let (code, out, err) = run(&moto, &cw, &here).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("queued 0 · delivered before 3 · skipped 1"),
        "{out}"
    );
}
