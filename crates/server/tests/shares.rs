//! Share links over real HTTP: the policy and its enforcement, expiry on the server's
//! (injectable) clock, view limits, revocation, the public open endpoint and the page's
//! headers. The client's sealing is tested end to end in the CLI crate's client tests;
//! here the ciphertext is opaque bytes, as the server sees it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{b64, rand_bytes, send, Session, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use sesame_core::crypto::access_hash;
use sesame_core::id::Id;
use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD, SEND_ITEMS};

/// A vault with one item, owned by the owner.
async fn vault_and_item(owner: &Session, server: &TestServer) -> (Id, Id) {
    let (vault, _key) = owner.create_vault(&server.owner).await;
    let reply = owner.create_item(&vault, b"overview", b"details").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let item: Id = reply.body["id"].as_str().unwrap().parse().unwrap();
    (vault, item)
}

/// A share request with a fresh id and access token; returns (id, token, body).
fn share_body(expire_after: &str, one_time_only: bool) -> (Id, [u8; 32], Value) {
    let id = Id::generate();
    let token = rand_bytes::<32>();
    let body = json!({
        "id": id,
        "accessHash": b64(&access_hash(&token)),
        "expireAfter": expire_after,
        "oneTimeOnly": one_time_only,
        "item": b64(&rand_bytes::<64>()),
    });
    (id, token, body)
}

async fn open(server: &TestServer, id: &Id, token: &[u8]) -> common::Reply {
    send(
        &server.http,
        Method::POST,
        &server.url(&format!("/v1/shares/{id}/open")),
        None,
        Some(json!({ "access": b64(token) })),
    )
    .await
}

async fn count_shares(server: &TestServer) -> i64 {
    let pool = server.database().await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shares")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    count
}

#[tokio::test]
async fn a_one_time_share_is_served_once_to_the_holder_of_its_token() {
    let server = common::start().await;
    let owner = server.owner().await;
    let (vault, item) = vault_and_item(&owner, &server).await;
    let (id, token, body) = share_body("OneDay", true);
    let sealed = body["item"].clone();
    let created = owner
        .post(&format!("/v1/vaults/{vault}/items/{item}/shares"), body)
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["maxViews"], 1);
    assert_eq!(created.body["views"], 0);

    // Knowing the id (the link's path) is not enough: a wrong token reads nothing and
    // consumes nothing, and answers as an unknown share does.
    let wrong = open(&server, &id, &rand_bytes::<32>()).await;
    assert_eq!(wrong.status, 404, "{:?}", wrong.body);
    let unknown = open(&server, &Id::generate(), &token).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(wrong.message(), unknown.message());

    let first = open(&server, &id, &token).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["item"], sealed);
    assert_eq!(first.body["files"], Value::Null);
    assert_eq!(first.body["viewsLeft"], 0);
    assert_eq!(first.headers["cache-control"], "no-store");

    let second = open(&server, &id, &token).await;
    assert_eq!(second.status, 410, "{:?}", second.body);
    assert!(
        second.message().contains("already viewed"),
        "{}",
        second.message()
    );

    // The ciphertext is gone from the database once the last view was served.
    let pool = server.database().await;
    let (views, stored): (i64, Option<Vec<u8>>) =
        sqlx::query_as("SELECT views, item FROM shares WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!((views, stored), (1, None));

    let listed = owner.get("/v1/shares").await;
    assert_eq!(listed.body[0]["id"], id.as_str());
    assert_eq!(listed.body[0]["views"], 1);

    // Every open is in the audit trail, failures included.
    let events = owner.get("/v1/events?after=0&limit=1000").await;
    let opens: Vec<&Value> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "share.open")
        .collect();
    let outcomes: Vec<&str> = opens
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["not_found", "not_found", "ok", "not_found"]);
    assert_eq!(opens[2]["itemId"], item.as_str());
    assert!(sesame_server::verify_audit(&server.config)
        .await
        .unwrap()
        .intact());
    server.shutdown().await;
}

#[tokio::test]
async fn shares_expire_on_the_servers_clock_and_honour_the_view_limit() {
    let server = common::start().await;
    let owner = server.owner().await;
    let (vault, item) = vault_and_item(&owner, &server).await;
    let policy = json!({
        "maxExpiry": "SevenDays", "defaultExpiry": "OneDay", "maxViews": 2,
        "allowedTypes": ["Public"], "allowedRecipientTypes": [],
        "files": {"allowed": false, "maxSize": 1024},
    });
    let set = owner.put("/v1/share-policy", policy.clone()).await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(owner.get("/v1/share-policy").await.body, policy);

    let (id, token, body) = share_body("OneHour", false);
    let path = format!("/v1/vaults/{vault}/items/{item}/shares");
    assert_eq!(owner.post(&path, body).await.status, 200);
    let first = open(&server, &id, &token).await;
    assert_eq!(
        (first.status.as_u16(), &first.body["viewsLeft"]),
        (200, &json!(1))
    );
    let second = open(&server, &id, &token).await;
    assert_eq!(
        (second.status.as_u16(), &second.body["viewsLeft"]),
        (200, &json!(0))
    );
    let third = open(&server, &id, &token).await;
    assert_eq!(third.status, 410);
    assert!(third.message().contains("(2)"), "{}", third.message());

    let (id, token, body) = share_body("OneHour", false);
    assert_eq!(owner.post(&path, body).await.status, 200);
    server.clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(open(&server, &id, &token).await.status, 200);
    server.clock.advance(Duration::from_secs(60));
    let expired = open(&server, &id, &token).await;
    assert_eq!(expired.status, 410);
    assert!(
        expired.message().contains("expired at"),
        "{}",
        expired.message()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_policy_is_enforced_by_the_server() {
    let server = common::start().await;
    let owner = server.owner().await;
    let (vault, item) = vault_and_item(&owner, &server).await;
    let path = format!("/v1/vaults/{vault}/items/{item}/shares");
    let tight = json!({
        "maxExpiry": "OneDay", "defaultExpiry": "OneHour", "maxViews": null,
        "allowedTypes": ["Public"], "allowedRecipientTypes": ["Email"],
        "files": {"allowed": true, "maxSize": 100},
    });
    assert_eq!(owner.put("/v1/share-policy", tight).await.status, 200);

    let refused = |status: u16, needle: &'static str| {
        move |reply: common::Reply| {
            assert_eq!(reply.status, status, "{:?}", reply.body);
            assert!(reply.message().contains(needle), "{}", reply.message());
        }
    };
    let (_, _, body) = share_body("SevenDays", false);
    refused(400, "longer than the share policy allows")(owner.post(&path, body).await);
    let (_, _, mut body) = share_body("OneHour", false);
    body["recipients"] = json!([{"type": "Email", "parameters": {"email": "a@b.co"}}]);
    refused(400, "not supported")(owner.post(&path, body).await);
    let (_, _, mut body) = share_body("OneHour", false);
    body["files"] = json!(b64(&[0u8; 101]));
    refused(400, "files.maxSize")(owner.post(&path, body).await);
    let (_, _, mut body) = share_body("OneHour", false);
    body["item"] = json!(b64(&[0u8; 300 * 1024]));
    refused(400, "sealed snapshot")(owner.post(&path, body).await);
    let (_, _, mut body) = share_body("OneHour", false);
    body["accessHash"] = json!("short");
    refused(400, "accessHash")(owner.post(&path, body).await);
    let (_, _, mut body) = share_body("OneHour", false);
    body["surprise"] = json!(1);
    refused(400, "surprise")(owner.post(&path, body).await);
    let (_, _, body) = share_body("OneHour", false);
    refused(404, "not found")(
        owner
            .post(
                &format!("/v1/vaults/{vault}/items/{}/shares", Id::generate()),
                body,
            )
            .await,
    );
    assert_eq!(
        count_shares(&server).await,
        0,
        "a refused share stores nothing"
    );

    // Files within the limit are accepted when the policy allows them.
    let (_, _, mut body) = share_body("OneHour", false);
    body["files"] = json!(b64(&[0u8; 100]));
    assert_eq!(owner.post(&path, body).await.status, 200);

    // Policies that cannot work are refused, and the stored one stays.
    for (bad, needle) in [
        (
            json!({"allowedTypes": ["Public", "Authenticated"]}),
            "Authenticated",
        ),
        (json!({"allowedTypes": []}), "allowedTypes is empty"),
        (
            json!({"defaultExpiry": "ThirtyDays"}),
            "longer than maxExpiry",
        ),
        (json!({"maxViews": 0}), "maxViews is 0"),
        (
            json!({"files": {"allowed": true, "maxSize": 0}}),
            "files.maxSize",
        ),
    ] {
        let mut policy = owner.get("/v1/share-policy").await.body;
        for (key, value) in bad.as_object().unwrap() {
            policy[key] = value.clone();
        }
        refused(400, needle)(owner.put("/v1/share-policy", policy).await);
    }
    assert_eq!(
        owner.get("/v1/share-policy").await.body["maxExpiry"],
        "OneDay"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn sharing_needs_send_items_and_only_creators_revoke() {
    let server = common::start().await;
    let owner = server.owner().await;
    let (vault, item) = vault_and_item(&owner, &server).await;
    let key = {
        // The service accounts need the vault key wrapped to them: make a second vault
        // whose key the test holds.
        let (vault, key) = owner.create_vault(&server.owner).await;
        (vault, key)
    };
    let (shared_vault, shared_key) = key;
    let reply = owner.create_item(&shared_vault, b"o", b"d").await;
    let shared_item: Id = reply.body["id"].as_str().unwrap().parse().unwrap();
    let (_, reader) = server
        .service_account(
            &owner,
            &[(
                &shared_vault,
                &shared_key,
                READ_ITEMS | REVEAL_ITEM_PASSWORD,
            )],
        )
        .await;
    let (_, sender) = server
        .service_account(
            &owner,
            &[(
                &shared_vault,
                &shared_key,
                (READ_ITEMS | REVEAL_ITEM_PASSWORD) | SEND_ITEMS,
            )],
        )
        .await;
    let path = format!("/v1/vaults/{shared_vault}/items/{shared_item}/shares");

    let denied = reader.post(&path, share_body("OneHour", false).2).await;
    assert_eq!(denied.status, 403, "{:?}", denied.body);
    assert!(
        denied.message().contains("SEND_ITEMS"),
        "{}",
        denied.message()
    );
    let hidden = sender
        .post(
            &format!("/v1/vaults/{vault}/items/{item}/shares"),
            share_body("OneHour", false).2,
        )
        .await;
    assert_eq!(
        hidden.status, 404,
        "no grant on the vault: as if it did not exist"
    );
    let policy = reader.get("/v1/share-policy").await;
    assert_eq!(policy.status, 200);
    let set = reader.put("/v1/share-policy", policy.body).await;
    assert_eq!(set.status, 403);

    let (id, token, body) = share_body("OneHour", false);
    assert_eq!(sender.post(&path, body).await.status, 200);
    assert!(reader
        .get("/v1/shares")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(sender.get("/v1/shares").await.body[0]["id"], id.as_str());
    // Another principal's share answers as a missing one; its creator revokes it.
    assert_eq!(reader.delete(&format!("/v1/shares/{id}")).await.status, 404);
    assert_eq!(open(&server, &id, &token).await.status, 200);
    assert_eq!(sender.delete(&format!("/v1/shares/{id}")).await.status, 204);
    assert_eq!(sender.delete(&format!("/v1/shares/{id}")).await.status, 204);
    let revoked = open(&server, &id, &token).await;
    assert_eq!(revoked.status, 410);
    assert!(
        revoked.message().contains("revoked"),
        "{}",
        revoked.message()
    );
    let listed = sender.get("/v1/shares").await;
    assert!(listed.body[0]["revokedAt"].is_string());

    // Deleting the item takes its links with it; so does revoking the creator.
    let (id, token, body) = share_body("OneHour", false);
    assert_eq!(sender.post(&path, body).await.status, 200);
    let (id2, token2, body) = share_body("OneHour", false);
    let (own_item_path, own_item) = {
        let reply = owner.create_item(&shared_vault, b"o", b"d").await;
        let item: Id = reply.body["id"].as_str().unwrap().parse().unwrap();
        (
            format!("/v1/vaults/{shared_vault}/items/{item}/shares"),
            item,
        )
    };
    assert_eq!(owner.post(&own_item_path, body).await.status, 200);
    assert_eq!(
        owner
            .delete(&format!("/v1/vaults/{shared_vault}/items/{own_item}"))
            .await
            .status,
        204
    );
    assert_eq!(open(&server, &id2, &token2).await.status, 410);
    assert_eq!(
        owner
            .delete(&format!("/v1/principals/{}", sender.principal))
            .await
            .status,
        204
    );
    assert_eq!(open(&server, &id, &token).await.status, 410);
    server.shutdown().await;
}

#[tokio::test]
async fn the_share_page_is_self_contained_and_strict() {
    let server = common::start().await;
    let id = Id::generate();
    for (path, content_type) in [
        (format!("/s/{id}"), "text/html"),
        ("/s/assets/share.js".to_owned(), "text/javascript"),
        ("/s/assets/share.css".to_owned(), "text/css"),
    ] {
        let response = server.http.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        assert!(header("content-type").starts_with(content_type), "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("cache-control"), "no-store");
        assert_eq!(header("x-content-type-options"), "nosniff");
        let body = response.text().await.unwrap();
        // Nothing from elsewhere: no URL of another origin to load or call.
        for origin in [
            "\"http://",
            "\"https://",
            "'http://",
            "'https://",
            "url(",
            "\"//",
            "'//",
        ] {
            assert!(
                !body.contains(origin),
                "{path} loads from elsewhere: {origin}"
            );
        }
        if path.ends_with(id.as_str()) {
            assert!(body.contains(r#"src="/s/assets/share.js""#));
            assert!(
                !body.contains("<script>"),
                "inline scripts would break the CSP"
            );
        }
    }
    let malformed = open(&server, &id, b"not 32 bytes").await;
    assert_eq!(malformed.status, 400);
    server.shutdown().await;
}
