//! The optional Qapla' sender allow-list (`ALLOWED_SENDERS`): posts from other addresses get
//! the same opaque KO as a wrong key, cost no settings read, and every line names the source.

use crate::helpers::*;
use bridge_core::qapla::ShipmentPayload;
use bridge_core::webhook::{Deps, QAPLA_SENDERS, Senders};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn from(source: &str, body: String) -> Value {
    let mut event = post("/qapla/it/shipments", body);
    event["requestContext"]["http"]["sourceIp"] = source.into();
    event
}

/// The usual channels behind a store that counts its reads, posts allowed from `senders`.
async fn deps_counting(connectif: &str, senders: &str) -> (Deps, Arc<CountingStore>) {
    let counting = Arc::new(CountingStore {
        inner: store(Mode::Endpoint, connectif),
        loads: Default::default(),
    });
    let config = Config {
        senders: Senders::parse(senders).expect("allow-list"),
        ..test_config()
    };
    let deps = config.bridge().with_channel_store(counting.clone());
    (deps.webhook_deps().await.expect("deps"), counting)
}

#[tokio::test]
async fn with_the_published_list_on_only_qapla_addresses_get_through() {
    let server = connectif_expecting(2).await;
    let (deps, reads) = deps_counting(&server.uri(), QAPLA_SENDERS).await;
    let logs = Logs::capture();
    let delivered = fixture("shipment-v1.3-delivered.json");
    let outsiders = ["203.0.113.7", "", "127.0.0.1", "::1", "34.96.89.10"];
    for source in outsiders {
        let (status, answer) =
            send::<ShipmentPayload>(&deps, from(source, delivered.clone())).await;
        assert_eq!((status, answer), (401, ko()), "{source:?}");
    }
    assert_eq!(reads.loads.load(Ordering::SeqCst), 0, "no settings read");
    let refused: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l["outcome"] == "rejected")
        .collect();
    assert_eq!(refused.len(), outsiders.len());
    for (line, source) in refused.iter().zip(outsiders) {
        assert_eq!(line["reason"], "sender_not_allowed");
        assert_eq!(line["source_ip"], source);
    }
    for qapla in ["34.96.89.1", "35.195.158.219"] {
        let (status, answer) = send::<ShipmentPayload>(&deps, from(qapla, delivered.clone())).await;
        assert_eq!((status, answer), (200, ok()), "{qapla}");
    }
    let events: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l["outcome"] == "delivered")
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["source_ip"], "34.96.89.1");
}

#[tokio::test]
async fn the_refusal_looks_like_a_wrong_key() {
    let server = connectif_expecting(0).await;
    let (deps, _) = deps_counting(&server.uri(), "34.96.89.1").await;
    let outsider = send::<ShipmentPayload>(
        &deps,
        from("198.51.100.1", fixture("shipment-v1.3-delivered.json")),
    )
    .await;
    let wrong_key = fixture("shipment-v1.3-delivered.json").replace(IT_KEY, "not-the-key");
    let wrong_key = send::<ShipmentPayload>(&deps, from("34.96.89.1", wrong_key)).await;
    assert_eq!(outsider, wrong_key);
    // Even a GET from an outsider learns nothing more (no 405 and `allow`).
    let mut get = from("198.51.100.1", String::new());
    get["requestContext"]["http"]["method"] = "GET".into();
    assert_eq!(send::<ShipmentPayload>(&deps, get).await, wrong_key);
}

#[tokio::test]
async fn switched_off_every_sender_is_served_and_refusals_still_name_the_source() {
    let server = connectif_expecting(1).await;
    let (deps, _) = deps_counting(&server.uri(), "").await;
    let logs = Logs::capture();
    let delivered = fixture("shipment-v1.3-delivered.json");
    let (status, _) = send::<ShipmentPayload>(&deps, from("203.0.113.7", delivered.clone())).await;
    assert_eq!(status, 200);
    let wrong = delivered.replace(IT_KEY, "not-the-key");
    let (status, _) = send::<ShipmentPayload>(&deps, from("203.0.113.8", wrong)).await;
    assert_eq!(status, 401);
    let refused = logs
        .lines()
        .into_iter()
        .find(|l| l["outcome"] == "rejected")
        .expect("refusal line");
    assert_eq!(
        (&refused["reason"], &refused["source_ip"]),
        (&"wrong_api_key".into(), &"203.0.113.8".into())
    );
}

/// The stack passes its allow-list parameter to the webhooks, off by default, documenting
/// the list the code knows; the API's throttle is the parameters', with safe defaults.
#[test]
fn the_stack_wires_the_allow_list_and_the_throttle_from_its_parameters() {
    use serde_yaml::Value as Yaml;
    let text = std::fs::read_to_string(workspace().join("template.yaml")).expect("template");
    let template: Yaml = serde_yaml::from_str(&text).expect("YAML");
    let refers_to = |v: &Yaml, parameter: &str| match v {
        Yaml::Tagged(t) => t.tag == "!Ref" && t.value == parameter,
        _ => false,
    };
    let parameter = &template["Parameters"]["QaplaSenderAllowList"];
    assert_eq!(parameter["Default"], Yaml::from(""), "off by default");
    let described = parameter["Description"].as_str().expect("description");
    assert!(
        described.contains(QAPLA_SENDERS),
        "documents the published list"
    );
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(refers_to(
        &variables["ALLOWED_SENDERS"],
        "QaplaSenderAllowList"
    ));

    let routes = &template["Resources"]["WebhookApi"]["Properties"]["DefaultRouteSettings"];
    assert!(refers_to(
        &routes["ThrottlingRateLimit"],
        "WebhookThrottleRate"
    ));
    assert!(refers_to(
        &routes["ThrottlingBurstLimit"],
        "WebhookThrottleBurst"
    ));
    let default = |name: &str| {
        template["Parameters"][name]["Default"]
            .as_u64()
            .expect("a number")
    };
    let (rate, burst) = (
        default("WebhookThrottleRate"),
        default("WebhookThrottleBurst"),
    );
    // Far above a shop's peak (under 1 post/s, bursts of tens); a flood's cost bounded.
    assert!((10..=100).contains(&rate), "rate {rate}/s");
    assert!(
        (50..=500).contains(&burst) && burst >= rate,
        "burst {burst}"
    );
}
