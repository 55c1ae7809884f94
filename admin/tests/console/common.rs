//! A deployed bridge as the console sees it: the stack's resources and outputs on
//! moto_server (CloudFormation, Secrets Manager, SQS, DynamoDB, API Gateway, CloudWatch
//! Logs), a wiremock Qapla' API, and a fake CloudWatch: the SDK speaks CloudWatch's Smithy
//! RPC v2 CBOR protocol, which moto 5.2 does not, so a wiremock answers `DescribeAlarms` in
//! CBOR on loopback (the real SDK, the real protocol). The built binary is run as a user
//! runs it: its exit code and its output. Loopback only.

use serde_json::{Value, json};
use std::process::Command;
use testkit::Moto;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const QAPLA_KEY: &str = "qapla-key-it";
pub const ALARMS: [&str; 2] = ["bridge-DeadLetters", "bridge-OldestEvent"];
pub const SECRET: &str = "qapla-connectif/shop-it";
pub const TABLE: &str = "bridge-state";
/// The log groups of four of the functions: shipments, returns, orders, delivery worker.
pub const LOG_GROUPS: [&str; 4] = [
    "/aws/lambda/bridge-ShipmentFunction-A1",
    "/aws/lambda/bridge-ReturnFunction-B2",
    "/aws/lambda/bridge-OrderFunction-C3",
    "/aws/lambda/bridge-DeliveryFunction-D4",
];

pub async fn aws(moto: &Moto) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(
            bridge_core::aws::connector::client(std::time::Duration::from_secs(2)).expect("client"),
        )
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(&moto.endpoint)
        .load()
        .await
}

/// The channel's secret: Qapla' API at `qapla`, Connectif's Public API at `connectif`.
pub fn settings_with(qapla: &str, connectif: &str) -> Value {
    json!({
        "qaplaApiKey": QAPLA_KEY,
        "qaplaApiBaseUrl": format!("{qapla}/1.3"),
        "trackingUrlTemplate": "https://shop.example/t/{trackingNumber}",
        "connectif": { "mode": "api", "apiKey": "connectif-key", "baseUrl": connectif },
    })
}

pub fn settings(qapla: &str) -> Value {
    settings_with(qapla, "http://127.0.0.1:9")
}

/// What was created for a stack.
pub struct Deployed {
    pub queue_url: String,
    pub dlq_url: String,
    /// The backfill function's work queue.
    pub backfill_url: String,
}

/// A deployed bridge as its outputs describe it; returns the dead-letter queue URL.
pub async fn stack(moto: &Moto, qapla: &str) -> String {
    let api = "https://example.execute-api.eu-west-1.amazonaws.com";
    deploy(moto, &settings(qapla), api).await.dlq_url
}

/// The stack's resources and outputs, with `secret` as the channel `shop-it`'s settings and
/// `api_url` as the webhook API's URL.
pub async fn deploy(moto: &Moto, secret: &Value, api_url: &str) -> Deployed {
    deploy_named(moto, secret, api_url, "bridge").await
}

/// [`deploy`] under the stack name `stack`.
pub async fn deploy_named(moto: &Moto, secret: &Value, api_url: &str, stack: &str) -> Deployed {
    let aws = aws(moto).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let testkit::aws::Queues { queue_url, dlq_url } = testkit::aws::queues(&sqs, "bridge").await;
    // As the template makes it, but a message comes back 2 s after a failed invocation.
    let backfill_url = (sqs.create_queue())
        .queue_name("bridge-backfill.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "2",
        )
        .send()
        .await
        .expect("backfill queue")
        .queue_url
        .expect("backfill queue url");
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    testkit::aws::put_secret(&secrets, SECRET, &secret.to_string()).await;
    testkit::create_state_table(&aws_sdk_dynamodb::Client::new(&aws), TABLE).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&aws);
    for group in LOG_GROUPS {
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .expect("log group");
    }
    let api_id = routes(&aws).await;
    let outputs = json!({
        "EventQueueUrl": queue_url, "DeadLetterQueueUrl": dlq_url, "StateTableName": TABLE,
        "SecretPrefix": "qapla-connectif", "WebhookApiUrl": api_url,
        "WebhookApiId": api_id, "AlarmNames": ALARMS.join(","), "LogGroupNames": LOG_GROUPS.join(","),
        "BackfillQueueUrl": backfill_url,
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
        .stack_name(stack)
        .template_body(template.to_string())
        .send()
        .await
        .expect("stack");
    Deployed {
        queue_url,
        dlq_url,
        backfill_url,
    }
}

/// The webhook API with its three routes; returns its id.
async fn routes(aws: &aws_config::SdkConfig) -> String {
    let apis = aws_sdk_apigatewayv2::Client::new(aws);
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
    api_id
}

/// A fake CloudWatch whose `DescribeAlarms` answers `alarms` as (name, state).
pub async fn cloudwatch(alarms: &[(&str, &str)]) -> MockServer {
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

pub fn alarms_ok() -> [(&'static str, &'static str); 2] {
    [(ALARMS[0], "OK"), (ALARMS[1], "INSUFFICIENT_DATA")]
}

pub async fn qapla_accepting_the_key() -> MockServer {
    let qapla = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.2/getChannel/"))
        .and(query_param("apiKey", QAPLA_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "getChannel": { "result": "OK", "error": null, "channel": { "name": "Shop IT" } } })))
        .mount(&qapla)
        .await;
    // The newest status change, which `setup` and `doctor` read with `getShipment`.
    let changed = json!({ "trackingByTimeFrame": { "result": "OK", "error": null, "count": 1, "shipments": [
        { "id": 1, "trackingNumber": "DOCTOR-1", "reference": "R-1", "courier": "GLS",
          "status": { "dateISO": "2026-12-03 09:00:00", "qaplaStatus": { "id": 3 } } } ] } });
    Mock::given(method("GET"))
        .and(path("/1.2/trackingByTimeFrame/"))
        .and(query_param("apiKey", QAPLA_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(changed))
        .mount(&qapla)
        .await;
    qapla
}

/// `bridge-admin <args>` with moto as the AWS endpoint and `cloudwatch` for CloudWatch:
/// (exit code, stdout, stderr). Blocks: call it from `spawn_blocking` (see [`run`]) when
/// the test's own tasks must go on meanwhile.
pub fn admin(moto: &Moto, cloudwatch: &MockServer, args: &[&str]) -> (i32, String, String) {
    run_admin(&moto.endpoint, &cloudwatch.uri(), args)
}

fn run_admin(moto: &str, cloudwatch: &str, args: &[&str]) -> (i32, String, String) {
    let out = admin_command(moto, cloudwatch, args)
        .output()
        .expect("bridge-admin runs");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

/// The `bridge-admin <args>` command, set up as [`admin`] runs it (for a test that must
/// signal the running process).
pub fn admin_command(moto: &str, cloudwatch: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bridge-admin"));
    command
        .args(["--stack", "bridge"])
        .args(args)
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // The fake Qapla' has no rate limit: the tests do not wait out the real one.
        .env("QAPLA_API_BUDGET", "10000,10000")
        .env_remove("AWS_PROFILE")
        .env_remove("BRIDGE_STACK")
        .env_remove("BRIDGE_REGION")
        // Away from the clone's samconfig.toml: the stack's region is AWS_REGION's here.
        .current_dir(std::env::temp_dir());
    command
}

/// [`admin`] on a blocking thread, so the deployment twin keeps serving meanwhile.
pub async fn run(moto: &Moto, cloudwatch: &MockServer, args: &[&str]) -> (i32, String, String) {
    let (moto, cw) = (moto.endpoint.clone(), cloudwatch.uri());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_admin(&moto, &cw, &args)
    })
    .await
    .expect("bridge-admin thread")
}

/// The line of one step (`✓ <step>: ...`, `✗ <step>: ...` or `– <step>: ...`).
pub fn line<'a>(out: &'a str, step: &str) -> &'a str {
    let head = [
        format!("✓ {step}:"),
        format!("✗ {step}:"),
        format!("– {step}:"),
    ];
    out.lines()
        .find(|l| head.iter().any(|h| l.starts_with(h.as_str())))
        .unwrap_or_else(|| panic!("no `{step}` line in:\n{out}"))
}

/// The `fix:` line that follows a step's line.
pub fn fix_of<'a>(out: &'a str, step: &str) -> &'a str {
    fix_after(out, line(out, step))
}

/// The `fix:` line that follows the first line containing `text`.
pub fn fix_after<'a>(out: &'a str, text: &str) -> &'a str {
    let mut lines = out.lines().skip_while(|l| !l.contains(text)).skip(1);
    lines
        .next()
        .filter(|l| l.trim_start().starts_with("fix:"))
        .unwrap_or_else(|| panic!("no fix after `{text}` in:\n{out}"))
}

/// A query parameter of a request a fake received (empty when absent).
pub fn query(req: &wiremock::Request, name: &str) -> String {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A Connectif account on `server` holding the bridge's reception events as `setup` makes
/// them (default aliases, Public API context), in the documented shapes of the management
/// reads `check` makes: the integration list, its event list, each event by id (one page
/// each). The events' fields are test data here: the rules a real account enforces are
/// `testkit::connectif`'s.
pub async fn mount_the_bridges_event_types(server: &MockServer) {
    use bridge_core::connectif::{Reception, schema};
    let aliases = bridge_core::channel::Aliases::default();
    let integration = json!({ "id": "int-1", "name": "Qapla' bridge", "eventsEnabled": true });
    let list = |results: Vec<Value>| json!({ "links": {}, "results": results });
    Mock::given(method("GET"))
        .and(path("/custom-integrations/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(vec![integration])))
        .mount(server)
        .await;
    let types: Vec<Value> = (Reception::ALL.iter().enumerate())
        .map(|(i, r)| {
            json!({ "id": format!("evt-{i}"), "name": "n", "alias": aliases.get(*r),
                "category": "receive", "receiveType": "api", "fields": schema::fields(*r) })
        })
        .collect();
    for t in &types {
        let id = t["id"].as_str().unwrap_or_default();
        Mock::given(method("GET"))
            .and(path(format!(
                "/custom-integrations/int-1/custom-event-types/{id}"
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(t))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/custom-integrations/int-1/custom-event-types/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(types)))
        .mount(server)
        .await;
}

/// A deployed bridge whose channel `shop-it` delivers to a Connectif on loopback that holds
/// the bridge's reception events: (the dead-letter queue URL, that Connectif).
pub async fn stack_with_connectif(moto: &Moto, qapla: &str) -> (String, MockServer) {
    let connectif = MockServer::start().await;
    mount_the_bridges_event_types(&connectif).await;
    let api = "https://example.execute-api.eu-west-1.amazonaws.com";
    let secret = settings_with(qapla, &connectif.uri());
    (deploy(moto, &secret, api).await.dlq_url, connectif)
}
