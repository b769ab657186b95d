//! TLS: the server serves HTTPS with a configured certificate, and refuses a bad one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use sesame_server::{ServerConfig, ServerError};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let mut server = common::start_with(|c| {
        c.data_dir = c.data_dir.join("data");
        c.tls_cert = Some(fixture("test-only-cert.pem"));
        c.tls_key = Some(fixture("test-only-key.pem"));
    })
    .await;
    let running = server.server.take().unwrap();
    assert!(running.url().starts_with("https://127.0.0.1:"));
    let cert =
        reqwest::Certificate::from_pem(&std::fs::read(fixture("test-only-cert.pem")).unwrap())
            .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(cert)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let reply = client
        .get(format!("{}/healthz", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let plain = reqwest::get(format!("http://{}/healthz", running.local_addr())).await;
    assert!(plain.is_err(), "plain HTTP is not served on the TLS port");
    running.shutdown().await.unwrap();

    let broken = ServerConfig {
        tls_key: Some(fixture("README.md")),
        ..server.config.clone()
    };
    let err = sesame_server::spawn(broken).await.unwrap_err();
    assert!(matches!(err, ServerError::Config(_)), "{err}");
    server.shutdown().await;
}
