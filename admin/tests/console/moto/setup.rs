//! `bridge-admin setup`, end to end in the console's test deployment: the stack on moto,
//! the bridge running in the twin, a fake Qapla', and a strict Connectif
//! (`testkit::connectif`) that validates every event against the event types `setup`
//! created, as Connectif's Public API does. Then `check --send` and every sample event of
//! `events/` go through the deployed bridge, and Connectif accepts each.

use crate::common::*;
use crate::twin::Twin;
use base64::Engine;
use serde_json::{Value, json};
use testkit::Moto;
use testkit::connectif::StrictConnectif;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub(super) const CONNECTIF_KEY: &str = "cid-1:csecret-1";
pub(super) const CHANNEL: &str = "shop-es";

pub(super) struct World {
    pub(super) moto: tokio::sync::RwLockWriteGuard<'static, Moto>,
    pub(super) cw: MockServer,
    pub(super) qapla: MockServer,
    pub(super) connectif: StrictConnectif,
    pub(super) twin: Twin,
}

impl World {
    pub(super) async fn start() -> World {
        let moto = testkit::moto_alone().await;
        let qapla = qapla_accepting_the_key().await;
        Mock::given(method("GET"))
            .and(path("/1.3/getShipment/"))
            .respond_with(get_shipment)
            .mount(&qapla)
            .await;
        let connectif = StrictConnectif::start(CONNECTIF_KEY).await;
        let (listener, url) = Twin::bind().await;
        let deployed = deploy(&moto, &settings(&qapla.uri()), &url).await;
        let twin = Twin::start(listener, &moto, &deployed).await;
        let cw = cloudwatch(&alarms_ok()).await;
        World {
            moto,
            cw,
            qapla,
            connectif,
            twin,
        }
    }

    /// `bridge-admin setup shop-es` with every answer a flag, plus `extra`.
    /// `setup --mode endpoint` with each reception event's Endpoint URL on the fake, and a
    /// test contact for the proof.
    pub(super) async fn setup_in_endpoint_mode(&self) -> (i32, String, String) {
        let settings = ["shipment", "returnStatus", "return", "order", "history"];
        let aliases = [
            "order-status-change",
            "return-status-change",
            "return-request",
            "order-shipped",
            "order-status-history",
        ];
        let flags: Vec<String> = (settings.iter().zip(aliases))
            .map(|(s, a)| format!("{s}={}", self.connectif.endpoint_url(a)))
            .collect();
        let mut args = vec!["--mode", "endpoint", "--test-email", "tester@shop.example"];
        for flag in &flags {
            args.extend(["--endpoint", flag.as_str()]);
        }
        self.setup(&args).await
    }

    pub(super) async fn setup(&self, extra: &[&str]) -> (i32, String, String) {
        self.setup_with(&self.connectif.uri(), extra).await
    }

    /// The same, with Connectif's API at `connectif`.
    async fn setup_with(&self, connectif: &str, extra: &[&str]) -> (i32, String, String) {
        let qapla = format!("{}/1.3", self.qapla.uri());
        let mut args = vec![
            "setup",
            CHANNEL,
            "--qapla-key",
            QAPLA_KEY,
            "--connectif-key",
            CONNECTIF_KEY,
            "--tracking-url",
            "https://shop.example/t/{trackingNumber}",
            "--language",
            "es",
            "--qapla-url",
            &qapla,
            "--connectif-url",
            connectif,
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = run(&self.moto, &self.cw, &args).await;
        for key in [QAPLA_KEY, CONNECTIF_KEY, "csecret-1"] {
            assert!(
                !out.contains(key) && !err.contains(key),
                "a key shown:\n{out}\n{err}"
            );
        }
        (code, out, err)
    }

    async fn secret(&self) -> Option<Value> {
        let secrets = aws_sdk_secretsmanager::Client::new(&aws(&self.moto).await);
        let name = format!("qapla-connectif/{CHANNEL}");
        let got = secrets
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .ok()?;
        serde_json::from_str(got.secret_string()?).ok()
    }

    /// Wait until Connectif has seen `n` events (or 90 s).
    pub(super) async fn arrivals(&self, n: usize) -> Vec<testkit::connectif::Arrival> {
        for _ in 0..900 {
            if self.connectif.arrivals().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.connectif.arrivals()
    }
}

/// `getShipment`: a customer for any tracking number (the samples' v1.2 posts need one).
fn get_shipment(req: &Request) -> ResponseTemplate {
    let tracking = query(req, "trackingNumber");
    if tracking == "NO-CONSIGNEE-1" {
        // A Qapla' that does not answer as documented: no consignee, asked or not.
        let shipment = json!({ "trackingNumber": tracking, "url": "https://tracking.qapla.it/x" });
        let answer =
            json!({ "getShipment": { "result": "OK", "error": "", "shipments": [shipment] } });
        return ResponseTemplate::new(200).set_body_json(answer);
    }
    let consignee =
        json!({ "name": "Lucía García", "email": "lucia@example.com", "country": "ES" });
    let shipment = json!({ "trackingNumber": tracking, "url": "https://tracking.qapla.it/x", "consignee": consignee });
    // As Qapla' documents it: the consignee only when asked for (`testkit::qapla`).
    let full = json!({ "getShipment": { "result": "OK", "error": "", "shipments": [shipment] } });
    ResponseTemplate::new(200).set_body_json(testkit::qapla::answer(req, &full))
}

/// Post every sample event of `events/` to the deployed bridge, as channel `shop-es`.
pub(super) async fn post_samples(twin: &Twin) -> usize {
    let dir = testkit::workspace().join("events");
    let mut posted = 0;
    for entry in std::fs::read_dir(dir).expect("events/") {
        let file = entry.expect("entry").path();
        let event: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
        let Some(raw_path) = event["rawPath"]
            .as_str()
            .filter(|p| p.starts_with("/qapla/"))
        else {
            continue; // env.json, the SQS sample, the release page's
        };
        let text = event["body"].as_str().expect("body");
        let body = match event["isBase64Encoded"] == true {
            true => base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("base64"),
            false => text.as_bytes().to_vec(),
        };
        let mut body: Value = serde_json::from_slice(&body).expect("body JSON");
        if body.get("apiKey").is_some() {
            body["apiKey"] = json!(QAPLA_KEY);
        } else {
            body["webhookReturnShipments"]["apiKey"] = json!(QAPLA_KEY);
        }
        let kind = raw_path.rsplit('/').next().expect("kind");
        let url = format!("{}/qapla/{CHANNEL}/{kind}", twin.api_url);
        let answer = bridge_core::http::tls::client_builder()
            .build()
            .expect("client")
            .post(url)
            .body(body.to_string())
            .send()
            .await
            .expect("post");
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap_or_default();
        assert_eq!(
            (status, text.as_str()),
            (200, r#"{"result":"OK"}"#),
            "{file:?}"
        );
        posted += 1;
    }
    posted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_takes_a_deployed_stack_to_a_proven_channel_and_connectif_accepts_every_event() {
    let world = World::start().await;
    let (code, out, err) = world.setup(&["--test-email", "tester@shop.example"]).await;
    println!("{out}\n{err}"); // docs/first-deployment.md shows this output
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        line(&out, "stack").contains("stack bridge (from --stack) in eu-west-1"),
        "{out}"
    );
    assert!(
        line(&out, "qapla key").contains("channel \"Shop IT\""),
        "{out}"
    );
    assert!(line(&out, "connectif integration").contains("created \"Qapla' bridge\""));
    // The lines that pin the stack and its region for every command after this one.
    assert!(
        out.contains("  export BRIDGE_STACK=bridge\n  export BRIDGE_REGION=eu-west-1"),
        "{out}"
    );

    // The five reception events, exactly the bridge's fields, in the Public API context.
    let types = world.connectif.event_types();
    let mut aliases: Vec<&str> = types.iter().map(|t| t.alias.as_str()).collect();
    aliases.sort_unstable();
    let expected = [
        "order-shipped",
        "order-status-change",
        "order-status-history",
        "return-request",
        "return-status-change",
    ];
    assert_eq!(aliases, expected);
    assert!(types.iter().all(|t| t.receive_type == "api"));
    let shipment = types
        .iter()
        .find(|t| t.alias == "order-status-change")
        .expect("type");
    assert_eq!(shipment.fields.len(), 9);
    let key = shipment
        .fields
        .iter()
        .find(|f| f.is_primary_key)
        .expect("primary key");
    assert_eq!(
        (key.id.as_str(), key.kind.as_str()),
        ("customerEmail", "email")
    );

    // The secret, valid for the functions' own parser.
    let secret = world.secret().await.expect("secret written");
    assert_eq!(secret["connectif"]["mode"], "api");
    assert_eq!(secret["language"], "es");
    bridge_core::channel::ChannelSettings::from_json(&secret.to_string()).expect("valid");
    assert!(out.contains("qaplaApiKey = <hidden"), "{out}");

    // Qapla's panel, then the proof: a test event of each kind, accepted by Connectif.
    assert!(out.contains(&format!("{}/qapla/{CHANNEL}/shipments", world.twin.api_url)));
    assert!(out.contains("version 1.3"), "{out}");
    for step in ["send shipment", "send return", "send order"] {
        assert!(line(&out, step).starts_with('✓'), "{out}");
    }
    let proof = world.connectif.arrivals();
    assert_eq!(proof.len(), 3, "{proof:?}");

    // Every sample event through the deployed bridge: each accepted by the strict fake.
    let posted = post_samples(&world.twin).await;
    assert_eq!(posted, 8);
    // 2 orders, a return, and 6 shipment posts of which two are the same event (one
    // base64-flagged): 5 statuses, the v1.2 ones completed by getShipment.
    let arrivals = world.arrivals(3 + 8).await;
    for a in &arrivals {
        assert_eq!(a.status, 201, "Connectif refused {}: {}", a.alias, a.detail);
    }
    assert_eq!(arrivals.len(), 11, "{arrivals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_setup_changes_nothing_and_a_field_changed_by_hand_is_reported() {
    let world = World::start().await;
    let (code, out, _) = world.setup(&[]).await;
    assert_eq!(code, 0, "{out}");
    assert!(line(&out, "proof").contains("no --test-email"), "{out}");
    let writes = world.connectif.writes();
    assert_eq!(writes, 6, "one integration, five events");

    let (code, again, _) = world.setup(&[]).await;
    assert_eq!(code, 0, "{again}");
    assert_eq!(world.connectif.writes(), writes, "{again}");
    assert!(
        line(&again, "connectif integration").contains("exists"),
        "{again}"
    );
    assert!(line(&again, "secret").contains("unchanged"), "{again}");
    assert!(
        again.contains("`order-shipped`: exists with the bridge's 11 fields"),
        "{again}"
    );

    // By hand in Connectif: a field retyped, another removed.
    world
        .connectif
        .edit_field("order-shipped", "cashOnDelivery", |f| {
            f.kind = "text".into()
        });
    world
        .connectif
        .remove_field("order-status-change", "courierStatus");
    let (code, out, _) = world.setup(&[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("`order-shipped` differs: `cashOnDelivery` is Text, optional, the bridge needs Boolean, optional"),
        "{out}"
    );
    assert!(
        fix_after(&out, "`order-shipped` differs").contains("never retypes"),
        "{out}"
    );
    // No update of an event type is documented: the field to add is named for the panel.
    assert!(
        out.contains("`order-status-change` lacks 1 of the fields the bridge sends"),
        "{out}"
    );
    let fix = fix_after(&out, "`order-status-change` lacks");
    assert!(
        fix.contains("Receive Data > `order-status-change` > Add a New Field")
            && fix.contains("ID `courierStatus`, name \"Courier status\", Text, optional"),
        "{out}"
    );
    assert_eq!(
        world.connectif.writes(),
        writes,
        "setup changes no event type"
    );
    world.connectif.add_field(
        "order-status-change",
        testkit::connectif::Field {
            id: "courierStatus".into(),
            name: "courierStatus".into(),
            kind: "text".into(),
            required: false,
            is_primary_key: false,
        },
    );
    let (_, out, _) = world.setup(&[]).await;
    assert!(
        out.contains("`order-status-change`: exists with the bridge's 9 fields"),
        "a field named as the guide names it fits: {out}"
    );
    let retyped = world.connectif.event_types();
    let cod = (retyped.iter().find(|t| t.alias == "order-shipped"))
        .and_then(|t| t.fields.iter().find(|f| f.id == "cashOnDelivery"))
        .expect("field");
    assert_eq!(cod.kind, "text", "setup never retypes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reads_everything_and_changes_nothing() {
    let world = World::start().await;
    let (code, out, _) = world
        .setup(&["--dry-run", "--test-email", "t@shop.example"])
        .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        line(&out, "connectif integration").contains("would create"),
        "{out}"
    );
    assert!(
        out.contains("`order-status-change`: would create it with 9 fields"),
        "{out}"
    );
    assert!(line(&out, "secret").contains("would create"), "{out}");
    assert!(line(&out, "proof").contains("a dry run"), "{out}");
    assert_eq!(world.connectif.writes(), 0);
    assert!(world.secret().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_mode_creates_webhook_events_and_delivers_to_their_urls() {
    let world = World::start().await;
    // Without the URLs (Connectif's API does not give them), a script is told how to find them.
    let (code, _, err) = world.setup(&["--mode", "endpoint"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("no Endpoint URL for `order-status-change`"),
        "{err}"
    );
    assert!(
        err.contains("Receive Data > `order-status-change`"),
        "{err}"
    );
    assert!(err.contains("--endpoint shipment=<url>"), "{err}");
    assert!(
        world.secret().await.is_none(),
        "nothing written without the URLs"
    );

    let (code, out, err) = world.setup_in_endpoint_mode().await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        world
            .connectif
            .event_types()
            .iter()
            .all(|t| t.receive_type == "webhook")
    );
    assert!(
        !out.contains("/webhook/custom-events"),
        "Endpoint URLs are secrets: {out}"
    );
    let arrivals = world.connectif.arrivals();
    assert_eq!(arrivals.len(), 3, "{arrivals:?}");
    assert!(arrivals.iter().all(|a| a.status == 201), "{arrivals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undocumented_answer_stops_with_the_manual_steps_and_writes_nothing() {
    let world = World::start().await;
    // A Connectif whose management API answers as no documentation says.
    let odd = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "items": [] })))
        .mount(&odd)
        .await;
    let (code, out, _) = world.setup_with(&odd.uri(), &[]).await;
    assert_eq!(code, 1, "{out}");
    let failed = line(&out, "connectif integration");
    assert!(
        failed.contains("GET /custom-integrations/: an answer of another shape"),
        "{out}"
    );
    assert!(
        fix_of(&out, "connectif integration").contains("Create New Integration"),
        "{out}"
    );
    assert!(world.secret().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_looks_for_the_stack_where_samconfig_deployed_it() {
    let world = World::start().await;
    let dir = std::env::temp_dir().join(format!("samconfig-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).expect("dir");
    let samconfig = "version = 0.1\n[default.deploy.parameters]\nregion = \"eu-south-1\"\n";
    std::fs::write(dir.join("samconfig.toml"), samconfig).expect("write");
    let mut command = admin_command(&world.moto.endpoint, &world.cw.uri(), &["dead-letters"]);
    let out = command.current_dir(&dir).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The shell says eu-west-1 (where moto holds the stack); samconfig.toml wins.
    assert!(
        err.contains("stack bridge (from --stack) in eu-south-1 (from "),
        "{err}"
    );
    assert!(err.contains("samconfig.toml)"), "{err}");
    let mut command = admin_command(
        &world.moto.endpoint,
        &world.cw.uri(),
        &["--region", "eu-west-1", "dead-letters"],
    );
    let out = command.current_dir(&dir).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// On a terminal, `setup` asks for what no flag gave — keys without echo — and goes on as
/// with flags. A real pseudo-terminal (`script`, util-linux), answers typed into it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_setup_asks_for_what_is_missing_and_keys_are_not_echoed() {
    let world = World::start().await;
    let base = admin_command(&world.moto.endpoint, &world.cw.uri(), &[]);
    let envs: Vec<(String, String)> = (base.get_envs())
        .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned())))
        .collect();
    let command = format!(
        "{} --stack bridge setup {CHANNEL} --qapla-url {}/1.3 --connectif-url {}",
        env!("CARGO_BIN_EXE_bridge-admin"),
        world.qapla.uri(),
        world.connectif.uri()
    );
    // Qapla' key, language, tracking page, mode, Connectif key, write the secret, no proof.
    let answers = format!(
        "{QAPLA_KEY}\nes\nhttps://shop.example/t/{{trackingNumber}}\napi\n{CONNECTIF_KEY}\ny\n\n"
    );
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TERM", "dumb")
            .envs(envs)
            .current_dir(std::env::temp_dir())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("script runs");
        let mut stdin = child.stdin.take().expect("stdin");
        for line in answers.split_inclusive('\n') {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stdin.write_all(line.as_bytes()).expect("typed");
        }
        child.wait_with_output().expect("output")
    })
    .await
    .expect("thread");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        transcript.contains("The Qapla' channel's private API key (not shown):"),
        "{transcript}"
    );
    assert!(
        transcript.contains("A Connectif API key (keyId:keySecret) (not shown):"),
        "{transcript}"
    );
    assert!(
        transcript.contains("The customers' language (it, es, en, de, fr, pt) [it]: es"),
        "typed answers echo: {transcript}"
    );
    for key in [QAPLA_KEY, CONNECTIF_KEY, "csecret-1"] {
        assert!(
            !transcript.contains(key),
            "a key echoed or shown: {transcript}"
        );
    }
    assert!(
        transcript.contains("(y/n) [y]"),
        "a confirmation before writing: {transcript}"
    );
    let secret = world.secret().await.expect("written");
    assert_eq!(
        (
            secret["language"].as_str(),
            secret["connectif"]["mode"].as_str()
        ),
        (Some("es"), Some("api"))
    );
    assert_eq!(world.connectif.event_types().len(), 5, "{transcript}");
}

/// The opt-in fields and stalled parcels: `setup` writes them into the secret and defines
/// them in Connectif; the strict Connectif then accepts what the bridge sends with them —
/// every sample event through the deployed bridge, and a stall built by the bridge's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_defines_the_opt_in_fields_and_stalls_and_connectif_accepts_them() {
    use bridge_core::connectif::{ConnectifEvent, Fields, ParcelStalled, Reception};
    let world = World::start().await;
    let extras = ["--extra-fields", "statusGroup,courierName,shippedAt"];
    let (code, out, err) = world.setup(&[extras[0], extras[1], "--stalls", "3"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let types = world.connectif.event_types();
    let count = |alias: &str| {
        let t = types.iter().find(|t| t.alias == alias).expect(alias);
        t.fields.len()
    };
    assert_eq!(count("order-status-change"), 12, "the nine and the three");
    assert_eq!(count("order-status-history"), 12);
    assert_eq!(count("parcel-stalled"), 14, "eleven and the three");
    assert_eq!(count("order-shipped"), 11, "orders have no opt-in fields");
    assert!(
        line(&out, "reception event").contains("created with"),
        "{out}"
    );
    let secret = world.secret().await.expect("secret written");
    assert_eq!(
        secret["extraFields"],
        json!(["statusGroup", "courierName", "shippedAt"])
    );
    assert_eq!(secret["stalls"]["afterBusinessDays"], 3);
    let settings =
        bridge_core::channel::ChannelSettings::from_json(&secret.to_string()).expect("valid");

    // Every sample through the deployed bridge, the shipment statuses with the three fields.
    assert_eq!(post_samples(&world.twin).await, 8);
    let arrivals = world.arrivals(8).await;
    for a in &arrivals {
        assert_eq!(a.status, 201, "Connectif refused {}: {}", a.alias, a.detail);
    }
    let statuses: Vec<_> = (arrivals.iter())
        .filter(|a| a.alias == "order-status-change")
        .collect();
    assert!(!statuses.is_empty());
    for a in statuses {
        assert!(
            a.body["statusGroup"].is_string() && a.body["courierName"].is_string(),
            "{:?}",
            a.body
        );
    }

    // A stall as the bridge builds and sends it.
    let last = serde_json::from_value(json!({
        "courierStatus": "EN TRANSITO", "customerEmail": "lucia@example.com",
        "customerName": "Lucía García", "language": "es", "qaplaStatus": "En tránsito",
        "qaplaStatusID": "3", "reference": "R-1", "trackingNumber": "T-1",
        "trackingUrl": "https://shop.example/t/T-1", "statusGroup": "in_transit",
        "courierName": "GLS", "shippedAt": "2026-11-30 09:00:00"
    }))
    .expect("a shipment event");
    let event = ConnectifEvent {
        alias: "parcel-stalled".into(),
        reception: Some(Reception::ParcelStalled),
        fields: Fields::ParcelStalled(ParcelStalled::of(last, 3, "2026-11-30 09:00:00".into())),
    };
    let client = bridge_core::connectif::ConnectifClient::new(
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(5),
    )
    .expect("client");
    (client.send(&settings.connectif, Reception::ParcelStalled, &event))
        .await
        .expect("Connectif accepts the stall");
    let stall = world
        .connectif
        .arrivals()
        .into_iter()
        .last()
        .expect("arrival");
    assert_eq!(
        (stall.alias.as_str(), stall.status),
        ("parcel-stalled", 201),
        "{}",
        stall.detail
    );
    assert_eq!(stall.body["daysWithoutNews"], 3);
}

/// Release links: `setup --release-links` writes `releaseLinks` into the secret, adds
/// `releaseUrl` to `order-status-change` and creates `parcel-release`; the strict Connectif
/// then accepts a `parcel-release` event as the bridge builds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_defines_release_links_and_connectif_accepts_a_release() {
    use bridge_core::connectif::{ConnectifEvent, Fields, ParcelRelease, Reception};
    let world = World::start().await;
    let (code, out, err) = world.setup(&["--release-links", "7"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let types = world.connectif.event_types();
    let of = |alias: &str| {
        types
            .iter()
            .find(|t| t.alias == alias)
            .expect(alias)
            .clone()
    };
    let status = of("order-status-change");
    assert_eq!(status.fields.len(), 10, "the nine and releaseUrl");
    assert!(
        status
            .fields
            .iter()
            .any(|f| f.id == "releaseUrl" && !f.required)
    );
    assert_eq!(
        of("order-status-history").fields.len(),
        9,
        "no link on past statuses"
    );
    let release = of("parcel-release");
    assert_eq!(release.fields.len(), 8);
    let secret = world.secret().await.expect("secret written");
    assert_eq!(secret["releaseLinks"], json!({ "expiresDays": 7 }));
    let settings =
        bridge_core::channel::ChannelSettings::from_json(&secret.to_string()).expect("valid");
    let event = ConnectifEvent {
        alias: "parcel-release".into(),
        reception: Some(Reception::ParcelRelease),
        fields: Fields::ParcelRelease(ParcelRelease {
            action: "redeliver_new_address".into(),
            courier_message: String::new(),
            customer_email: Some("anna@example.com".try_into().expect("email")),
            customer_name: "Anna Verdi".into(),
            language: bridge_core::mapping::Language::It,
            outcome: "pending".into(),
            reference: "R-1".into(),
            tracking_number: "T-1".into(),
        }),
    };
    let client = bridge_core::connectif::ConnectifClient::new(
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(5),
    )
    .expect("client");
    (client.send(&settings.connectif, Reception::ParcelRelease, &event))
        .await
        .expect("Connectif accepts the release");
    let last = world
        .connectif
        .arrivals()
        .into_iter()
        .last()
        .expect("arrival");
    assert_eq!(
        (last.alias.as_str(), last.status),
        ("parcel-release", 201),
        "{}",
        last.detail
    );
}

/// `setup --contact-fields --extra-fields estimatedDelivery`: the three contact fields
/// created with their documented types (once: a second run creates nothing), the two
/// estimate fields on `order-status-change`, both settings in the secret; a contact field of
/// the same id and another type stops `setup` with the panel's steps, unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_creates_the_contact_fields_and_the_estimate_fields_once() {
    let world = World::start().await;
    let args = ["--contact-fields", "--extra-fields", "estimatedDelivery"];
    let (code, out, err) = world.setup(&args).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        line(&out, "contact fields").contains("created qaplaLastStatusAt"),
        "{out}"
    );
    let fields = world.connectif.contact_fields();
    let kinds: Vec<(&str, &str)> = fields
        .iter()
        .map(|(id, _, k)| (id.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("qaplaLastStatusGroup", "text"),
            ("qaplaLastTrackingNumber", "text"),
            ("qaplaLastStatusAt", "date")
        ]
    );
    let status = (world.connectif.event_types().into_iter())
        .find(|t| t.alias == "order-status-change")
        .expect("order-status-change");
    for id in ["estimatedDelivery", "estimatedDeliverySource"] {
        let f = status.fields.iter().find(|f| f.id == id).expect(id);
        assert_eq!((f.kind.as_str(), f.required), ("text", false));
    }
    let secret = world.secret().await.expect("secret written");
    assert_eq!(secret["contactFields"], true);
    assert_eq!(secret["extraFields"], json!(["estimatedDelivery"]));
    let writes = world.connectif.writes();
    let (code, out, err) = world.setup(&[]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        line(&out, "contact fields").contains("qaplaLastStatusAt exists"),
        "{out}"
    );
    // `doctor` reads them back.
    let connectif = world.connectif.uri();
    let doctor = ["doctor", CHANNEL, "--connectif-url", &connectif];
    let (_, out, _) = run(&world.moto, &world.cw, &doctor).await;
    assert!(
        line(&out, "connectif contact fields").starts_with('✓'),
        "{out}"
    );
    assert_eq!(world.connectif.writes(), writes, "nothing created twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_field_of_another_type_stops_setup_unchanged() {
    let world = World::start().await;
    world
        .connectif
        .add_contact_field("qaplaLastStatusAt", "Last status", "text");
    let (code, out, _) = world.setup(&["--contact-fields"]).await;
    assert_ne!(code, 0, "{out}");
    let step = line(&out, "contact fields");
    assert!(
        step.contains("exists as text, the bridge writes date"),
        "{out}"
    );
    assert!(
        out.contains("delete the contact field `qaplaLastStatusAt`"),
        "{out}"
    );
    assert_eq!(
        world.connectif.contact_fields().len(),
        1,
        "nothing else created"
    );
}
