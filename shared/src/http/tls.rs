//! One TLS configuration for every outbound connection (Connectif, Qapla's API, AWS):
//! rustls with the *ring* provider and the Mozilla root store compiled into the binary.
//!
//! Why: loading the system's roots (the whole `/etc/ssl/certs` directory, hundreds of
//! certificate parses) was most of a cold start's CPU, and was done once per client. The
//! compiled-in anchors are already in the form rustls checks against: nothing is read or
//! parsed, and the one configuration is built on first use and shared. Certificates are
//! verified exactly as before (a self-signed or unknown issuer is refused; see the tests).

use std::sync::{Arc, LazyLock};

static CONFIG: LazyLock<rustls::ClientConfig> = LazyLock::new(|| {
    #[allow(unused_mut)] // mutated only by `make bench`'s build
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // `make bench` only (feature `bench-ca`): the loopback stand-ins' certificate.
    #[cfg(feature = "bench-ca")]
    {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let pem = include_bytes!("../../../testkit/tls/self-signed.crt");
        let cert = CertificateDer::from_pem_slice(pem).expect("the bench certificate");
        roots
            .add(cert)
            .expect("the bench certificate is a trust anchor");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring's default provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
});

/// The shared client configuration (cheap to clone: its parts are reference-counted).
pub fn config() -> rustls::ClientConfig {
    CONFIG.clone()
}

/// A reqwest client builder using the shared TLS configuration: start every HTTP client here.
#[allow(clippy::disallowed_methods)] // the one place a client builder starts
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(config())
        .user_agent(concat!(
            "qapla-connectif-bridge/",
            env!("CARGO_PKG_VERSION")
        ))
}
