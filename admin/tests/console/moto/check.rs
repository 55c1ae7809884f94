//! `bridge-admin check` without `--send`: each step against the stack on moto and the
//! loopback fakes (see `common`).

use crate::common::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_channel_passes_every_step_and_exits_0() {
    let moto = testkit::moto_alone().await;
    let qapla = qapla_accepting_the_key().await;
    let (_, _connectif) = stack_with_connectif(&moto, &qapla.uri()).await;
    let cw = cloudwatch(&alarms_ok()).await;
    let (code, out, err) = admin(&moto, &cw, &["check", "shop-it"]);
    assert_eq!(code, 0, "{out}\n{err}");
    for step in [
        "secret",
        "qapla key",
        "connectif integrations",
        "connectif reception events",
        "webhook routes",
        "queue",
        "dead letters",
        "alarms",
    ] {
        assert!(line(&out, step).starts_with('✓'), "{out}");
    }
    assert!(line(&out, "qapla key").contains("Shop IT"));
    assert!(
        !out.contains(QAPLA_KEY) && !out.contains("connectif-key"),
        "no secret printed:\n{out}"
    );
    let (code, json_out, _) = admin(&moto, &cw, &["--json", "check", "shop-it"]);
    let report: Value = serde_json::from_str(&json_out).expect("--json prints JSON");
    assert_eq!((code, report["ok"].as_bool()), (0, Some(true)));
    // Six, and Connectif's: its lists and each reception event the channel uses.
    let events = (out.lines())
        .filter(|l| l.starts_with("✓ connectif reception event: `"))
        .count();
    assert_eq!(events, 5, "{out}");
    assert_eq!(
        report["steps"].as_array().map(Vec::len),
        Some(6 + 2 + 5 + 1)
    );
    // What cannot be told is said plainly, not passed.
    assert!(
        line(&out, "qapla connector").starts_with('–')
            && line(&out, "qapla connector").contains("cannot be seen from here"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_thing_fails_exactly_its_step_with_the_fix() {
    let moto = testkit::moto_alone().await;
    let qapla = qapla_accepting_the_key().await;
    let (dlq, connectif) = stack_with_connectif(&moto, &qapla.uri()).await;
    let settings = |qapla: &str| settings_with(qapla, &connectif.uri());
    let cw = cloudwatch(&alarms_ok()).await;
    let aws = aws(&moto).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    let put = |value: Value| {
        let secrets = secrets.clone();
        async move {
            secrets
                .put_secret_value()
                .secret_id("qapla-connectif/shop-it")
                .secret_string(value.to_string())
                .send()
                .await
                .expect("put");
        }
    };
    // A bad secret field: only the secret step fails (the Qapla' step needs the secret).
    let mut bad = settings(&qapla.uri());
    bad["connectif"]["mode"] = json!("carrier-pigeon");
    put(bad).await;
    let (code, out, _) = admin(&moto, &cw, &["check", "shop-it"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        line(&out, "secret").starts_with('✗') && line(&out, "secret").contains("connectif.mode"),
        "{out}"
    );
    assert!(out.contains("fix: correct `connectif.mode`"), "{out}");
    assert!(!out.contains("qapla key:"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with('✗')).count(),
        1,
        "{out}"
    );
    // A wrong Qapla' key: Qapla' answers KO.
    let mut wrong = settings(&qapla.uri());
    wrong["qaplaApiKey"] = json!("not-the-key");
    put(wrong).await;
    Mock::given(method("GET"))
        .and(path("/1.2/getChannel/"))
        .and(query_param("apiKey", "not-the-key"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "getChannel": { "result": "KO", "error": "Invalid apiKey" } }),
            ),
        )
        .mount(&qapla)
        .await;
    let (code, out, _) = admin(&moto, &cw, &["check", "shop-it"]);
    assert_eq!(code, 1);
    assert!(
        line(&out, "secret").starts_with('✓') && line(&out, "qapla key").starts_with('✗'),
        "{out}"
    );
    assert!(
        out.contains("into `qaplaApiKey`") && !out.contains("not-the-key"),
        "{out}"
    );
    // An unreachable Qapla' is told apart from a wrong key.
    put(settings(&format!(
        "http://127.0.0.1:{}",
        testkit::free_port()
    )))
    .await;
    let (_, out, _) = admin(&moto, &cw, &["check", "shop-it"]);
    assert!(line(&out, "qapla key").contains("not reachable"), "{out}");
    // Dead letters present, an alarm firing: each fails its own step.
    put(settings(&qapla.uri())).await;
    aws_sdk_sqs::Client::new(&aws)
        .send_message()
        .queue_url(&dlq)
        .message_body("{}")
        .message_group_id("g")
        .message_deduplication_id("d")
        .send()
        .await
        .expect("dead letter");
    let cw = cloudwatch(&[(ALARMS[0], "OK"), (ALARMS[1], "ALARM")]).await;
    let (code, out, _) = admin(&moto, &cw, &["check", "shop-it"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().filter(|l| l.starts_with('✗')).count(),
        2,
        "{out}"
    );
    assert!(
        line(&out, "dead letters").contains("1 event(s)") && out.contains("bridge-admin redrive"),
        "{out}"
    );
    assert!(line(&out, "alarms").contains(ALARMS[1]), "{out}");
    // The list, through the stack's outputs: exit 1 while a letter waits.
    let (code, out, _) = admin(&moto, &cw, &["dead-letters"]);
    let head = Some("1 dead letter(s), oldest first:");
    assert_eq!((code, out.lines().next()), (1, head));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_an_unknown_channel_fails_its_secret_step() {
    let moto = testkit::moto_alone().await;
    let cw = cloudwatch(&alarms_ok()).await;
    let (code, _, err) = admin(&moto, &cw, &["check"]);
    assert_eq!(code, 2, "{err}");
    let qapla = qapla_accepting_the_key().await;
    stack(&moto, &qapla.uri()).await;
    let (code, out, _) = admin(&moto, &cw, &["check", "shop-xx"]);
    assert_eq!(code, 1);
    assert!(
        line(&out, "secret").contains("qapla-connectif/shop-xx does not exist"),
        "{out}"
    );
    assert!(
        out.contains("aws secretsmanager create-secret --name qapla-connectif/shop-xx"),
        "{out}"
    );
}

/// A stack deployed from the Serverless Application Repository (the Launch Stack link) is
/// named `serverlessrepo-<application>`: found by the application's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_the_serverless_application_repository_named_is_found_by_its_application() {
    let moto = testkit::moto_alone().await;
    let qapla = qapla_accepting_the_key().await;
    let api = "https://example.execute-api.eu-west-1.amazonaws.com";
    deploy_named(&moto, &settings(&qapla.uri()), api, "serverlessrepo-bridge").await;
    let cw = cloudwatch(&alarms_ok()).await;
    let (code, out, err) = admin(&moto, &cw, &["dead-letters"]);
    assert_eq!(code, 0, "{out}\n{err}");
}
