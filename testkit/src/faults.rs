//! A loopback proxy in front of `moto_server` that makes chosen AWS calls fail, the way a
//! throttled table or a dropped connection would: the code under test runs its real SDK
//! clients against [`FaultyAws::endpoint`] and cannot tell it from AWS having a bad minute.
//!
//! Calls are told apart by their `X-Amz-Target` operation (`PutItem`, `TransactWriteItems`,
//! `SendMessage`, …: the JSON protocols DynamoDB and SQS speak). Every other request passes
//! through untouched, one upstream connection per request.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How an injected failure looks to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `400 ThrottlingException` (DynamoDB's answer to a table over its capacity).
    Throttle,
    /// `500 InternalServerError`.
    ServerError,
    /// The connection closes without an answer (the request may or may not have been
    /// applied: here it was not).
    Drop,
    /// `400 TransactionCanceledException` with the reasons `[TransactionConflict, None, ...]`,
    /// one per item of the request: "there is an ongoing TransactWriteItems operation that
    /// conflicts with a concurrent TransactWriteItems request"; reasons are "ordered in the
    /// order of requested items", `None` for an item without error (the `TransactWriteItems`
    /// API reference and `TransactionCanceledException`). Nothing was written.
    TransactionConflict,
}

#[derive(Default)]
struct Plan {
    /// Operations the plan counts and may fail.
    ops: Vec<String>,
    /// Calls of `ops` seen so far (failed ones included).
    seen: usize,
    /// From this call of `ops` on (0 = the first), fail with the fault.
    fail_from: Option<(usize, Fault)>,
    /// Fail each call of `ops` with this probability.
    random: Option<(f64, Fault)>,
    /// Fail each call of one operation with a probability and a fault of its own (after the
    /// above, which they do not count in `seen`).
    also: Vec<(String, f64, Fault)>,
    /// Calls failed so far.
    failed: usize,
}

impl Plan {
    /// The fault for a call of `op`, counting it.
    fn next(&mut self, op: &str) -> Option<Fault> {
        let also = (self.also.iter())
            .find(|(o, rate, _)| o == op && fastrand::f64() < *rate)
            .map(|(_, _, fault)| *fault);
        if !self.ops.iter().any(|o| o == op) {
            self.failed += usize::from(also.is_some());
            return also;
        }
        let n = self.seen;
        self.seen += 1;
        let fault = match (self.fail_from, self.random) {
            (Some((from, fault)), _) if n >= from => Some(fault),
            (_, Some((rate, fault))) if fastrand::f64() < rate => Some(fault),
            _ => None,
        };
        let fault = fault.or(also);
        self.failed += usize::from(fault.is_some());
        fault
    }
}

/// The proxy; stops when dropped.
pub struct FaultyAws {
    task: tokio::task::JoinHandle<()>,
    plan: Arc<Mutex<Plan>>,
    pub endpoint: String,
}

impl FaultyAws {
    /// A new loopback port in front of `target` (`http://127.0.0.1:<port>`), passing
    /// everything until told otherwise.
    pub async fn to(target: &str) -> FaultyAws {
        let upstream = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback port");
        let port = listener.local_addr().expect("address").port();
        let plan = Arc::new(Mutex::new(Plan::default()));
        let shared = plan.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((inbound, _)) = listener.accept().await {
                let (upstream, plan) = (upstream.clone(), shared.clone());
                connections.spawn(serve(inbound, upstream, plan));
            }
        });
        FaultyAws {
            task,
            plan,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Count the calls of `ops` (e.g. `["PutItem", "TransactWriteItems"]`) from zero, and
    /// fail every one from the `from`-th on (0 = the next) with `fault`, until [`heal`].
    ///
    /// [`heal`]: FaultyAws::heal
    pub fn fail_from(&self, ops: &[&str], from: usize, fault: Fault) {
        let mut plan = self.plan.lock().unwrap_or_else(|e| e.into_inner());
        *plan = Plan {
            ops: ops.iter().map(|o| o.to_string()).collect(),
            fail_from: Some((from, fault)),
            ..Plan::default()
        };
    }

    /// Count the calls of `ops` from zero, and fail each with probability `rate`.
    pub fn fail_randomly(&self, ops: &[&str], rate: f64, fault: Fault) {
        let mut plan = self.plan.lock().unwrap_or_else(|e| e.into_inner());
        *plan = Plan {
            ops: ops.iter().map(|o| o.to_string()).collect(),
            random: Some((rate, fault)),
            ..Plan::default()
        };
    }

    /// Also fail each call of `op` with probability `rate` and `fault` (kept by the calls
    /// above; counted in [`FaultyAws::failed`]).
    pub fn also_fail_randomly(&self, op: &str, rate: f64, fault: Fault) {
        let mut plan = self.plan.lock().unwrap_or_else(|e| e.into_inner());
        plan.also.push((op.to_owned(), rate, fault));
    }

    /// Calls failed since [`fail_from`], [`fail_randomly`] or [`count`].
    ///
    /// [`fail_from`]: FaultyAws::fail_from
    /// [`fail_randomly`]: FaultyAws::fail_randomly
    /// [`count`]: FaultyAws::count
    pub fn failed(&self) -> usize {
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).failed
    }

    /// Count the calls of `ops` from zero, failing none.
    pub fn count(&self, ops: &[&str]) {
        let mut plan = self.plan.lock().unwrap_or_else(|e| e.into_inner());
        *plan = Plan {
            ops: ops.iter().map(|o| o.to_string()).collect(),
            ..Plan::default()
        };
    }

    /// Stop failing (the count goes on).
    pub fn heal(&self) {
        self.plan
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fail_from = None;
    }

    /// Calls of the counted operations seen since [`fail_from`] or [`count`].
    ///
    /// [`fail_from`]: FaultyAws::fail_from
    /// [`count`]: FaultyAws::count
    pub fn seen(&self) -> usize {
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).seen
    }
}

impl Drop for FaultyAws {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One inbound connection: request after request, each answered by the plan or by moto.
async fn serve(inbound: TcpStream, upstream: String, plan: Arc<Mutex<Plan>>) {
    let mut inbound = BufReader::new(inbound);
    while let Some((head, body)) = read_request(&mut inbound).await {
        let op = header(&head, "x-amz-target")
            .and_then(|t| t.rsplit('.').next().map(str::to_owned))
            .unwrap_or_default();
        let fault = plan.lock().unwrap_or_else(|e| e.into_inner()).next(&op);
        let answer = match fault {
            None => forward(&upstream, &head, &body).await,
            Some(Fault::Drop) => return,
            Some(Fault::Throttle) => Some(error_answer(
                "400 Bad Request",
                "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "Rate of requests exceeds the allowed throughput (injected)",
            )),
            Some(Fault::ServerError) => Some(error_answer(
                "500 Internal Server Error",
                "com.amazon.coral.service#InternalFailure",
                "injected",
            )),
            Some(Fault::TransactionConflict) => Some(conflict_answer(&body)),
        };
        let Some(answer) = answer else { return };
        if inbound.get_mut().write_all(&answer).await.is_err() {
            return;
        }
    }
}

/// The request's head (request line and headers, as sent) and body (by `Content-Length`).
async fn read_request(inbound: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if inbound.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let length = header(&head, "content-length").and_then(|l| l.parse().ok());
    let mut body = vec![0; length.unwrap_or(0)];
    inbound.read_exact(&mut body).await.ok()?;
    Some((head, body))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// The request sent to moto on a connection of its own, and moto's whole answer.
async fn forward(upstream: &str, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut moto = TcpStream::connect(upstream).await.ok()?;
    let head = head.trim_end_matches("\r\n");
    let kept: Vec<&str> = (head.split("\r\n"))
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let request = format!("{}\r\nconnection: close\r\n\r\n", kept.join("\r\n"));
    moto.write_all(request.as_bytes()).await.ok()?;
    moto.write_all(body).await.ok()?;
    let mut answer = Vec::new();
    moto.read_to_end(&mut answer).await.ok()?;
    Some(answer)
}

/// A transaction cancelled for a conflict on its first item, as DynamoDB answers it.
fn conflict_answer(request: &[u8]) -> Vec<u8> {
    let request: serde_json::Value = serde_json::from_slice(request).unwrap_or_default();
    let items = request["TransactItems"]
        .as_array()
        .map_or(1, Vec::len)
        .max(1);
    let mut reasons = vec![
        serde_json::json!({ "Code": "TransactionConflict", "Message": "Transaction is ongoing for the item" }),
    ];
    reasons.extend((1..items).map(|_| serde_json::json!({ "Code": "None" })));
    let codes: Vec<&str> = (0..items)
        .map(|i| {
            if i == 0 {
                "TransactionConflict"
            } else {
                "None"
            }
        })
        .collect();
    let body = serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
        "CancellationReasons": reasons,
    })
    .to_string();
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: injected\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn error_answer(status: &str, kind: &str, message: &str) -> Vec<u8> {
    let body = format!(r#"{{"__type":"{kind}","message":"{message}"}}"#);
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: injected\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
