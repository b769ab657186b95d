//! The OpenAPI document describes every route the router serves, and is served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;

#[test]
fn every_route_is_in_the_openapi_document() {
    let doc: Value = serde_json::from_str(sesame_server::OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = sesame_server::routes();
    assert!(routes.len() >= 26, "{routes:?}");
    for (method, path) in &routes {
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is served but missing from openapi.json"
        );
        assert!(operation["operationId"].is_string(), "{method} {path}");
    }
    // And nothing documented is not served.
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, routes.len());
    // Every schema reference resolves.
    let text = sesame_server::OPENAPI;
    for reference in text.split("\"#/components/").skip(1) {
        let target = &reference[..reference.find('"').unwrap()];
        let mut node = &doc["components"];
        for part in target.split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "dangling $ref {target}");
    }
}

#[tokio::test]
async fn the_document_and_health_endpoints_are_served() {
    let server = common::start().await;
    let doc = reqwest::get(server.url("/v1/openapi.json")).await.unwrap();
    assert_eq!(doc.status(), 200);
    assert_eq!(doc.headers()["content-type"], "application/json");
    let body: Value = doc.json().await.unwrap();
    assert!(body["paths"]["/v1/sync"].is_object());
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    server.shutdown().await;
}
