//! A held parcel released from the e-mail, end to end: the webhook's post of a parcel held at
//! the depot → its `order-status-change` event with `releaseUrl` (accepted by the strict
//! Connectif) → the release page served by the real handler → Qapla' v2 (a stand-in written
//! from Qapla's pages: `testkit::qapla_v2`) → the `parcel-release` event, once. The
//! `browser` module drives the same page in headless Chromium.

use crate::helpers::*;
use bridge_core::config::Config;
use bridge_core::connectif::{Reception, schema};
use bridge_core::links::{Link, LinkKey};
use bridge_core::qapla::ShipmentPayload;
use bridge_core::release::{self, Deps};
use serde_json::{Value, json};
use std::sync::Arc;
use testkit::connectif::{EventType, Field, StrictConnectif};
use testkit::qapla_v2::{Held, QaplaV2};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

pub const LINK_KEY: &str = "test-release-link-key-0123456789abcdef0123456789";
pub const SHIPMENT_ID: &str = "1234567890";
const TRACKING: &str = "2253647804";

pub struct Stack {
    pub connectif: StrictConnectif,
    /// Qapla's v1.3 and v2 stand-ins (kept serving for the stack's life).
    pub _qapla: MockServer,
    pub v2: QaplaV2,
    pub webhook: bridge_core::webhook::Deps,
    pub release: Arc<Deps>,
    /// The release page's base URL (its real handler on loopback).
    pub page: String,
}

/// The strict Connectif with the bridge's event types (`order-status-change` with
/// `releaseUrl`, `parcel-release`), as `setup --release-links` creates them.
async fn connectif() -> StrictConnectif {
    connectif_with(&[
        (
            Reception::ShipmentStatus,
            vec![bridge_core::channel::ExtraField::ReleaseUrl],
        ),
        (Reception::ParcelRelease, vec![]),
    ])
    .await
}

/// The strict Connectif with these reception events, each with the opt-in fields given, as
/// `setup` creates them (`schema::fields_with`).
pub async fn connectif_with(
    types: &[(Reception, Vec<bridge_core::channel::ExtraField>)],
) -> StrictConnectif {
    let fake = StrictConnectif::start(CONNECTIF_API_KEY).await;
    let integration = fake.add_integration("Qapla' bridge");
    let aliases = bridge_core::channel::Aliases::default();
    for (reception, extras) in types {
        let fields = (schema::fields_with(*reception, extras).into_iter())
            .map(|f| Field {
                id: f.id,
                name: f.name,
                kind: serde_json::to_value(&f.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                required: f.required,
                is_primary_key: f.is_primary_key,
            })
            .collect();
        fake.add_event_type(
            &integration,
            EventType {
                id: String::new(),
                integration: String::new(),
                alias: aliases.get(*reception).to_owned(),
                receive_type: "api".into(),
                name: aliases.get(*reception).to_owned(),
                fields,
            },
        );
    }
    fake
}

/// getShipment (v1.3) of the held parcel: Qapla's example answer's shape, with its `id`.
fn get_shipment(courier: &str) -> Value {
    json!({ "getShipment": { "result": "OK", "error": "", "lang": "it", "shipment": {
        "id": SHIPMENT_ID, "trackingNumber": TRACKING, "reference": "2007135",
        "courier": { "code": courier, "name": courier },
        "url": "https://tracking.qapla.it/abc",
        "consignee": { "name": "Anna Verdi", "email": "anna.verdi@example.com", "country": "IT" },
    } } })
}

impl Stack {
    pub async fn start(courier: &str) -> Stack {
        let connectif = connectif().await;
        let qapla = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/1.3/getShipment/"))
            .and(query_param("trackingNumber", TRACKING))
            .respond_with(testkit::qapla::GetShipment {
                answer: get_shipment(courier),
            })
            .mount(&qapla)
            .await;
        let v2 = QaplaV2::mount(&qapla, IT_KEY).await;
        v2.add(
            SHIPMENT_ID,
            Held {
                courier: courier.into(),
                held: true,
                refuses: false,
            },
        );
        let store = bridge_core::channel::MemoryStore::default();
        let secret = json!({
            "qaplaApiKey": IT_KEY,
            "language": "it",
            "trackingUrlTemplate": "https://shop.example/track/{trackingNumber}",
            "qaplaApiBaseUrl": format!("{}/1.3", qapla.uri()),
            "qaplaV2BaseUrl": format!("{}/v2", qapla.uri()),
            "releaseLinks": { "expiresDays": 7 },
            "connectif": { "mode": "api", "apiKey": CONNECTIF_API_KEY, "baseUrl": connectif.uri() },
        });
        store.put(channel("it"), secret.to_string());
        let store = Arc::new(store);
        // The page's address first: the links the worker signs point at it.
        let slot: Arc<tokio::sync::OnceCell<Arc<Deps>>> = Arc::default();
        let serving = slot.clone();
        let page = testkit::page::serve(move |event| {
            let serving = serving.clone();
            async move {
                let deps = serving.get().expect("deps").clone();
                release::handle(&deps, event, bridge_core::qapla::time::italian_now()).await
            }
        })
        .await;
        let config = Config {
            release_link_key: Some(LINK_KEY.to_owned().into()),
            release_base_url: Some(page.clone()),
            ..test_config()
        };
        let bridge = config.bridge().with_channel_store(store);
        let release = Arc::new(bridge.release_deps().await.expect("release deps"));
        let _ = slot.set(release.clone());
        Stack {
            webhook: bridge.webhook_deps().await.expect("webhook deps"),
            connectif,
            _qapla: qapla,
            v2,
            release,
            page,
        }
    }

    /// Qapla' posts the held parcel; the link its event carried.
    pub async fn post_held(&self) -> String {
        let answer = send::<ShipmentPayload>(
            &self.webhook,
            post(
                "/qapla/it/shipments",
                fixture("shipment-v1.2-exception-on-hold.json"),
            ),
        )
        .await;
        assert_eq!(answer, (200, ok()));
        let held = self.events("order-status-change");
        assert_eq!(held.len(), 1, "one held event: {held:?}");
        held[0]["releaseUrl"]
            .as_str()
            .expect("releaseUrl")
            .to_owned()
    }

    /// The bodies Connectif accepted for `alias`.
    pub fn events(&self, alias: &str) -> Vec<Value> {
        (self.connectif.arrivals().into_iter())
            .filter(|a| a.alias == alias && a.status < 300)
            .map(|a| a.body)
            .collect()
    }

    /// A link to the held parcel signed with the stack's key, as `change` makes it.
    pub fn link(&self, change: impl FnOnce(&mut Link)) -> String {
        let now = bridge_core::qapla::time::italian_now();
        let mut link = Link {
            channel: "it".into(),
            shipment_id: SHIPMENT_ID.into(),
            tracking_number: TRACKING.into(),
            reference: "2007135".into(),
            courier: "BRT".into(),
            language: "it".into(),
            held_at: now - 3600,
            not_before: now - 3600,
            expires: now + 86_400,
        };
        change(&mut link);
        let key = LinkKey::new(LINK_KEY.to_owned().into()).expect("key");
        format!("{}/release/{}", self.page, key.sign(&link))
    }
}

/// The page at `url` through the real handler: (status, HTML).
async fn page(stack: &Stack, verb: &str, url: &str, form: &str) -> (u16, String) {
    let raw_path = url.trim_start_matches(&stack.page).to_owned();
    let event = request(verb, &raw_path, Some(form));
    let now = bridge_core::qapla::time::italian_now();
    let answer = release::handle(&stack.release, event, now).await;
    (answer.status_code, answer.body)
}

fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn verdict(html: &str) -> &str {
    let start = html.find("data-verdict=\"").map(|i| i + 14).unwrap_or(0);
    html[start..].split('"').next().unwrap_or_default()
}

#[tokio::test]
async fn a_held_parcels_event_carries_a_link_that_releases_it_once_and_tells_connectif() {
    let stack = Stack::start("GLS").await;
    let url = stack.post_held().await;
    assert!(
        url.starts_with(&format!("{}/release/", stack.page)),
        "{url}"
    );
    let (status, form) = page(&stack, "GET", &url, "").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("2253647804") && form.contains("2007135"),
        "the parcel is shown"
    );
    assert!(!form.contains("anna"), "no contact data on the page");
    let body = format!("csrf={}&action=redeliver", csrf(&form));
    let (status, done) = page(&stack, "POST", &url, &body).await;
    assert_eq!((status, verdict(&done)), (200, "ok"), "{done}");
    assert_eq!(
        stack.v2.releases(),
        [(SHIPMENT_ID.to_owned(), json!({ "action": "redeliver" }))]
    );
    // A double click, the back button: the first outcome, never a second release.
    let (_, again) = page(&stack, "POST", &url, &body).await;
    assert_eq!(verdict(&again), "ok");
    let (_, reopened) = page(&stack, "GET", &url, "").await;
    assert_eq!(verdict(&reopened), "ok");
    assert_eq!(stack.v2.releases().len(), 1);
    assert_eq!(stack.v2.exchanges(), 1, "one token exchange");
    let told = stack.events("parcel-release");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["customerEmail"], "anna.verdi@example.com");
    assert_eq!(told[0]["trackingNumber"], TRACKING);
    assert_eq!(
        (&told[0]["action"], &told[0]["outcome"]),
        (&json!("redeliver"), &json!("ok"))
    );
}

#[tokio::test]
async fn a_new_address_is_checked_then_sent_whole_and_brt_answers_later() {
    let stack = Stack::start("BRT").await;
    let url = stack.link(|_| {});
    let (_, form) = page(&stack, "GET", &url, "").await;
    let token = csrf(&form);
    let wrong = format!(
        "csrf={token}&action=redeliver_new_address&name=Anna+Verdi&street=Via+Po+2&city=Torino&zip=1%21&province="
    );
    let (status, again) = page(&stack, "POST", &url, &wrong).await;
    assert_eq!(status, 400);
    assert!(again.contains("id=\"error-zip\"") && again.contains("id=\"error-province\""));
    assert!(again.contains("value=\"Via Po 2\""), "what was typed stays");
    assert!(
        stack.v2.releases().is_empty(),
        "nothing sent while the form is wrong"
    );
    let right = format!(
        "csrf={token}&action=redeliver_new_address&name=Anna+Verdi&street=Via+Po+2&city=Torino&zip=10100&province=TO"
    );
    let (_, done) = page(&stack, "POST", &url, &right).await;
    assert_eq!(verdict(&done), "pending", "BRT answers later");
    let address = json!({ "name": "Anna Verdi", "street": "Via Po 2", "city": "Torino", "zip": "10100", "province": "TO" });
    assert_eq!(
        stack.v2.releases(),
        [(
            SHIPMENT_ID.to_owned(),
            json!({ "action": "redeliver_new_address", "address": address })
        )]
    );
}

#[tokio::test]
async fn refusals_not_held_and_a_refused_token_each_have_their_outcome() {
    let stack = Stack::start("GLS").await;
    // The courier refuses: its message is shown and kept.
    stack.v2.add(
        SHIPMENT_ID,
        Held {
            courier: "GLS".into(),
            held: true,
            refuses: true,
        },
    );
    let url = stack.link(|l| l.held_at += 1);
    let (_, form) = page(&stack, "GET", &url, "").await;
    let (_, done) = page(
        &stack,
        "POST",
        &url,
        &format!("csrf={}&action=return_to_sender", csrf(&form)),
    )
    .await;
    assert_eq!(verdict(&done), "error");
    assert!(done.contains("Carrier rejected the request"), "{done}");
    // Not held (anymore): 409.
    stack.v2.add(
        SHIPMENT_ID,
        Held {
            courier: "GLS".into(),
            held: false,
            refuses: false,
        },
    );
    let url = stack.link(|l| l.held_at += 2);
    let (_, form) = page(&stack, "GET", &url, "").await;
    let (_, done) = page(
        &stack,
        "POST",
        &url,
        &format!("csrf={}&action=redeliver", csrf(&form)),
    )
    .await;
    assert_eq!(verdict(&done), "not_held");
    // A token Qapla' stops taking is exchanged again, once.
    stack.v2.add(
        SHIPMENT_ID,
        Held {
            courier: "GLS".into(),
            held: true,
            refuses: false,
        },
    );
    stack.v2.revoke_tokens();
    let url = stack.link(|l| l.held_at += 3);
    let (_, form) = page(&stack, "GET", &url, "").await;
    let (_, done) = page(
        &stack,
        "POST",
        &url,
        &format!("csrf={}&action=redeliver", csrf(&form)),
    )
    .await;
    assert_eq!(verdict(&done), "ok");
    assert_eq!(stack.v2.exchanges(), 2);
}

#[tokio::test]
async fn a_missing_scope_gives_the_claim_back_so_the_customer_can_try_again() {
    let stack = Stack::start("GLS").await;
    stack.v2.scopes(&["parcels:read"]);
    let url = stack.link(|_| {});
    let (_, form) = page(&stack, "GET", &url, "").await;
    let body = format!("csrf={}&action=redeliver", csrf(&form));
    let (status, refused) = page(&stack, "POST", &url, &body).await;
    assert_eq!(status, 502);
    assert!(
        refused.contains("id=\"notice\""),
        "a page, never an error: {refused}"
    );
    stack.v2.scopes(&["shipments:write"]);
    stack.v2.revoke_tokens();
    let (_, done) = page(&stack, "POST", &url, &body).await;
    assert_eq!(verdict(&done), "ok");
    assert_eq!(stack.v2.releases().len(), 1);
}

#[tokio::test]
async fn forged_expired_and_foreign_form_links_get_a_plain_page() {
    let stack = Stack::start("GLS").await;
    let expired = stack.link(|l| l.expires -= 2 * 86_400);
    let (status, html) = page(&stack, "GET", &expired, "").await;
    assert_eq!(status, 410);
    assert!(
        html.contains("Questo link è scaduto"),
        "in the link's language: {html}"
    );
    let forged = format!("{}x", stack.link(|_| {}));
    let (status, html) = page(&stack, "GET", &forged, "").await;
    assert_eq!(status, 404);
    assert!(html.contains("id=\"notice\""));
    let later = stack.link(|l| l.not_before += 2 * 86_400);
    assert_eq!(page(&stack, "GET", &later, "").await.0, 403);
    // A form served for another link does not work for this one.
    let other = stack.link(|l| l.held_at += 9);
    let (_, form) = page(&stack, "GET", &other, "").await;
    let url = stack.link(|_| {});
    let body = format!("csrf={}&action=redeliver", csrf(&form));
    assert_eq!(page(&stack, "POST", &url, &body).await.0, 403);
    assert!(stack.v2.releases().is_empty());
    for (_, value) in bridge_core::release::page::headers() {
        assert!(!value.is_empty());
    }
}

/// The same page in headless Chromium (Debian's `chromium` and `chromium-driver`, which
/// `make test` installs), driven through WebDriver: skipped by `make check`.
mod browser {
    use super::*;
    use fantoccini::{ClientBuilder, Locator};
    use std::os::unix::process::CommandExt;

    struct Driver(std::process::Child);

    /// ChromeDriver in a process group of its own, so that the browsers it starts go with it
    /// even when a test fails before closing its session.
    impl Drop for Driver {
        fn drop(&mut self) {
            let group = format!("-{}", self.0.id());
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &group])
                .status();
            let _ = self.0.wait();
        }
    }

    async fn chromium() -> (Driver, fantoccini::Client) {
        let port = testkit::free_port();
        let driver = std::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver (make test installs Debian's chromium-driver)");
        let driver = Driver(driver);
        let profile = std::env::temp_dir().join(testkit::unique("chromium-profile"));
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=420,900",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..300 {
            let client =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await;
            match client {
                Ok(client) => return (driver, client),
                Err(e) => last = Some(e.to_string()),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start: {last:?}");
    }

    /// The text of `css` on the page, once the page that has it is there.
    async fn text(c: &fantoccini::Client, css: &str) -> String {
        let found = c.wait().for_element(Locator::Css(css)).await.expect(css);
        found.text().await.expect("text")
    }

    /// The outcome shown, once the outcome page is there.
    async fn shown(c: &fantoccini::Client) -> Option<String> {
        let found = c.wait().for_element(Locator::Id("outcome")).await;
        found
            .expect("outcome")
            .attr("data-verdict")
            .await
            .expect("attr")
    }

    async fn fill(c: &fantoccini::Client, field: &str, value: &str) {
        let input = c.find(Locator::Id(field)).await.expect(field);
        input.clear().await.expect("clear");
        input.send_keys(value).await.expect("type");
    }

    async fn shoot(c: &fantoccini::Client, name: &str) {
        let png = c.screenshot().await.expect("screenshot");
        let dir = testkit::workspace().join("target/release-page");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(name), png).expect("png");
    }

    #[tokio::test]
    async fn a_customer_releases_a_held_parcel_in_a_real_browser() {
        let stack = Stack::start("GLS").await;
        let url = stack.post_held().await;
        let (_driver, c) = chromium().await;
        c.goto(&url).await.expect("open the link");
        assert_eq!(text(&c, "h1").await, "Il tuo pacco è in giacenza");
        shoot(&c, "release-it.png").await;
        c.find(Locator::Id("redeliver_new_address"))
            .await
            .expect("radio")
            .click()
            .await
            .expect("pick");
        for (field, value) in [
            ("name", "Anna Verdi"),
            ("street", "Via Po 2"),
            ("city", "Torino"),
            ("zip", "1!"),
            ("province", "TO"),
        ] {
            fill(&c, field, value).await;
        }
        c.find(Locator::Id("submit"))
            .await
            .expect("button")
            .click()
            .await
            .expect("submit");
        assert_eq!(text(&c, "#error-zip").await, "Il valore non è valido.");
        assert!(stack.v2.releases().is_empty());
        fill(&c, "zip", "10100").await;
        c.find(Locator::Id("submit"))
            .await
            .expect("button")
            .click()
            .await
            .expect("submit");
        assert_eq!(shown(&c).await.as_deref(), Some("ok"));
        // Back to the form, and submit it again: the first outcome, no second release.
        c.back().await.expect("back");
        if let Ok(button) = c.find(Locator::Id("submit")).await {
            button.click().await.expect("submit again");
        } else {
            c.refresh().await.expect("reload");
        }
        assert_eq!(shown(&c).await.as_deref(), Some("ok"), "the first outcome");
        assert_eq!(stack.v2.releases().len(), 1);
        assert_eq!(stack.events("parcel-release").len(), 1);
        // The two other actions, each on a link of its own hold.
        let choices = [
            ("redeliver", "Riconsegnarlo allo stesso indirizzo"),
            ("return_to_sender", "Rimandarlo al negozio"),
        ];
        for (i, (action, label)) in choices.into_iter().enumerate() {
            let link = stack.link(|l| l.held_at += 100 + i as i64);
            c.goto(&link).await.expect("open");
            let radio = c
                .wait()
                .for_element(Locator::Id(action))
                .await
                .expect(action);
            radio.click().await.expect("pick");
            c.find(Locator::Id("submit"))
                .await
                .expect("button")
                .click()
                .await
                .expect("submit");
            assert_eq!(shown(&c).await.as_deref(), Some("ok"), "{action}");
            assert_eq!(text(&c, "#chosen").await, label);
        }
        let actions: Vec<Value> = (stack.v2.releases().into_iter())
            .map(|(_, body)| body["action"].clone())
            .collect();
        assert_eq!(
            actions,
            [
                json!("redeliver_new_address"),
                json!("redeliver"),
                json!("return_to_sender")
            ]
        );
        // An expired link and a forged one: plain pages.
        c.goto(&stack.link(|l| l.expires -= 2 * 86_400))
            .await
            .expect("expired");
        assert_eq!(text(&c, "h1").await, "Questo link è scaduto");
        c.goto(&format!("{url}x")).await.expect("forged");
        assert_eq!(text(&c, "h1").await, "Questo link non è valido");
        // The same page in German, for the docs.
        c.goto(&stack.link(|l| {
            l.language = "de".into();
            l.held_at += 5;
        }))
        .await
        .expect("de");
        assert_eq!(text(&c, "h1").await, "Ihr Paket liegt im Depot");
        shoot(&c, "release-de.png").await;
        c.close().await.expect("close");
    }
}

/// events/release-page-open.json (for `sam local invoke ReleaseFunction`, signed by
/// scripts/make-events.py with env.json's local key) opens its form through the handler.
#[tokio::test]
async fn the_release_pages_sample_is_its_form() {
    let dir = testkit::workspace().join("events");
    let env: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("env.json")).expect("env.json"))
            .expect("JSON");
    let vars = &env["ReleaseFunction"];
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("release-page-open.json")).expect("sample"),
    )
    .expect("JSON");
    let config = config_from(&[
        (
            "CHANNELS_JSON",
            vars["CHANNELS_JSON"].as_str().expect("channels"),
        ),
        (
            "RELEASE_LINK_KEY",
            vars["RELEASE_LINK_KEY"].as_str().expect("key"),
        ),
    ]);
    let deps = config
        .bridge()
        .release_deps()
        .await
        .expect("local release deps");
    let answer = release::handle(&deps, sample, bridge_core::qapla::time::italian_now()).await;
    assert_eq!(answer.status_code, 200, "{}", answer.body);
    assert!(answer.body.contains("name=\"csrf\"") && answer.body.contains("2253647804"));
}

/// A stock-release whose answer never comes may have reached the courier: `unconfirmed`,
/// kept, never asked again. A token exchange that never answers asked nothing: the claim
/// is given back and the next submission releases.
#[tokio::test]
async fn a_lost_answer_is_unconfirmed_and_a_lost_token_exchange_is_tried_again() {
    use std::time::Duration;
    use wiremock::ResponseTemplate;
    let stack = Stack::start("GLS").await;
    let slow = ResponseTemplate::new(200).set_delay(TEST_TIMEOUT + Duration::from_secs(1));
    Mock::given(method("POST"))
        .and(path("/v2/auth/token"))
        .respond_with(slow.clone())
        .with_priority(1)
        .up_to_n_times(1)
        .mount(&stack._qapla)
        .await;
    let url = stack.link(|_| {});
    let (_, form) = page(&stack, "GET", &url, "").await;
    let body = format!("csrf={}&action=redeliver", csrf(&form));
    let (status, busy) = page(&stack, "POST", &url, &body).await;
    assert_eq!(status, 503, "{busy}");
    let (_, done) = page(&stack, "POST", &url, &body).await;
    assert_eq!(verdict(&done), "ok", "the claim was given back");
    // The release itself times out after it left.
    stack.v2.add(
        "999",
        Held {
            courier: "GLS".into(),
            held: true,
            refuses: false,
        },
    );
    Mock::given(method("POST"))
        .and(path("/v2/shipments/999/stock-release"))
        .respond_with(slow)
        .with_priority(1)
        .mount(&stack._qapla)
        .await;
    let url = stack.link(|l| l.shipment_id = "999".into());
    let (_, form) = page(&stack, "GET", &url, "").await;
    let body = format!("csrf={}&action=redeliver", csrf(&form));
    let (_, lost) = page(&stack, "POST", &url, &body).await;
    assert_eq!(verdict(&lost), "unconfirmed", "{lost}");
    let (_, again) = page(&stack, "POST", &url, &body).await;
    assert_eq!(verdict(&again), "unconfirmed", "never sent twice");
}
