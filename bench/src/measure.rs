//! Driving a Lambda binary as Lambda does and measuring it: its cold starts, first invoke,
//! warm CPU per event and peak memory, from `/proc` (CPU is the process's own:
//! `/proc/<pid>/task/*/schedstat`, nanoseconds; the harness and the fakes do not count).

use crate::limits::Limits;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::runtime_api::RuntimeApi;

const LIMIT: Duration = Duration::from_secs(30);

/// What one binary measured (medians over the cold starts).
pub struct Measured {
    pub name: String,
    pub init: Duration,
    pub init_cpu: Duration,
    pub first_invoke: Duration,
    /// Spawn → the first answer (init and the first invoke), and its CPU.
    pub cold_post: Duration,
    pub cold_post_cpu: Duration,
    /// Every cold post's spawn → answer, shortest first (the spread over the starts).
    pub cold_posts: Vec<Duration>,
    /// Cold posts that waited for a later CPU period (under [`Limits`]), and how long they
    /// waited in all (`cpu.stat`'s `throttled_time`).
    pub cold_throttled: usize,
    pub cold_throttled_time: Duration,
    pub warm_cpu: Duration,
    /// Warm invokes' wall time (ask → answer).
    pub warm_p50: Duration,
    pub warm_p99: Duration,
    pub peak_rss_kb: u64,
    pub size: u64,
}

/// `exe` started as Lambda starts a function: only `env`, and the Runtime API's address.
pub fn spawn(exe: &Path, env: &[(String, String)], api: &RuntimeApi) -> Child {
    spawn_in(exe, env, api, None)
}

/// [`spawn`], inside `limits` when given (a Lambda memory size's CPU and memory).
pub fn spawn_in(
    exe: &Path,
    env: &[(String, String)],
    api: &RuntimeApi,
    limits: Option<&Limits>,
) -> Child {
    let memory = limits.map_or(128, |l| l.memory_mb).to_string();
    // Inside `limits`: started by the groups' exec wrapper, which joins them first.
    let mut command = limits.map_or_else(|| Command::new(exe), |l| l.command(exe));
    command
        .env_clear()
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory)
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdout(output())
        .stderr(output());
    let child = command.spawn();
    child.unwrap_or_else(|e| {
        panic!("{exe:?}: {e} (run `make bench` or `make chaos`, which build it)")
    })
}

/// One function binary as the bench drives it.
pub struct Target {
    pub name: String,
    pub exe: PathBuf,
    pub env: Vec<(String, String)>,
    /// The event every invocation gets.
    pub event: Value,
    /// Whether an answer is the success expected.
    pub ok: fn(&Value) -> bool,
}

/// A webhook's answer to a post it accepted.
pub fn accepted(answer: &Value) -> bool {
    answer["body"] == "{\"result\":\"OK\"}"
}

/// A delivery worker's answer to a batch it delivered whole.
pub fn whole_batch(answer: &Value) -> bool {
    answer["batchItemFailures"]
        .as_array()
        .is_some_and(Vec::is_empty)
}

/// The functions' own output (their log lines): dropped, or shown with `BENCH_OUTPUT=1`
/// (why one fails).
fn output() -> Stdio {
    match std::env::var_os("BENCH_OUTPUT") {
        Some(_) => Stdio::inherit(),
        None => Stdio::null(),
    }
}

/// `cold` cold starts of the target, each invoked once with its event, then `warm` invokes
/// of the last one.
pub async fn measure(
    target: &Target,
    (cold, warm): (usize, usize),
    limits: Option<&Limits>,
) -> Measured {
    let Target {
        name,
        exe,
        env,
        event,
        ok,
    } = target;
    let (mut inits, mut init_cpus, mut firsts) = (Vec::new(), Vec::new(), Vec::new());
    let (mut posts, mut post_cpus) = (Vec::new(), Vec::new());
    let (mut cold_throttled, mut cold_throttled_time) = (0, Duration::ZERO);
    let throttled = || limits.map_or((0, Duration::ZERO), Limits::throttled);
    let mut kept = None;
    for i in 0..cold {
        let api = RuntimeApi::start().await;
        if limits.is_some() {
            // A fresh sandbox has its whole quota: two idle periods, so nothing the last
            // process did (its warm posts, its exit) is still charged to the period.
            tokio::time::sleep(2 * Duration::from_micros(crate::limits::PERIOD_US)).await;
        }
        let before = throttled();
        let started = Instant::now();
        let mut child = spawn_in(exe, env, &api, limits);
        let polled = api.polled_after(started, LIMIT).await;
        inits.push(polled - started);
        init_cpus.push(cpu(child.id()));
        let asked = Instant::now();
        let answer = api.invoke(event, LIMIT).await;
        firsts.push(asked.elapsed());
        posts.push(started.elapsed());
        post_cpus.push(cpu(child.id()));
        let after = throttled();
        cold_throttled += usize::from(after.0 > before.0);
        cold_throttled_time += after.1.saturating_sub(before.1);
        assert!(ok(&answer.body), "{name}: {answer:?}");
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
    let mut answers = Vec::with_capacity(warm);
    for _ in 0..warm {
        let asked = Instant::now();
        let answer = api.invoke(event, LIMIT).await;
        answers.push(asked.elapsed());
        assert!(ok(&answer.body), "{name}: {answer:?}");
        api.polled_after(asked, LIMIT).await;
    }
    answers.sort();
    let percentile = |p: usize| {
        answers
            .get(answers.len() * p / 100)
            .copied()
            .unwrap_or_default()
    };
    let warm_cpu = (cpu(child.id()) - before) / warm.max(1) as u32;
    let peak_rss_kb = peak_rss_kb(child.id());
    stop(&mut child);
    let cold_post = median(posts.clone());
    posts.sort();
    Measured {
        name: name.clone(),
        init: median(inits),
        init_cpu: median(init_cpus),
        first_invoke: median(firsts),
        cold_post,
        cold_post_cpu: median(post_cpus),
        cold_posts: posts,
        cold_throttled,
        cold_throttled_time,
        warm_cpu,
        warm_p50: percentile(50),
        warm_p99: percentile(99),
        peak_rss_kb,
        size: std::fs::metadata(exe).map_or(0, |m| m.len()),
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// CPU time of every thread of `pid` so far.
pub fn cpu(pid: u32) -> Duration {
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

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// CPU time of the calling thread so far.
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}
