//! Connectif's management API for custom integrations and their reception events (custom
//! event types), as its documentation describes them (`docs/connectif.md`, "What `setup`
//! calls"). **Never verified against a live account**: every answer is read strictly, and one
//! that is not the documented shape is an [`Unexpected`] error that `setup` turns into the
//! manual steps for what is left.

use bridge_core::connectif::schema::FieldDef;
use bridge_core::telemetry::error_chain;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

/// A custom integration.
#[derive(Debug, Clone, Deserialize)]
pub struct Integration {
    pub id: String,
    pub name: String,
}

/// A reception event (a custom event type of category `receive`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub name: String,
    pub alias: String,
    pub category: String,
    /// `api` (Public API) or `webhook` (Endpoint URL).
    pub receive_type: String,
    pub fields: Vec<FieldDef>,
    /// The event's Endpoint URL, if an answer carries one (not documented: usually absent).
    #[serde(default, skip_serializing)]
    pub endpoint_url: Option<String>,
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

impl ConnectifAdmin {
    pub fn new(http: reqwest::Client, base: &str, key: SecretString) -> Self {
        ConnectifAdmin {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
        }
    }

    pub async fn integrations(&self) -> Result<Vec<Integration>, Unexpected> {
        self.call(reqwest::Method::GET, "/custom-integrations/", None)
            .await
    }

    pub async fn create_integration(&self, name: &str) -> Result<Integration, Unexpected> {
        let body = serde_json::json!({ "name": name });
        let path = "/custom-integrations/";
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn event_types(&self, integration: &str) -> Result<Vec<EventType>, Unexpected> {
        let path = format!("/custom-integrations/{integration}/custom-event-types/");
        self.call(reqwest::Method::GET, &path, None).await
    }

    pub async fn create_event_type(
        &self,
        integration: &str,
        event: &EventType,
    ) -> Result<EventType, Unexpected> {
        let path = format!("/custom-integrations/{integration}/custom-event-types/");
        let body = serde_json::to_value(event).unwrap_or_default();
        self.call(reqwest::Method::POST, &path, Some(body)).await
    }

    pub async fn event_type(&self, integration: &str, id: &str) -> Result<EventType, Unexpected> {
        let path = format!("/custom-integrations/{integration}/custom-event-types/{id}");
        self.call(reqwest::Method::GET, &path, None).await
    }

    /// Replace the event type's field list with `fields` (a PATCH of `fields` only).
    pub async fn set_fields(
        &self,
        integration: &str,
        id: &str,
        fields: &[FieldDef],
    ) -> Result<EventType, Unexpected> {
        let path = format!("/custom-integrations/{integration}/custom-event-types/{id}");
        let body = serde_json::json!({ "fields": fields });
        self.call(reqwest::Method::PATCH, &path, Some(body)).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, Unexpected> {
        let call = format!("{method} {path}");
        let unexpected = |answer: String| Unexpected {
            call: call.clone(),
            answer,
        };
        let auth = format!("apiKey {}", self.key.expose_secret());
        let mut request = (self
            .http
            .request(method.clone(), format!("{}{path}", self.base)))
        .header("Authorization", auth);
        if let Some(body) = body {
            request = (request.header("Content-Type", "application/json")).body(body.to_string());
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
        serde_json::from_str(&text)
            .map_err(|e| unexpected(format!("an answer of another shape ({e})")))
    }
}
