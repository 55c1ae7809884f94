//! Qapla's `getShipment` as its publishers document it, for the tests' Qapla' stand-ins:
//! written from Qapla's pages (docs/contracts.md lists them: api.qapla.dev and the
//! reference repository Qapla' publishes, `Qapla/qapla-api-skill`, with the doc comments of a
//! public PHP client of the v1 API), never from the bridge's code.
//!
//! Rules, each from those pages:
//! - the key is the `apiKey` query parameter (api.qapla.dev, "API Key"); a call without it
//!   is answered KO;
//! - the shipment is looked up by one of `trackingNumber`, `reference` or `id`;
//! - `getShipment` "answers minimal data unless asked for more": its `data` parameter adds
//!   `consignee`, `history` (the tracking history), `children`, `parent`, `flag`,
//!   `notifications`, or `all`, several joined with commas. Without `consignee` (or `all`)
//!   the answer carries no consignee, so no e-mail;
//! - `lang` is `it` (the default), `en` or `es`, and the answer says which (`"lang"`).
//!
//! What "minimal" holds beyond the lookup keys, the status and the tracking page is not
//! documented; this stand-in keeps every other field of the shipment it is given.

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

/// What each `data` value adds to the minimal answer: the shipment's properties it brings.
const DATA: [(&str, &[&str]); 6] = [
    ("consignee", &["consignee"]),
    ("history", &["trackingHistory"]),
    ("children", &["children"]),
    ("parent", &["parent"]),
    ("flag", &["flag"]),
    ("notifications", &["notifications"]),
];

/// A `getShipment` that answers `answer` (Qapla's whole answer, `{"getShipment": {...}}`, as
/// its example holds it: everything) cut down to what the request asked for.
#[derive(Clone)]
pub struct GetShipment {
    pub answer: Value,
}

impl Respond for GetShipment {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(answer(request, &self.answer))
    }
}

/// `answer` as Qapla' would give it to `request`: KO without a key or a lookup key; else
/// each shipment without what `data` did not ask for, and the language it was asked in.
pub fn answer(request: &Request, answer: &Value) -> Value {
    let query = |name: &str| {
        (request.url.query_pairs())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if query("apiKey").is_none_or(|k| k.is_empty()) {
        return json!({ "getShipment": { "result": "KO", "error": "apiKey missing" } });
    }
    if ["trackingNumber", "reference", "id"]
        .iter()
        .all(|k| query(k).is_none_or(|v| v.is_empty()))
    {
        return json!({ "getShipment": { "result": "KO", "error": "trackingNumber, reference or id required" } });
    }
    let data = query("data").unwrap_or_default();
    let asked: Vec<&str> = data.split(',').map(str::trim).collect();
    let lang = query("lang")
        .filter(|l| ["it", "en", "es"].contains(&l.as_str()))
        .unwrap_or_else(|| "it".into());
    let mut answer = answer.clone();
    let inner = &mut answer["getShipment"];
    if inner["result"] != "OK" {
        return answer;
    }
    inner["lang"] = json!(lang);
    let strip = |shipment: &mut Value| {
        let Some(map) = shipment.as_object_mut() else {
            return;
        };
        for (value, properties) in DATA {
            if !asked.contains(&value) && !asked.contains(&"all") {
                for property in properties {
                    map.remove(*property);
                }
            }
        }
    };
    if let Some(list) = inner.get_mut("shipments").and_then(Value::as_array_mut) {
        list.iter_mut().for_each(strip);
    }
    if let Some(one) = inner.get_mut("shipment") {
        strip(one);
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ask(query: &str) -> Value {
        let server = wiremock::MockServer::start().await;
        let full = json!({ "getShipment": { "result": "OK", "error": null, "shipments": [{
            "id": 7, "trackingNumber": "T1", "url": "https://tracking.qapla.it/h",
            "consignee": { "email": "a@shop.example" }, "trackingHistory": [{}] }] } });
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(GetShipment { answer: full })
            .mount(&server)
            .await;
        let client = bridge_core::http::tls::client_builder()
            .build()
            .expect("client");
        let url = format!("{}/1.3/getShipment/?{query}", server.uri());
        let text = (client.get(url).send().await.expect("answer").text())
            .await
            .expect("text");
        serde_json::from_str(&text).expect("JSON")
    }

    #[tokio::test]
    async fn the_consignee_comes_only_when_asked_for() {
        let minimal = ask("apiKey=k&trackingNumber=T1").await;
        let shipment = &minimal["getShipment"]["shipments"][0];
        assert!(shipment.get("consignee").is_none() && shipment["url"].is_string());
        assert_eq!(minimal["getShipment"]["lang"], "it");
        let asked = ask("apiKey=k&trackingNumber=T1&data=consignee&lang=es").await;
        let shipment = &asked["getShipment"]["shipments"][0];
        assert!(shipment["consignee"].is_object() && shipment.get("trackingHistory").is_none());
        assert_eq!(asked["getShipment"]["lang"], "es");
        let all = ask("apiKey=k&id=7&data=all").await;
        assert!(all["getShipment"]["shipments"][0]["trackingHistory"].is_array());
        let keyless = ask("trackingNumber=T1&data=all").await;
        assert_eq!(keyless["getShipment"]["result"], "KO");
    }
}
