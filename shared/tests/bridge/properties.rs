//! Property tests of every parser the outside world feeds, with the invariants the fuzz
//! targets check (`testkit::invariants`): fixtures and sample events with fields replaced,
//! removed or retyped at random, and arbitrary bytes. `make fuzz` explores much further;
//! this is its fast, stable-Rust share in `make test`.

use crate::helpers::workspace;
use bridge_core::Kind;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;
use testkit::invariants::{self, Webhooks};

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(workspace().join(path)).expect("fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The handler, built once: its settings cache and log buffer are reused as in a warm
/// function.
fn webhooks() -> &'static Webhooks {
    static WEBHOOKS: OnceLock<Webhooks> = OnceLock::new();
    WEBHOOKS.get_or_init(Webhooks::new)
}

/// Any JSON value, a few levels deep, with the types Qapla' mixes up (numbers as text,
/// 0/1 as booleans, nulls).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9]{0,4}".prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from(" ")),
        Just(Value::from(invariants::KEY)),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path (object keys and array indices) in `value`.
fn paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                at.push(k.clone());
                out.push(at.clone());
                paths(v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                out.push(at.clone());
                paths(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// What to do at a path.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Value),
    Remove,
}

/// `value` with each edit applied at the path its index picks.
fn edited(mut value: Value, edits: &[(prop::sample::Index, Edit)]) -> Value {
    for (index, edit) in edits {
        let mut all = Vec::new();
        paths(&value, &mut Vec::new(), &mut all);
        if all.is_empty() {
            return value;
        }
        let path = &all[index.index(all.len())];
        let (last, parents) = path.split_last().expect("paths are not empty");
        let mut parent = &mut value;
        for step in parents {
            parent = match parent {
                Value::Object(map) => map.get_mut(step).expect("path exists"),
                Value::Array(items) => &mut items[step.parse::<usize>().expect("index")],
                _ => unreachable!("paths only go through containers"),
            };
        }
        match (parent, edit) {
            (Value::Object(map), Edit::Remove) => {
                map.remove(last);
            }
            (Value::Object(map), Edit::Replace(v)) => {
                map.insert(last.clone(), v.clone());
            }
            (Value::Array(items), Edit::Remove) => {
                items.remove(last.parse::<usize>().expect("index"));
            }
            (Value::Array(items), Edit::Replace(v)) => {
                items[last.parse::<usize>().expect("index")] = v.clone();
            }
            _ => {}
        }
    }
    value
}

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, Edit)>> {
    let edit = prop_oneof![
        3 => any_json().prop_map(Edit::Replace),
        1 => Just(Edit::Remove),
    ];
    prop::collection::vec((any::<prop::sample::Index>(), edit), 1..4)
}

fn fixture_of(kind: Kind) -> impl Strategy<Value = Value> {
    let names: &[&str] = match kind {
        Kind::Shipment => &[
            "fixtures/qapla/shipment-v1.2-exception-on-hold.json",
            "fixtures/qapla/shipment-v1.2-in-transit.json",
            "fixtures/qapla/shipment-v1.3-delivered.json",
            "fixtures/qapla/shipment-v1.3-no-consignee.json",
        ],
        Kind::Return => &["fixtures/qapla/return-request.json"],
        Kind::Order => &["fixtures/qapla/orders.json"],
    };
    let values: Vec<Value> = names.iter().map(|n| read(n)).collect();
    prop::sample::select(values)
}

fn check_edited_posts(kind: Kind) {
    proptest!(|(fixture in fixture_of(kind), edits in edits())| {
        let body = edited(fixture, &edits).to_string();
        webhooks().check(kind, body.as_bytes());
    });
}

#[test]
fn edited_shipment_posts_are_refused_or_yield_whole_events() {
    check_edited_posts(Kind::Shipment);
}

#[test]
fn edited_return_posts_are_refused_or_yield_whole_events() {
    check_edited_posts(Kind::Return);
}

#[test]
fn edited_order_posts_are_refused_or_yield_whole_events() {
    check_edited_posts(Kind::Order);
}

proptest! {
    #[test]
    fn any_bytes_posted_to_any_webhook_get_an_answer(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for kind in Kind::ALL {
            webhooks().check(kind, &bytes);
        }
    }

    #[test]
    fn a_whole_api_gateway_event_edited_gets_an_answer(edits in edits()) {
        let event = read("events/shipment-v1.3-delivered.json");
        let event = edited(event, &edits).to_string();
        webhooks().check(Kind::Shipment, event.as_bytes());
    }

    #[test]
    fn an_envelope_read_from_the_queue_writes_back_to_itself(edits in edits()) {
        let text = std::fs::read_to_string(workspace().join("fixtures/queue/envelopes-before-typed-events.jsonl"))
            .expect("fixture");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let envelope: Value = serde_json::from_str(line).expect("JSON line");
            invariants::check_queue_message(edited(envelope, &edits).to_string().as_bytes());
        }
        let event = edited(read("events/sqs-shipment-delivered.json"), &edits);
        invariants::check_queue_message(event.to_string().as_bytes());
    }

    #[test]
    fn a_channel_secret_is_read_or_refused_without_showing_a_key(edits in edits()) {
        let secret = read("local/channels.example.json");
        for settings in secret.as_object().expect("channels").values() {
            invariants::check_channel_secret(edited(settings.clone(), &edits).to_string().as_bytes());
        }
    }

    #[test]
    fn a_qapla_api_answer_is_read_or_classified_without_showing_the_key(edits in edits()) {
        for name in ["getShipment.json", "trackingByTimeFrame.json"] {
            let answer = read(&format!("fixtures/qapla-api/{name}"));
            invariants::check_qapla_answer(edited(answer, &edits).to_string().as_bytes());
        }
    }
}

/// Every input a fuzz target once failed on (`fuzz/regressions/<target>/`) still passes.
#[test]
fn fuzz_regressions_still_hold() {
    let root = workspace().join("fuzz/regressions");
    type Check<'a> = &'a dyn Fn(&[u8]);
    let checks: [(&str, Check); 6] = [
        ("webhook_shipment", &|b| webhooks().check(Kind::Shipment, b)),
        ("webhook_return", &|b| webhooks().check(Kind::Return, b)),
        ("webhook_order", &|b| webhooks().check(Kind::Order, b)),
        ("queue_message", &invariants::check_queue_message),
        ("channel_secret", &invariants::check_channel_secret),
        ("qapla_answer", &invariants::check_qapla_answer),
    ];
    for (target, check) in checks {
        let Ok(inputs) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for input in inputs {
            let path = input.expect("entry").path();
            check(&std::fs::read(&path).expect("input"));
        }
    }
}
