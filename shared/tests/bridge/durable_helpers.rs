//! The durable path against real local parts: SQS FIFO + DLQ and DynamoDB in moto_server
//! (real SDK clients), a Connectif fake that fails on command, and a poller that does what
//! Lambda's SQS event source does (receive, invoke the worker, delete the successes).

use crate::helpers::*;
use bridge_core::aws::SignedSend;
use bridge_core::channel::MemoryStore;
use bridge_core::config::{Bridge, Config};
use bridge_core::delivery::{MemoryQueue, RetryPolicy, Worker, WorkerPolicy};
use bridge_core::webhook::Deps;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

/// One scripted answer of the fake.
#[derive(Debug, Clone)]
pub enum Step {
    Status(u16),
    RetryAfter(u64),
    /// Answer 201 only after this long (longer than the client's timeout: a timeout).
    Slow(Duration),
}

#[derive(Default)]
struct FakeState {
    script: VecDeque<Step>,
    failure_rate: f64,
    tries: Vec<Instant>,
    accepted: Vec<Value>,
}

/// A local Connectif: scripted answers first, then random 500s at `failure_rate`, else 201.
/// Records every try and, in order, every accepted body.
#[derive(Clone, Default)]
pub struct FakeConnectif {
    state: Arc<Mutex<FakeState>>,
}

impl Respond for FakeConnectif {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let mut s = self.state.lock().expect("fake state");
        s.tries.push(Instant::now());
        match s.script.pop_front() {
            Some(Step::Status(code)) if !(200..300).contains(&code) => {
                return ResponseTemplate::new(code);
            }
            Some(Step::RetryAfter(secs)) => {
                return ResponseTemplate::new(429)
                    .insert_header("retry-after", secs.to_string().as_str());
            }
            Some(Step::Slow(d)) => return ResponseTemplate::new(201).set_delay(d),
            Some(Step::Status(_)) | None => {}
        }
        if s.failure_rate > 0.0 && fastrand::f64() < s.failure_rate {
            return ResponseTemplate::new(500);
        }
        s.accepted
            .push(serde_json::from_slice(&req.body).unwrap_or(Value::Null));
        ResponseTemplate::new(201)
    }
}

impl FakeConnectif {
    pub async fn start() -> (MockServer, FakeConnectif) {
        let fake = FakeConnectif::default();
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        (server, fake)
    }

    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.state.lock().expect("fake state").script.extend(steps);
    }

    pub fn fail_randomly(&self, rate: f64) {
        self.state.lock().expect("fake state").failure_rate = rate;
    }

    pub fn tries(&self) -> Vec<Instant> {
        self.state.lock().expect("fake state").tries.clone()
    }

    pub fn accepted(&self) -> Vec<Value> {
        self.state.lock().expect("fake state").accepted.clone()
    }

    /// The `qaplaStatusID` of every accepted event, in order.
    pub fn accepted_status_ids(&self) -> Vec<Value> {
        self.accepted()
            .iter()
            .map(|e| e["qaplaStatusID"].clone())
            .collect()
    }
}

/// A v1.3 shipment of `tracking` with status `id`, at `date`, scanned as `scan`.
pub fn shipment(tracking: &str, id: &str, date: &str, scan: &str) -> String {
    let mut v = fixture_json("shipment-v1.3-delivered.json");
    v["trackingNumber"] = json!(tracking);
    v["qaplaStatusID"] = json!(id);
    v["date"] = json!(date);
    v["courierStatus"] = json!(scan);
    v.to_string()
}

/// Short backoff for tests: SQS counts whole seconds.
pub fn test_policy() -> WorkerPolicy {
    WorkerPolicy {
        backoff: RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(2)),
        max_age: Duration::from_secs(3600),
    }
}

/// The webhooks' SQS sender with dummy credentials on a loopback endpoint.
pub async fn signed_send(endpoint: &str) -> SignedSend {
    loopback_aws(endpoint).signed_send().expect("sender")
}

/// The bridge as the stack wires it, on the test binary's moto_server: its own queue,
/// dead-letter queue and state table (names of its own), the webhooks writing to the queue
/// and the worker reading from it (the poller does what Lambda's SQS event source does).
pub struct Durable {
    /// The test binary's moto_server, shared with the tests running beside this one.
    pub moto: tokio::sync::RwLockReadGuard<'static, Moto>,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dlq_url: String,
    /// The channels' settings: change them as an operator would change the secret.
    pub channels: Arc<MemoryStore>,
    /// The configuration of every function of this bridge.
    pub config: Config,
    pub deps: Deps,
    pub worker: Worker,
}

impl Durable {
    pub async fn start(connectif: &str, policy: WorkerPolicy) -> Durable {
        let moto = testkit::moto().await;
        let aws = testkit::aws::clients(&moto.endpoint);
        let prefix = testkit::unique("bridge");
        let queues = testkit::aws::queues(&aws.sqs, &prefix).await;
        let table = format!("{prefix}-state");
        testkit::create_state_table(&aws.dynamo, &table).await;
        let config = Config {
            queue_url: Some(queues.queue_url.clone()),
            dead_letter_url: Some(queues.dlq_url.clone()),
            state_table: Some(table),
            secret_prefix: prefix,
            secret_ttl: Duration::ZERO,
            idempotency_ttl: Duration::from_secs(86_400),
            worker: policy,
            aws: loopback_aws(&moto.endpoint),
            ..test_config()
        };
        let channels = store(Mode::Api, connectif);
        let bridge = config.bridge().with_channel_store(channels.clone());
        Durable {
            deps: bridge.webhook_deps().await.expect("webhook deps"),
            worker: bridge.worker().expect("worker"),
            moto,
            sqs: aws.sqs,
            queue_url: queues.queue_url,
            dlq_url: queues.dlq_url,
            channels,
            config,
        }
    }

    /// Another bridge on the same queues, table and channels, its configuration changed by
    /// `change`.
    pub fn bridge_where(&self, change: impl FnOnce(&mut Config)) -> Bridge {
        let mut config = self.config.clone();
        change(&mut config);
        config.bridge().with_channel_store(self.channels.clone())
    }

    /// One Lambda invocation's worth: receive up to 10, process, delete the successes.
    pub async fn poll(&self) -> usize {
        self.poll_with(&self.worker, Ending::Returns).await
    }

    /// One invocation of `worker` that ends as `ending` says.
    pub async fn poll_with(&self, worker: &Worker, ending: Ending) -> usize {
        let messages = testkit::aws::receive(&self.sqs, &self.queue_url, None, 0).await;
        let batch: Vec<_> = messages.iter().map(bridge_core::aws::message_of).collect();
        let failed = worker.process(&batch).await;
        if ending == Ending::Crashes {
            // Nothing deleted; the messages come back when their visibility times out
            // (made now, rather than in 30 s).
            for m in &batch {
                let visible = (self.sqs.change_message_visibility())
                    .queue_url(&self.queue_url)
                    .receipt_handle(&m.receipt)
                    .visibility_timeout(0);
                visible.send().await.expect("visible again");
            }
            return batch.len();
        }
        let settled = batch.iter().filter(|m| !failed.contains(&m.id));
        testkit::aws::delete(&self.sqs, &self.queue_url, settled).await;
        batch.len()
    }

    /// Messages still in the queue, visible or not.
    pub async fn queued(&self) -> usize {
        testkit::aws::queued(&self.sqs, &self.queue_url).await
    }

    /// Poll until the queue is empty; panics after `limit`.
    pub async fn drain(&self, limit: Duration) {
        self.drain_with(&self.worker, limit).await
    }

    /// Poll with `worker` until the queue is empty; panics after `limit`.
    pub async fn drain_with(&self, worker: &Worker, limit: Duration) {
        let started = Instant::now();
        loop {
            if self.poll_with(worker, Ending::Returns).await == 0 {
                // moto's counts can read 0 for a moment under load: confirm once more.
                if self.queued().await == 0 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let polled = self.poll_with(worker, Ending::Returns).await;
                    if self.queued().await == 0 && polled == 0 {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                started.elapsed() < limit,
                "queue not drained within {limit:?}"
            );
        }
    }
}

/// How a worker's invocation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It returns the failed messages; the rest are deleted (Lambda's partial batch answer).
    Returns,
    /// The process dies before answering (timeout, out of memory): nothing is deleted.
    Crashes,
}

/// The same delivery path in memory (queue, worker, state): fast tests of the worker's
/// decisions. `patch` is merged into the `it` channel's secret.
pub struct LocalDurable {
    pub queue: Arc<MemoryQueue>,
    pub worker: Worker,
    pub deps: Deps,
}

impl LocalDurable {
    pub async fn start(connectif: &str, patch: Value) -> LocalDurable {
        let channels = store(Mode::Api, connectif);
        let mut secret = secret(Mode::Api, connectif, IT_KEY, "it");
        for (k, v) in patch.as_object().expect("object") {
            secret[k] = v.clone();
        }
        channels.put(channel("it"), secret.to_string());
        let queue = Arc::new(MemoryQueue::new(Duration::from_millis(20)));
        let config = Config {
            worker: WorkerPolicy {
                backoff: RetryPolicy::exponential(
                    Duration::from_millis(5),
                    Duration::from_millis(20),
                ),
                max_age: Duration::from_secs(3600),
            },
            ..test_config()
        };
        let bridge = config
            .bridge()
            .with_channel_store(channels)
            .with_memory_queue(queue.clone());
        LocalDurable {
            deps: bridge.webhook_deps().await.expect("deps"),
            worker: bridge.worker().expect("worker"),
            queue,
        }
    }

    pub async fn post(&self, body: String) {
        let answer = send::<bridge_core::qapla::ShipmentPayload>(
            &self.deps,
            post("/qapla/it/shipments", body),
        )
        .await;
        assert_eq!(answer, (200, ok()));
    }

    pub async fn drain(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.queue.is_empty() {
            assert!(Instant::now() < deadline, "not drained");
            let batch = self.queue.receive(10);
            if batch.is_empty() {
                tokio::time::sleep(Duration::from_millis(2)).await;
                continue;
            }
            let failed = self.worker.process(&batch).await;
            self.queue.settle(&batch, &failed);
        }
    }
}
