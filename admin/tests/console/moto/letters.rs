//! The dead letters as the person on call handles them: listed with human times, channel
//! and reason (exit 1 while any waits), chosen by channel, id or age, discarded after a
//! confirmation, redriven in batches — on the stack in moto_server.

use crate::common::*;
use aws_sdk_sqs::types::MessageAttributeValue;
use serde_json::{Value, json};

/// A dead letter of `channel`, as the worker writes one, dead-lettered `days_ago`.
async fn letter(sqs: &aws_sdk_sqs::Client, dlq: &str, n: usize, channel: &str, days_ago: u64) {
    let fixture = testkit::workspace().join("fixtures/queue/envelopes-before-typed-events.jsonl");
    let text = std::fs::read_to_string(fixture).expect("fixture");
    let mut envelope: Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    envelope["eventId"] = json!(format!("event-{n}"));
    envelope["channel"] = json!(channel);
    envelope["key"] = json!(format!("T{n}"));
    let failed_at = bridge_core::clock::epoch_secs() - days_ago * 86_400;
    let attr = |v: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .expect("attribute")
    };
    (sqs.send_message())
        .queue_url(dlq)
        .message_group_id(format!("m{n}"))
        .message_deduplication_id(format!("d{n}"))
        .message_body(envelope.to_string())
        .message_attributes("reason", attr("HTTP 422: field `rma` is not defined"))
        .message_attributes("failed_at", attr(&failed_at.to_string()))
        .send()
        .await
        .expect("dead letter");
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out.trim()).expect("JSON output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_chosen_discarded_and_redriven_in_batches() {
    let moto = testkit::moto_alone().await;
    let cw = cloudwatch(&alarms_ok()).await;
    let qapla = qapla_accepting_the_key().await;
    let deployed = deploy(&moto, &settings(&qapla.uri()), "https://example.invalid").await;
    let sqs = aws_sdk_sqs::Client::new(&aws(&moto).await);
    // 23 letters of shop-it (3 of them ten days old), 4 of another channel.
    for n in 0..27 {
        let channel = if n < 23 { "shop-it" } else { "shop-es" };
        letter(
            &sqs,
            &deployed.dlq_url,
            n,
            channel,
            if n < 3 { 10 } else { 0 },
        )
        .await;
    }
    let (code, out, _) = admin(&moto, &cw, &["dead-letters"]);
    assert_eq!(code, 1, "letters wait: {out}");
    assert!(out.starts_with("27 dead letter(s), oldest first:"), "{out}");
    assert!(
        out.contains("UTC (10 days ago)  shop-it  shipment  T0"),
        "{out}"
    );
    assert!(
        out.contains("HTTP 422: field `rma` is not defined"),
        "{out}"
    );
    let (_, out, _) = admin(
        &moto,
        &cw,
        &["--json", "dead-letters", "--channel", "shop-es"],
    );
    let listed = json_of(&out);
    assert_eq!(listed["count"], 4, "{out}");
    assert_eq!(listed["letters"][0]["channel"], "shop-es");
    // Discard: not without a confirmation, then the old ones with --yes.
    let mut discard = admin_command(
        &moto.endpoint,
        &cw.uri(),
        &["discard", "--older-than", "7d"],
    );
    let refused = discard
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not confirmed"));
    let (code, out, _) = admin(&moto, &cw, &["discard", "--older-than", "7d", "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("discarded: 3"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("discarded ")).count(),
        3,
        "{out}"
    );
    // One by id.
    let (_, out, _) = admin(
        &moto,
        &cw,
        &["--json", "dead-letters", "--channel", "shop-es"],
    );
    let id = json_of(&out)["letters"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, out, _) = admin(&moto, &cw, &["discard", "--id", &id, "--yes"]);
    assert!(out.starts_with("discarded: 1"), "{out}");
    // Redrive shop-it's 20 in batches; shop-es's 3 stay.
    let (code, out, _) = admin(&moto, &cw, &["--json", "redrive", "--channel", "shop-it"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json_of(&out), json!({ "redriven": 20, "left": 3 }));
    let queued = (sqs.get_queue_attributes())
        .queue_url(&deployed.queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("attributes");
    let count = queued.attributes().and_then(|a| {
        a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .cloned()
    });
    assert_eq!(count.as_deref(), Some("20"));
    let (code, out, _) = admin(&moto, &cw, &["redrive"]);
    assert_eq!(
        (code, out.trim()),
        (0, "redriven: 3; left in the dead-letter queue: 0")
    );
    let (code, out, _) = admin(&moto, &cw, &["dead-letters"]);
    assert_eq!((code, out.trim()), (0, "no dead letters"));
}
