//! Qapla's budget is per key, not per process: two processes pacing through the state table
//! (moto) together spend no more than one bucket.

use bridge_core::aws::DynamoPace;
use bridge_core::aws::table::Table;
use bridge_core::qapla::pace::{Bucket, PER_SECOND, Pace};
use secrecy::SecretString;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_bucket_per_key() {
    let moto = testkit::moto().await;
    let ddb = testkit::aws::clients(&moto.endpoint).dynamo;
    let table = Table::new(ddb.clone(), testkit::unique("bridge-state"));
    testkit::create_state_table(&ddb, table.name()).await;
    // A small bucket (Qapla's shape, a tenth of its size) so that two buckets instead of one
    // would show within a second.
    let budget = Bucket {
        burst: 12.0,
        per_second: PER_SECOND,
    };
    let pace = |table: &Table| DynamoPace::new(table.clone()).with_bucket(budget);
    let a: Arc<dyn Pace> = Arc::new(pace(&table));
    let b: Arc<dyn Pace> = Arc::new(pace(&table));
    let key = SecretString::from("qapla-key-it");
    let other = SecretString::from("qapla-key-es");
    // Four callers, two per process, calling as fast as the bucket lets them until, together,
    // they have taken a little more than a bucket (which needs the refill).
    let target = budget.burst as usize + 4;
    let taken = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (pace, key, taken) = (
            if i % 2 == 0 { a.clone() } else { b.clone() },
            key.clone(),
            taken.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while taken.load(Ordering::SeqCst) < target
                && started.elapsed() < Duration::from_secs(60)
            {
                match pace.take(&key, 0.0).await {
                    Ok(()) => drop(taken.fetch_add(1, Ordering::SeqCst)),
                    Err(wait) => tokio::time::sleep(wait.min(Duration::from_millis(50))).await,
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let taken = taken.load(Ordering::SeqCst);
    let refilled = started.elapsed().as_secs_f64() * PER_SECOND;
    assert!(
        taken >= target,
        "a bucket and its refill are usable: {taken}"
    );
    assert!(
        taken as f64 <= budget.burst + refilled + 1.0,
        "{taken} calls taken in {:?}: more than one bucket",
        started.elapsed()
    );
    assert!(
        a.take(&other, 0.0).await.is_ok(),
        "another key has its own bucket"
    );
}
