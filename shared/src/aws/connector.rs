//! The AWS SDK's HTTP client: requests go through reqwest with the bridge's one TLS
//! configuration ([`crate::http::tls`]), so Secrets Manager, SQS and DynamoDB calls share the
//! compiled-in root store with Connectif and Qapla' instead of loading the system's roots
//! again, and the binaries carry one HTTP stack instead of two.
//!
//! Request bodies are streamed (the SDK watches their upload for stalls); answers, small
//! JSON or XML documents for the calls the bridge makes, are read whole before the SDK
//! parses them.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::time::Duration;

/// The SDK's own default connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// An HTTP client for `SdkConfig::http_client`, with the given connect timeout (the SDK's
/// read timeout, when set, applies per request).
pub fn client(connect_timeout: Duration) -> Result<SharedHttpClient, reqwest::Error> {
    Ok(client_with(aws_http(connect_timeout)?))
}

/// An HTTP client for `SdkConfig::http_client` over `http` (its connections shared).
pub fn client_with(http: reqwest::Client) -> SharedHttpClient {
    SharedHttpClient::new(Reqwest { http })
}

/// The reqwest client under AWS calls: the SDK's (above) and the webhooks' own signed SQS
/// sends ([`super::SignedSend`]).
pub fn aws_http(connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    crate::http::tls::client_builder()
        .connect_timeout(connect_timeout)
        .build()
}

#[derive(Debug, Clone)]
struct Reqwest {
    http: reqwest::Client,
}

impl HttpClient for Reqwest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            http: self.http.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    http: reqwest::Client,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let mut request = to_reqwest(request)?;
            *request.timeout_mut() = read_timeout;
            let answer = http.execute(request).await.map_err(connector_error)?;
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.map_err(connector_error)?;
            let mut response = http::Response::new(SdkBody::from(body));
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::user(e.into()))?;
    // The body as a stream: the SDK watches its upload (stalled-stream protection).
    let request = request.map(reqwest::Body::wrap);
    reqwest::Request::try_from(request).map_err(|e| ConnectorError::user(e.into()))
}

/// The SDK retries timeouts and I/O errors; anything else is not worth another try.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn failure(url: &str, timeout: Duration) -> ConnectorError {
        let http = crate::http::tls::client_builder()
            .timeout(timeout)
            .build()
            .expect("client");
        connector_error(http.get(url).send().await.expect_err("fails"))
    }

    #[tokio::test]
    async fn refused_connections_and_timeouts_are_the_kinds_the_sdk_retries() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = free.local_addr().expect("addr").port();
        drop(free);
        let refused = failure(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2)).await;
        assert!(refused.is_io(), "{refused:?}");
        // Accepts the connection, never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", silent.local_addr().expect("addr"));
        let slow = failure(&url, Duration::from_millis(100)).await;
        assert!(slow.is_timeout(), "{slow:?}");
    }
}
