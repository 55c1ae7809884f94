//! The strict Connectif of the setup tests refuses what Connectif's Public API refuses: a
//! test of the fake itself, so an end-to-end pass means something.

use serde_json::{Value, json};
use testkit::connectif::StrictConnectif;

const KEY: &str = "k1:s1";

async fn call(fake: &StrictConnectif, method: &str, path: &str, body: Value) -> (u16, Value) {
    let client = client();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let answer = client
        .request(method, format!("{}{path}", fake.uri()))
        .header("Authorization", format!("apiKey {KEY}"))
        .body(body.to_string())
        .send()
        .await
        .expect("answer");
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// An HTTP client as the bridge builds them (rustls, ring).
fn client() -> reqwest::Client {
    bridge_core::http::tls::client_builder()
        .build()
        .expect("client")
}

fn event_type(fields: Value) -> Value {
    json!({ "name": "n", "alias": "order-shipped", "category": "receive", "receiveType": "api", "fields": fields })
}

#[tokio::test]
async fn the_fake_refuses_undefined_fields_wrong_types_and_missing_required_ones() {
    let fake = StrictConnectif::start(KEY).await;
    let (status, integration) = call(
        &fake,
        "POST",
        "/custom-integrations/",
        json!({ "name": "I" }),
    )
    .await;
    assert_eq!(status, 201);
    let types = format!(
        "/custom-integrations/{}/custom-event-types/",
        integration["id"].as_str().expect("id")
    );
    let no_key = event_type(json!([{ "id": "customerEmail", "type": "email", "required": true }]));
    assert_eq!(
        call(&fake, "POST", &types, no_key).await.0,
        422,
        "a primary key is required"
    );
    let fields = json!([
        { "id": "customerEmail", "type": "email", "required": true, "primaryKey": true },
        { "id": "reference", "type": "text", "required": true },
        { "id": "cashOnDelivery", "type": "boolean", "required": false },
    ]);
    assert_eq!(call(&fake, "POST", &types, event_type(fields)).await.0, 201);

    let send = |body: Value| call(&fake, "POST", "/custom-events/alias/order-shipped", body);
    let good =
        json!({ "customerEmail": "a@shop.example", "reference": "R1", "cashOnDelivery": false });
    assert_eq!(send(good.clone()).await.0, 201);
    for (bad, why) in [
        (
            json!({ "customerEmail": "a@shop.example", "reference": "R1", "extra": "x" }),
            "not defined",
        ),
        (
            json!({ "customerEmail": "a@shop.example", "reference": "R1", "cashOnDelivery": "no" }),
            "not of type",
        ),
        (
            json!({ "customerEmail": "a@shop.example" }),
            "reference is missing",
        ),
        (
            json!({ "customerEmail": "a@shop.example", "reference": " " }),
            "reference is missing or empty",
        ),
        (
            json!({ "customerEmail": "not-an-address", "reference": "R1" }),
            "not of type email",
        ),
    ] {
        let (status, answer) = send(bad).await;
        assert_eq!(status, 422, "{answer}");
        assert!(
            answer["detail"].as_str().unwrap_or_default().contains(why),
            "{answer}"
        );
    }
    // The webhook context is another event type: the API's is not reachable by Endpoint URL.
    let hook = format!("{}/webhook/custom-events/alias/order-shipped", fake.uri());
    let answer = client()
        .post(hook)
        .body(good.to_string())
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 404);
    let wrong_key = client()
        .get(format!("{}/custom-integrations/", fake.uri()))
        .header("Authorization", "apiKey k1:nope")
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong_key.status().as_u16(), 401);
}
