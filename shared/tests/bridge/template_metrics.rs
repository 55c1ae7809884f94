//! The stack's alarms and dashboard watch metrics the code really emits: the bridge is
//! driven through every outcome the template names (posts accepted and rejected of each
//! kind, events delivered, retried, repeated, superseded, skipped, dead-lettered, Connectif
//! and Qapla' answering in every way), its metric lines are captured, and every metric an
//! alarm or a widget of `template.yaml` reads must be among them: same namespace, name,
//! dimension set and dimension values. AWS's own metrics must name the stack's resources.

use crate::durable_helpers::{FakeConnectif, LocalDurable, Step, shipment};
use crate::helpers::*;
use bridge_core::mapping::Language;
use bridge_core::qapla::api::QaplaApi;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use secrecy::SecretString;
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NAMESPACE: &str = "QaplaConnectifBridge";
/// The only dimensions the bridge's metrics may have: none takes a tracking number, an
/// order or a channel name nobody configured (a release link's `step` and `action` come
/// from fixed sets).
const DIMENSIONS: [&str; 8] = [
    "channel", "kind", "outcome", "reason", "result", "function", "step", "action",
];
const MADE_UP_CHANNEL: &str = "made-up-channel-4711";

/// A metric an alarm or a widget reads.
#[derive(Debug)]
struct Watched {
    by: String,
    namespace: String,
    name: String,
    dimensions: BTreeMap<String, String>,
}

#[tokio::test]
async fn every_alarm_and_dashboard_metric_is_one_the_code_emits() {
    let logs = Logs::capture();
    drive_the_webhooks_and_the_worker().await;
    call_qapla_in_every_way().await;
    connectif_unreachable().await;
    // Emitted outside these paths: by the reconciler (its own test checks the line) and by
    // each function's `telemetry::init` (the runtime test checks the real binary's line).
    bridge_core::telemetry::metrics::count_reconciled("it", 1);
    // By the reconciler's stall check (its test, `moto/stalls.rs`, checks the line).
    bridge_core::telemetry::metrics::count_stalled("it", 1);
    // By the enrichment on a refused key (its test, `enrichment.rs`, checks the line).
    bridge_core::telemetry::metrics::count_key_refused("it");
    // By the enrichment on a 404 without Qapla's KO (`enrichment.rs` checks the line).
    bridge_core::telemetry::metrics::count_api_refused("it");
    // By the reconciler's reading of the failure budget (its test, `moto/reconcile.rs`).
    bridge_core::telemetry::metrics::rejected_last_day("it", 3);
    // By a backfill run's windows and the backfill function's schedule (the console's
    // `moto/background.rs` checks the schedule's line).
    bridge_core::telemetry::metrics::count_backfill_window("it");
    bridge_core::telemetry::metrics::backfills(1, 0);
    // By the worker's release links and the release page (`release.rs` drives both).
    for step in ["issued", "opened", "failed"] {
        bridge_core::telemetry::metrics::release("it", step, "", "");
    }
    bridge_core::telemetry::metrics::release("it", "released", "redeliver", "ok");
    for binary in binaries(&template()) {
        bridge_core::telemetry::metrics::cold_start(&binary);
    }
    let emitted = logs.metrics();
    no_high_cardinality_dimension(&emitted);

    let template = template();
    let watched = watched(&template);
    assert!(watched.len() > 60, "alarms and widgets read {watched:#?}");
    let mut missing = Vec::new();
    for w in &watched {
        let found = if w.namespace == NAMESPACE {
            emitted.iter().any(|line| emits(line, w))
        } else {
            aws_metric_of_the_stack(&template, w)
        };
        if !found {
            missing.push(format!(
                "{}: {} {} {:?}",
                w.by, w.namespace, w.name, w.dimensions
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "not emitted: {missing:#?}\nemitted: {}",
        emitted
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_dashboard_shows_every_alarm_and_the_outputs_name_them() {
    let template = template();
    let alarms: BTreeSet<String> = resources(&template, "AWS::CloudWatch::Alarm")
        .map(|(name, _)| name)
        .collect();
    assert!(alarms.len() >= 8, "{alarms:?}");
    let body = dashboard(&template);
    let shown: BTreeSet<String> = body["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .filter(|w| w["type"] == "alarm")
        .flat_map(|w| {
            w["properties"]["alarms"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|a| a.as_str().unwrap_or("").trim_end_matches(".Arn").to_owned())
        .collect();
    assert_eq!(shown, alarms, "the alarm widget lists every alarm");
    let output = serde_yaml::to_string(&template["Outputs"]["AlarmNames"]).expect("yaml");
    for alarm in &alarms {
        assert!(output.contains(alarm.as_str()), "AlarmNames lacks {alarm}");
    }
    assert!(
        template["Outputs"]["DashboardUrl"].is_mapping(),
        "the dashboard's URL is an output"
    );
}

/// Each alarm tells the person on call where to read what to do: a section of a docs page
/// that exists (one alarm once pointed at a section that did not), and the alarm table of
/// `docs/operations.md` has a row for it.
#[test]
fn every_alarm_points_at_a_docs_section_that_exists() {
    let template = template();
    let page = |name: &str| {
        std::fs::read_to_string(workspace().join("docs").join(name))
            .unwrap_or_else(|_| panic!("docs/{name}"))
    };
    let operations = page("operations.md");
    for (name, alarm) in resources(&template, "AWS::CloudWatch::Alarm") {
        // `!Sub [text, {Docs: !FindInMap [Repository, Docs, Url]}]`: the e-mail's link.
        let Yaml::Tagged(sub) = &alarm["Properties"]["AlarmDescription"] else {
            panic!("{name}: the description is a !Sub with the docs' address");
        };
        let description = sub.value[0].as_str().unwrap_or_default();
        let docs = format!("{:?}", sub.value[1]["Docs"]);
        assert!(
            docs.contains("FindInMap") && docs.contains("Repository") && docs.contains("Url"),
            "{name}: Docs is the Repository mapping's: {docs}"
        );
        let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
        let (_, rest) = (description.split_once("docs/"))
            .unwrap_or_else(|| panic!("{name} names no docs page: {description}"));
        let (file, rest) = rest
            .split_once(", \"")
            .expect("docs/<page>.md, \"<section>\"");
        let section = rest.split('"').next().unwrap_or("");
        let headings: BTreeSet<String> = (page(file).lines())
            .filter(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim().to_owned())
            .collect();
        assert!(
            headings.contains(section),
            "{name} points at a section of docs/{file} that does not exist: \"{section}\""
        );
        let link = format!(
            "(${{Docs}}/{file}#{})",
            crate::reference_docs::anchor(section)
        );
        assert!(
            description.contains(&link),
            "{name}: no {link} in {description}"
        );
        let row = format!("`{name}`");
        let in_table = (operations.lines()).any(|l| l.starts_with('|') && l.contains(&row));
        assert!(
            in_table,
            "docs/operations.md's alarm table has no row for {name}"
        );
    }
}

/// What the person on call needs from the stack itself: the state table (its ledger) and
/// the dead letters outlive a deleted or replaced stack; the dashboard's name is unique per
/// region (dashboards are account-wide); the access log is an output; API Gateway's 4xx
/// (refusals and throttled posts, each a failure for Qapla') are alarmed on.
#[test]
fn the_stack_keeps_its_ledger_and_dead_letters_and_names_what_an_operator_needs() {
    let template = template();
    for kept in ["StateTable", "DeadLetterQueue"] {
        let resource = &template["Resources"][kept];
        assert_eq!(
            resource["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{kept}"
        );
        assert_eq!(
            resource["UpdateReplacePolicy"].as_str(),
            Some("Retain"),
            "{kept}"
        );
    }
    let name =
        serde_yaml::to_string(&template["Resources"]["Dashboard"]["Properties"]["DashboardName"])
            .expect("yaml");
    assert!(
        name.contains("AWS::Region") && name.contains("AWS::StackName"),
        "{name}"
    );
    assert!(template["Outputs"]["AccessLogGroupName"].is_mapping());
    let alarm = &template["Resources"]["ApiClientErrorsAlarm"]["Properties"];
    assert_eq!(
        (alarm["Namespace"].as_str(), alarm["MetricName"].as_str()),
        (Some("AWS/ApiGateway"), Some("4xx"))
    );
}

/// `sam deploy --guided` without traps: it stops to ask about every API route without an
/// authorizer (and its default answer aborts the deploy) unless the route says `Auth`; the
/// routes are public on purpose (Qapla' cannot send a token; the key in the body is
/// checked), so each says `Authorizer: NONE`. Its first parameter is who gets the alarms.
#[test]
fn a_guided_deploy_asks_who_gets_the_alarms_first_and_nothing_about_authorizers() {
    let template = template();
    let mut routes = 0;
    for (name, function) in resources(&template, "AWS::Serverless::Function") {
        let events = function["Properties"]["Events"].as_mapping();
        for (_, event) in events.into_iter().flatten() {
            if event["Type"] == "HttpApi" {
                routes += 1;
                let authorizer = event["Properties"]["Auth"]["Authorizer"].as_str();
                assert_eq!(authorizer, Some("NONE"), "{name}: a public route says so");
            }
        }
    }
    assert_eq!(routes, 4, "the three webhooks and the release page");
    let first = template["Parameters"]
        .as_mapping()
        .and_then(|p| p.keys().next());
    assert_eq!(first.and_then(Yaml::as_str), Some("AlarmEmail"));
}

/// What `sam publish` puts on the application's page in the Serverless Application
/// Repository is complete and names this release: its version is the workspace's, its
/// source the tag, its license one the repository ships.
#[test]
fn the_serverless_application_repository_metadata_names_this_release() {
    let template = template();
    let app = &template["Metadata"]["AWS::ServerlessRepo::Application"];
    for field in [
        "Name",
        "Description",
        "Author",
        "SpdxLicenseId",
        "LicenseUrl",
        "ReadmeUrl",
        "HomePageUrl",
        "SemanticVersion",
        "SourceCodeUrl",
    ] {
        let value = app[field].as_str().unwrap_or_default();
        assert!(
            !value.trim().is_empty(),
            "Metadata.AWS::ServerlessRepo::Application.{field}"
        );
    }
    let version = bridge_core::VERSION;
    assert_eq!(app["SemanticVersion"].as_str(), Some(version));
    let source = app["SourceCodeUrl"].as_str().unwrap_or_default();
    assert!(source.ends_with(&format!("/tree/v{version}")), "{source}");
    for file in ["LicenseUrl", "ReadmeUrl"] {
        let path = app[file].as_str().unwrap_or_default();
        assert!(workspace().join(path).is_file(), "{file}: {path}");
    }
    let cargo = std::fs::read_to_string(workspace().join("Cargo.toml")).expect("Cargo.toml");
    let home = app["HomePageUrl"].as_str().unwrap_or_default();
    assert!(
        cargo.contains(&format!("repository = \"{home}\"")),
        "HomePageUrl is the repository (scripts/set-repository.py sets both)"
    );
    assert!(source.starts_with(&format!("{home}/tree/")), "{source}");
    let docs = template["Mappings"]["Repository"]["Docs"]["Url"].as_str();
    assert_eq!(
        docs,
        Some(format!("{home}/blob/v{version}/docs").as_str()),
        "the alarm e-mails' links: the repository's docs at this version"
    );
}

/// Posts of each kind accepted and rejected, and events through every worker outcome.
async fn drive_the_webhooks_and_the_worker() {
    let (server, fake) = FakeConnectif::start().await;
    let d = LocalDurable::start(&server.uri(), json!({})).await;
    // T1: a 503, then delivered; a newer status; that status again as another post (the
    // ledger knows it); an older scan; the same status at a later time.
    fake.script([Step::Status(503)]);
    let first = shipment("T1", "3", "2024-03-15 10:00:00", "IN TRANSITO");
    d.post(first.clone()).await;
    d.drain().await;
    d.post(shipment("T1", "4", "2024-03-15 12:00:00", "IN CONSEGNA"))
        .await;
    d.drain().await;
    d.post(shipment(
        "T1",
        "4",
        "2024-03-15 12:00:00",
        "IN CONSEGNA (bis)",
    ))
    .await;
    d.post(shipment("T1", "3", "2024-03-15 11:00:00", "IN TRANSITO 2"))
        .await;
    d.post(shipment("T1", "4", "2024-03-15 13:00:00", "IN CONSEGNA 2"))
        .await;
    d.drain().await;
    // T2 refused by Connectif (dead-lettered); T3 throttled, then delivered.
    fake.script([Step::Status(422), Step::RetryAfter(0)]);
    d.post(shipment("T2", "3", "2024-03-15 10:00:00", "IN TRANSITO"))
        .await;
    d.drain().await;
    d.post(shipment("T3", "3", "2024-03-15 10:00:00", "IN TRANSITO"))
        .await;
    d.drain().await;
    // To a marketplace relay address: suppressed by the channel's default rule.
    let mut relay: Value =
        serde_json::from_str(&shipment("T5", "3", "2024-03-15 10:00:00", "X")).expect("json");
    relay["consignee"]["email"] = json!("x1@marketplace.amazon.it");
    d.post(relay.to_string()).await;
    d.drain().await;
    // A child shipment: skipped by the webhook.
    let mut child: Value =
        serde_json::from_str(&shipment("T4", "3", "2024-03-15 10:00:00", "X")).expect("json");
    child["isChild"] = json!(1);
    d.post(child.to_string()).await;
    // Returns and orders, accepted and delivered.
    let (ret, ord) = (fixture("return-request.json"), fixture("orders.json"));
    assert_eq!(
        send::<ReturnsPayload>(&d.deps, post("/qapla/it/returns", ret.clone()))
            .await
            .0,
        200
    );
    assert_eq!(
        send::<OrdersPayload>(&d.deps, post("/qapla/it/orders", ord.clone()))
            .await
            .0,
        200
    );
    d.drain().await;
    // Rejected: a wrong key (of each kind), a made-up channel, a body that is not JSON.
    let wrong = |body: &str| body.replace(IT_KEY, "not-the-key");
    let shipment_body = fixture("shipment-v1.3-delivered.json");
    for (path, body) in [
        ("/qapla/it/shipments", wrong(&shipment_body)),
        (
            &*format!("/qapla/{MADE_UP_CHANNEL}/shipments"),
            shipment_body.clone(),
        ),
        ("/qapla/it/shipments", "{not json".to_owned()),
    ] {
        assert_eq!(
            send::<ShipmentPayload>(&d.deps, post(path, body)).await.0 / 100,
            4
        );
    }
    assert_eq!(
        send::<ReturnsPayload>(&d.deps, post("/qapla/it/returns", wrong(&ret)))
            .await
            .0,
        401
    );
    assert_eq!(
        send::<OrdersPayload>(&d.deps, post("/qapla/it/orders", wrong(&ord)))
            .await
            .0,
        401
    );
    assert!(d.queue.is_empty());
}

/// `getShipment` answered OK, 429, 500, and Qapla' not reachable at all.
async fn call_qapla_in_every_way() {
    let server = MockServer::start().await;
    for status in [200, 429, 500] {
        let answer = get_shipment_answer("g@example.com", "G", "IT", "https://t.example/1");
        Mock::given(method("GET"))
            .and(path("/qapla-api/1.3/getShipment/"))
            .respond_with(ResponseTemplate::new(status).set_body_json(answer))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    let api = QaplaApi::new(
        bridge_core::http::tls::client_builder()
            .build()
            .expect("client"),
    );
    let key = SecretString::from(IT_KEY);
    let base = format!("{}/qapla-api/1.3", server.uri());
    assert!(
        api.get_shipment(&base, &key, "T1", Language::It)
            .await
            .is_ok()
    );
    assert!(
        api.get_shipment(&base, &key, "T1", Language::It)
            .await
            .is_err()
    );
    assert!(
        api.get_shipment(&base, &key, "T1", Language::It)
            .await
            .is_err()
    );
    let closed = format!("http://127.0.0.1:{}/1.3", testkit::free_port());
    assert!(
        api.get_shipment(&closed, &key, "T1", Language::It)
            .await
            .is_err()
    );
}

/// One try towards a Connectif that is not listening.
async fn connectif_unreachable() {
    let closed = format!("http://127.0.0.1:{}", testkit::free_port());
    let d = LocalDurable::start(&closed, json!({})).await;
    d.post(shipment("T9", "3", "2024-03-15 10:00:00", "IN TRANSITO"))
        .await;
    let batch = d.queue.receive(10);
    assert_eq!(d.worker.process(&batch).await.len(), 1, "tried again later");
}

fn no_high_cardinality_dimension(emitted: &[Value]) {
    assert!(!emitted.is_empty());
    for line in emitted {
        for set in
            directives(line).flat_map(|d| d["Dimensions"].as_array().cloned().unwrap_or_default())
        {
            for dimension in set.as_array().expect("a dimension set") {
                let name = dimension.as_str().expect("a dimension name");
                assert!(DIMENSIONS.contains(&name), "dimension {name} in {line}");
                let value = line[name].as_str().expect("a dimension value");
                assert!(
                    !value.starts_with('T') && value != MADE_UP_CHANNEL,
                    "{name}={value} in {line}"
                );
            }
        }
    }
}

fn directives(line: &Value) -> impl Iterator<Item = &Value> {
    line["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
}

/// Whether the EMF `line` emits `w`: namespace, name, exactly its dimension set, its values.
fn emits(line: &Value, w: &Watched) -> bool {
    let names: BTreeSet<&str> = w.dimensions.keys().map(String::as_str).collect();
    directives(line).any(|d| {
        d["Namespace"] == w.namespace.as_str()
            && d["Metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["Name"] == w.name.as_str())
            && d["Dimensions"].as_array().into_iter().flatten().any(|set| {
                let set: BTreeSet<&str> = set
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                set == names
            })
    }) && w.dimensions.iter().all(|(k, v)| match v.as_str() {
        "*" => line[k.as_str()].is_string(),
        v => line[k.as_str()] == v,
    })
}

/// AWS's metrics of the stack's resources: the names AWS publishes, with the dimension that
/// names the resource, pointing at a resource of the right type.
fn aws_metric_of_the_stack(template: &Yaml, w: &Watched) -> bool {
    let (dimension, resource_type, names): (&str, &str, &[&str]) = match w.namespace.as_str() {
        "AWS/Lambda" => (
            "FunctionName",
            "AWS::Serverless::Function",
            &["Errors", "Throttles"],
        ),
        "AWS/SQS" => (
            "QueueName",
            "AWS::SQS::Queue",
            &[
                "ApproximateAgeOfOldestMessage",
                "ApproximateNumberOfMessagesVisible",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        ),
        "AWS/ApiGateway" => (
            "ApiId",
            "AWS::Serverless::HttpApi",
            &["Count", "4xx", "5xx"],
        ),
        _ => return false,
    };
    let Some(value) = w.dimensions.get(dimension) else {
        return false;
    };
    let resource = value.trim_end_matches(".QueueName");
    names.contains(&w.name.as_str())
        && w.dimensions.len() == 1
        && template["Resources"][resource]["Type"] == resource_type
}

fn template() -> Yaml {
    let text = std::fs::read_to_string(workspace().join("template.yaml")).expect("template");
    serde_yaml::from_str(&text).expect("template is YAML")
}

fn resources<'a>(template: &'a Yaml, kind: &'a str) -> impl Iterator<Item = (String, &'a Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(move |(_, r)| r["Type"] == kind)
        .map(|(name, r)| (name.as_str().expect("name").to_owned(), r))
}

/// Each function's binary (`Metadata.BuildProperties.Binary`).
fn binaries(template: &Yaml) -> Vec<String> {
    resources(template, "AWS::Serverless::Function")
        .map(|(_, f)| {
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("binary")
                .to_owned()
        })
        .collect()
}

/// The text of `!Ref X`, `!GetAtt X.y` or a plain scalar.
fn text(v: &Yaml) -> String {
    match v {
        Yaml::Tagged(t) => text(&t.value),
        Yaml::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .expect("yaml")
            .trim()
            .to_owned(),
    }
}

/// Every metric an alarm or a dashboard widget reads.
fn watched(template: &Yaml) -> Vec<Watched> {
    let mut all = Vec::new();
    for (name, alarm) in resources(template, "AWS::CloudWatch::Alarm") {
        let p = &alarm["Properties"];
        let mut metrics: Vec<&Yaml> = Vec::new();
        if p["MetricName"].is_string() {
            metrics.push(p);
        }
        if let Some(list) = p["Metrics"].as_sequence() {
            metrics.extend(
                list.iter()
                    .filter(|m| m["MetricStat"].is_mapping())
                    .map(|m| &m["MetricStat"]["Metric"]),
            );
        }
        assert!(!metrics.is_empty(), "{name} reads no metric");
        for m in metrics {
            let dimensions = m["Dimensions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|d| (text(&d["Name"]), text(&d["Value"])))
                .collect();
            all.push(Watched {
                by: name.clone(),
                namespace: text(&m["Namespace"]),
                name: text(&m["MetricName"]),
                dimensions,
            });
        }
    }
    for widget in dashboard(template)["widgets"].as_array().expect("widgets") {
        let title = widget["properties"]["title"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        for entry in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            all.extend(widget_metric(
                &title,
                entry.as_array().expect("a metric entry"),
            ));
        }
    }
    all
}

/// The dashboard's body, its `${...}` placeholders replaced by the names they refer to.
fn dashboard(template: &Yaml) -> Value {
    let (_, dashboard) = resources(template, "AWS::CloudWatch::Dashboard")
        .next()
        .expect("a dashboard");
    let Yaml::Tagged(sub) = &dashboard["Properties"]["DashboardBody"] else {
        panic!("DashboardBody is !Sub");
    };
    let mut body = text(&sub.value);
    while let Some(start) = body.find("${") {
        let end = start + body[start..].find('}').expect("closed placeholder");
        let name = body[start + 2..end].to_owned();
        let quoted = body[..start].ends_with('"');
        body.replace_range(start..=end, if quoted { &name } else { "0" });
    }
    serde_json::from_str(&body).expect("the dashboard's body is JSON")
}

/// `[namespace, name, dim, value, ..., {options}]`, or a `SEARCH(...)` expression (other
/// expressions compute on metrics listed in the same widget).
fn widget_metric(title: &str, entry: &[Value]) -> Option<Watched> {
    if let Some(expression) = entry[0]["expression"].as_str() {
        return expression
            .starts_with("SEARCH(")
            .then(|| search(title, expression));
    }
    let texts: Vec<String> = entry
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let dimensions = texts[2..]
        .chunks(2)
        .map(|kv| (kv[0].clone(), kv[1].clone()))
        .collect();
    Some(Watched {
        by: title.to_owned(),
        namespace: texts[0].clone(),
        name: texts[1].clone(),
        dimensions,
    })
}

/// `SEARCH('{Namespace,dim1,dim2} MetricName="X" dim1="v"', 'Sum', 300)`: the metric it
/// finds, with the dimensions it fixes (the others as `*`, matched by name only below).
fn search(title: &str, expression: &str) -> Watched {
    let inner = &expression[expression.find('{').expect("{") + 1..];
    let (schema, filters) = inner.split_once('}').expect("}");
    let mut schema = schema.split(',');
    let namespace = schema.next().expect("namespace").to_owned();
    let mut dimensions: BTreeMap<String, String> =
        schema.map(|d| (d.to_owned(), "*".to_owned())).collect();
    let mut name = String::new();
    for filter in filters.split('\'').next().unwrap_or("").split_whitespace() {
        let (k, v) = filter.split_once('=').expect("key=\"value\"");
        let v = v.trim_matches('"').to_owned();
        if k == "MetricName" {
            name = v;
        } else {
            dimensions.insert(k.to_owned(), v);
        }
    }
    let dimensions = dimensions.into_iter().collect();
    Watched {
        by: title.to_owned(),
        namespace,
        name,
        dimensions,
    }
}
