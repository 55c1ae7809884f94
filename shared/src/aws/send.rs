//! The one way the bridge sends to SQS: `SendMessageBatch` and `SendMessage`, the requests
//! `aws-sdk-sqs` itself sends (AWS JSON 1.0), signed by the SDK's own signer (`aws-sigv4`)
//! and posted over the bridge's HTTP client.
//!
//! Measured (`make bench`), the SDK's orchestration of one call (endpoint rules,
//! interceptors, identity cache, retry bookkeeping) cost ~140 µs of CPU, more than the rest
//! of a webhook's post. What it did is kept: the endpoint comes from the SDK's own endpoint
//! rules, resolved once; transport failures, 5xx, 429 and throttling errors are tried again
//! on [`RetryPolicy::aws`] (the bridge's one schedule for AWS calls); like the SDK's, no
//! timeout but the connect timeout: the caller's deadline bounds a call (a webhook answers
//! before API Gateway's 29 s). Credentials come from a provider and are kept until five
//! minutes before they expire (Lambda's never do; the console's may).
//! Tested against `moto_server` with its IAM signature check on.

use crate::delivery::RetryPolicy;
use crate::http::Class;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_sqs::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use futures_util::FutureExt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Credentials this close to their expiry are asked for again.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// Why a sender could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no SQS endpoint: {0}")]
    Endpoint(String),
    #[error("not a URL: {0}")]
    Url(String),
}

/// Sends messages to SQS queues of one region.
pub struct SignedSend {
    http: reqwest::Client,
    /// The SQS endpoint, parsed once.
    url: reqwest::Url,
    region: String,
    credentials: SharedCredentialsProvider,
    /// The credentials last given, until shortly before they expire.
    cached: Mutex<Option<Credentials>>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for SignedSend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedSend")
            .field("url", &self.url.as_str())
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Why a message was not sent: never the message, the URL's query or a credential.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("SQS answered HTTP {status}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Refused {
        status: u16,
        /// The error code SQS gave (`QueueDoesNotExist`, `SignatureDoesNotMatch`...).
        code: Option<String>,
    },
    #[error("SQS not reached: {0}")]
    Transport(&'static str),
    #[error("cannot sign the request: {0}")]
    Signing(String),
    #[error("no credentials: {0}")]
    Credentials(String),
    #[error("SQS's answer unreadable: {0}")]
    Answer(String),
}

impl SendError {
    /// What the SDK's standard retry would try again.
    fn retryable(&self) -> bool {
        match self {
            SendError::Refused { status, code } => {
                let class = reqwest::StatusCode::from_u16(*status).map(Class::of);
                class.is_ok_and(|c| c == Class::Retryable)
                    || code.as_deref().is_some_and(|c| {
                        ["Throttl", "RequestThrottled", "RequestTimeout"]
                            .iter()
                            .any(|t| c.contains(t))
                    })
            }
            SendError::Transport(_) => true,
            SendError::Signing(_) | SendError::Credentials(_) | SendError::Answer(_) => false,
        }
    }
}

/// One message for a FIFO queue: its group and deduplication id, and its attributes.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry<'a> {
    /// Its id within a batch (unused by `SendMessage`).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub id: &'a str,
    pub message_body: &'a str,
    pub message_group_id: &'a str,
    pub message_deduplication_id: &'a str,
    /// String attributes (name, value), as `MessageAttributes`.
    #[serde(skip_serializing_if = "<[_]>::is_empty", serialize_with = "attributes")]
    pub message_attributes: &'a [(&'a str, String)],
}

fn attributes<S: serde::Serializer>(
    attributes: &&[(&str, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(attributes.len()))?;
    for (name, value) in attributes.iter() {
        let value = serde_json::json!({"DataType": "String", "StringValue": value});
        map.serialize_entry(name, &value)?;
    }
    map.end()
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct SendMessage<'a> {
    queue_url: &'a str,
    #[serde(flatten)]
    entry: &'a Entry<'a>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct SendMessageBatch<'a> {
    queue_url: &'a str,
    entries: &'a [Entry<'a>],
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchAnswer {
    #[serde(default)]
    successful: Vec<BatchResult>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchResult {
    id: String,
}

impl SignedSend {
    /// The SDK's endpoint for SQS in `region` (or `endpoint`, when one is given), signing
    /// with what `credentials` gives, over `http`.
    pub fn new(
        region: String,
        credentials: SharedCredentialsProvider,
        endpoint: Option<String>,
        http: reqwest::Client,
    ) -> Result<Self, SetupError> {
        let params = Params::builder()
            .region(region.clone())
            .set_endpoint(endpoint)
            .build();
        // The SDK's endpoint rules answer at once (their future is ready when made).
        let endpoint = match params {
            Ok(params) => DefaultResolver::new()
                .resolve_endpoint(&params)
                .now_or_never()
                .unwrap_or_else(|| Err("the endpoint rules did not answer at once".into())),
            Err(e) => Err(e.into()),
        }
        .map_err(|e| SetupError::Endpoint(e.to_string()))?;
        let url =
            reqwest::Url::parse(endpoint.url()).map_err(|e| SetupError::Url(e.to_string()))?;
        Ok(SignedSend {
            http,
            url,
            region,
            credentials,
            cached: Mutex::new(None),
            retry: RetryPolicy::aws(),
        })
    }

    /// The sender for an SDK configuration's region, credentials and endpoint (the console).
    pub fn of_sdk(sdk: &aws_types::SdkConfig, http: reqwest::Client) -> Result<Self, SetupError> {
        let region = sdk.region().map(|r| r.to_string());
        let region = region.ok_or(SetupError::Endpoint("no region".into()))?;
        let credentials = sdk
            .credentials_provider()
            .ok_or(SetupError::Endpoint("no credentials provider".into()))?;
        let endpoint = sdk.endpoint_url().map(str::to_owned);
        SignedSend::new(region, credentials, endpoint, http)
    }

    /// The SQS endpoint requests go to.
    pub fn endpoint(&self) -> &reqwest::Url {
        &self.url
    }

    /// With another retry schedule (tests).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// One message, tried again on [`RetryPolicy::aws`].
    pub async fn send_message(&self, queue_url: &str, entry: &Entry<'_>) -> Result<(), SendError> {
        let payload = serde_json::to_vec(&SendMessage { queue_url, entry });
        self.call("AmazonSQS.SendMessage", payload).await?;
        Ok(())
    }

    /// Up to ten messages in one call, tried again on [`RetryPolicy::aws`]; the ids of
    /// those SQS accepted (an entry is counted sent only when SQS lists it as successful).
    pub async fn send_message_batch(
        &self,
        queue_url: &str,
        entries: &[Entry<'_>],
    ) -> Result<Vec<String>, SendError> {
        let payload = serde_json::to_vec(&SendMessageBatch { queue_url, entries });
        let answer = self.call("AmazonSQS.SendMessageBatch", payload).await?;
        let answer: BatchAnswer = serde_json::from_slice(&answer)
            .map_err(|e| SendError::Answer(crate::telemetry::describe_json_error(&e)))?;
        Ok(answer.successful.into_iter().map(|r| r.id).collect())
    }

    async fn call(
        &self,
        target: &'static str,
        payload: serde_json::Result<Vec<u8>>,
    ) -> Result<Vec<u8>, SendError> {
        let payload = payload.map_err(|e| SendError::Signing(e.to_string()))?;
        let mut retry = 0;
        loop {
            let result = self.attempt(target, &payload).await;
            let wait = match &result {
                Err(e) if e.retryable() => self.retry.next_delay(retry, None),
                _ => None,
            };
            match (result, wait) {
                (Err(e), Some(wait)) => {
                    tracing::debug!(error = %e, retry, "{target}: trying again");
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                (result, _) => return result,
            }
        }
    }

    async fn attempt(&self, target: &str, payload: &[u8]) -> Result<Vec<u8>, SendError> {
        let request = self.signed_request(target, payload).await?;
        let answer = self.http.execute(request).await.map_err(transport)?;
        let status = answer.status();
        if status.is_success() {
            return answer.bytes().await.map(Vec::from).map_err(transport);
        }
        let query_error = answer.headers().get("x-amzn-query-error").cloned();
        let text = answer.bytes().await.unwrap_or_default();
        Err(SendError::Refused {
            status: status.as_u16(),
            code: error_code(query_error.as_ref().and_then(|v| v.to_str().ok()), &text),
        })
    }

    async fn current_credentials(&self) -> Result<Credentials, SendError> {
        let fresh = |c: &Credentials| {
            c.expiry()
                .is_none_or(|at| at > SystemTime::now() + REFRESH_BEFORE)
        };
        let kept = self.cached.lock().ok().and_then(|c| c.clone());
        if let Some(credentials) = kept.filter(fresh) {
            return Ok(credentials);
        }
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| SendError::Credentials(crate::telemetry::error_chain(&e)))?;
        if let Ok(mut kept) = self.cached.lock() {
            *kept = Some(credentials.clone());
        }
        Ok(credentials)
    }

    async fn signed_request(
        &self,
        target: &str,
        payload: &[u8],
    ) -> Result<reqwest::Request, SendError> {
        let signing = |e: &dyn std::fmt::Display| SendError::Signing(e.to_string());
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target),
            ("x-amzn-query-mode", "true"),
        ];
        let identity = self.current_credentials().await?.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("sqs")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing(&e))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            self.url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(payload),
        )
        .map_err(|e| signing(&e))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| signing(&e))?
            .into_parts();
        let mut request = reqwest::Request::new(reqwest::Method::POST, self.url.clone());
        let signed = instructions.headers();
        for (name, value) in headers.into_iter().chain(signed) {
            let value = reqwest::header::HeaderValue::from_str(value).map_err(|e| signing(&e))?;
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| signing(&e))?;
            request.headers_mut().insert(name, value);
        }
        *request.body_mut() = Some(payload.to_vec().into());
        Ok(request)
    }
}

fn transport(e: reqwest::Error) -> SendError {
    SendError::Transport(crate::http::transport_reason(&e))
}

/// The error code of a refusal: the `x-amzn-query-error` header (`Code;Sender`), the JSON
/// `__type` (`com.amazonaws.sqs#Code`), or an XML `<Code>` (IAM and signature refusals).
fn error_code(query_error: Option<&str>, body: &[u8]) -> Option<String> {
    let short = |s: &str| {
        let s = s.rsplit(['#', '.']).next().unwrap_or(s);
        (!s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| s.to_owned())
    };
    if let Some(code) = query_error
        .and_then(|h| h.split(';').next())
        .and_then(short)
    {
        return Some(code);
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        return json.get("__type").and_then(|t| t.as_str()).and_then(short);
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    short(&text[start..end])
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Credentials expiring `lasting` from each call, counting the calls.
    #[derive(Debug)]
    struct Counting(Arc<AtomicUsize>, Duration);

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + self.1;
            let credentials = Credentials::new("AKID", "secret", None, Some(expiry), "test");
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(credentials))
        }
    }

    fn sender(lasting: Duration) -> (SignedSend, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = SharedCredentialsProvider::new(Counting(calls.clone(), lasting));
        let http = crate::http::tls::client_builder().build().expect("client");
        let endpoint = Some("http://127.0.0.1:9".to_owned());
        let send = SignedSend::new("eu-west-1".into(), provider, endpoint, http).expect("sender");
        (send, calls)
    }

    #[tokio::test]
    async fn credentials_are_kept_until_five_minutes_before_they_expire() {
        let (lasting, calls) = sender(Duration::from_secs(3600));
        for _ in 0..3 {
            lasting
                .signed_request("AmazonSQS.SendMessage", b"{}")
                .await
                .expect("signed");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "asked once, then kept");
        let (expiring, calls) = sender(Duration::from_secs(60));
        for _ in 0..3 {
            expiring
                .signed_request("AmazonSQS.SendMessage", b"{}")
                .await
                .expect("signed");
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "within five minutes of expiry: asked again"
        );
    }

    #[test]
    fn the_error_code_comes_from_the_header_the_json_or_the_xml() {
        let header = Some("AWS.SimpleQueueService.NonExistentQueue;Sender");
        assert_eq!(error_code(header, b"").as_deref(), Some("NonExistentQueue"));
        let json = br#"{"__type":"com.amazonaws.sqs#RequestThrottled","message":"m"}"#;
        assert_eq!(error_code(None, json).as_deref(), Some("RequestThrottled"));
        let xml = b"<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>";
        assert_eq!(
            error_code(None, xml).as_deref(),
            Some("SignatureDoesNotMatch")
        );
        assert_eq!(error_code(None, b"<html>oops</html>"), None);
        assert_eq!(error_code(None, b"<Code>a b</Code>"), None, "not a code");
    }

    #[test]
    fn throttling_5xx_and_transport_are_tried_again_refusals_are_not() {
        let refused = |status, code: Option<&str>| SendError::Refused {
            status,
            code: code.map(str::to_owned),
        };
        assert!(refused(500, None).retryable());
        assert!(refused(429, None).retryable());
        assert!(refused(400, Some("RequestThrottled")).retryable());
        assert!(refused(400, Some("ThrottlingException")).retryable());
        assert!(SendError::Transport("timeout").retryable());
        assert!(!refused(400, Some("QueueDoesNotExist")).retryable());
        assert!(!refused(403, Some("SignatureDoesNotMatch")).retryable());
        assert!(!SendError::Signing("x".into()).retryable());
    }
}
