//! The API Gateway HTTP API event (payload format 2.0, which Lambda function URLs and
//! `cargo lambda` also use) in a form the bridge controls: every field optional, the body
//! decoded here. `lambda_http` panics on a body flagged base64 that is not base64; this
//! reads it as a refusal instead, so no input can fail an invocation.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// The parts of the event a webhook uses. Missing or `null` fields read as empty.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpEvent {
    #[serde(deserialize_with = "nullable")]
    raw_path: String,
    #[serde(deserialize_with = "nullable")]
    path_parameters: HashMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    request_context: RequestContext,
    #[serde(deserialize_with = "nullable")]
    body: String,
    #[serde(deserialize_with = "nullable")]
    is_base64_encoded: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RequestContext {
    #[serde(deserialize_with = "nullable")]
    http: HttpDescription,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HttpDescription {
    #[serde(deserialize_with = "nullable")]
    method: String,
    #[serde(rename = "sourceIp", deserialize_with = "nullable")]
    source_ip: String,
}

fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The body was flagged base64 but is not.
#[derive(Debug, thiserror::Error)]
#[error("body flagged base64 is not valid base64")]
pub struct BadBase64;

impl HttpEvent {
    pub fn method(&self) -> &str {
        &self.request_context.http.method
    }

    /// The address the post came from, as API Gateway saw it: empty when not given or not
    /// an IP address (it goes to log lines).
    pub fn source_ip(&self) -> &str {
        let ip = self.request_context.http.source_ip.as_str();
        if ip.parse::<std::net::IpAddr>().is_ok() {
            ip
        } else {
            ""
        }
    }

    /// The channel id: API Gateway's `{channel}` path parameter, else the segment after
    /// `qapla` in the path (local emulators do not fill path parameters).
    pub fn channel(&self) -> Option<&str> {
        if let Some(c) = self.path_parameters.get("channel") {
            return Some(c);
        }
        let mut segments = self.raw_path.split('/');
        segments.by_ref().find(|s| *s == "qapla")?;
        segments.next().filter(|s| !s.is_empty())
    }

    /// The path's segment after `/<after>/` (`release/{token}`): API Gateway's path
    /// parameter is not needed, and an emulator's prefix (`/lambda-url/<fn>`) does not matter.
    pub fn path_tail(&self, after: &str) -> Option<&str> {
        let mut segments = self.raw_path.split('/');
        segments.by_ref().find(|s| *s == after)?;
        segments.next().filter(|s| !s.is_empty())
    }

    /// Length of the body as it arrived (before any base64 decoding).
    pub fn raw_len(&self) -> usize {
        self.body.len()
    }

    /// The body's bytes, base64-decoded when flagged so.
    pub fn body(&self) -> Result<Cow<'_, [u8]>, BadBase64> {
        if !self.is_base64_encoded {
            return Ok(Cow::Borrowed(self.body.as_bytes()));
        }
        base64::engine::general_purpose::STANDARD
            .decode(self.body.trim())
            .map(Cow::Owned)
            .map_err(|_| BadBase64)
    }
}

/// The answer in API Gateway's payload format 2.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub is_base64_encoded: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: serde_json::Value) -> HttpEvent {
        serde_json::from_value(v).expect("event")
    }

    #[test]
    fn missing_and_null_parts_read_as_empty() {
        let e = event(json!({ "pathParameters": null, "body": null, "requestContext": null }));
        assert_eq!((e.method(), e.channel(), e.source_ip()), ("", None, ""));
        assert_eq!(e.body().expect("plain").as_ref(), b"");
    }

    #[test]
    fn the_channel_comes_from_the_path_parameter_or_the_path() {
        let e = event(json!({ "rawPath": "/qapla/it/shipments" }));
        assert_eq!(e.channel(), Some("it"));
        let e = event(json!({ "rawPath": "/x", "pathParameters": { "channel": "es" } }));
        assert_eq!(e.channel(), Some("es"));
        assert_eq!(event(json!({ "rawPath": "/qapla//x" })).channel(), None);
    }

    #[test]
    fn the_source_address_is_api_gateways() {
        let e = event(json!({ "requestContext": { "http": { "sourceIp": "34.96.89.1" } } }));
        assert_eq!(e.source_ip(), "34.96.89.1");
        let e = event(json!({ "requestContext": { "http": { "sourceIp": "me@example.com" } } }));
        assert_eq!(e.source_ip(), "");
    }

    #[test]
    fn base64_bodies_are_decoded_and_bad_ones_refused() {
        let e = event(json!({ "body": "e30=", "isBase64Encoded": true }));
        assert_eq!(e.body().expect("valid").as_ref(), b"{}");
        let e = event(json!({ "body": "not base64 at all!", "isBase64Encoded": true }));
        assert!(e.body().is_err());
    }
}
