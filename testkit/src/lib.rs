//! Test support shared by the workspace's test suites (loopback only).

pub mod aws;
pub mod connectif;
pub mod faults;
pub mod invariants;
mod moto_auth;
pub mod page;
pub mod qapla;
pub mod qapla_v2;
pub mod runtime_api;
pub mod tls;

use std::path::PathBuf;
use std::time::Duration;

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A loopback port nothing listens on (free when this returns): for "connection refused".
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A real `moto_server` on 127.0.0.1. Found at `$MOTO_SERVER` or in the project's
/// virtualenv (`make test` installs it there).
///
/// A test binary starts one ([`moto`]) and its tests share it, each under names of its own
/// ([`unique`]), the way svix and zero2prod share one database. Its process ends with the
/// test binary, however that ends: it is started behind a shell that waits on our stdin and
/// kills it when the pipe closes.
pub struct Moto {
    child: std::process::Child,
    pub endpoint: String,
}

static SHARED: tokio::sync::OnceCell<tokio::sync::RwLock<Moto>> =
    tokio::sync::OnceCell::const_new();

async fn shared() -> &'static tokio::sync::RwLock<Moto> {
    SHARED
        .get_or_init(|| async { tokio::sync::RwLock::new(Moto::start().await) })
        .await
}

/// The test binary's `moto_server` (started on first use), shared with the tests running
/// beside this one: make every queue, table and secret under a [`unique`] name.
pub async fn moto() -> tokio::sync::RwLockReadGuard<'static, Moto> {
    shared().await.read().await
}

/// The test binary's `moto_server` to this test alone, emptied, its IAM check off: for a
/// test that uses fixed names or switches moto-wide settings (the IAM check). Waits for the
/// tests using it to finish, and holds the others back while the guard lives.
pub async fn moto_alone() -> tokio::sync::RwLockWriteGuard<'static, Moto> {
    let moto = shared().await.write().await;
    let (status, body) = moto.post("/moto-api/reset", &[], "").await;
    assert_eq!(status, 200, "moto reset: {body}");
    moto.check_signatures(false).await;
    moto
}

/// A name no other test of this binary uses: `<what>-<n>` (a queue, a table, a prefix).
pub fn unique(what: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{what}-{n}")
}

impl Moto {
    /// A `moto_server` of its own (killed on drop). Tests share [`moto`] instead; this is
    /// for a benchmark or a tool that needs one to itself.
    pub async fn start() -> Moto {
        let bin = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join(".venv/bin/moto_server"));
        assert!(
            bin.exists(),
            "moto_server not found at {bin:?}: this test needs moto (`make test` installs it; `make check` skips these tests)"
        );
        let port = free_port();
        // `cat` returns when our end of its stdin closes: when this process exits, even
        // without running destructors (a static, a panic that aborts).
        let child = std::process::Command::new("sh")
            .args([
                "-c",
                r#""$0" -H 127.0.0.1 -p "$1" & server=$!; cat >/dev/null; kill "$server""#,
            ])
            .arg(&bin)
            .arg(port.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("moto_server did not start on port {port}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing the shell's stdin makes it kill the server.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The bridge's state table (key `pk`, on demand, the stall index), as the template
/// creates it.
pub async fn create_state_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let text = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute")
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("key")
    };
    let stalls = GlobalSecondaryIndex::builder()
        .index_name("stalls")
        .key_schema(key("watch", KeyType::Hash))
        .key_schema(key("watch_at", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index");
    ddb.create_table()
        .table_name(name)
        .attribute_definitions(text("pk"))
        .attribute_definitions(text("watch"))
        .attribute_definitions(text("watch_at"))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(stalls)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("table");
}

/// Where captured log lines go: a shared buffer that a `tracing_subscriber` writer closure
/// clones (`with_writer(move || buffer.clone())`).
#[derive(Clone, Default)]
pub struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    /// The subscriber `make` builds on this buffer (the functions' own, from
    /// `bridge_core::telemetry::dispatch`), as a dispatcher to scope to a thread or a future.
    pub fn dispatch(&self, make: impl FnOnce(LogBuffer) -> tracing::Dispatch) -> tracing::Dispatch {
        // A callsite first hit on a thread with no subscriber is cached as "never
        // interested", and later captures on other threads would miss its lines. A global
        // subscriber that wants everything (and writes it nowhere) keeps every callsite live.
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(std::io::sink)
                .try_init();
        });
        make(self.clone())
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    /// Everything written so far; the buffer is emptied.
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().expect("log buffer"));
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Qapla's `trackingByTimeFrame` answer listing `entries` as (tracking number, Qapla'
/// status id, status time `YYYY-MM-DD HH:MM:SS`), shaped as the API sends it.
pub fn time_frame_answer(entries: &[(&str, &str, &str)]) -> serde_json::Value {
    let shipments: Vec<serde_json::Value> = entries
        .iter()
        .enumerate()
        .map(|(i, (tracking, status, at))| {
            serde_json::json!({
                "id": 48_000_000 + i, "reference": format!("ORDER-{tracking}"),
                "trackingNumber": tracking, "courier": "BRT",
                "status": { "dateISO": at, "place": "MILANO",
                    "qaplaStatus": { "id": status.parse::<u32>().unwrap_or(0), "status": "", "detailID": 0, "detail": null } },
            })
        })
        .collect();
    serde_json::json!({ "trackingByTimeFrame": {
        "result": "OK", "error": null, "count": shipments.len(), "lang": "it", "shipments": shipments,
    }})
}

/// A loopback port forwarding to another (a shared `moto_server`, say) until it is cut: a
/// service that goes away mid-test, without stopping what other tests share.
pub struct Forward {
    task: tokio::task::JoinHandle<()>,
    pub endpoint: String,
}

impl Forward {
    /// Forward a new loopback port to `target` (`http://127.0.0.1:<port>`).
    pub async fn to(target: &str) -> Forward {
        let address = target.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback port");
        let port = listener.local_addr().expect("address").port();
        let task = tokio::spawn(async move {
            // Dropped with the task: every open connection ends with it.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let address = address.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&address).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Forward {
            task,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// From now on the port refuses connections, and open ones are closed.
    pub fn cut(&self) {
        self.task.abort();
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
    }
}
