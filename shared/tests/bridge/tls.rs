//! Every outbound client verifies certificates against the compiled-in roots: an endpoint
//! with a self-signed certificate is refused by the Connectif / Qapla' client and by the AWS
//! SDK's client, while a client told to trust that certificate gets through to it.

use crate::helpers::*;
use bridge_core::connectif::ConnectifClient;
use bridge_core::telemetry::error_chain;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use testkit::tls::{CERTIFICATE, SelfSigned};

/// The refusal was the certificate's (no handshake completed), and the server itself works.
async fn refused_for_its_certificate(server: &SelfSigned, chain: &str) {
    let unknown = chain.contains("invalid peer certificate") && chain.contains("UnknownIssuer");
    assert!(unknown, "{chain}");
    assert_eq!(server.handshakes(), 0);
    a_trusting_client_gets_through(server).await;
}

/// Control: a client trusting the server's own certificate, so a refusal above is the
/// verification's doing, not a broken server.
async fn a_trusting_client_gets_through(server: &SelfSigned) {
    let mut roots = rustls::RootCertStore::empty();
    let cert = CertificateDer::from_pem_slice(CERTIFICATE).expect("certificate");
    roots.add(cert).expect("root");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    #[allow(clippy::disallowed_methods)] // a client that trusts what the bridge must not
    let trusting = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("client");
    let before = server.handshakes();
    let answer = trusting.get(&server.url).send().await.expect("trusted");
    assert_eq!(answer.status(), 200);
    assert_eq!(server.handshakes(), before + 1);
}

#[tokio::test]
async fn a_self_signed_connectif_endpoint_is_refused() {
    let server = SelfSigned::start().await;
    let client = ConnectifClient::new(TEST_TIMEOUT, TEST_TIMEOUT).expect("client");
    let refused = client
        .http()
        .post(format!(
            "{}/integration-type/system/scripts/integration-events",
            server.url
        ))
        .body("{}")
        .send()
        .await
        .expect_err("a self-signed certificate must be refused");
    refused_for_its_certificate(&server, &error_chain(&refused)).await;
}

#[tokio::test]
async fn a_self_signed_aws_endpoint_is_refused() {
    let server = SelfSigned::start().await;
    let aws = crate::helpers::loopback_aws(&server.url)
        .sdk_config()
        .expect("sdk config");
    let refused = aws_sdk_secretsmanager::Client::new(&aws)
        .get_secret_value()
        .secret_id("qapla-connectif/it")
        .send()
        .await
        .expect_err("a self-signed certificate must be refused");
    refused_for_its_certificate(&server, &error_chain(&refused)).await;
}
