//! A function behind an HTTP API, on loopback: each request becomes the API Gateway HTTP API
//! event (payload format 2.0) a Lambda function gets, and the function's answer the HTTP
//! response, so a real browser can use a page the real handler serves.

use base64::Engine;
use bridge_core::http::HttpResponse;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

/// Serve `handler` on 127.0.0.1; its base URL (`http://127.0.0.1:<port>`).
pub async fn serve<F, Fut>(handler: F) -> String
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let event = event_of(request).await;
                        let answer = handler(event).await;
                        Ok::<_, std::convert::Infallible>(response_of(answer))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{address}")
}

async fn event_of(request: hyper::Request<Incoming>) -> Value {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: serde_json::Map<String, Value> = (parts.headers.iter())
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    json!({
        "version": "2.0",
        "rawPath": parts.uri.path(),
        "rawQueryString": parts.uri.query().unwrap_or_default(),
        "headers": headers,
        "requestContext": { "http": { "method": parts.method.as_str(), "path": parts.uri.path(), "sourceIp": "127.0.0.1" } },
        "body": base64::engine::general_purpose::STANDARD.encode(&body),
        "isBase64Encoded": true,
    })
}

fn response_of(answer: HttpResponse) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::builder().status(answer.status_code);
    for (name, value) in &answer.headers {
        response = response.header(name, value);
    }
    let body = match answer.is_base64_encoded {
        true => base64::engine::general_purpose::STANDARD
            .decode(answer.body)
            .unwrap_or_default(),
        false => answer.body.into_bytes(),
    };
    response
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}
