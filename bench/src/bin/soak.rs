//! `make soak` (not part of `make test`): the shipment webhook and the delivery worker as
//! release binaries under the Runtime API on loopback, for `SOAK_SECONDS` (3,600) at
//! `SOAK_RATE` posts a second (50), Connectif answering in 50–300 ms. AWS is answered at once
//! on loopback (`bridge_bench::fake_aws`: the channel's secret, every message sent, an empty
//! state table), the messages the webhook sends handed to `SOAK_WORKERS` worker processes
//! (16, as Lambda scales the worker out) in batches of up to ten.
//!
//! Every minute: posts, the warm p99 of a post, the queue's oldest age at hand-over, each
//! process's resident memory. At the end, PASS/FAIL: no error (every post `200`, no batch
//! item failed), and flat memory (each process's growth from the end of the first minute to
//! the end within `SOAK_GROWTH_KB`, 500).

use bridge_bench::measure::spawn;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::runtime_api::RuntimeApi;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "soak-channel-key";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    (std::env::var(name).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The fake AWS, keeping every message the webhook sends (body, group, when).
#[derive(Clone)]
struct Capture {
    aws: Arc<bridge_bench::fake_aws::Aws>,
    sent: Arc<Mutex<VecDeque<(String, String, Instant)>>>,
}

impl Respond for Capture {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let target = (request.headers.get("x-amz-target"))
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default();
        if target == "AmazonSQS.SendMessageBatch" {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
            for entry in body["Entries"].as_array().into_iter().flatten() {
                let text = |k: &str| entry[k].as_str().unwrap_or_default().to_owned();
                sent.push_back((text("MessageBody"), text("MessageGroupId"), Instant::now()));
            }
        }
        self.aws.respond(request)
    }
}

/// Connectif answering `201` in 50–300 ms.
struct Slow;

impl Respond for Slow {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        ResponseTemplate::new(201).set_delay(Duration::from_millis(fastrand::u64(50..=300)))
    }
}

/// An SQS event of `messages` (body, group), as Lambda's event source writes it.
fn sqs_event(messages: &[(String, String, Instant)], first: usize) -> Value {
    let sent = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .to_string();
    let records: Vec<Value> = (messages.iter().enumerate())
        .map(|(i, (body, group, _))| {
            json!({
                "messageId": format!("m-{}", first + i), "receiptHandle": format!("r-{}", first + i),
                "body": body,
                "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": sent,
                    "MessageGroupId": group, "MessageDeduplicationId": format!("d-{}", first + i) },
                "messageAttributes": {}, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:soak.fifo", "awsRegion": "eu-west-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Resident memory of process `pid`, in kB (`/proc/<pid>/status`).
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    (status.lines())
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What the run measured, shared by its tasks.
#[derive(Default)]
struct Figures {
    /// Warm post latencies (ms), after the first minute.
    posts_ms: Vec<f64>,
    posts: usize,
    errors: usize,
    /// Queue ages at hand-over (ms), this minute.
    ages_ms: Vec<f64>,
    delivered: usize,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let seconds: u64 = env_or("SOAK_SECONDS", 3600);
    let rate: u64 = env_or("SOAK_RATE", 50).max(1);
    let workers_n: usize = env_or("SOAK_WORKERS", 16).max(1);
    let growth_kb: u64 = env_or("SOAK_GROWTH_KB", 500);
    let release = testkit::workspace().join("target/release");

    let connectif = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Slow)
        .mount(&connectif)
        .await;
    let known = json!({ "getShipment": { "result": "OK", "error": null, "shipments": [{
        "trackingNumber": "any", "consignee": { "name": "Soak", "email": "soak@shop.example" } }] } });
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(testkit::qapla::GetShipment { answer: known })
        .mount(&connectif)
        .await;
    let settings = json!({
        "qaplaApiKey": KEY, "language": "it",
        "qaplaApiBaseUrl": format!("{}/qapla-api/1.3", connectif.uri()),
        "trackingUrlTemplate": "https://shop.example/t?n={trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "id:secret", "baseUrl": connectif.uri() },
    });
    let capture = Capture {
        aws: Arc::new(bridge_bench::fake_aws::Aws::new("soak/it", &settings)),
        sent: Arc::default(),
    };
    let aws = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(capture.clone())
        .mount(&aws)
        .await;
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", aws.uri()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "eu-west-1".into()),
        ("SECRET_PREFIX", "soak".into()),
        (
            "HAND_OFF_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/soak.fifo".into(),
        ),
        (
            "DEAD_LETTER_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/soak-dlq.fifo".into(),
        ),
        ("STATE_TABLE", "soak-state".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let webhook_api = RuntimeApi::start().await;
    let mut webhook = spawn(&release.join("shipment-webhook"), &env, &webhook_api);
    let mut workers = Vec::new();
    for _ in 0..workers_n {
        let api = Arc::new(RuntimeApi::start().await);
        let child = spawn(&release.join("delivery-worker"), &env, &api);
        workers.push((api, child));
    }
    let figures = Arc::new(Mutex::new(Figures::default()));

    // The workers: each takes the oldest messages, ten at most, as Lambda's poller would.
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (n, (api, _)) in workers.iter().enumerate() {
        let (api, sent, figures) = (api.clone(), capture.sent.clone(), figures.clone());
        tasks.push(tokio::spawn(async move {
            let mut first = n * 1_000_000_000;
            while Instant::now() < end + Duration::from_secs(30) {
                let batch: Vec<_> = {
                    let mut sent = sent.lock().unwrap_or_else(|e| e.into_inner());
                    let take = sent.len().min(10);
                    sent.drain(..take).collect()
                };
                if batch.is_empty() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let ages: Vec<f64> = (batch.iter())
                    .map(|(_, _, at)| at.elapsed().as_secs_f64() * 1000.0)
                    .collect();
                let answer = api
                    .try_invoke(&sqs_event(&batch, first), Duration::from_secs(60))
                    .await;
                first += batch.len();
                let failed = answer.as_ref().map_or(batch.len(), |a| {
                    a.body["batchItemFailures"].as_array().map_or(0, Vec::len)
                });
                let mut f = figures.lock().unwrap_or_else(|e| e.into_inner());
                f.ages_ms.extend(ages);
                f.errors += failed;
                f.delivered += batch.len() - failed;
            }
        }));
    }

    // Qapla' posting at the rate, each post a new status of one of 5,000 parcels.
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(testkit::workspace().join("events/shipment-v1.3-delivered.json"))
            .expect("sample event"),
    )
    .expect("json");
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let (mut minute, mut memory): (u64, Vec<Vec<u64>>) = (0, Vec::new());
    let mut i = 0u64;
    while Instant::now() < end {
        ticker.tick().await;
        let mut body: Value =
            serde_json::from_str(template["body"].as_str().unwrap_or("{}")).unwrap_or(Value::Null);
        let (parcel, step) = (i % 5000, i / 5000);
        body["apiKey"] = json!(KEY);
        body["trackingNumber"] = json!(format!("SOAK{parcel:05}"));
        body["qaplaStatusID"] = json!(["3", "4", "99"][(step % 3) as usize]);
        body["courierStatus"] = json!(format!("SCAN {i}"));
        body["date"] = json!(bridge_core::clock::time_text(1_780_000_000 + i as i64));
        let mut event = template.clone();
        event["body"] = json!(body.to_string());
        event["isBase64Encoded"] = json!(false);
        let began = Instant::now();
        let answer = webhook_api
            .try_invoke(&event, Duration::from_secs(10))
            .await;
        let ms = began.elapsed().as_secs_f64() * 1000.0;
        let ok = answer.is_some_and(|a| a.body["statusCode"] == 200);
        {
            let mut f = figures.lock().unwrap_or_else(|e| e.into_inner());
            f.posts += 1;
            f.errors += usize::from(!ok);
            if started.elapsed() > Duration::from_secs(60) {
                f.posts_ms.push(ms);
            }
        }
        i += 1;
        if started.elapsed() >= Duration::from_secs(60 * (minute + 1)) {
            minute += 1;
            let mut rss: Vec<u64> = (workers.iter()).map(|(_, c)| rss_kb(c.id())).collect();
            rss.push(rss_kb(webhook.id()));
            let mut f = figures.lock().unwrap_or_else(|e| e.into_inner());
            let mut warm = f.posts_ms.clone();
            warm.sort_by(f64::total_cmp);
            let mut ages = std::mem::take(&mut f.ages_ms);
            ages.sort_by(f64::total_cmp);
            println!(
                "minute {minute}: {} posts, {} delivered, {} errors; post p99 {:.2} ms (warm, so far); queue age p99 {:.0} ms, max {:.0} ms; RSS kB workers {:?}, webhook {}",
                f.posts,
                f.delivered,
                f.errors,
                percentile(&warm, 0.99),
                percentile(&ages, 0.99),
                ages.last().copied().unwrap_or(0.0),
                &rss[..rss.len() - 1],
                rss[rss.len() - 1]
            );
            memory.push(rss);
        }
    }
    tokio::time::sleep(Duration::from_secs(20)).await;
    for t in tasks {
        t.abort();
    }
    let _ = webhook.kill();
    let _ = webhook.wait();
    for (_, mut c) in workers {
        let _ = c.kill();
        let _ = c.wait();
    }
    let f = figures.lock().unwrap_or_else(|e| e.into_inner());
    let mut warm = f.posts_ms.clone();
    warm.sort_by(f64::total_cmp);
    let growth = match (memory.first(), memory.last()) {
        (Some(a), Some(b)) if memory.len() > 1 => (a.iter().zip(b))
            .map(|(a, b)| b.saturating_sub(*a))
            .max()
            .unwrap_or(0),
        _ => 0,
    };
    let left = capture.sent.lock().map_or(0, |s| s.len());
    println!(
        "soak: {} s at {rate} posts/s, {workers_n} workers: {} posts, {} delivered, {left} left queued, {} errors; post p50 {:.2} ms, p99 {:.2} ms (warm); the largest memory growth after the first minute {growth} kB",
        seconds,
        f.posts,
        f.delivered,
        f.errors,
        percentile(&warm, 0.5),
        percentile(&warm, 0.99)
    );
    let checks = [
        (f.errors == 0, format!("no error: {}", f.errors)),
        (
            growth <= growth_kb,
            format!("flat memory: {growth} kB of growth (at most {growth_kb})"),
        ),
    ];
    bridge_bench::verdicts(checks)
}
