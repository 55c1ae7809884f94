//! An HTTPS server on loopback with a self-signed certificate (`testkit/tls/`, valid for
//! `localhost` and `127.0.0.1` until 2126): a client that verifies certificates must refuse
//! it; one that does not gets `200 {}` to every request.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};

/// The server's certificate, PEM.
pub const CERTIFICATE: &[u8] = include_bytes!("../tls/self-signed.crt");
const KEY: &[u8] = include_bytes!("../tls/self-signed.key");

/// A server configuration presenting the self-signed certificate.
pub fn server_config() -> Arc<rustls::ServerConfig> {
    let cert = CertificateDer::from_pem_slice(CERTIFICATE).expect("certificate");
    let key = PrivateKeyDer::from_pem_slice(KEY).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    Arc::new(config)
}

/// TLS in front of a plain-HTTP server on loopback (`make bench`'s stand-ins for AWS,
/// Connectif and Qapla'): each TLS connection is carried to one connection of `upstream`,
/// both kept alive as long as the client keeps its own.
pub struct Front {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    handshakes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Front {
    /// TLS on a new port in front of `upstream` (`http://127.0.0.1:<port>`).
    pub async fn start(upstream: &str) -> Front {
        Front::with_rtt(upstream, Duration::ZERO).await
    }

    /// [`Front::start`], as if the client were a network round trip `rtt` away: every chunk
    /// either way arrives half of it later, and the client's first one a whole `rtt` more
    /// (TCP's own handshake).
    pub async fn with_rtt(upstream: &str, rtt: Duration) -> Front {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let acceptor = tokio_rustls::TlsAcceptor::from(server_config());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = handshakes.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let _ = socket.set_nodelay(true);
                let serve = Served {
                    acceptor: acceptor.clone(),
                    counted: counted.clone(),
                    upstream: upstream.clone(),
                };
                if rtt.is_zero() {
                    tokio::spawn(serve.on(socket));
                } else {
                    let (near, far) = tokio::io::duplex(64 * 1024);
                    tokio::spawn(delayed(socket, near, rtt / 2));
                    tokio::spawn(serve.on(far));
                }
            }
        });
        Front {
            url: format!("https://127.0.0.1:{port}"),
            handshakes,
            task,
        }
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

struct Served {
    acceptor: tokio_rustls::TlsAcceptor,
    counted: Arc<AtomicUsize>,
    upstream: String,
}

impl Served {
    /// The TLS handshake on `socket`, then its requests carried to a connection upstream.
    async fn on(self, socket: impl AsyncRead + AsyncWrite + Unpin) {
        let Ok(mut tls) = self.acceptor.accept(socket).await else {
            return;
        };
        self.counted.fetch_add(1, Ordering::SeqCst);
        let Ok(mut plain) = tokio::net::TcpStream::connect(&self.upstream).await else {
            return;
        };
        let _ = plain.set_nodelay(true);
        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
    }
}

/// Bytes carried between `client` and `server`, each chunk `one_way` after it arrived (the
/// client's first, a round trip more).
async fn delayed(client: tokio::net::TcpStream, server: DuplexStream, one_way: Duration) {
    let (from_client, to_client) = client.into_split();
    let (from_server, to_server) = tokio::io::split(server);
    tokio::join!(
        pump(from_client, to_server, one_way, 2 * one_way),
        pump(from_server, to_client, one_way, Duration::ZERO),
    );
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    delay: Duration,
    mut first: Duration,
) {
    let (chunks, mut due) = tokio::sync::mpsc::unbounded_channel();
    let read = async move {
        let mut buffer = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buffer).await {
            let at = tokio::time::Instant::now() + delay + std::mem::take(&mut first);
            if chunks.send((at, buffer[..n].to_vec())).is_err() {
                break;
            }
        }
    };
    let write = async move {
        while let Some((at, chunk)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(read, write);
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct SelfSigned {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    handshakes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SelfSigned {
    pub async fn start() -> SelfSigned {
        let acceptor = tokio_rustls::TlsAcceptor::from(server_config());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = handshakes.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (acceptor, counted) = (acceptor.clone(), counted.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let mut request = vec![0; 16 * 1024];
                    let _ = tls.read(&mut request).await;
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        SelfSigned {
            url,
            handshakes,
            task,
        }
    }

    /// TLS handshakes that completed (a verifying client never completes one).
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for SelfSigned {
    fn drop(&mut self) {
        self.task.abort();
    }
}
