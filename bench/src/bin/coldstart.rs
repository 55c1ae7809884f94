//! `make bench`: the real release binaries driven as Lambda drives them — a Lambda Runtime
//! API on loopback hands them events — with Secrets Manager and SQS on `moto_server`, side
//! by side with a bare Rust Lambda built with the same profile. Per binary: `COLD` cold
//! starts (spawn → first `/next`: wall time and CPU; the first invoke: a cold secret read and
//! the first queue send), then `WARM` invokes of one process (CPU per event), and its peak
//! RSS. CPU is the process's own (`/proc/<pid>/task/*/schedstat`, nanoseconds), so the
//! harness and moto do not count. Prints the table and each goal with pass/fail; exits 1 if
//! any fails.
//!
//! Usage: `coldstart [COLD] [WARM]` (defaults 30 and 1000), from `target/release/`.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::runtime_api::RuntimeApi;

const LIMIT: Duration = Duration::from_secs(30);
const CHANNEL_KEY: &str = "test-channel-key-it";

/// What one binary measured (medians over the cold starts).
struct Measured {
    name: String,
    init: Duration,
    init_cpu: Duration,
    first_invoke: Duration,
    warm_cpu: Duration,
    peak_rss_kb: u64,
    size: u64,
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let cold = args.next().unwrap_or(30);
    let warm = args.next().unwrap_or(1000);
    let moto = testkit::Moto::start().await;
    let queue_url = stack_on(&moto).await;
    let dir = std::env::current_exe()
        .expect("exe")
        .parent()
        .expect("dir")
        .to_path_buf();
    let event = sample_event();
    let env = webhook_env(&moto.endpoint, &queue_url);
    let hello = measure(
        "bare hello",
        &dir.join("bench-hello"),
        &[],
        &event,
        cold,
        warm,
    )
    .await;
    let webhook = measure(
        "shipment-webhook",
        &dir.join("shipment-webhook"),
        &env,
        &event,
        cold,
        warm,
    )
    .await;
    report(&hello, &webhook, cold, warm);
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
    let settings = json!({
        "qaplaApiKey": CHANNEL_KEY, "language": "it",
        "trackingUrlTemplate": "https://shop.example/t?n={trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "id:secret" },
    });
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

fn spawn(exe: &Path, env: &[(String, String)], api: &RuntimeApi) -> Child {
    Command::new(exe)
        .env_clear()
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{exe:?}: {e} (run `make bench`, which builds it)"))
}

async fn measure(
    name: &str,
    exe: &PathBuf,
    env: &[(String, String)],
    event: &Value,
    cold: usize,
    warm: usize,
) -> Measured {
    let (mut inits, mut init_cpus, mut firsts) = (Vec::new(), Vec::new(), Vec::new());
    let mut kept = None;
    for i in 0..cold {
        let api = RuntimeApi::start().await;
        let started = Instant::now();
        let mut child = spawn(exe, env, &api);
        let polled = api.polled_after(started, LIMIT).await;
        inits.push(polled - started);
        init_cpus.push(cpu(child.id()));
        let asked = Instant::now();
        let answer = api.invoke(event, LIMIT).await;
        firsts.push(asked.elapsed());
        assert_eq!(
            answer.body["body"], "{\"result\":\"OK\"}",
            "{name}: {answer:?}"
        );
        // Idle again (asking for the next event): its first invoke is over.
        api.polled_after(asked, LIMIT).await;
        if i + 1 == cold {
            kept = Some((child, api));
        } else {
            stop(&mut child);
        }
    }
    let (mut child, api) = kept.expect("at least one cold start");
    let before = cpu(child.id());
    for _ in 0..warm {
        let asked = Instant::now();
        let answer = api.invoke(event, LIMIT).await;
        assert_eq!(answer.body["body"], "{\"result\":\"OK\"}");
        api.polled_after(asked, LIMIT).await;
    }
    let warm_cpu = (cpu(child.id()) - before) / warm.max(1) as u32;
    let peak_rss_kb = peak_rss_kb(child.id());
    stop(&mut child);
    Measured {
        name: name.to_owned(),
        init: median(inits),
        init_cpu: median(init_cpus),
        first_invoke: median(firsts),
        warm_cpu,
        peak_rss_kb,
        size: std::fs::metadata(exe).map_or(0, |m| m.len()),
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// CPU time of every thread of `pid` so far.
fn cpu(pid: u32) -> Duration {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc");
    let ns: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// How a table cell shows a measurement.
type Cell = fn(&Measured) -> String;

fn report(hello: &Measured, webhook: &Measured, cold: usize, warm: usize) {
    println!(
        "{cold} cold starts and {warm} warm invokes each; medians; CPU is the process's own\n"
    );
    println!("| median | {} | {} |", hello.name, webhook.name);
    println!("|---|---|---|");
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
        println!("| {label} | {} | {} |", value(hello), value(webhook));
    }
    let ratio = webhook.init.as_secs_f64() / hello.init.as_secs_f64();
    let over = webhook.warm_cpu.saturating_sub(hello.warm_cpu);
    let goals = [
        (
            format!("init {ratio:.2}× the bare hello (≤ 1.5×)"),
            ratio <= 1.5,
        ),
        (
            format!("init CPU {} (≤ 4 ms)", ms(webhook.init_cpu)),
            webhook.init_cpu <= Duration::from_millis(4),
        ),
        (
            format!("CPU per warm event {} over the hello (≤ 0.1 ms)", ms(over)),
            over <= Duration::from_micros(100),
        ),
        (
            format!("first invoke {} (≤ 5 ms)", ms(webhook.first_invoke)),
            webhook.first_invoke <= Duration::from_millis(5),
        ),
        (
            format!(
                "peak RSS {:.1} MB (≤ 8 MB)",
                webhook.peak_rss_kb as f64 / 1024.0
            ),
            webhook.peak_rss_kb <= 8 * 1024,
        ),
    ];
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
