//! The release page's one-use ledger in the state table (moto): of two submissions of one
//! hold racing, exactly one claims it; a settled outcome is what every later one reads; a
//! claim is given back only while unsettled. And the link key read from its secret.

use bridge_core::aws::SecretLinkKey;
use bridge_core::aws::table::Table;
use bridge_core::links::KeySource;
use bridge_core::qapla::v2::Action;
use bridge_core::release::{Ledger, Outcome, Recorded, Verdict};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hold_is_claimed_once_and_its_outcome_kept() {
    let moto = testkit::moto().await;
    let ddb = testkit::aws::clients(&moto.endpoint).dynamo;
    let table = Table::new(ddb.clone(), testkit::unique("bridge-state"));
    testkit::create_state_table(&ddb, table.name()).await;
    let ledger: Arc<dyn Ledger> = Arc::new(table.clone());
    let hold = "it#1234567890#1000";
    let expires = 4_102_444_800;
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let ledger = ledger.clone();
            tokio::spawn(async move { ledger.claim(hold, expires).await.expect("claim") })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.expect("task") {
            None => won += 1,
            Some(recorded) => assert_eq!(recorded, Recorded::Claimed),
        }
    }
    assert_eq!(won, 1, "one submission claims the hold");
    let outcome = Outcome {
        action: Action::RedeliverNewAddress,
        verdict: Verdict::Pending,
        message: String::new(),
    };
    ledger
        .settle(hold, &outcome, expires)
        .await
        .expect("settle");
    ledger
        .free(hold)
        .await
        .expect("a settled hold is not given back");
    assert_eq!(
        ledger.claim(hold, expires).await.expect("claim"),
        Some(Recorded::Settled(outcome.clone()))
    );
    let item = table
        .get(bridge_core::aws::table::Pk::Release(hold))
        .await
        .expect("get")
        .expect("item");
    assert!(
        !format!("{item:?}").contains("street"),
        "no address is kept"
    );
    // A claim whose call never reached the courier is given back, and claimed again.
    let other = "it#1234567890#2000";
    assert_eq!(ledger.claim(other, expires).await.expect("claim"), None);
    ledger.free(other).await.expect("free");
    assert_eq!(ledger.get(other).await.expect("get"), None);
    assert_eq!(ledger.claim(other, expires).await.expect("claim"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_key_is_read_from_its_secret_once() {
    let moto = testkit::moto().await;
    let secrets = crate::helpers::secrets_client(&moto.endpoint);
    let name = testkit::unique("release-link-key");
    let key = "k".repeat(64);
    secrets
        .create_secret()
        .name(&name)
        .secret_string(&key)
        .send()
        .await
        .expect("secret");
    let source = SecretLinkKey::new(secrets.clone(), &name);
    let first = source.key().await.expect("key");
    secrets
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("deleted");
    let again = source.key().await.expect("kept, not read again");
    let link = bridge_core::links::Link {
        channel: "it".into(),
        shipment_id: "1".into(),
        tracking_number: "T".into(),
        reference: "R".into(),
        courier: "GLS".into(),
        language: "it".into(),
        held_at: 0,
        not_before: 0,
        expires: 10,
    };
    assert_eq!(first.sign(&link), again.sign(&link));
    let short = testkit::unique("short-key");
    secrets
        .create_secret()
        .name(&short)
        .secret_string("too short")
        .send()
        .await
        .expect("secret");
    assert!(SecretLinkKey::new(secrets, &short).key().await.is_err());
}
