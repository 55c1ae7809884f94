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

use bridge_bench::limits::Limits;
use bridge_bench::measure::{Measured, Target, accepted, measure, ms};
use bridge_bench::stands::{self, Stands};
use std::time::Duration;
/// Every function binary, arm64, stripped.
const ARM64_BUDGET: u64 = 6_000_000;

#[tokio::main]
async fn main() {
    if let Some(us) = burn_argument() {
        burn(Duration::from_micros(us));
        return;
    }
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let cold = args.next().unwrap_or(30);
    let warm = args.next().unwrap_or(1000);
    let moto = testkit::Moto::start().await;
    let queue_url = stack_on(&moto).await;
    let instant =
        bridge_bench::fake_aws::start("qapla-connectif/it", &stands::settings(None)).await;
    let dir = std::env::current_exe()
        .expect("exe")
        .parent()
        .expect("dir")
        .to_path_buf();
    let event = stands::sample("shipment-v1.3-delivered");
    let run = |name: &'static str, exe: &'static str, env: Vec<(String, String)>| {
        let target = Target {
            name: name.to_owned(),
            exe: dir.join(exe),
            env,
            event: event.clone(),
            ok: accepted,
        };
        async move { measure(&target, (cold, warm), None).await }
    };
    // Init as it was measured before connections were opened there (the first post opens
    // them): the runtime and the wiring against the bare hello. What opening them during
    // Init costs and saves is measured over a network round trip below.
    let first_post_connects = |mut env: Vec<(String, String)>| {
        env.push(("AWS_PRECONNECT_MS".into(), "0".into()));
        env
    };
    let hello = run("bare hello", "bench-hello", Vec::new()).await;
    let mut on_moto = stands::env(&moto.endpoint);
    on_moto.retain(|(k, _)| k != "HAND_OFF_QUEUE_URL");
    on_moto.push(("HAND_OFF_QUEUE_URL".into(), queue_url));
    let on_moto = run(
        "shipment-webhook, moto",
        "shipment-webhook",
        first_post_connects(on_moto),
    )
    .await;
    let on_fake = run(
        "shipment-webhook, instant fake",
        "shipment-webhook",
        first_post_connects(stands::env(&instant.uri())),
    )
    .await;
    let goals = memory_sizes(&dir, (cold.min(10), warm.min(300))).await;
    bridge_bench::latency::first_post_over_a_network(&dir, cold.min(10)).await;
    report(&[&hello, &on_moto, &on_fake], (cold, warm), goals);
}

/// `coldstart --burn <µs>`: the self-test's burner (see [`Limits::self_test`]).
fn burn_argument() -> Option<u64> {
    let mut args = std::env::args().skip(1);
    (args.next()? == "--burn").then(|| args.next()?.parse().ok())?
}

/// Spins until this thread has used `cpu` of CPU time.
fn burn(cpu: Duration) {
    let start = bridge_bench::measure::thread_cpu();
    while bridge_bench::measure::thread_cpu() - start < cpu {
        std::hint::spin_loop();
    }
}

/// The quota binds before anything is measured under it: this binary, born inside the
/// 128 MB groups, burns twice their quota and must be throttled. Exits 1 if not.
fn quota_self_test(limits: &Limits) {
    match limits.self_test(&std::env::current_exe().expect("exe"), &["--burn"]) {
        Ok(said) => println!("PASS quota self-test: {said}\n"),
        Err(why) => {
            println!("FAIL quota self-test: {why}");
            std::process::exit(1);
        }
    }
}

/// The channel's secret and the FIFO queue, on moto; the queue's URL.
async fn stack_on(moto: &testkit::Moto) -> String {
    let aws = testkit::aws::clients(&moto.endpoint);
    let settings = stands::settings(None);
    testkit::aws::put_secret(&aws.secrets, "qapla-connectif/it", &settings.to_string()).await;
    aws.sqs
        .create_queue()
        .queue_name("bench-events.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url")
}

/// Lambda's memory sizes measured here: the CPU quota and memory limit of each (see
/// `bridge_bench::limits`).
const MEMORY_SIZES: [u64; 4] = [128, 256, 512, 1_024];
/// Lambda arm64, US East: per GB-second and per request (prices as of November 2025, as
/// docs/operations.md's cost table).
const GB_SECOND: f64 = 0.000_013_333_4;
const REQUEST: f64 = 0.000_000_2;

/// One row of the table: a target at a memory size.
struct Row {
    memory_mb: u64,
    quota: Duration,
    m: Measured,
}

/// Every function binary (and the bare hello and the usual-way webhook) at each memory size,
/// under its CPU quota, against the stand-ins (TLS, or plain HTTP where the name says so): a
/// table, then the goals. Nothing if cgroups are not available here (the reason printed).
async fn memory_sizes(dir: &std::path::Path, counts: (usize, usize)) -> Vec<(String, bool)> {
    println!(
        "Under Lambda's CPU share of each memory size (cgroup quota per {} ms period); stand-ins on loopback, TLS with keep-alive\n",
        bridge_bench::limits::PERIOD_US / 1000
    );
    match Limits::new(MEMORY_SIZES[0]) {
        Ok(limits) => quota_self_test(&limits),
        Err(why) => {
            println!("SKIPPED: {why}");
            return Vec::new();
        }
    }
    let stands = Stands::start(dir, Duration::ZERO).await;
    println!(
        "| memory (CPU per period) | binary | cold post (spawn → answer) | fastest–slowest | its CPU | cold posts throttled (time waited in all) | warm p50 | warm p99 | CPU per warm post | peak RSS | per 1M warm invocations | TLS handshakes per start |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for memory_mb in MEMORY_SIZES {
        let limits = match Limits::new(memory_mb) {
            Ok(limits) => limits,
            Err(why) => {
                println!("\nSKIPPED: {why}");
                return Vec::new();
            }
        };
        let quota = Duration::from_micros(limits.quota_us());
        for target in stands.targets() {
            let handshakes = stands.handshakes();
            let m = measure(&target, counts, Some(&limits)).await;
            let handshakes = (stands.handshakes() - handshakes) as f64 / counts.0 as f64;
            let row = Row {
                memory_mb,
                quota,
                m,
            };
            print_row(&row, counts.0, handshakes);
            rows.push(row);
        }
    }
    println!();
    for name in ["delivery-worker", "reconciler"] {
        calls_per_invocation(dir, &stands, name).await;
    }
    let mut goals = vec![refuses_the_bench_certificate(dir, &stands).await];
    goals.extend(quota_goals(&rows));
    goals
}

fn print_row(row: &Row, cold: usize, handshakes: f64) {
    let Row {
        memory_mb,
        quota,
        m,
    } = row;
    // Billed per millisecond, rounded up.
    let billed = (m.warm_p50.as_secs_f64() * 1000.0).ceil() / 1000.0;
    let cost = 1e6 * (REQUEST + billed * *memory_mb as f64 / 1024.0 * GB_SECOND);
    println!(
        "| {memory_mb} MB ({}) | {} | {} | {} | {} | {} of {cold} ({}) | {} | {} | {} | {:.1} MB | ${cost:.3} | {handshakes:.1} |",
        ms(*quota),
        m.name,
        ms(m.cold_post),
        spread(m),
        ms(m.cold_post_cpu),
        m.cold_throttled,
        ms(m.cold_throttled_time),
        ms(m.warm_p50),
        ms(m.warm_p99),
        ms(m.warm_cpu),
        m.peak_rss_kb as f64 / 1024.0
    );
}

/// The fastest and the slowest of a row's cold posts.
fn spread(m: &Measured) -> String {
    match (m.cold_posts.first(), m.cold_posts.last()) {
        (Some(fastest), Some(slowest)) => format!("{}–{}", ms(*fastest), ms(*slowest)),
        _ => "–".to_owned(),
    }
}

/// The goals under the quota that a shop would notice: the webhook's cold post at 128 MB,
/// TLS included, ≤ 50 ms and never throttled; 5× the usual way's at the webhooks' memory
/// (ratio of the medians, with the spread over the starts: a throttled post waits up to one
/// period, wherever its start fell in it); the delivery worker's cold batch at its memory.
/// (CPU per warm post is in the table, not a goal: 0.1 ms is ~$0.0002 per million posts.)
fn quota_goals(rows: &[Row]) -> Vec<(String, bool)> {
    let find = |memory: u64, name: &str| {
        rows.iter()
            .find(|r| r.memory_mb == memory && r.m.name.starts_with(name))
    };
    let mut goals = Vec::new();
    if let Some(webhook) = find(128, "shipment-webhook, TLS") {
        let m = &webhook.m;
        goals.push((
            format!(
                "128 MB: webhook cold post, TLS included, {} (≤ 50 ms), {} of CPU under a {} quota, {} of {} cold posts throttled (0)",
                ms(m.cold_post),
                ms(m.cold_post_cpu),
                ms(webhook.quota),
                m.cold_throttled,
                m.cold_posts.len()
            ),
            m.cold_post <= Duration::from_millis(50) && m.cold_throttled == 0,
        ));
    }
    let memory = template_memory("ShipmentFunction");
    if let (Some(ours), Some(usual)) = (
        find(memory, "shipment-webhook, TLS"),
        find(memory, "usual-way webhook"),
    ) {
        let (ours, usual) = (&ours.m, &usual.m);
        let times = usual.cold_post.as_secs_f64() / ours.cold_post.as_secs_f64();
        let ends = |m: &Measured| {
            let d = |i: Option<&Duration>| i.copied().unwrap_or_default().as_secs_f64();
            (d(m.cold_posts.first()), d(m.cold_posts.last()))
        };
        let ((our_min, our_max), (usual_min, usual_max)) = (ends(ours), ends(usual));
        goals.push((
            format!(
                "{memory} MB (the webhooks'): webhook cold post {times:.1}× faster than the usual way's ({} against {}; ≥ 5×; {:.1}–{:.1}× from the worst to the best pairing of starts; the usual way's {} of {} throttled)",
                ms(ours.cold_post),
                ms(usual.cold_post),
                usual_min / our_max,
                usual_max / our_min,
                usual.cold_throttled,
                usual.cold_posts.len()
            ),
            times >= 5.0,
        ));
    }
    let memory = template_memory("DeliveryFunction");
    match find(memory, "delivery-worker") {
        Some(worker) => goals.push((
            format!(
                "{memory} MB (the delivery worker's): cold batch of 10 delivered in {}, {} of CPU, {} of {} throttled (≤ 100 ms)",
                ms(worker.m.cold_post),
                ms(worker.m.cold_post_cpu),
                worker.m.cold_throttled,
                worker.m.cold_posts.len()
            ),
            worker.m.cold_post <= Duration::from_millis(100),
        )),
        None => goals.push((
            format!("delivery worker at {memory} MB: not measured"),
            false,
        )),
    }
    goals
}

/// A function's `MemorySize` in template.yaml: its own, else the `Globals` one.
fn template_memory(function: &str) -> u64 {
    let template =
        std::fs::read_to_string(testkit::workspace().join("template.yaml")).expect("template.yaml");
    let memory_in = |block: &str| {
        block.lines().find_map(|l| {
            l.trim()
                .strip_prefix("MemorySize:")
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
    };
    let block = |start: &str| {
        let from = template.find(start)? + start.len();
        let rest = &template[from..];
        let end = rest
            .match_indices("\n  ")
            .find(|(i, _)| !rest[i + 3..].starts_with(' '))
            .map_or(rest.len(), |(i, _)| i);
        Some(&rest[..end])
    };
    block(&format!("\n  {function}:"))
        .and_then(memory_in)
        .or_else(|| block("\n  Function:").and_then(memory_in))
        .expect("a MemorySize in template.yaml")
}

/// What one warm invocation of `name` (the delivery worker's batch of 10, the reconciler's
/// scheduled run) costs in calls: to AWS (by operation), Connectif and Qapla'.
async fn calls_per_invocation(dir: &std::path::Path, stands: &Stands, name: &str) {
    let Some(target) = (stands.all_targets().into_iter()).find(|t| t.name.starts_with(name)) else {
        return;
    };
    let api = testkit::runtime_api::RuntimeApi::start().await;
    let mut child = bridge_bench::measure::spawn(&dir.join(&target.exe), &target.env, &api);
    let limit = Duration::from_secs(30);
    api.invoke(&target.event, limit).await;
    let servers = [&stands.aws, &stands.connectif, &stands.qapla];
    let mut before = Vec::new();
    for server in servers {
        before.push(requests(server).await);
    }
    let answer = api.invoke(&target.event, limit).await;
    let mut after = Vec::new();
    for server in servers {
        after.push(requests(server).await);
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut by_call = std::collections::BTreeMap::<&str, usize>::new();
    for target in &after[0].1[before[0].1.len()..] {
        let call = target.rsplit('.').next().unwrap_or(target);
        *by_call.entry(call).or_default() += 1;
    }
    let by_call: Vec<String> = by_call.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!(
        "{}, one warm invocation ({}): {} calls to AWS ({}), {} to Connectif, {} to Qapla'\n",
        target.name,
        if (target.ok)(&answer.body) {
            "succeeded"
        } else {
            "FAILED"
        },
        after[0].0 - before[0].0,
        by_call.join(", "),
        after[1].0 - before[1].0,
        after[2].0 - before[2].0,
    );
}

/// How many requests `server` received, and their `x-amz-target`s.
async fn requests(server: &wiremock::MockServer) -> (usize, Vec<String>) {
    let requests = server.received_requests().await.unwrap_or_default();
    let targets = (requests.iter())
        .filter_map(|r| {
            r.headers
                .get("x-amz-target")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .collect();
    (requests.len(), targets)
}

/// The build every deployment uses (no `bench-ca`) refuses the stand-ins' certificate: its
/// post cannot be handed off, and no TLS handshake completes.
async fn refuses_the_bench_certificate(dir: &std::path::Path, stands: &Stands) -> (String, bool) {
    let api = testkit::runtime_api::RuntimeApi::start().await;
    let before = stands.handshakes();
    let env = stands.tls_env();
    let mut child = bridge_bench::measure::spawn(&dir.join("shipment-webhook"), &env, &api);
    let answer = api
        .invoke(
            &stands::sample("shipment-v1.3-delivered"),
            Duration::from_secs(30),
        )
        .await;
    let _ = child.kill();
    let _ = child.wait();
    let completed = stands.handshakes() - before;
    (
        format!(
            "the deployed build (no bench-ca) refuses the stand-ins' certificate: status {}, {completed} handshakes completed",
            answer.body["statusCode"]
        ),
        !accepted(&answer.body) && completed == 0,
    )
}

/// How a table cell shows a measurement.
type Cell = fn(&Measured) -> String;

fn report(columns: &[&Measured; 3], (cold, warm): (usize, usize), more: Vec<(String, bool)>) {
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
    // The figures of this table are no goals of their own (the goals are the ones a shop
    // would notice, under the quota below): init against the hello's, for the record.
    let init = on_moto.init.max(on_fake.init);
    println!(
        "\ninit {:.2}× the bare hello's; first invoke {} ({} against moto, which opens a connection per call)",
        init.as_secs_f64() / hello.init.as_secs_f64(),
        ms(on_fake.first_invoke),
        ms(on_moto.first_invoke)
    );
    let mut goals = Vec::new();
    goals.extend(arm64_sizes());
    goals.extend(more);
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
