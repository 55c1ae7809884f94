//! The stand-ins the functions run against under Lambda's CPU share (`coldstart`): AWS
//! (Secrets Manager, SQS, DynamoDB: [`crate::fake_aws`]), Connectif (every post accepted)
//! and Qapla's API (no shipment in any time frame), each as plain HTTP and behind TLS (`testkit::tls::Front`, the testkit's
//! certificate, keep-alive), and what each function is given to run: its variables and
//! its event.

use crate::measure::{Target, accepted, whole_batch};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use testkit::tls::Front;
use wiremock::MockServer;

/// The channel's key in the sample posts.
pub const CHANNEL_KEY: &str = "test-channel-key-it";
const SECRET: &str = "qapla-connectif/it";

pub struct Stands {
    pub aws: MockServer,
    /// Secrets Manager and DynamoDB's host over TLS; SQS is another (as in AWS).
    pub aws_tls: Front,
    pub sqs_tls: Front,
    pub connectif: MockServer,
    pub connectif_tls: Front,
    /// Qapla's API: `trackingByTimeFrame` answers no shipment.
    pub qapla: MockServer,
    pub qapla_tls: Front,
    /// The system's root certificates and the stand-ins', PEM: the usual way's
    /// `SSL_CERT_FILE` (it loads the system's roots, as on Lambda).
    ca_bundle: PathBuf,
    dir: PathBuf,
}

impl Stands {
    /// Every stand-in, a network round trip `rtt` away over TLS; the binaries in `dir`.
    pub async fn start(dir: &Path, rtt: Duration) -> Stands {
        let connectif = crate::worker::connectif().await;
        let connectif_tls = Front::with_rtt(&connectif.uri(), rtt).await;
        let qapla = MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .and(wiremock::matchers::path(
                "/qapla-api/1.2/trackingByTimeFrame/",
            ))
            .respond_with(
                wiremock::ResponseTemplate::new(200).set_body_json(testkit::time_frame_answer(&[])),
            )
            .mount(&qapla)
            .await;
        let qapla_tls = Front::with_rtt(&qapla.uri(), rtt).await;
        let mut settings = settings(Some(&connectif_tls.url));
        settings["qaplaApiBaseUrl"] = json!(format!("{}/qapla-api/1.3", qapla_tls.url));
        let aws = crate::fake_aws::start(SECRET, &settings).await;
        let aws_tls = Front::with_rtt(&aws.uri(), rtt).await;
        let sqs_tls = Front::with_rtt(&aws.uri(), rtt).await;
        let ca_bundle = std::env::temp_dir().join(format!("bench-ca-{}.pem", std::process::id()));
        let system = [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
        ]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .unwrap_or_default();
        std::fs::write(
            &ca_bundle,
            [system, testkit::tls::CERTIFICATE.to_vec()].concat(),
        )
        .expect("CA bundle");
        Stands {
            aws,
            aws_tls,
            sqs_tls,
            connectif,
            connectif_tls,
            qapla,
            qapla_tls,
            ca_bundle,
            dir: dir.to_path_buf(),
        }
    }

    /// TLS handshakes completed by every stand-in so far.
    pub fn handshakes(&self) -> usize {
        let fronts = [
            &self.aws_tls,
            &self.sqs_tls,
            &self.connectif_tls,
            &self.qapla_tls,
        ];
        fronts.iter().map(|f| f.handshakes()).sum()
    }

    /// The targets measured at each memory size (those whose name contains `BENCH_ONLY`,
    /// when it is set).
    pub fn targets(&self) -> Vec<Target> {
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        let mut targets = self.all_targets();
        targets.retain(|t| t.name.contains(&only));
        targets
    }

    pub fn all_targets(&self) -> Vec<Target> {
        let plain = self.aws.uri();
        let scheduled = json!({
            "version": "0", "id": "bench", "detail-type": "Scheduled Event",
            "source": "aws.events", "time": "2026-12-03T00:00:00Z", "detail": {},
        });
        let mut usual = self.tls_env();
        usual.push(("SSL_CERT_FILE".into(), self.ca_bundle.display().to_string()));
        vec![
            self.target(
                "bare hello",
                "bench-hello",
                Vec::new(),
                sample("shipment-v1.3-delivered"),
            ),
            self.target(
                "usual-way webhook, TLS",
                "bench-usual-webhook",
                usual,
                sample("shipment-v1.3-delivered"),
            ),
            self.target(
                "shipment-webhook, plain HTTP",
                "shipment-webhook",
                self.env(&plain),
                sample("shipment-v1.3-delivered"),
            ),
            self.target(
                "shipment-webhook, TLS",
                "shipment-webhook-bench-ca",
                self.tls_env(),
                sample("shipment-v1.3-delivered"),
            ),
            self.target(
                "return-webhook, TLS",
                "return-webhook-bench-ca",
                self.tls_env(),
                sample("return-request"),
            ),
            self.target(
                "order-webhook, TLS",
                "order-webhook-bench-ca",
                self.tls_env(),
                sample("orders"),
            ),
            Target {
                ok: whole_batch,
                ..self.target(
                    "delivery-worker, TLS, batch of 10",
                    "delivery-worker-bench-ca",
                    self.tls_env(),
                    batch(),
                )
            },
            Target {
                ok: |a| a.get("channels").is_some(),
                ..self.target(
                    "reconciler, TLS, scheduled run",
                    "reconciler-bench-ca",
                    self.tls_env(),
                    scheduled.clone(),
                )
            },
            Target {
                ok: |a| a.get("running").is_some(),
                ..self.target(
                    "backfill-worker, TLS, scheduled count",
                    "backfill-worker-bench-ca",
                    self.tls_env(),
                    scheduled,
                )
            },
        ]
    }

    fn target(&self, name: &str, exe: &str, env: Vec<(String, String)>, event: Value) -> Target {
        Target {
            name: name.to_owned(),
            exe: self.dir.join(exe),
            env,
            event,
            ok: accepted,
        }
    }

    /// A function's variables as the stack sets them, AWS at `endpoint`.
    pub fn env(&self, endpoint: &str) -> Vec<(String, String)> {
        env(endpoint)
    }

    /// A function's variables as the stack sets them, AWS over TLS: SQS on one host, the
    /// other services on another.
    pub fn tls_env(&self) -> Vec<(String, String)> {
        let sqs = &self.sqs_tls.url;
        let mut env = env(&self.aws_tls.url);
        for (name, value) in &mut env {
            if name.ends_with("QUEUE_URL") {
                *value = value.replace(&self.aws_tls.url, sqs);
            }
        }
        env.push(("AWS_ENDPOINT_URL_SQS".into(), sqs.clone()));
        env
    }
}

impl Drop for Stands {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_bundle);
    }
}

/// The channel's settings: Connectif's API at `connectif` (its own when `None`).
pub fn settings(connectif: Option<&str>) -> Value {
    let mut settings = json!({
        "qaplaApiKey": CHANNEL_KEY, "language": "it",
        // Loopback, never Qapla' itself (a bench that needs Qapla' sets its stand-in).
        "qaplaApiBaseUrl": "http://127.0.0.1:9/qapla-api/1.3",
        "trackingUrlTemplate": "https://shop.example/t?n={trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "id:secret" },
    });
    if let Some(url) = connectif {
        settings["connectif"]["baseUrl"] = json!(url);
    }
    settings
}

/// Every function's variables as the stack sets them (queue mode), AWS at `endpoint`.
pub fn env(endpoint: &str) -> Vec<(String, String)> {
    let queue = format!("{endpoint}/000000000000/bench-events.fifo");
    let dead_letters = format!("{endpoint}/000000000000/bench-dead-letters.fifo");
    let work = format!("{endpoint}/000000000000/bench-backfill.fifo");
    [
        ("SECRET_PREFIX", "qapla-connectif"),
        ("HAND_OFF_QUEUE_URL", queue.as_str()),
        ("DEAD_LETTER_QUEUE_URL", dead_letters.as_str()),
        ("BACKFILL_QUEUE_URL", work.as_str()),
        ("STATE_TABLE", "bench-state"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "eu-west-1"),
        ("RUST_LOG", "info"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// The API Gateway event of a sample post (`events/<name>.json`).
pub fn sample(name: &str) -> Value {
    let path = testkit::workspace().join(format!("events/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("json")
}

/// Ten delivered parcels as Lambda's SQS event source hands them to the delivery worker.
fn batch() -> Value {
    serde_json::to_value(crate::worker::batch(0)).expect("an SQS event")
}
