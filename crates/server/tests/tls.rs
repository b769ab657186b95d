//! TLS: the server serves HTTPS with a configured certificate, and refuses a bad one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use sesame_server::{ServerConfig, ServerError};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        tls_cert: Some(fixture("test-only-cert.pem")),
        tls_key: Some(fixture("test-only-key.pem")),
        ..ServerConfig::default()
    };
    sesame_server::init(&config, "https://127.0.0.1:8787")
        .await
        .unwrap();
    let server = sesame_server::spawn(config.clone()).await.unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let cert =
        reqwest::Certificate::from_pem(&std::fs::read(fixture("test-only-cert.pem")).unwrap())
            .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(cert)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let reply = client
        .get(format!("{}/healthz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let plain = reqwest::get(format!("http://{}/healthz", server.local_addr())).await;
    assert!(plain.is_err(), "plain HTTP is not served on the TLS port");
    server.shutdown().await.unwrap();

    let broken = ServerConfig {
        tls_key: Some(fixture("README.md")),
        ..config
    };
    let err = sesame_server::spawn(broken).await.unwrap_err();
    assert!(matches!(err, ServerError::Config(_)), "{err}");
}
