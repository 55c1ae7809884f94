//! Qapla's budget is per key, not per process: two processes pacing through the state table
//! (moto) together spend no more than one bucket.

use crate::helpers::Moto;
use bridge_core::qapla::pace::{BURST, DynamoPace, PER_SECOND, Pace};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_bucket_per_key() {
    let moto = Moto::start().await;
    let ddb = crate::durable_helpers::dynamo_client(&moto.endpoint);
    testkit::create_state_table(&ddb, "bridge-state").await;
    let a: Arc<dyn Pace> = Arc::new(DynamoPace::new(ddb.clone(), "bridge-state"));
    let b: Arc<dyn Pace> = Arc::new(DynamoPace::new(ddb.clone(), "bridge-state"));
    let key = SecretString::from("qapla-key-it");
    let other = SecretString::from("qapla-key-es");
    // Four callers, two per process, calling as fast as the bucket lets them for 3 s.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (pace, key) = (if i % 2 == 0 { a.clone() } else { b.clone() }, key.clone());
        tasks.push(tokio::spawn(async move {
            let mut taken = 0usize;
            while started.elapsed() < Duration::from_secs(3) {
                match pace.take(&key, 0.0).await {
                    Ok(()) => taken += 1,
                    Err(wait) => tokio::time::sleep(wait.min(Duration::from_millis(50))).await,
                }
            }
            taken
        }));
    }
    let mut taken = 0;
    for t in tasks {
        taken += t.await.expect("task");
    }
    let refilled = started.elapsed().as_secs_f64() * PER_SECOND;
    assert!(taken as f64 >= BURST, "the whole burst is usable: {taken}");
    assert!(
        taken as f64 <= BURST + refilled + 1.0,
        "{taken} calls taken in {:?}: more than one bucket",
        started.elapsed()
    );
    assert!(
        a.take(&other, 0.0).await.is_ok(),
        "another key has its own bucket"
    );
}
