//! `bridge-admin check` run as a user runs it (the built binary, its exit code and its
//! output) against a stack on moto_server (CloudFormation outputs, Secrets Manager, SQS, API
//! Gateway), a wiremock Qapla' API and a fake CloudWatch: the SDK speaks CloudWatch's Smithy
//! RPC v2 CBOR protocol, which moto 5.2 does not, so a wiremock answers `DescribeAlarms` in
//! CBOR on loopback (the real SDK, the real protocol). Loopback only.

use serde_json::{Value, json};
use std::process::Command;
use testkit::Moto;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const QAPLA_KEY: &str = "qapla-key-it";
const ALARMS: [&str; 2] = ["bridge-DeadLetters", "bridge-OldestEvent"];

async fn aws(moto: &Moto) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(&moto.endpoint)
        .load()
        .await
}

fn settings(qapla: &str) -> Value {
    json!({
        "qaplaApiKey": QAPLA_KEY,
        "qaplaApiBaseUrl": format!("{qapla}/1.3"),
        "trackingUrlTemplate": "https://shop.example/t/{trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "connectif-key", "baseUrl": "http://127.0.0.1:9" },
    })
}

/// A deployed bridge as its outputs describe it; returns the dead-letter queue URL.
async fn stack(moto: &Moto, qapla: &str) -> String {
    let aws = aws(moto).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let mut urls = Vec::new();
    for name in ["bridge-events.fifo", "bridge-dead-letters.fifo"] {
        let queue = sqs
            .create_queue()
            .queue_name(name)
            .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .expect("queue");
        urls.push(queue.queue_url().expect("url").to_owned());
    }
    aws_sdk_secretsmanager::Client::new(&aws)
        .create_secret()
        .name("qapla-connectif/shop-it")
        .secret_string(settings(qapla).to_string())
        .send()
        .await
        .expect("secret");
    let apis = aws_sdk_apigatewayv2::Client::new(&aws);
    let api = apis
        .create_api()
        .name("bridge")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .expect("api");
    let api_id = api.api_id().expect("id").to_owned();
    for kind in ["shipments", "returns", "orders"] {
        apis.create_route()
            .api_id(&api_id)
            .route_key(format!("ANY /qapla/{{channel}}/{kind}"))
            .send()
            .await
            .expect("route");
    }
    let outputs = json!({
        "EventQueueUrl": urls[0], "DeadLetterQueueUrl": urls[1], "StateTableName": "bridge-state",
        "SecretPrefix": "qapla-connectif", "WebhookApiUrl": "https://example.execute-api.eu-west-1.amazonaws.com",
        "WebhookApiId": api_id, "AlarmNames": ALARMS.join(","),
    });
    let outputs: serde_json::Map<String, Value> = outputs
        .as_object()
        .expect("map")
        .iter()
        .map(|(k, v)| (k.clone(), json!({ "Value": v })))
        .collect();
    let template = json!({ "Resources": { "Placeholder": { "Type": "AWS::SQS::Queue" } }, "Outputs": outputs });
    aws_sdk_cloudformation::Client::new(&aws)
        .create_stack()
        .stack_name("bridge")
        .template_body(template.to_string())
        .send()
        .await
        .expect("stack");
    urls[1].clone()
}

/// A fake CloudWatch whose `DescribeAlarms` answers `alarms` as (name, state).
async fn cloudwatch(alarms: &[(&str, &str)]) -> MockServer {
    let mut body = Vec::new();
    let mut e = minicbor::Encoder::new(&mut body);
    e.map(1)
        .and_then(|e| e.str("MetricAlarms"))
        .and_then(|e| e.array(alarms.len() as u64))
        .expect("cbor");
    for (name, state) in alarms {
        e.map(2)
            .and_then(|e| e.str("AlarmName"))
            .and_then(|e| e.str(name))
            .and_then(|e| e.str("StateValue"))
            .and_then(|e| e.str(state))
            .expect("cbor");
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("smithy-protocol", "rpc-v2-cbor")
                .insert_header("content-type", "application/cbor")
                .set_body_bytes(body),
        )
        .mount(&server)
        .await;
    server
}

fn alarms_ok() -> [(&'static str, &'static str); 2] {
    [(ALARMS[0], "OK"), (ALARMS[1], "INSUFFICIENT_DATA")]
}

async fn qapla_accepting_the_key() -> MockServer {
    let qapla = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.2/getChannel/"))
        .and(query_param("apiKey", QAPLA_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "getChannel": { "result": "OK", "error": null, "channel": { "name": "Shop IT" } } })))
        .mount(&qapla)
        .await;
    qapla
}

/// `bridge-admin <args>` with moto as the AWS endpoint and `cloudwatch` for CloudWatch:
/// (exit code, stdout, stderr).
fn admin(moto: &Moto, cloudwatch: &MockServer, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bridge-admin"))
        .args(["--stack", "bridge"])
        .args(args)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch.uri())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("bridge-admin runs");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

/// The line of one step (`✓ <step>: ...` or `✗ <step>: ...`).
fn line<'a>(out: &'a str, step: &str) -> &'a str {
    let head = [format!("✓ {step}:"), format!("✗ {step}:")];
    out.lines()
        .find(|l| head.iter().any(|h| l.starts_with(h.as_str())))
        .unwrap_or_else(|| panic!("no `{step}` line in:\n{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_channel_passes_every_step_and_exits_0() {
    let moto = Moto::start().await;
    let qapla = qapla_accepting_the_key().await;
    stack(&moto, &qapla.uri()).await;
    let cw = cloudwatch(&alarms_ok()).await;
    let (code, out, err) = admin(&moto, &cw, &["check", "shop-it"]);
    assert_eq!(code, 0, "{out}\n{err}");
    for step in [
        "secret",
        "qapla key",
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
    assert_eq!(report["steps"].as_array().map(Vec::len), Some(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_thing_fails_exactly_its_step_with_the_fix() {
    let moto = Moto::start().await;
    let qapla = qapla_accepting_the_key().await;
    let dlq = stack(&moto, &qapla.uri()).await;
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
    // The old command still works, now through the stack's outputs.
    let (code, out, _) = admin(&moto, &cw, &["dead-letters"]);
    assert_eq!((code, out.lines().next()), (0, Some("1 dead letter(s)")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_an_unknown_channel_fails_its_secret_step() {
    let moto = Moto::start().await;
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
