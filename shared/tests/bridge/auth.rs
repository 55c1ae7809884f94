//! Per-channel authentication: the key in the body against the channel's secret, cached,
//! re-read once on a mismatch (rotation), read through the real SDK from moto_server.

use crate::helpers::*;
use bridge_core::aws::SecretsManagerStore;
use bridge_core::channel::{CacheLimits, ChannelStore, MemoryStore};
use bridge_core::qapla::ShipmentPayload;
use bridge_core::webhook::Webhook;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn delivered_with_key(key: &str) -> String {
    fixture("shipment-v1.3-delivered.json").replace(IT_KEY, key)
}

#[tokio::test]
async fn the_right_key_is_accepted() {
    let server = connectif_expecting(1).await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let (status, answer) = send::<ShipmentPayload>(
        &deps,
        post(
            "/qapla/it/shipments",
            fixture("shipment-v1.3-delivered.json"),
        ),
    )
    .await;
    assert_eq!((status, answer), (200, ok()));
}

#[tokio::test]
async fn wrong_key_unknown_channel_and_missing_key_look_the_same() {
    let server = connectif_expecting(0).await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let mut missing = fixture_json("shipment-v1.3-delivered.json");
    missing.as_object_mut().expect("object").remove("apiKey");
    let cases = [
        post(
            "/qapla/it/shipments",
            delivered_with_key("test-channel-key-xx"),
        ),
        post(
            "/qapla/fr/shipments",
            fixture("shipment-v1.3-delivered.json"),
        ),
        post("/qapla/it/shipments", missing.to_string()),
        // the Spanish channel's real key, presented to the Italian channel
        post("/qapla/it/shipments", delivered_with_key(ES_KEY)),
    ];
    for req in cases {
        let (status, answer) = send::<ShipmentPayload>(&deps, req).await;
        assert_eq!((status, answer), (401, ko()));
    }
}

/// `bridge-admin trace` finds a parcel's refused posts by the key on the refusal line.
#[tokio::test]
async fn a_refused_post_logs_the_keys_it_carried_never_the_presented_key() {
    use bridge_core::qapla::OrdersPayload;
    let server = connectif_expecting(0).await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let logs = Logs::capture();
    let wrong = post(
        "/qapla/it/shipments",
        delivered_with_key("test-channel-key-xx"),
    );
    assert_eq!(send::<ShipmentPayload>(&deps, wrong).await.0, 401);
    let orders = fixture("orders.json").replace(IT_KEY, "test-channel-key-xx");
    let wrong = post("/qapla/it/orders", orders);
    assert_eq!(send::<OrdersPayload>(&deps, wrong).await.0, 401);
    let refused: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l["outcome"] == "rejected")
        .collect();
    let tracking = fixture_json("shipment-v1.3-delivered.json")["trackingNumber"].clone();
    assert_eq!(refused[0]["key"], tracking);
    let references: Vec<String> = fixture_json("orders.json")["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["reference"].as_str().expect("reference").to_owned())
        .collect();
    assert_eq!(refused[1]["key"], references.join(","));
    assert!(!logs.text().contains("test-channel-key-xx"));
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_after_one_re_read() {
    let server = connectif_expecting(2).await;
    let memory = store(Mode::Endpoint, &server.uri());
    let counting = Arc::new(CountingStore {
        inner: memory.clone(),
        loads: AtomicUsize::new(0),
    });
    let deps = deps_with(counting.clone(), Duration::ZERO).await;
    let old = fixture("shipment-v1.3-delivered.json");
    assert_eq!(
        send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", old.clone()))
            .await
            .0,
        200
    );
    assert_eq!(counting.loads.load(Ordering::SeqCst), 1);
    // Rotate in the store: the cache still holds the old key.
    memory.put(
        channel("it"),
        secret(Mode::Endpoint, &server.uri(), "rotated-key", "it").to_string(),
    );
    assert_eq!(
        send::<ShipmentPayload>(
            &deps,
            post("/qapla/it/shipments", delivered_with_key("rotated-key"))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        counting.loads.load(Ordering::SeqCst),
        2,
        "one re-read on the mismatch"
    );
    assert_eq!(
        send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", old))
            .await
            .0,
        401,
        "the old key is refused"
    );
}

#[tokio::test]
async fn wrong_keys_do_not_re_read_settings_more_than_once_per_interval() {
    let server = connectif_expecting(0).await;
    let counting = Arc::new(CountingStore {
        inner: store(Mode::Endpoint, &server.uri()),
        loads: AtomicUsize::new(0),
    });
    let deps = deps_with(counting.clone(), Duration::from_secs(60)).await;
    for _ in 0..20 {
        let (status, _) = send::<ShipmentPayload>(
            &deps,
            post("/qapla/it/shipments", delivered_with_key("guess")),
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_eq!(counting.loads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn settings_are_cached_across_invocations() {
    let server = connectif_expecting(5).await;
    let counting = Arc::new(CountingStore {
        inner: store(Mode::Endpoint, &server.uri()),
        loads: AtomicUsize::new(0),
    });
    let deps = deps_with(counting.clone(), Duration::ZERO).await;
    for _ in 0..5 {
        let (status, _) = send::<ShipmentPayload>(
            &deps,
            post(
                "/qapla/it/shipments",
                fixture("shipment-v1.3-delivered.json"),
            ),
        )
        .await;
        assert_eq!(status, 200);
    }
    assert_eq!(counting.loads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_invalid_secret_answers_503_so_qapla_retries() {
    let memory = MemoryStore::default();
    memory.put(
        channel("it"),
        r#"{"qaplaApiKey":"test-channel-key-it"}"#.into(),
    );
    let deps = deps_with(Arc::new(memory), Duration::ZERO).await;
    let logs = Logs::capture();
    let (status, answer) = send::<ShipmentPayload>(
        &deps,
        post(
            "/qapla/it/shipments",
            fixture("shipment-v1.3-delivered.json"),
        ),
    )
    .await;
    assert_eq!((status, answer), (503, ko()));
    assert!(
        logs.text().contains("missing field `connectif`"),
        "the log names the missing field"
    );
}

#[tokio::test]
async fn secrets_manager_unreachable_answers_503() {
    let port = free_port();
    let client = secrets_client(&format!("http://127.0.0.1:{port}"));
    let sm = Arc::new(SecretsManagerStore::new(client, "qapla-connectif"));
    let deps = deps_with(sm, Duration::ZERO).await;
    let (status, answer) = send::<ShipmentPayload>(
        &deps,
        post(
            "/qapla/it/shipments",
            fixture("shipment-v1.3-delivered.json"),
        ),
    )
    .await;
    assert_eq!((status, answer), (503, ko()));
}

#[tokio::test]
async fn a_flood_of_made_up_channels_costs_a_bounded_number_of_store_reads_and_memory() {
    let server = connectif_expecting(0).await;
    let counting = Arc::new(CountingStore {
        inner: store(Mode::Endpoint, &server.uri()),
        loads: AtomicUsize::new(0),
    });
    let limits = CacheLimits {
        max_entries: 100,
        unknown_lookups_per_minute: 60,
        ..CacheLimits::default()
    };
    let config = Config {
        secret_recheck: Duration::from_secs(10),
        cache_limits: limits,
        ..test_config()
    };
    let channels = config
        .bridge()
        .with_channel_store(counting.clone())
        .channels();
    let channels = channels.expect("channels");
    let key = || {
        ShipmentPayload::parse(fixture("shipment-v1.3-delivered.json").as_bytes()).expect("payload")
    };
    // The real channel, read once before the flood.
    assert!(channels.authenticate(channel("it"), key()).await.is_ok());
    let started = std::time::Instant::now();
    for i in 0..40_000 {
        let made_up = channel(&format!("made-up-{i}"));
        assert!(channels.authenticate(made_up, key()).await.is_err());
    }
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let reads = counting.loads.load(Ordering::SeqCst) - 1;
    assert!(
        reads as f64 <= 60.0 + 60.0 * minutes + 1.0,
        "{reads} store reads in {minutes:.2} min"
    );
    assert!(
        channels.cached_channels() <= 100,
        "{}",
        channels.cached_channels()
    );
    // The real channel is still served from the cache, without another read.
    assert!(channels.authenticate(channel("it"), key()).await.is_ok());
    assert_eq!(counting.loads.load(Ordering::SeqCst), reads + 1);
}

#[tokio::test]
async fn stale_settings_are_served_for_a_bounded_time_only() {
    let memory = Arc::new(MemoryStore::default());
    memory.put(
        channel("it"),
        secret(Mode::Api, "http://127.0.0.1:9", IT_KEY, "it").to_string(),
    );
    let limits = CacheLimits {
        stale_for: Duration::from_millis(200),
        ..CacheLimits::default()
    };
    let config = Config {
        secret_ttl: Duration::ZERO,
        cache_limits: limits,
        ..test_config()
    };
    let channels = config
        .bridge()
        .with_channel_store(memory.clone())
        .channels();
    let channels = channels.expect("channels");
    let key = || {
        ShipmentPayload::parse(fixture("shipment-v1.3-delivered.json").as_bytes()).expect("payload")
    };
    assert!(channels.authenticate(channel("it"), key()).await.is_ok());
    // Someone breaks the secret: the last good settings go on serving, for a while.
    memory.put(channel("it"), r#"{"qaplaApiKey":"k"}"#.into());
    assert!(channels.authenticate(channel("it"), key()).await.is_ok());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(
        channels.authenticate(channel("it"), key()).await,
        Err(bridge_core::channel::AuthError::Store(_))
    ));
}

/// A path segment can be any text: only a well-formed channel id is logged (`make fuzz`
/// found an e-mail address and the key echoed from a mangled path).
#[tokio::test]
async fn an_invalid_channel_in_the_path_never_reaches_a_log_line() {
    let server = connectif_expecting_nothing().await;
    let deps = deps(Mode::Endpoint, &server.uri()).await;
    let logs = Logs::capture();
    let path = "/qapla/giulia.rossi@example.com test-channel-key-it/shipments";
    let body = fixture("shipment-v1.3-delivered.json");
    let (status, answer) = send::<ShipmentPayload>(&deps, post(path, body)).await;
    assert_eq!((status, answer), (401, ko()));
    let refused = &logs.lines()[0];
    assert_eq!(
        (&refused["reason"], &refused["channel"]),
        (&"invalid_channel_id".into(), &"".into())
    );
    let text = logs.text();
    assert!(
        !text.contains("giulia.rossi") && !text.contains(IT_KEY),
        "{text}"
    );
}

/// An event that is not API Gateway's is refused with its problem described, never quoted
/// (`make fuzz`: serde's message quoted a mangled event's text, key and all).
#[tokio::test]
async fn an_unreadable_event_is_described_never_quoted() {
    let deps = deps(Mode::Endpoint, "http://127.0.0.1:9").await;
    let logs = Logs::capture();
    let mut event = post(
        "/qapla/it/shipments",
        fixture("shipment-v1.3-delivered.json"),
    );
    event["requestContext"] = serde_json::json!(format!("giulia.rossi@example.com {IT_KEY}"));
    let (status, answer) = send::<ShipmentPayload>(&deps, event).await;
    assert_eq!((status, answer), (400, ko()));
    assert_eq!(logs.lines()[0]["reason"], "not_an_http_event");
    let text = logs.text();
    assert!(
        !text.contains("giulia.rossi") && !text.contains(IT_KEY),
        "{text}"
    );
}

/// Against `moto_server`: run by `make test`, skipped by `make check`.
mod moto {
    use super::*;

    #[tokio::test]
    async fn secrets_are_read_from_secrets_manager_through_the_real_sdk() {
        let moto = testkit::moto().await;
        let client = secrets_client(&moto.endpoint);
        let server = connectif_expecting(2).await;
        let prefix = testkit::unique("qapla-connectif");
        let name = format!("{prefix}/it");
        let settings = secret(Mode::Api, &server.uri(), IT_KEY, "it");
        testkit::aws::put_secret(&client, &name, &settings.to_string()).await;
        let sm = Arc::new(SecretsManagerStore::new(
            client.clone(),
            format!("{prefix}/"),
        ));
        assert!(sm.load(&channel("it")).await.expect("read").is_some());
        assert!(
            sm.load(&channel("es")).await.expect("read").is_none(),
            "a missing secret is an unknown channel"
        );

        let deps = deps_with(sm, Duration::ZERO).await;
        let delivered = fixture("shipment-v1.3-delivered.json");
        assert_eq!(
            send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", delivered.clone())).await,
            (200, ok())
        );
        assert_eq!(
            send::<ShipmentPayload>(&deps, post("/qapla/es/shipments", delivered.clone())).await,
            (401, ko())
        );

        client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(
                secret(Mode::Api, &server.uri(), "rotated-in-secrets-manager", "it").to_string(),
            )
            .send()
            .await
            .expect("secret rotated in moto");
        let rotated = delivered.replace(IT_KEY, "rotated-in-secrets-manager");
        assert_eq!(
            send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", rotated)).await,
            (200, ok())
        );
    }

    #[tokio::test]
    async fn a_secrets_manager_blip_serves_the_last_good_settings_and_a_never_read_channel_gets_503()
     {
        let moto = testkit::moto().await;
        // Secrets Manager behind a port that can be cut.
        let secrets_manager = testkit::Forward::to(&moto.endpoint).await;
        let client = secrets_client(&secrets_manager.endpoint);
        let server = connectif_expecting(2).await;
        let prefix = testkit::unique("qapla-connectif");
        for (name, key) in [("it", IT_KEY), ("es", ES_KEY)] {
            let settings = secret(Mode::Api, &server.uri(), key, name).to_string();
            testkit::aws::put_secret(&client, &format!("{prefix}/{name}"), &settings).await;
        }
        let sm = Arc::new(SecretsManagerStore::new(client, prefix));
        // A TTL of zero: every post refreshes the settings.
        let config = Config {
            secret_ttl: Duration::ZERO,
            ..test_config()
        };
        let deps = config.bridge().with_channel_store(sm).webhook_deps().await;
        let deps = deps.expect("deps");
        let it = fixture("shipment-v1.3-delivered.json");
        let es = fixture("shipment-v1.3-out-for-delivery-es.json");
        assert_eq!(
            send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", it.clone())).await,
            (200, ok())
        );
        secrets_manager.cut(); // Secrets Manager is gone.
        let logs = Logs::capture();
        assert_eq!(
            send::<ShipmentPayload>(&deps, post("/qapla/it/shipments", it.clone())).await,
            (200, ok()),
            "the last good settings are served"
        );
        assert!(
            logs.text().contains("serving the last good ones"),
            "{}",
            logs.text()
        );
        assert_eq!(
            send::<ShipmentPayload>(&deps, post("/qapla/es/shipments", es)).await,
            (503, ko()),
            "a channel never read has nothing to fall back on"
        );
        server.verify().await;
    }
}
