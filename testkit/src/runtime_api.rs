//! A Lambda Runtime API on 127.0.0.1, enough to drive a real function binary as Lambda
//! does: the binary (started with `AWS_LAMBDA_RUNTIME_API` set to [`RuntimeApi::address`])
//! long-polls `GET /2018-06-01/runtime/invocation/next`, receives each event with its request
//! id and deadline headers, and posts its answer to `.../invocation/<id>/response` (or
//! `/error`). HTTP/1.1 with keep-alive, as the runtime's client speaks it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc, oneshot};

/// The function's answer to one invocation.
#[derive(Debug, Clone)]
pub struct Answer {
    pub request_id: String,
    /// `response` or `error`.
    pub kind: String,
    pub body: serde_json::Value,
}

type Pending = (String, Vec<u8>);

struct Shared {
    next: Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiting: std::sync::Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    /// When the function last asked for its next event (it is idle from then on).
    polled: tokio::sync::watch::Sender<Option<Instant>>,
}

pub struct RuntimeApi {
    address: String,
    queue: mpsc::UnboundedSender<Pending>,
    shared: Arc<Shared>,
    ids: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let (queue, next) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            next: Mutex::new(next),
            waiting: Default::default(),
            polled: tokio::sync::watch::channel(None).0,
        });
        let serving = shared.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        RuntimeApi {
            address,
            queue,
            shared,
            ids: AtomicU64::new(0),
            server,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The first time after `since` that the function asked for its next event: the end of
    /// its init (first poll) or of its work on an invocation (the poll after the answer).
    pub async fn polled_after(&self, since: Instant, limit: Duration) -> Instant {
        let mut polls = self.shared.polled.subscribe();
        let wait = polls.wait_for(|at| at.is_some_and(|at| at >= since));
        let at = tokio::time::timeout(limit, wait)
            .await
            .expect("the function asked for an event in time")
            .expect("runtime API running");
        at.unwrap_or(since)
    }

    /// Hand `event` to the function and wait (at most `limit`) for its answer.
    pub async fn invoke(&self, event: &serde_json::Value, limit: Duration) -> Answer {
        (self.try_invoke(event, limit).await).expect("the function answered in time")
    }

    /// [`RuntimeApi::invoke`], `None` when no answer came within `limit` (the function was
    /// stopped, or is too slow).
    pub async fn try_invoke(&self, event: &serde_json::Value, limit: Duration) -> Option<Answer> {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("8f5e3c2a-0000-4000-8000-{n:012}");
        let (tx, rx) = oneshot::channel();
        (self.shared.waiting.lock())
            .expect("waiting")
            .insert(request_id.clone(), tx);
        self.queue
            .send((request_id.clone(), event.to_string().into_bytes()))
            .expect("queue");
        let answer = tokio::time::timeout(limit, rx).await.ok()?.ok();
        if answer.is_none() {
            self.shared
                .waiting
                .lock()
                .expect("waiting")
                .remove(&request_id);
        }
        answer
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let mut stream = BufReader::new(stream);
    loop {
        let Some((method, path, body)) = read_request(&mut stream).await else {
            return;
        };
        let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            shared.polled.send_replace(Some(Instant::now()));
            let Some((id, event)) = shared.next.lock().await.recv().await else {
                return;
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                + Duration::from_secs(30);
            let headers = format!(
                "Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:000000000000:function:under-test\r\n",
                deadline.as_millis()
            );
            response(200, &headers, &event)
        } else if let Some(rest) = path.strip_prefix("/2018-06-01/runtime/invocation/") {
            let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
            let answer = Answer {
                request_id: id.to_owned(),
                kind: kind.to_owned(),
                body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
            };
            if let Some(tx) = shared.waiting.lock().expect("waiting").remove(id) {
                let _ = tx.send(answer);
            }
            response(202, "", b"{}")
        } else {
            // `/runtime/init/error` and anything else: accepted, nothing to wait for.
            response(202, "", b"{}")
        };
        if stream.get_mut().write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// Method, path and body of the next request on the connection; `None` when it closes.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0;
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((method, path, body))
}

fn response(status: u16, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
