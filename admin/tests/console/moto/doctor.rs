//! `bridge-admin doctor`, both ways: against fakes written from Qapla's and Connectif's
//! pages, a channel `setup` made passes every check; each documented difference (no primary
//! key, a bare-array list, no consignee in `getShipment`, a field missing) is reported with
//! its fix, and exits 1. Nothing is written, no event is sent, no key is shown.

use super::setup::{CHANNEL, CONNECTIF_KEY, World};
use crate::common::*;
use serde_json::Value;

impl World {
    /// `bridge-admin [--json] doctor shop-es <extra>`, Connectif's API on the strict fake.
    async fn doctor(&self, json: bool, extra: &[&str]) -> (i32, String) {
        let connectif = self.connectif.uri();
        let mut args = if json { vec!["--json"] } else { vec![] };
        args.extend(["doctor", CHANNEL, "--connectif-url", &connectif]);
        args.extend_from_slice(extra);
        let writes = self.connectif.writes();
        let arrivals = self.connectif.arrivals().len();
        let (code, out, err) = run(&self.moto, &self.cw, &args).await;
        for key in [QAPLA_KEY, CONNECTIF_KEY, "csecret-1"] {
            assert!(
                !out.contains(key) && !err.contains(key),
                "a key shown:\n{out}\n{err}"
            );
        }
        assert_eq!(self.connectif.writes(), writes, "doctor writes nothing");
        assert_eq!(
            self.connectif.arrivals().len(),
            arrivals,
            "doctor sends no event"
        );
        (code, format!("{out}{err}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_set_up_as_documented_passes_every_check() {
    let world = World::start().await;
    let (code, out, _) = world.setup(&[]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        line(&out, "qapla getShipment").contains("DOCTOR-1 (data=consignee)"),
        "setup checks Qapla's answer first: {out}"
    );
    let (code, out) = world.doctor(false, &[]).await;
    println!("{out}"); // docs/console.md shows this output
    assert_eq!(code, 0, "{out}");
    assert!(line(&out, "qapla key").starts_with('✓'), "{out}");
    assert!(
        line(&out, "qapla getShipment").contains("the consignee's e-mail and name"),
        "{out}"
    );
    assert!(
        line(&out, "connectif integrations").contains("as documented"),
        "{out}"
    );
    let events = out
        .lines()
        .filter(|l| l.starts_with("✓ connectif reception event: `"))
        .count();
    assert_eq!(
        events, 5,
        "each reception event the channel uses, read back: {out}"
    );

    let (code, json_out) = world.doctor(true, &[]).await;
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&json_out).expect("JSON");
    assert_eq!(report["ok"], true);
    assert_eq!(report["channel"], CHANNEL);
    assert!(
        report["steps"].as_array().is_some_and(|s| s.len() >= 9),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_documented_difference_is_reported_with_its_fix() {
    let world = World::start().await;
    let (code, out, _) = world.setup(&[]).await;
    assert_eq!(code, 0, "{out}");

    // A field missing, and the primary key not marked (as by hand in the panel).
    world
        .connectif
        .remove_field("order-status-change", "courierStatus");
    world
        .connectif
        .edit_field("order-shipped", "customerEmail", |f| {
            f.is_primary_key = false
        });
    let (code, out) = world.doctor(false, &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("`order-status-change` lacks 1 of the fields"),
        "{out}"
    );
    let fix = fix_after(&out, "`order-status-change` lacks");
    assert!(
        fix.contains("Add a New Field") && fix.contains("ID `courierStatus`"),
        "{out}"
    );
    assert!(
        out.contains(
            "`customerEmail` is Email, required, the bridge needs Email, required, primary key"
        ),
        "{out}"
    );
    assert!(
        fix_after(&out, "`order-shipped` differs").contains("primary key"),
        "{out}"
    );

    // getShipment without the consignee, though asked for it.
    let (code, out) = world
        .doctor(false, &["--tracking-number", "NO-CONSIGNEE-1"])
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        line(&out, "qapla getShipment")
            .contains("expected `consignee` (asked with data=consignee), found none"),
        "{out}"
    );
    assert!(
        fix_of(&out, "qapla getShipment").contains("version 1.3"),
        "{out}"
    );

    // Lists as a bare array, the shape 0.3.0 read.
    world.connectif.answer_bare_lists();
    let (code, json_out) = world.doctor(true, &[]).await;
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&json_out).expect("JSON");
    let failed: Vec<&Value> = (report["steps"].as_array().expect("steps").iter())
        .filter(|s| s["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["step"], "connectif integrations");
    let detail = failed[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("a bare JSON array"), "{detail}");
    assert!(
        failed[0]["fix"]
            .as_str()
            .is_some_and(|f| f.contains("step by step"))
    );
}

/// `setup` runs the checks that apply before anything exists, and refuses to write on a
/// difference: here Connectif's lists in a shape no page documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_refuses_to_write_when_connectif_lists_differ() {
    let world = World::start().await;
    world.connectif.answer_bare_lists();
    let (code, out, _) = world.setup(&[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        line(&out, "connectif integration").contains("a bare JSON array"),
        "{out}"
    );
    assert_eq!(world.connectif.writes(), 0, "{out}");
    assert!(!out.contains("✓ secret"), "{out}");
}

/// An event that lacks a field the bridge sends: `setup` names it for the panel, and `check`
/// fails until it exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fails_until_a_missing_field_is_added_in_the_panel() {
    let world = World::start().await;
    let (code, out, _) = world.setup(&[]).await;
    assert_eq!(code, 0, "{out}");
    world
        .connectif
        .remove_field("order-status-change", "trackingUrl");
    let check = || run(&world.moto, &world.cw, &["check", CHANNEL]);
    let (code, out, _) = check().await;
    assert_eq!(code, 1, "{out}");
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with('✗')).collect();
    assert_eq!(failed.len(), 1, "{out}");
    assert!(
        failed[0].contains("`order-status-change` lacks 1 of the fields"),
        "{out}"
    );
    world.connectif.add_field(
        "order-status-change",
        testkit::connectif::Field {
            id: "trackingUrl".into(),
            name: "Tracking page".into(),
            kind: "text".into(),
            required: true,
            is_primary_key: false,
        },
    );
    let (code, out, _) = check().await;
    assert_eq!(code, 0, "{out}");
}
