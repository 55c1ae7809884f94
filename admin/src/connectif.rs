//! Connectif's management API for custom integrations and their reception events (custom
//! event types), as its reference pages document them (api-docs.connectif.cloud; each call
//! names its page, docs/contracts.md lists them with what the pages leave open). **Never
//! verified against a live account**: every answer is read strictly, and one that is not the
//! documented shape is an [`Unexpected`] error naming the call and what came back, which
//! `setup` and `doctor` turn into the manual steps for what is left.

use bridge_core::connectif::schema::FieldDef;
use bridge_core::telemetry::error_chain;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

/// A custom integration (`CustomIntegration`: its properties are not documented; `id` and
/// `name` are the likeliest, as `CustomIntegrationCreation` has `name`).
#[derive(Debug, Clone, Deserialize)]
pub struct Integration {
    pub id: String,
    pub name: String,
}

/// A reception event: sent as a `CustomEventTypeCreation`, read back as a `CustomEventType`
/// (`resources/customeventtypecreation`, `resources/customeventtype`). A list holds `send`
/// types too, which have no alias and no receive type: those read as empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub alias: String,
    pub category: String,
    /// `api` (Public API) or `webhook` (Endpoint URL): the prose's words, the exact list is
    /// not readable (docs/contracts.md).
    #[serde(default)]
    pub receive_type: String,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    /// The event's Endpoint URL, if an answer carries one (not documented: usually absent).
    #[serde(default, skip_serializing)]
    pub endpoint_url: Option<String>,
}

/// A contact field as the list gives it (only what `setup` and `doctor` compare).
#[derive(Debug, Clone, Deserialize)]
pub struct ContactFieldRead {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A call that did not give the documented answer: what was called, and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpected {
    pub call: String,
    pub answer: String,
}

impl std::fmt::Display for Unexpected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.call, self.answer)
    }
}

pub struct ConnectifAdmin {
    http: reqwest::Client,
    base: String,
    key: SecretString,
}

/// One page of a documented list (`resources/customeventtypelist`): `{"links": {"next",
/// "prev"}, "results": [...]}`, `links.next` there only while more pages follow. The
/// integration list is not documented: the same shape is expected of it.
#[derive(Deserialize)]
struct Page<T> {
    #[serde(default)]
    links: Links,
    results: Vec<T>,
}

#[derive(Default, Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<String>,
}

/// At most this many pages of one list (a `links.next` that never ends is an answer of
/// another shape, not a loop).
const MAX_PAGES: usize = 200;

impl ConnectifAdmin {
    pub fn new(http: reqwest::Client, base: &str, key: SecretString) -> Self {
        ConnectifAdmin {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
        }
    }

    /// Every custom integration of the account, page by page (`GET /custom-integrations/`:
    /// not documented, the path of "Create custom integration").
    pub async fn integrations(&self) -> Result<Vec<Integration>, Unexpected> {
        self.list("/custom-integrations/").await
    }

    /// "Create custom integration" (`reference/custom-integrations/create-custom-integration`):
    /// a `CustomIntegrationCreation`, whose `name` and `eventsEnabled` are not optional.
    pub async fn create_integration(&self, name: &str) -> Result<Integration, Unexpected> {
        let body = serde_json::json!({ "name": name, "eventsEnabled": true });
        let path = "/custom-integrations/";
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Every event type of `integration`, page by page through `links.next` (the list URL
    /// is not readable: the create path is the likeliest).
    pub async fn event_types(&self, integration: &str) -> Result<Vec<EventType>, Unexpected> {
        self.list(&format!(
            "/custom-integrations/{integration}/custom-event-types/"
        ))
        .await
    }

    /// "Create custom event type" (`reference/custom-event-types/create-custom-event-type`).
    pub async fn create_event_type(
        &self,
        integration: &str,
        event: &EventType,
    ) -> Result<EventType, Unexpected> {
        let path = format!("/custom-integrations/{integration}/custom-event-types/");
        let body = serde_json::to_value(event).unwrap_or_default();
        self.call(reqwest::Method::POST, &path, Some(body)).await
    }

    /// "Get custom event type by Id" (its URL is not readable: the create path and the id).
    pub async fn event_type(&self, integration: &str, id: &str) -> Result<EventType, Unexpected> {
        let path = format!("/custom-integrations/{integration}/custom-event-types/{id}");
        self.call(reqwest::Method::GET, &path, None).await
    }

    /// Every contact field of the account (`GET /contact-fields/`, `resources/
    /// contactfieldlist`: `links` and `results[]` with `id`, `name`, `type`, `custom`...).
    pub async fn contact_fields(&self) -> Result<Vec<ContactFieldRead>, Unexpected> {
        self.list("/contact-fields/").await
    }

    /// "Create a contact field" (`reference/contact-fields/create-contact-field`): a
    /// `ContactFieldCreate` with `id`, `name`, `type` and `required` (false: no
    /// `defaultValue` needed).
    pub async fn create_contact_field(
        &self,
        field: &bridge_core::connectif::contact::ContactField,
    ) -> Result<Value, Unexpected> {
        let body = serde_json::json!({
            "id": field.id, "name": field.name, "type": field.kind, "required": false,
        });
        self.call(reqwest::Method::POST, "/contact-fields/", Some(body))
            .await
    }

    /// Every item of a paged list starting at `path`. A `links.next` is followed only on the
    /// API's own origin: the key is never sent anywhere else.
    async fn list<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, Unexpected> {
        let mut all = Vec::new();
        let mut next = path.to_owned();
        for _ in 0..MAX_PAGES {
            let page: Page<T> = self.call(reqwest::Method::GET, &next, None).await?;
            all.extend(page.results);
            match page.links.next.filter(|n| !n.is_empty()) {
                None => return Ok(all),
                Some(link) => next = self.on_origin(path, &link)?,
            }
        }
        Err(Unexpected {
            call: format!("GET {path}"),
            answer: format!("more than {MAX_PAGES} pages (links.next never ends)"),
        })
    }

    /// `link` (absolute, or a path) as a path on the API's base, or why not.
    fn on_origin(&self, path: &str, link: &str) -> Result<String, Unexpected> {
        let relative = link.strip_prefix(&self.base).unwrap_or(link);
        if relative.starts_with('/') && !relative.starts_with("//") {
            return Ok(relative.to_owned());
        }
        Err(Unexpected {
            call: format!("GET {path}"),
            answer: "a links.next off the API's own address (not followed: the key stays here)"
                .into(),
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, Unexpected> {
        let call = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let unexpected = |answer: String| Unexpected {
            call: call.clone(),
            answer,
        };
        let auth = format!("apiKey {}", self.key.expose_secret());
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method.clone(), url)
            .header("Authorization", auth);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json");
            request = request.body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| unexpected(format!("no answer ({})", error_chain(&e))))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let detail: Value = serde_json::from_str(&text).unwrap_or_default();
            let detail = ["code", "title", "detail"]
                .iter()
                .filter_map(|k| detail[*k].as_str())
                .collect::<Vec<_>>()
                .join(" ");
            return Err(unexpected(format!("HTTP {} {detail}", status.as_u16())));
        }
        serde_json::from_str(&text).map_err(|e| {
            let shape = shape(&text);
            unexpected(format!("an answer of another shape ({shape}: {e})"))
        })
    }
}

/// What an answer is, in a few words (never its values): for the difference a report shows.
pub fn shape(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => format!(
            "a bare JSON array of {} items, where a list is documented as {{\"links\", \"results\"}}",
            items.len()
        ),
        Ok(Value::Object(map)) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
            format!("an object with {}", keys.join(", "))
        }
        Ok(other) => format!("a JSON {}", kind(&other)),
        Err(_) => "not JSON".into(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> ConnectifAdmin {
        let key = SecretString::from("k:s");
        let http = bridge_core::http::tls::client_builder()
            .build()
            .expect("client");
        ConnectifAdmin::new(http, "https://api.connectif.cloud/", key)
    }

    #[test]
    fn a_next_link_is_followed_only_on_the_apis_own_address() {
        let a = admin();
        let next = |link: &str| a.on_origin("/custom-integrations/", link);
        assert_eq!(
            next("https://api.connectif.cloud/custom-integrations/?page=2"),
            Ok("/custom-integrations/?page=2".into())
        );
        assert_eq!(
            next("/custom-integrations/?page=3"),
            Ok("/custom-integrations/?page=3".into())
        );
        for elsewhere in [
            "https://api.connectif.cloud.example.net/custom-integrations/",
            "https://example.net/custom-integrations/",
            "//example.net/x",
            "page=2",
        ] {
            assert!(next(elsewhere).is_err(), "{elsewhere}");
        }
    }

    #[test]
    fn an_answers_shape_is_told_in_a_few_words_without_its_values() {
        assert_eq!(
            shape(r#"[{"id":"a"},{"id":"b"}]"#),
            r#"a bare JSON array of 2 items, where a list is documented as {"links", "results"}"#
        );
        assert_eq!(
            shape(r#"{"items":[],"total":"secret-ish"}"#),
            "an object with items, total"
        );
        assert_eq!(shape("<html>"), "not JSON");
    }
}
