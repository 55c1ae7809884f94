//! A shop moving over from Qapla's own Connectif connector: its account already has the
//! reception event `order-status-change` that Qapla's guide makes (the nine fields, in an
//! integration of its own, the Webhook context Qapla's connector posts to). `setup` finds
//! it across the account and reuses it, never creates it twice; `check --send` proves the
//! channel without marking it live (no reconciliation while Qapla's connector may still be
//! sending); the first real post does.

use super::setup::{CHANNEL, World, post_samples};
use crate::common::*;
use bridge_core::aws::DynamoState;
use bridge_core::delivery::state::StateStore;
use testkit::connectif::{EventType, Field};

/// The event of Qapla's guide (`connectif-qapla-integration-guide`, step 17), as a shop
/// made it in the panel: each field named as its ID.
fn guide_event() -> EventType {
    let field = |id: &str, kind: &str, required: bool| Field {
        id: id.into(),
        name: id.into(),
        kind: kind.into(),
        required,
        is_primary_key: kind == "email",
    };
    EventType {
        id: String::new(),
        integration: String::new(),
        alias: "order-status-change".into(),
        receive_type: "webhook".into(),
        name: "Order status change".into(),
        fields: vec![
            field("courierStatus", "text", false),
            field("customerEmail", "email", true),
            field("customerName", "text", true),
            field("language", "text", false),
            field("qaplaStatus", "text", true),
            field("qaplaStatusID", "text", false),
            field("reference", "text", true),
            field("trackingNumber", "text", true),
            field("trackingUrl", "text", true),
        ],
    }
}

/// A world whose Connectif account has the guide's event, in the integration "Qapla'".
async fn moving_shop() -> World {
    let world = World::start().await;
    let qapla = world.connectif.add_integration("Qapla'");
    world.connectif.add_event_type(&qapla, guide_event());
    world
}

async fn is_live(world: &World) -> bool {
    let dynamo = aws_sdk_dynamodb::Client::new(&aws(&world.moto).await);
    let table = bridge_core::aws::table::Table::new(dynamo, TABLE);
    let state = DynamoState::new(table, std::time::Duration::ZERO);
    (state.is_live(bridge_core::Kind::Shipment, CHANNEL))
        .await
        .expect("state table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_event_is_reused_the_proof_does_not_mark_the_channel_live_a_real_post_does() {
    let world = moving_shop().await;
    let (code, out, err) = world.setup_in_endpoint_mode().await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("`order-status-change`: reused from \"Qapla'\""),
        "{out}"
    );
    let types = world.connectif.event_types();
    let same: Vec<_> = (types.iter())
        .filter(|t| t.alias == "order-status-change")
        .collect();
    assert_eq!(same.len(), 1, "never created twice");
    assert_eq!(
        same[0].name, "Order status change",
        "left as the shop made it"
    );
    assert_eq!(types.len(), 5, "the four others created");
    // The proof: a test event of each kind, delivered, and the channel not live.
    let proof = world.arrivals(3).await;
    assert!(proof.iter().all(|a| a.status == 201), "{proof:?}");
    assert!(
        (proof.iter()).any(|a| a.alias == "order-status-change"),
        "the reused event took the proof: {proof:?}"
    );
    assert!(
        !is_live(&world).await,
        "a proof never marks the channel live"
    );
    // The first real posts from Qapla' (its shipments are known to getShipment).
    assert_eq!(post_samples(&world.twin).await, 8);
    let arrivals = world.arrivals(3 + 8).await;
    assert!(arrivals.iter().all(|a| a.status == 201), "{arrivals:?}");
    assert!(is_live(&world).await, "a real post marks it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_api_mode_the_guides_webhook_event_is_reported_never_created_again() {
    let world = moving_shop().await;
    let (code, out, _) = world.setup(&[]).await;
    assert_eq!(code, 1, "{out}");
    let said = "`order-status-change` (in \"Qapla'\"): its context is `webhook`, the channel sends through `api`";
    assert!(out.contains(said), "{out}");
    assert!(fix_after(&out, said).contains("--mode endpoint"), "{out}");
    let same = (world.connectif.event_types().into_iter())
        .filter(|t| t.alias == "order-status-change")
        .count();
    assert_eq!(same, 1, "{out}");
}
