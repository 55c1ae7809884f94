//! `make flood`: the webhook handler under a flood, measured. Concurrent posts — well-formed
//! shipments (each its own parcel), wrong keys, and made-up channel names never seen twice —
//! for `FLOOD_SECONDS` (default 60) per phase, through `webhook::handle` with the production
//! log lines (written to a sink):
//!
//! 1. against the in-memory queue twin and an in-memory channel store;
//! 2. against `moto_server` on loopback: Secrets Manager through the SDK, the hand-off signed
//!    and sent to an SQS FIFO queue as the deployed webhooks do.
//!
//! First 100,000 made-up channel names alone, to see the handler's own memory stay flat.
//! Then the floods: requests/s held, accepted posts/s, p50/p99 latency, resident memory
//! through the run (the in-memory twin holds every accepted event and its id, so it grows
//! with them), store (Secrets Manager) reads for made-up channels, and a check that every
//! accepted post is on the queue exactly once and no refused one is. Goals (2 cores): ≥ 5,000 accepted
//! posts/s with the in-memory queue, and ≤ 2 MB growth under 100,000 made-up channel names.
//! Exits 1 when a check or a goal fails. Loopback only; every loop is bounded in time and
//! count.
//!
//! Usage: `flood [memory|moto ...]`, from `target/release/` (`make flood` builds it).

use async_trait::async_trait;
use bridge_core::aws::SecretsManagerStore;
use bridge_core::aws::SqsQueue;
use bridge_core::channel::{ChannelId, ChannelSettings, ChannelStore, MemoryStore, StoreError};
use bridge_core::config::Config;
use bridge_core::delivery::{HandOff, MemoryQueue};
use bridge_core::qapla::ShipmentPayload;
use bridge_core::webhook::{self, Deps};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const KEY: &str = "flood-channel-key-it";
/// Concurrent posters.
const TASKS: usize = 32;
/// At most this many posts per phase, whatever the time.
const MAX_POSTS: usize = 5_000_000;
const GOAL_ACCEPTED_PER_SECOND: f64 = 5000.0;
const MADE_UP_ALONE: usize = 100_000;
const GOAL_RSS_GROWTH_MB: f64 = 2.0;

/// Counts reads of channels the flood made up.
struct Counting {
    inner: Arc<dyn ChannelStore>,
    made_up_reads: AtomicUsize,
}

#[async_trait]
impl ChannelStore for Counting {
    async fn load(&self, channel: &ChannelId) -> Result<Option<ChannelSettings>, StoreError> {
        if channel.as_str().starts_with("madeup") {
            self.made_up_reads.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.load(channel).await
    }
}

fn settings() -> Value {
    json!({
        "qaplaApiKey": KEY,
        "qaplaApiBaseUrl": "http://127.0.0.1:9/qapla-api/1.3",
        "trackingUrlTemplate": "https://shop.example/t/{trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "id:secret", "baseUrl": "http://127.0.0.1:9" },
    })
}

/// What the i-th post of task `t` is: 3 in 5 well-formed, 1 a wrong key, 1 a made-up channel.
enum Post {
    Good(String),
    WrongKey,
    MadeUp(usize),
}

fn post(channel: &str, key: &str, tracking: &str) -> Value {
    let body = json!({
        "apiKey": key, "trackingNumber": tracking, "courier": "BRT", "reference": "ORDER-1",
        "date": "2026-11-30 10:00:00", "courierStatus": "CONSEGNATA", "place": "Milano",
        "qaplaStatusID": "99", "qaplaStatus": "DELIVERED", "statusDetails": [],
        "consignee": { "name": "Flood Test", "email": "flood@example.com", "country": "IT" },
    });
    json!({
        "version": "2.0",
        "rawPath": format!("/qapla/{channel}/shipments"),
        "pathParameters": { "channel": channel },
        "requestContext": { "http": { "method": "POST", "sourceIp": "34.96.89.1" } },
        "body": body.to_string(),
        "isBase64Encoded": false,
    })
}

struct Outcome {
    latencies_us: Vec<u32>,
    accepted: Vec<String>,
    refused_good: usize,
    wrong_accepted: usize,
}

/// One poster: posts until `until` or its share of `MAX_POSTS`.
async fn poster(deps: Arc<Deps>, t: usize, until: Instant, made_up: Arc<AtomicUsize>) -> Outcome {
    let mut out = Outcome {
        latencies_us: Vec::new(),
        accepted: Vec::new(),
        refused_good: 0,
        wrong_accepted: 0,
    };
    for i in 0..MAX_POSTS / TASKS {
        if Instant::now() >= until {
            break;
        }
        let kind = match i % 5 {
            0..=2 => Post::Good(format!("F{t:02}-{i:07}")),
            3 => Post::WrongKey,
            _ => Post::MadeUp(made_up.fetch_add(1, Ordering::Relaxed)),
        };
        let event = match &kind {
            Post::Good(tracking) => post("it", KEY, tracking),
            Post::WrongKey => post("it", "not-the-key", &format!("W{t}-{i}")),
            Post::MadeUp(n) => post(&format!("madeup{n}"), KEY, &format!("M{t}-{i}")),
        };
        let started = Instant::now();
        let deadline = started + Duration::from_secs(29);
        let answer = webhook::handle::<ShipmentPayload>(&deps, event, deadline).await;
        out.latencies_us
            .push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        match (kind, answer.status_code) {
            (Post::Good(tracking), 200) => out.accepted.push(tracking),
            (Post::Good(_), _) => out.refused_good += 1,
            (_, 200) => out.wrong_accepted += 1,
            _ => {}
        }
    }
    out
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The measurements of one phase.
struct Report {
    name: &'static str,
    seconds: f64,
    posts: usize,
    accepted: usize,
    made_up: usize,
    made_up_reads: usize,
    p50_ms: f64,
    p99_ms: f64,
    rss: Vec<f64>,
    failures: Vec<String>,
}

/// Flood `deps` for `seconds`, sampling memory every tenth; then `queued` gives the tracking
/// numbers on the queue, to check against the accepted posts.
async fn flood(
    name: &'static str,
    deps: Deps,
    store: Arc<Counting>,
    seconds: u64,
) -> (Report, Vec<String>) {
    let deps = Arc::new(deps);
    let made_up = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(poster(deps.clone(), t, until, made_up.clone())))
        .collect();
    // Sampled from a thread of its own: the posters may keep both runtime threads busy.
    let sampler = std::thread::spawn(move || {
        let mut rss = vec![rss_mb()];
        for _ in 0..10 {
            std::thread::sleep(Duration::from_secs(seconds) / 10);
            rss.push(rss_mb());
        }
        rss
    });
    let mut latencies = Vec::new();
    let mut accepted = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        let out = task.await.expect("poster");
        latencies.extend(out.latencies_us);
        accepted.extend(out.accepted);
        if out.refused_good > 0 {
            failures.push(format!("{} well-formed posts refused", out.refused_good));
        }
        if out.wrong_accepted > 0 {
            failures.push(format!("{} bad posts accepted", out.wrong_accepted));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut rss = sampler.join().expect("sampler");
    rss.push(rss_mb());
    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        f64::from(latencies.get(i).copied().unwrap_or(0)) / 1000.0
    };
    let report = Report {
        name,
        seconds: elapsed,
        posts: latencies.len(),
        accepted: accepted.len(),
        made_up: made_up.load(Ordering::Relaxed),
        made_up_reads: store.made_up_reads.load(Ordering::Relaxed),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        rss,
        failures,
    };
    (report, accepted)
}

/// Every accepted tracking number on the queue exactly once, nothing else there.
fn exactly_once(accepted: &[String], queued: Vec<String>, failures: &mut Vec<String>) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for key in queued {
        *counts.entry(key).or_default() += 1;
    }
    let missing = accepted.iter().filter(|k| !counts.contains_key(*k)).count();
    let twice = counts.values().filter(|n| **n > 1).count();
    let extra = counts.len().saturating_sub(accepted.len() - missing);
    if missing + twice + extra > 0 {
        failures.push(format!(
            "queue: {missing} accepted posts missing, {twice} queued more than once, {extra} never accepted"
        ));
    }
}

async fn memory_phase(seconds: u64) -> Report {
    let store = MemoryStore::default();
    store.put(
        ChannelId::try_from("it").expect("id"),
        settings().to_string(),
    );
    let counting = Arc::new(Counting {
        inner: Arc::new(store),
        made_up_reads: AtomicUsize::new(0),
    });
    let queue = Arc::new(MemoryQueue::new(Duration::from_secs(3600)));
    let deps = deps(counting.clone(), queue.clone()).await;
    let (mut report, accepted) = flood("in-memory queue", deps, counting, seconds).await;
    let queued = queue.receive(usize::MAX);
    let queued = queued.iter().map(|m| key_of(&m.body)).collect();
    exactly_once(&accepted, queued, &mut report.failures);
    let per_second = report.accepted as f64 / report.seconds;
    if per_second < GOAL_ACCEPTED_PER_SECOND {
        report.failures.push(format!(
            "{per_second:.0} accepted posts/s (goal ≥ {GOAL_ACCEPTED_PER_SECOND})"
        ));
    }
    report
}

/// `MADE_UP_ALONE` posts to channels that do not exist, one name each, after a warm-up:
/// the handler's memory growth (MB) and the store reads they cost.
async fn made_up_alone() -> (f64, f64, usize) {
    let counting = Arc::new(Counting {
        inner: Arc::new(MemoryStore::default()),
        made_up_reads: AtomicUsize::new(0),
    });
    let deps = deps(counting.clone(), Arc::new(MemoryQueue::new(Duration::ZERO))).await;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut rss = 0.0;
    for n in 0..MADE_UP_ALONE + 5_000 {
        if n == 5_000 {
            rss = rss_mb();
        }
        let event = post(&format!("madeup{n}"), KEY, "M1");
        let answer = webhook::handle::<ShipmentPayload>(&deps, event, deadline).await;
        assert_eq!(answer.status_code, 401, "a made-up channel is refused");
    }
    let reads = counting.made_up_reads.load(Ordering::Relaxed);
    (rss, rss_mb(), reads)
}

fn key_of(body: &str) -> String {
    serde_json::from_str::<Value>(body).map_or_else(
        |_| "<unreadable>".to_owned(),
        |v| v["key"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The webhook as the stack configures it (by default), reading `store`, handing off to
/// `hand_off`.
async fn deps(store: Arc<Counting>, hand_off: Arc<dyn HandOff>) -> Deps {
    Config::default()
        .bridge()
        .with_channel_store(store)
        .with_hand_off(hand_off)
        .webhook_deps()
        .await
        .expect("deps")
}

async fn moto_phase(seconds: u64) -> Report {
    let moto = testkit::Moto::start().await;
    let vars = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
    ];
    let config = bridge_core::config::Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("config");
    let aws = config.aws.sdk_config().expect("aws config");
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    secrets
        .create_secret()
        .name("flood/it")
        .secret_string(settings().to_string())
        .send()
        .await
        .expect("secret");
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue_url = sqs
        .create_queue()
        .queue_name("flood.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "3600",
        )
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    let counting = Arc::new(Counting {
        inner: Arc::new(SecretsManagerStore::new(secrets, "flood")),
        made_up_reads: AtomicUsize::new(0),
    });
    let signed = config.aws.signed_send().expect("signed send");
    let queue = SqsQueue::sending(Arc::new(signed), queue_url.clone());
    let deps = deps(counting.clone(), Arc::new(queue)).await;
    let (mut report, accepted) = flood(
        "moto_server (SQS, Secrets Manager)",
        deps,
        counting,
        seconds,
    )
    .await;
    let mut queued = Vec::new();
    // Each message is a parcel (a group) of its own, hidden for an hour once received.
    for _ in 0..accepted.len() / 10 + 100 {
        let messages = testkit::aws::receive(&sqs, &queue_url, None, 0).await;
        if messages.is_empty() {
            break;
        }
        queued.extend(
            messages
                .iter()
                .map(|m| key_of(m.body().unwrap_or_default())),
        );
    }
    exactly_once(&accepted, queued, &mut report.failures);
    report
}

fn print(r: &Report) {
    let rss: Vec<String> = r.rss.iter().map(|m| format!("{m:.1}")).collect();
    println!(
        "\n== {} ({:.0} s, {TASKS} concurrent posters)",
        r.name, r.seconds
    );
    println!(
        "posts                  {:>10}  ({:.0}/s held)",
        r.posts,
        r.posts as f64 / r.seconds
    );
    println!(
        "accepted (on queue)    {:>10}  ({:.0}/s)",
        r.accepted,
        r.accepted as f64 / r.seconds
    );
    println!(
        "latency p50 / p99      {:>7.2} ms / {:.2} ms",
        r.p50_ms, r.p99_ms
    );
    println!("made-up channel names  {:>10}", r.made_up);
    println!(
        "store reads for them   {:>10}  (Secrets Manager calls in the moto phase)",
        r.made_up_reads
    );
    println!("RSS MB, start..end     {}", rss.join(" "));
    for f in &r.failures {
        println!("FAIL {f}");
    }
    if r.failures.is_empty() {
        println!("PASS exactly once on the queue; every check and goal met");
    }
}

fn main() {
    let seconds: u64 = std::env::var("FLOOD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let phases: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |p: &str| phases.is_empty() || phases.iter().any(|a| a == p);
    let sink = bridge_core::telemetry::dispatch(std::io::sink, tracing::Level::INFO);
    tracing::dispatcher::set_global_default(sink).expect("one subscriber");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut failed = false;
    if wanted("memory") {
        // First, on a fresh heap: freed memory the allocator keeps could hide growth.
        let (before, after, reads) = runtime.block_on(made_up_alone());
        let growth = after - before;
        println!(
            "\n== {MADE_UP_ALONE} made-up channel names alone: RSS {before:.1} -> {after:.1} MB, {reads} store reads"
        );
        let pass = growth <= GOAL_RSS_GROWTH_MB;
        println!(
            "{} memory grew {growth:.2} MB (goal ≤ {GOAL_RSS_GROWTH_MB} MB)",
            if pass { "PASS" } else { "FAIL" }
        );
        failed |= !pass;
        let report = runtime.block_on(memory_phase(seconds));
        print(&report);
        failed |= !report.failures.is_empty();
    }
    if wanted("moto") {
        let report = runtime.block_on(moto_phase(seconds));
        print(&report);
        failed |= !report.failures.is_empty();
    }
    std::process::exit(i32::from(failed));
}
