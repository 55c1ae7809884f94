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
        json!({ "name": "I", "eventsEnabled": true }),
    )
    .await;
    assert_eq!(status, 201);
    let types = format!(
        "/custom-integrations/{}/custom-event-types/",
        integration["id"].as_str().expect("id")
    );
    let no_key = event_type(
        json!([{ "id": "customerEmail", "name": "E-mail", "type": "email", "required": true }]),
    );
    assert_eq!(
        call(&fake, "POST", &types, no_key).await.0,
        422,
        "a primary key is required"
    );
    let fields = json!([
        { "id": "customerEmail", "name": "E-mail", "type": "email", "required": true, "isPrimaryKey": true },
        { "id": "reference", "name": "Reference", "type": "text", "required": true },
        { "id": "cashOnDelivery", "name": "COD", "type": "boolean", "required": false },
        { "id": "days", "name": "Days", "type": "integer", "required": false },
        { "id": "total", "name": "Total", "type": "decimal", "required": false },
    ]);
    assert_eq!(call(&fake, "POST", &types, event_type(fields)).await.0, 201);

    let send = |body: Value| {
        call(
            &fake,
            "POST",
            "/custom-events/alias/order-shipped?createContact=true",
            body,
        )
    };
    let good = json!({ "customerEmail": "a@shop.example", "reference": "R1",
        "cashOnDelivery": false, "days": 3, "total": 2.5 });
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
        (
            json!({ "customerEmail": "a@shop.example", "reference": "R1", "days": 2.5 }),
            "days is not of type integer",
        ),
        (
            json!({ "customerEmail": "a@shop.example", "reference": "R1", "total": "2.5" }),
            "total is not of type decimal",
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

/// What `setup` sent before 0.4.0 (`primaryKey`, no field names, no `eventsEnabled`, the
/// type `number`, a PATCH of fields) is refused as Connectif's pages say it would be.
#[tokio::test]
async fn the_shapes_the_bridge_sent_before_are_refused() {
    let fake = StrictConnectif::start(KEY).await;
    let (status, answer) = call(
        &fake,
        "POST",
        "/custom-integrations/",
        json!({ "name": "I" }),
    )
    .await;
    assert_eq!(status, 422, "eventsEnabled is not optional: {answer}");
    let (status, answer) = call(
        &fake,
        "POST",
        "/custom-integrations/",
        json!({ "name": "I", "eventsEnabled": true, "colour": "red" }),
    )
    .await;
    assert_eq!(status, 422, "no such property: {answer}");
    let id = fake.add_integration("I");
    let types = format!("/custom-integrations/{id}/custom-event-types/");
    let good = || {
        json!([
            { "id": "customerEmail", "name": "E-mail", "type": "email", "required": true, "isPrimaryKey": true },
            { "id": "days", "name": "Days", "type": "integer", "required": false },
        ])
    };
    let mut old_key = good();
    old_key[0] =
        json!({ "id": "customerEmail", "type": "email", "required": true, "primaryKey": true });
    let mut no_name = good();
    no_name[1] = json!({ "id": "days", "type": "integer", "required": false });
    let mut number = good();
    number[1]["type"] = json!("number");
    for (fields, why) in [
        (old_key, "primaryKey is not a property"),
        (no_name, "name is required"),
        (number, "unknown type"),
    ] {
        let (status, answer) = call(&fake, "POST", &types, event_type(fields)).await;
        assert_eq!(status, 422, "{answer}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why), "{answer}");
    }
    let (status, created) = call(&fake, "POST", &types, event_type(good())).await;
    assert_eq!(status, 201, "{created}");
    let one = format!("{types}{}", created["id"].as_str().expect("id"));
    let (status, read) = call(&fake, "GET", &one, Value::Null).await;
    assert_eq!(
        (status, &read["fields"][0]["isPrimaryKey"]),
        (200, &json!(true))
    );
    let (status, _) = call(&fake, "PATCH", &one, json!({ "fields": good() })).await;
    assert_eq!(status, 405, "no update of an event type is documented");
    // Without createContact (false by default) an unknown contact is E0501, with 400.
    let body = json!({ "customerEmail": "new@shop.example" });
    let (status, answer) = call(&fake, "POST", "/custom-events/alias/order-shipped", body).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("E0501")),
        "{answer}"
    );
}

/// Lists come in pages of two: a reader of the first page alone, or of a bare array, does
/// not see the account.
#[tokio::test]
async fn lists_are_paged_through_links_next() {
    let fake = StrictConnectif::start(KEY).await;
    for name in ["A", "B", "C", "D", "E"] {
        fake.add_integration(name);
    }
    let (status, first) = call(&fake, "GET", "/custom-integrations/", Value::Null).await;
    assert_eq!(status, 200);
    assert!(first.is_object(), "not a bare array: {first}");
    assert_eq!(first["results"].as_array().map(Vec::len), Some(2));
    assert!(first["links"].get("prev").is_none());
    let mut names = Vec::new();
    let mut page = first;
    loop {
        for item in page["results"].as_array().expect("results") {
            names.push(item["name"].as_str().expect("name").to_owned());
        }
        let Some(next) = page["links"]["next"].as_str() else {
            break;
        };
        assert!(next.starts_with(&fake.uri()), "{next}");
        let path = next.trim_start_matches(&fake.uri()).to_owned();
        page = call(&fake, "GET", &path, Value::Null).await.1;
        assert!(page["links"]["prev"].is_string());
    }
    assert_eq!(names, ["A", "B", "C", "D", "E"]);
}
