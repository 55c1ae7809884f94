//! The delivery worker's throughput: `EVENTS` shipment events (default 20,000, each a parcel
//! of its own) through `handle_batch` in batches of 10, as Lambda's SQS event source hands
//! them over, on a current-thread runtime like the function's, with in-memory state and
//! the production log lines (written to a sink) — against a Connectif fake on loopback
//! (wiremock on a thread of its own). Prints events/s and the worker thread's CPU per event;
//! exits 1 below 2,000 events/s.
//!
//! Usage: `throughput [EVENTS]`, from `target/release/`.

use aws_lambda_events::event::sqs::SqsEvent;
use bridge_bench::measure::thread_cpu;
use bridge_bench::worker::{batch, connectif, worker};
use bridge_core::delivery::lambda::handle_batch;
use std::time::{Duration, Instant};

const GOAL_PER_SECOND: f64 = 2000.0;

fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .map_or(20_000, |n| n.parse().expect("a count"));
    let fake = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let connectif = fake.block_on(connectif());
    let sink = bridge_core::telemetry::dispatch(std::io::sink, tracing::Level::INFO);
    tracing::dispatcher::set_global_default(sink).expect("one subscriber");
    let worker = worker(&connectif.uri());
    let batches: Vec<SqsEvent> = (0..events.div_ceil(10)).map(batch).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // One batch first: the connection to Connectif is opened once per process.
        let mut batches = batches.into_iter();
        let first = batches.next().expect("a batch");
        assert!(
            handle_batch(&worker, first)
                .await
                .batch_item_failures
                .is_empty()
        );
        let (started, cpu) = (Instant::now(), thread_cpu());
        let mut timed = 0;
        for batch in batches {
            timed += batch.records.len();
            let answer = handle_batch(&worker, batch).await;
            assert!(answer.batch_item_failures.is_empty(), "all delivered");
        }
        let (took, cpu) = (started.elapsed(), thread_cpu() - cpu);
        report(timed, took, cpu);
    });
    let received = fake
        .block_on(connectif.received_requests())
        .map_or(0, |r| r.len());
    assert_eq!(received, events, "Connectif got every event once");
}

fn report(events: usize, took: Duration, cpu: Duration) {
    let per_second = events as f64 / took.as_secs_f64();
    let cpu_us = cpu.as_secs_f64() * 1e6 / events as f64;
    let wall_us = took.as_secs_f64() * 1e6 / events as f64;
    println!(
        "delivery worker: {events} events in batches of 10: {per_second:.0} events/s, \
         {wall_us:.0} µs wall and {cpu_us:.0} µs CPU (worker thread) per event"
    );
    let pass = per_second >= GOAL_PER_SECOND;
    let verdict = if pass { "PASS" } else { "FAIL" };
    println!("{verdict} delivery worker {per_second:.0} events/s (≥ {GOAL_PER_SECOND:.0})");
    if !pass {
        std::process::exit(1);
    }
}
