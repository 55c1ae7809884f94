//! A Connectif stand-in on raw TCP for `make chaos`: it can do what wiremock cannot — read a
//! request and close the connection without a word, or answer with half a body. HTTP/1.1
//! with `Content-Length` bodies and keep-alive, as the bridge's client (reqwest) speaks it;
//! nothing more.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What the stand-in does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An answer with this status (and `Retry-After` seconds), after `delay`.
    Status {
        status: u16,
        retry_after: Option<u64>,
        delay: Duration,
    },
    /// Close the connection, the request read, nothing written.
    Cut,
    /// `201` whose `Content-Length` promises more body than is written before the close.
    HalfBody,
}

/// What decides each request's answer, from its body.
type Decide = Arc<dyn Fn(&[u8]) -> Answer + Send + Sync>;

/// The server; stops when dropped.
pub struct CutServer {
    task: tokio::task::JoinHandle<()>,
    pub uri: String,
}

impl Drop for CutServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CutServer {
    /// On a loopback port, each request's body given to `decide`.
    pub async fn start(decide: impl Fn(&[u8]) -> Answer + Send + Sync + 'static) -> CutServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback port");
        let port = listener.local_addr().expect("address").port();
        let decide: Decide = Arc::new(decide);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, decide.clone()));
            }
        });
        CutServer {
            task,
            uri: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// One connection: request after request until the client or an answer ends it.
async fn serve(stream: TcpStream, decide: Decide) {
    let mut stream = BufReader::new(stream);
    while let Some(body) = read_request(&mut stream).await {
        let out = stream.get_mut();
        let written = match decide(&body) {
            Answer::Cut => return,
            Answer::HalfBody => {
                let body = r#"{"status":201,"title":"Created"}"#;
                let head = format!(
                    "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = out.write_all(head.as_bytes()).await;
                let _ = out.write_all(&body.as_bytes()[..body.len() / 2]).await;
                let _ = out.flush().await;
                return;
            }
            Answer::Status {
                status,
                retry_after,
                delay,
            } => {
                tokio::time::sleep(delay).await;
                let retry = retry_after.map_or(String::new(), |s| format!("retry-after: {s}\r\n"));
                let head = format!(
                    "HTTP/1.1 {status} {}\r\n{retry}content-length: 0\r\n\r\n",
                    reason(status)
                );
                out.write_all(head.as_bytes()).await
            }
        };
        if written.is_err() {
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    }
}

/// A request's body (by `Content-Length`), its head read and dropped; `None` at the end.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// reqwest, as the bridge uses it, against each answer: a cut and a half body are seen.
    #[tokio::test]
    async fn each_answer_reaches_the_client_as_it_would_from_a_failing_server() {
        let server = CutServer::start(|body| match body {
            b"cut" => Answer::Cut,
            b"half" => Answer::HalfBody,
            _ => Answer::Status {
                status: 429,
                retry_after: Some(1),
                delay: Duration::ZERO,
            },
        })
        .await;
        // The bridge's own client (its TLS provider chosen), as the worker posts with it.
        let client = bridge_core::http::tls::client_builder()
            .build()
            .expect("client");
        let post = |body: &'static str| client.post(&server.uri).body(body).send();
        let throttled = post("busy").await.expect("an answer");
        assert_eq!(throttled.status(), 429);
        assert_eq!(throttled.headers()["retry-after"], "1");
        assert!(post("cut").await.is_err(), "no answer");
        let half = post("half").await.expect("a status line");
        assert_eq!(half.status(), 201);
        assert!(half.bytes().await.is_err(), "the body is cut short");
    }
}
