//! Malformed, oversized, mistyped and misaddressed requests: a precise 4xx, never a 500,
//! never a change to stored data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, start_with};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn bad_requests_get_4xx_and_change_nothing() {
    let server = start_with(|c| c.max_body_bytes = 64 * 1024).await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let created = owner.create_item(&vault, b"o", b"d").await;
    let item = created.body["id"].as_str().unwrap().to_owned();
    let items = format!("/v1/vaults/{vault}/items");
    let item_path = format!("{items}/{item}");
    let snapshot = || async {
        let list = owner.get(&format!("{items}?details=true")).await.body;
        let vaults = owner.get("/v1/vaults").await.body;
        (list, vaults)
    };
    let before = snapshot().await;

    let raw = |method: Method, path: String, content_type: Option<&'static str>, body: Vec<u8>| {
        let mut request = server
            .http
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(&owner.session)
            .body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let json_ct = Some("application/json");
    // (name, method, path, content type, body, expected status, expected in the message)
    type Case = (
        &'static str,
        Method,
        String,
        Option<&'static str>,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        ("malformed JSON", Method::PUT, item_path.clone(), json_ct, b"{\"expectedVersion\": 1,".to_vec(), 400, "EOF"),
        ("unknown field", Method::PUT, item_path.clone(),  json_ct,
            serde_json::to_vec(&json!({"expectedVersion": 1, "state": "active", "overview": "AA", "details": "AA", "title": "plaintext!"})).unwrap(), 400, "unknown field `title`"),
        ("wrong type", Method::PUT, item_path.clone(), json_ct,
            serde_json::to_vec(&json!({"expectedVersion": "one", "state": "active", "overview": "AA", "details": "AA"})).unwrap(), 400, "expectedVersion"),
        ("bad base64", Method::PUT, item_path.clone(), json_ct,
            serde_json::to_vec(&json!({"expectedVersion": 1, "state": "active", "overview": "a+/=", "details": "AA"})).unwrap(), 400, "base64url"),
        ("unknown state", Method::PUT, item_path.clone(), json_ct,
            serde_json::to_vec(&json!({"expectedVersion": 1, "state": "shredded", "overview": "AA", "details": "AA"})).unwrap(), 400, "state"),
        ("missing field", Method::POST, items.clone(), json_ct,
            serde_json::to_vec(&json!({"state": "active", "overview": "AA", "details": "AA"})).unwrap(), 400, "missing field `id`"),
        ("bad id in body", Method::POST, items.clone(), json_ct,
            serde_json::to_vec(&json!({"id": "UPPER", "state": "active", "overview": "AA", "details": "AA"})).unwrap(), 400, "id"),
        ("no content type", Method::PUT, item_path.clone(), None, b"{}".to_vec(), 415, "Content-Type"),
        ("oversized", Method::POST, items.clone(), json_ct,
            serde_json::to_vec(&json!({"id": sesame_core::id::Id::generate(), "state": "active", "overview": b64(&vec![0u8; 100 * 1024]), "details": "AA"})).unwrap(), 413, "limit of 65536 bytes"),
        ("bad vault id in path", Method::GET, "/v1/vaults/NOT-AN-ID".into(), None, vec![], 400, "vault id"),
        ("bad item id in path", Method::DELETE, format!("{items}/short"), None, vec![], 400, "item id"),
        ("bad query", Method::GET, format!("{items}?since=minus-one"), None, vec![], 400, "since"),
        ("unknown query key", Method::GET, format!("{items}?sinse=1"), None, vec![], 400, "sinse"),
        ("unknown endpoint", Method::GET, "/v1/nothing".into(), None, vec![], 404, "openapi"),
        ("wrong method", Method::PATCH, item_path.clone(), json_ct, b"{}".to_vec(), 405, "method"),
    ];
    for (name, method, path, content_type, body, status, needle) in cases {
        let (got, reply) = raw(method, path, content_type, body).await;
        assert_eq!(got, status, "{name}: {reply}");
        let code = reply["code"].as_str().unwrap_or_default();
        let message = reply["message"].as_str().unwrap_or_default();
        assert!(!code.is_empty(), "{name}: {reply}");
        assert!(
            message.contains(needle),
            "{name}: {message:?} lacks {needle:?}"
        );
        if status != 404 {
            assert_eq!(code, "invalid_input", "{name}");
        }
    }
    assert_eq!(
        snapshot().await,
        before,
        "no bad request changed stored data"
    );
    // And the server is still healthy.
    assert_eq!(owner.get(&item_path).await.status, 200);
    server.shutdown().await;
}
