//! `make bench`: the real release binaries driven as Lambda drives them — a Lambda Runtime
//! API on loopback hands them events — with Secrets Manager and SQS on `moto_server` and on
//! an instant fake (`fake_aws`), side by side with a bare Rust Lambda built with the same
//! profile. Per binary: `COLD` cold
//! starts (spawn → first `/next`: wall time and CPU; the first invoke: a cold secret read and
//! the first queue send), then `WARM` invokes of one process (CPU per event), and its peak
//! RSS. CPU is the process's own (`/proc/<pid>/task/*/schedstat`, nanoseconds), so the
//! harness and the fakes do not count. Prints the table and each goal with pass/fail, the
//! arm64 binaries of `sam build` (`.aws-sam/build/*/bootstrap`) against their budget too;
//! exits 1 if any fails.
//!
//! Usage: `coldstart [COLD] [WARM]` (defaults 30 and 1000), from `target/release/`.

use bridge_bench::measure::{Measured, measure, ms};
use serde_json::{Value, json};
use std::time::Duration;
const CHANNEL_KEY: &str = "test-channel-key-it";
/// Every function binary, arm64, stripped.
const ARM64_BUDGET: u64 = 6_000_000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let cold = args.next().unwrap_or(30);
    let warm = args.next().unwrap_or(1000);
    let moto = testkit::Moto::start().await;
    let queue_url = stack_on(&moto).await;
    let instant = bridge_bench::fake_aws::start("qapla-connectif/it", &settings()).await;
    let dir = std::env::current_exe()
        .expect("exe")
        .parent()
        .expect("dir")
        .to_path_buf();
    let event = sample_event();
    let run = |name: &'static str, exe: &'static str, env: Vec<(String, String)>| {
        let (exe, event) = (dir.join(exe), event.clone());
        async move { measure(name, &exe, &env, &event, (cold, warm), None).await }
    };
    let hello = run("bare hello", "bench-hello", Vec::new()).await;
    let on_moto = run(
        "shipment-webhook, moto",
        "shipment-webhook",
        webhook_env(&moto.endpoint, &queue_url),
    )
    .await;
    let on_fake = run(
        "shipment-webhook, instant fake",
        "shipment-webhook",
        webhook_env(
            &instant.uri(),
            &format!("{}/000000000000/bench-events.fifo", instant.uri()),
        ),
    )
    .await;
    memory_sizes(&dir, &event, &instant.uri(), (cold.min(10), warm.min(300))).await;
    report(&[&hello, &on_moto, &on_fake], cold, warm);
}

/// Lambda's memory sizes measured here: the CPU quota and memory limit of each (see
/// `bridge_bench::limits`).
const MEMORY_SIZES: [u64; 4] = [128, 256, 512, 1_024];
/// Lambda arm64, US East: per GB-second and per request (prices as of November 2025, as
/// docs/operations.md's cost table).
const GB_SECOND: f64 = 0.000_013_333_4;
const REQUEST: f64 = 0.000_000_2;

/// The bare hello and the shipment webhook (the instant fake: plain HTTP, and behind TLS for
/// the `bench-ca` build) at each memory size, under its CPU quota: a table, or why it cannot
/// be measured here.
async fn memory_sizes(dir: &std::path::Path, event: &Value, fake: &str, counts: (usize, usize)) {
    println!(
        "Under Lambda's CPU share of each memory size (cgroup quota per {} ms period); stand-ins: the instant fake (plain HTTP, keep-alive), and TLS in front of it\n",
        bridge_bench::limits::PERIOD_US / 1000
    );
    println!(
        "| memory (CPU per period) | binary | cold post (spawn → answer) | its CPU | cold posts that waited a period | warm p50 | warm p99 | CPU per warm post | peak RSS | per 1M warm posts | TLS handshakes per start |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let queue = format!("{fake}/000000000000/bench-events.fifo");
    let tls = testkit::tls::Front::start(fake).await;
    let tls_queue = format!("{}/000000000000/bench-events.fifo", tls.url);
    for memory_mb in MEMORY_SIZES {
        let limits = match bridge_bench::limits::Limits::new(memory_mb) {
            Ok(limits) => limits,
            Err(why) => {
                println!("\nSKIPPED: {why}");
                return;
            }
        };
        let binaries = [
            ("bare hello", "bench-hello", Vec::new()),
            (
                "shipment-webhook",
                "shipment-webhook",
                webhook_env(fake, &queue),
            ),
            (
                "shipment-webhook, TLS",
                "shipment-webhook-bench-ca",
                webhook_env(&tls.url, &tls_queue),
            ),
        ];
        for (name, exe, env) in binaries {
            let handshakes = tls.handshakes();
            let m = measure(name, &dir.join(exe), &env, event, counts, Some(&limits)).await;
            let throttled = format!("{} of {}", m.cold_throttled, counts.0);
            let handshakes = (tls.handshakes() - handshakes) as f64 / counts.0 as f64;
            let quota = limits.quota_us() as f64 / 1000.0;
            // Billed per millisecond, rounded up.
            let billed = (m.warm_p50.as_secs_f64() * 1000.0).ceil() / 1000.0;
            let cost = 1e6 * (REQUEST + billed * memory_mb as f64 / 1024.0 * GB_SECOND);
            println!(
                "| {memory_mb} MB ({quota:.1} ms) | {name} | {} | {} | {throttled} | {} | {} | {} | {:.1} MB | ${cost:.3} | {handshakes:.1} |",
                ms(m.cold_post),
                ms(m.cold_post_cpu),
                ms(m.warm_p50),
                ms(m.warm_p99),
                ms(m.warm_cpu),
                m.peak_rss_kb as f64 / 1024.0
            );
        }
    }
    println!();
    refuses_the_bench_certificate(dir, event, &tls).await;
}

/// The build every deployment uses (no `bench-ca`) refuses the stand-ins' certificate: its
/// post cannot be handed off, and no TLS handshake completes.
async fn refuses_the_bench_certificate(
    dir: &std::path::Path,
    event: &Value,
    tls: &testkit::tls::Front,
) {
    let api = testkit::runtime_api::RuntimeApi::start().await;
    let before = tls.handshakes();
    let queue = format!("{}/000000000000/bench-events.fifo", tls.url);
    let env = webhook_env(&tls.url, &queue);
    let mut child = bridge_bench::measure::spawn(&dir.join("shipment-webhook"), &env, &api);
    let answer = api.invoke(event, Duration::from_secs(30)).await;
    let _ = child.kill();
    let _ = child.wait();
    let completed = tls.handshakes() - before;
    let refused = answer.body["body"] != "{\"result\":\"OK\"}" && completed == 0;
    println!(
        "{} the deployed build (no bench-ca) refuses the stand-ins' certificate: status {}, {completed} handshakes completed\n",
        if refused { "PASS" } else { "FAIL" },
        answer.body["statusCode"]
    );
    if !refused {
        std::process::exit(1);
    }
}

fn settings() -> Value {
    json!({
        "qaplaApiKey": CHANNEL_KEY, "language": "it",
        "trackingUrlTemplate": "https://shop.example/t?n={trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "id:secret" },
    })
}

/// The channel's secret and the FIFO queue, on moto; the queue's URL.
async fn stack_on(moto: &testkit::Moto) -> String {
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(bridge_core::http::sdk::client(Duration::from_secs(2)).expect("client"))
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .endpoint_url(&moto.endpoint)
        .load()
        .await;
    let settings = settings();
    aws_sdk_secretsmanager::Client::new(&aws)
        .create_secret()
        .name("qapla-connectif/it")
        .secret_string(settings.to_string())
        .send()
        .await
        .expect("secret");
    aws_sdk_sqs::Client::new(&aws)
        .create_queue()
        .queue_name("bench-events.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url")
}

fn sample_event() -> Value {
    let path = testkit::workspace().join("events/shipment-v1.3-delivered.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("json")
}

/// The shipment webhook in queue mode, as the stack configures it, against moto.
fn webhook_env(moto: &str, queue_url: &str) -> Vec<(String, String)> {
    [
        ("SECRET_PREFIX", "qapla-connectif"),
        ("HAND_OFF_QUEUE_URL", queue_url),
        ("AWS_ENDPOINT_URL", moto),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "eu-west-1"),
        ("RUST_LOG", "info"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// How a table cell shows a measurement.
type Cell = fn(&Measured) -> String;

fn report(columns: &[&Measured; 3], cold: usize, warm: usize) {
    let [hello, on_moto, on_fake] = *columns;
    println!(
        "{cold} cold starts and {warm} warm invokes each; medians; CPU is the process's own\n"
    );
    println!(
        "| median | {} | {} | {} |",
        hello.name, on_moto.name, on_fake.name
    );
    println!("|---|---|---|---|");
    let rows: [(&str, Cell); 6] = [
        ("init (spawn → first /next)", |m| ms(m.init)),
        ("init CPU", |m| ms(m.init_cpu)),
        ("first invoke (secret read + queue send)", |m| {
            ms(m.first_invoke)
        }),
        ("CPU per warm event", |m| ms(m.warm_cpu)),
        ("peak RSS", |m| {
            format!("{:.1} MB", m.peak_rss_kb as f64 / 1024.0)
        }),
        ("binary (this machine's target, stripped)", |m| {
            format!("{:.2} MB", m.size as f64 / 1e6)
        }),
    ];
    for (label, value) in rows {
        let cells: Vec<String> = columns.iter().map(|m| value(m)).collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
    // Init: the slower of the two runs. First invoke and warm CPU: against the instant fake,
    // which keeps connections alive as SQS does; moto answers HTTP/1.0, so each of its calls
    // opens a new TCP connection (its column shows what that costs).
    let init = on_moto.init.max(on_fake.init);
    let init_cpu = on_moto.init_cpu.max(on_fake.init_cpu);
    let ratio = init.as_secs_f64() / hello.init.as_secs_f64();
    let over = on_fake.warm_cpu.saturating_sub(hello.warm_cpu);
    let over_moto = on_moto.warm_cpu.saturating_sub(hello.warm_cpu);
    let peak_rss_kb = on_moto.peak_rss_kb.max(on_fake.peak_rss_kb);
    let mut goals = vec![
        (
            format!("init {ratio:.2}× the bare hello (≤ 1.5×)"),
            ratio <= 1.5,
        ),
        (
            format!("init CPU {} (≤ 4 ms)", ms(init_cpu)),
            init_cpu <= Duration::from_millis(4),
        ),
        (
            format!(
                "CPU per warm event {} over the hello (≤ 0.1 ms; {} against moto)",
                ms(over),
                ms(over_moto)
            ),
            over <= Duration::from_micros(100),
        ),
        (
            format!(
                "first invoke {} (≤ 5 ms; {} against moto)",
                ms(on_fake.first_invoke),
                ms(on_moto.first_invoke)
            ),
            on_fake.first_invoke <= Duration::from_millis(5),
        ),
        (
            format!("peak RSS {:.1} MB (≤ 8 MB)", peak_rss_kb as f64 / 1024.0),
            peak_rss_kb <= 8 * 1024,
        ),
    ];
    goals.extend(arm64_sizes());
    println!();
    let mut failed = 0;
    for (goal, pass) in &goals {
        println!("{} {goal}", if *pass { "PASS" } else { "FAIL" });
        failed += usize::from(!pass);
    }
    if failed > 0 {
        std::process::exit(1);
    }
}

/// Each function's arm64 binary from `sam build` against the 6 MB budget.
fn arm64_sizes() -> Vec<(String, bool)> {
    let built = testkit::workspace().join(".aws-sam/build");
    let mut sizes: Vec<(String, u64)> = std::fs::read_dir(&built)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|f| {
            let size = std::fs::metadata(f.path().join("bootstrap")).ok()?.len();
            Some((f.file_name().to_string_lossy().into_owned(), size))
        })
        .collect();
    sizes.sort();
    if sizes.is_empty() {
        let missing = "arm64 binaries: none in .aws-sam/build (run `sam build`)".to_owned();
        return vec![(missing, false)];
    }
    sizes
        .into_iter()
        .map(|(function, size)| {
            let mb = size as f64 / 1e6;
            (
                format!("{function} arm64 {mb:.2} MB (≤ 6 MB)"),
                size <= ARM64_BUDGET,
            )
        })
        .collect()
}
