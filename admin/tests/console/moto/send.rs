//! `bridge-admin check --send`: a test post per kind through the deployed webhook URL (the
//! twin), queued, delivered by the worker, and Connectif's answer (a wiremock) explained.

use crate::common::*;
use crate::twin::Twin;
use serde_json::{Value, json};
use testkit::Moto;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A deployed, running bridge whose Connectif answers `answer`.
pub struct Live {
    pub moto: tokio::sync::RwLockWriteGuard<'static, Moto>,
    pub cw: MockServer,
    pub connectif: MockServer,
    pub twin: Twin,
    _qapla: MockServer,
}

impl Live {
    pub async fn start(answer: ResponseTemplate) -> Live {
        Live::start_with(answer, |_| {}).await
    }

    /// With the channel's secret changed by `patch`.
    pub async fn start_with(answer: ResponseTemplate, patch: impl FnOnce(&mut Value)) -> Live {
        let moto = testkit::moto_alone().await;
        let qapla = qapla_accepting_the_key().await;
        let connectif = MockServer::start().await;
        mount_the_bridges_event_types(&connectif).await;
        Mock::given(method("POST"))
            .and(path_regex("^/custom-events/alias/"))
            .respond_with(answer)
            .mount(&connectif)
            .await;
        let (listener, url) = Twin::bind().await;
        let mut secret = settings_with(&qapla.uri(), &connectif.uri());
        patch(&mut secret);
        let deployed = deploy(&moto, &secret, &url).await;
        let twin = Twin::start(listener, &moto, &deployed).await;
        Live {
            moto,
            cw: cloudwatch(&alarms_ok()).await,
            connectif,
            twin,
            _qapla: qapla,
        }
    }

    pub async fn admin(&self, args: &[&str]) -> (i32, String, String) {
        run(&self.moto, &self.cw, args).await
    }

    /// The event bodies Connectif received (`check`'s management reads left out).
    pub async fn received(&self) -> Vec<Value> {
        let requests = self.connectif.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
            .collect()
    }
}

const SEND: [&str; 3] = ["send shipment", "send return", "send order"];

fn send_args(email: &str) -> [&str; 7] {
    [
        "check",
        "shop-it",
        "--send",
        "--test-email",
        email,
        "--wait",
        "60",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_channel_delivers_a_marked_test_event_of_each_kind() {
    let live = Live::start(ResponseTemplate::new(201)).await;
    let (code, out, err) = live.admin(&send_args("Tester@Shop.example")).await;
    println!("{out}"); // the README's "Verify it works" shows this output
    assert_eq!(code, 0, "{out}\n{err}");
    for step in SEND {
        assert!(line(&out, step).starts_with('✓'), "{out}");
        assert!(line(&out, step).contains("Connectif accepted"), "{out}");
    }
    assert!(line(&out, "send shipment").contains("`order-status-change`"));
    assert!(
        out.contains("See the test events in Connectif: Contacts > tester@shop.example > Activity"),
        "{out}"
    );
    let received = live.received().await;
    assert_eq!(received.len(), 3, "one event per kind: {received:?}");
    for event in &received {
        assert_eq!(event["customerEmail"], "tester@shop.example");
        let reference = event["reference"].as_str().expect("reference");
        assert!(reference.starts_with("BRIDGE-CHECK-"), "marked: {event}");
    }
    assert!(!out.contains(QAPLA_KEY) && !out.contains("connectif-key"));
    // The webhook's log lines show the test posts by their marked key.
    assert!(live.twin.lines().contains("\"key\":\"BRIDGE-CHECK-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectif_refusals_fail_the_send_steps_with_the_reason_and_the_fix() {
    let unauthorized = ResponseTemplate::new(401)
        .set_body_string(r#"{"status":401,"title":"Unauthorized","code":"E0401"}"#);
    let live = Live::start(unauthorized).await;
    let (code, out, _) = live.admin(&send_args("tester@shop.example")).await;
    println!("{out}");
    assert_eq!(code, 1, "{out}");
    for step in SEND {
        assert!(line(&out, step).starts_with('✗'), "{out}");
        assert!(
            line(&out, step).contains("Connectif refused it: HTTP 401"),
            "{out}"
        );
        assert!(fix_of(&out, step).contains("`connectif.apiKey`"), "{out}");
    }
    assert!(line(&out, "secret").starts_with('✓'), "{out}");
    assert!(!out.contains("See the test events"), "{out}");

    live.connectif.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_string(
            r#"{"status":422,"title":"Unprocessable Entity","detail":"field trackingUrl unknown for tester@shop.example"}"#,
        ))
        .mount(&live.connectif)
        .await;
    let (code, out, _) = live.admin(&send_args("tester@shop.example")).await;
    assert_eq!(code, 1, "{out}");
    for step in SEND {
        assert!(
            line(&out, step).contains("HTTP 422 (Unprocessable Entity)"),
            "{out}"
        );
        assert!(
            fix_of(&out, step).contains("exactly the field ids"),
            "{out}"
        );
    }
    // The first run's refusals wait in the dead-letter queue: that step says so too.
    assert!(line(&out, "dead letters").starts_with('✗'), "{out}");
}

/// A channel taking tracking pages from Qapla': a test parcel is unknown to Qapla', so the
/// worker would skip it (as it skips the post of Qapla's own Test button). The check says
/// so instead of waiting for a delivery that will not come, and still proves the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_bridge_will_not_send_is_said_not_waited_for() {
    let live = Live::start_with(ResponseTemplate::new(201), |s| {
        s["trackingUrlSource"] = json!("qapla");
    })
    .await;
    let (code, out, _) = live.admin(&send_args("tester@shop.example")).await;
    assert_eq!(code, 0, "{out}");
    for step in ["send shipment", "send order"] {
        assert!(line(&out, step).starts_with('–'), "{out}");
        assert!(
            line(&out, step).contains("answered OK; not sent to Connectif"),
            "{out}"
        );
        assert!(line(&out, step).contains("unknown_to_qapla"), "{out}");
    }
    assert!(line(&out, "send return").starts_with('✓'), "{out}");
    assert_eq!(live.received().await.len(), 1, "only the return was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_without_a_test_email_is_refused_as_a_usage_error() {
    let moto = testkit::moto_alone().await;
    let cw = cloudwatch(&alarms_ok()).await;
    let (code, _, err) = admin(&moto, &cw, &["check", "shop-it", "--send"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--test-email"), "{err}");
    let (code, _, err) = admin(
        &moto,
        &cw,
        &[
            "check",
            "shop-it",
            "--send",
            "--test-email",
            "not-an-address",
        ],
    );
    assert_eq!(code, 2, "{err}");
}
