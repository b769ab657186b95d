//! Authentication over real HTTP: assertions, sessions, revocation, rotation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{auth_request, b64, now, send, start, start_with, TestServer};
use reqwest::Method;
use serde_json::json;
use sesame_core::id::Id;
use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD};
use sesame_core::token::ServiceAccountToken;

#[tokio::test]
async fn a_signed_assertion_gets_a_session_that_works() {
    let server = start().await;
    let request = auth_request(&server.owner, now());
    let reply = send(
        &server.http,
        Method::POST,
        &server.url("/v1/auth"),
        None,
        Some(serde_json::to_value(&request).unwrap()),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let session = reply.body["session"].as_str().unwrap();
    assert!(session.starts_with("v1."));
    assert_eq!(reply.body["principal"]["kind"], "owner");
    assert!(reply.body["expiresAt"].as_u64().unwrap() > now() + 3000);
    let me = send(
        &server.http,
        Method::GET,
        &server.url("/v1/principals/me"),
        Some(session),
        None,
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], server.owner.principal_id().as_str());
    for header in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(me.headers.contains_key(header), "{header}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn bad_signatures_stale_timestamps_and_strangers_are_rejected() {
    let server = start().await;
    let auth_url = server.url("/v1/auth");
    let post =
        |body: serde_json::Value| send(&server.http, Method::POST, &auth_url, None, Some(body));

    let mut forged = auth_request(&server.owner, now());
    forged.integration_version = "9.9.9".into(); // signed over 1.0.0
    let reply = post(serde_json::to_value(&forged).unwrap()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (401, "unauthenticated")
    );

    let stale = auth_request(&server.owner, now() - 600);
    let reply = post(serde_json::to_value(&stale).unwrap()).await;
    assert_eq!(reply.status, 401);
    assert!(reply.message().contains("clock"), "{}", reply.message());

    let stranger =
        ServiceAccountToken::generate(&server.base, server.account, Id::generate()).unwrap();
    let reply = post(serde_json::to_value(auth_request(&stranger, now())).unwrap()).await;
    assert_eq!(reply.status, 401);

    let other_account =
        ServiceAccountToken::generate(&server.base, Id::generate(), *server.owner.principal_id())
            .unwrap();
    let reply = post(serde_json::to_value(auth_request(&other_account, now())).unwrap()).await;
    assert_eq!(reply.status, 401);

    // The integration name is checked with a precise message.
    let mut request = auth_request(&server.owner, now());
    request.integration_name = String::new();
    let reply = post(serde_json::to_value(&request).unwrap()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "invalid_input")
    );
    assert!(
        reply.message().contains("integrationName"),
        "{}",
        reply.message()
    );

    let mut request = auth_request(&server.owner, now());
    request.signature = "!!".into();
    let reply = post(serde_json::to_value(&request).unwrap()).await;
    assert_eq!(reply.status, 400);

    // A forged or altered session is rejected.
    let session = server.owner().await;
    let mut altered = session.clone();
    altered.session.push('A');
    assert_eq!(altered.get("/v1/principals/me").await.status, 401);
    let (claims, mac) = session.session.rsplit_once('.').unwrap();
    let mut other = session.clone();
    other.session = format!("{claims}x.{mac}");
    assert_eq!(other.get("/v1/principals/me").await.status, 401);

    // Every failed attempt is in the audit trail, counted per source and minute (one
    // event per source-minute, written when the minute ends or at shutdown), never as a
    // row of its own.
    let events = session.get("/v1/events?limit=1000").await;
    let single = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] != "ok")
        .count();
    assert_eq!(single, 0);
    let (failed, counts) = failures_after_shutdown(server).await;
    assert_eq!(failed, 8, "6 bad assertions and 2 bad sessions: {counts:?}");
}

#[tokio::test]
async fn revoking_a_principal_ends_its_existing_session() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (token, sa) = server
        .service_account(
            &owner,
            &[(&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
        )
        .await;
    assert_eq!(sa.get(&format!("/v1/vaults/{vault}")).await.status, 200);

    let reply = owner
        .delete(&format!("/v1/principals/{}", token.principal_id()))
        .await;
    assert_eq!(reply.status, 204);

    let reply = sa.get(&format!("/v1/vaults/{vault}")).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (401, "unauthenticated")
    );
    assert!(reply.message().contains("revoked"), "{}", reply.message());
    let again = send(
        &server.http,
        Method::POST,
        &server.url("/v1/auth"),
        None,
        Some(serde_json::to_value(auth_request(&token, now())).unwrap()),
    )
    .await;
    assert_eq!(again.status, 401);
    // The owner cannot be revoked.
    let reply = owner
        .delete(&format!("/v1/principals/{}", server.owner.principal_id()))
        .await;
    assert_eq!(reply.status, 400);
    server.shutdown().await;
}

#[tokio::test]
async fn rotating_keys_ends_old_sessions_and_the_new_token_works() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (token, old) = server
        .service_account(
            &owner,
            &[(&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
        )
        .await;
    let id = *token.principal_id();
    let new_token = ServiceAccountToken::generate(&server.base, server.account, id).unwrap();
    let keys = new_token.keys();
    let (wrapped, signature) = common::signed_wrap(&server.owner, &key, &vault, &new_token, 2);
    let reply = owner
        .post(
            &format!("/v1/principals/{id}/rotate"),
            json!({
                "signingPublicKey": b64(&keys.signing_public_key()),
                "encryptionPublicKey": b64(&keys.encryption_public_key()),
                "certificate": common::certificate(&server.owner, &new_token, 2),
                "grants": [{
                    "vaultId": vault,
                    "permissions": (READ_ITEMS | REVEAL_ITEM_PASSWORD),
                    "wrappedKey": wrapped,
                    "signature": signature,
                }],
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["keyGeneration"], 2);

    let reply = old.get("/v1/vaults").await;
    assert_eq!(reply.status, 401);
    assert!(reply.message().contains("rotated"), "{}", reply.message());
    let stale_login = send(
        &server.http,
        Method::POST,
        &server.url("/v1/auth"),
        None,
        Some(serde_json::to_value(auth_request(&token, now())).unwrap()),
    )
    .await;
    assert_eq!(stale_login.status, 401);

    let fresh = server.login(&new_token).await;
    let vaults = fresh.get("/v1/vaults").await;
    assert_eq!(vaults.status, 200);
    assert_eq!(
        vaults.body[0]["permissions"],
        (READ_ITEMS | REVEAL_ITEM_PASSWORD)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn sessions_expire() {
    // Sessions expire on whole seconds: with a 2 s lifetime a session is good for at
    // least 1 s, however late in a second it was issued (1 s could be a millisecond).
    let server = start_with(|c| c.session_ttl_seconds = 2).await;
    let owner = server.owner().await;
    assert_eq!(owner.get("/v1/principals/me").await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let reply = owner.get("/v1/principals/me").await;
    assert_eq!(reply.status, 401);
    assert!(reply.message().contains("expired"), "{}", reply.message());
    server.shutdown().await;
}

#[tokio::test]
async fn service_accounts_cannot_use_owner_endpoints() {
    let server = start().await;
    let owner = server.owner().await;
    let (_, sa) = server.service_account(&owner, &[]).await;
    for path in ["/v1/principals", "/v1/events"] {
        let reply = sa.get(path).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (403, "permission_denied"),
            "{path}"
        );
    }
    let token =
        ServiceAccountToken::generate(&server.base, server.account, Id::generate()).unwrap();
    let reply = sa
        .post(
            "/v1/principals",
            common::create_principal_body(&server.owner, &token, "x", &[]),
        )
        .await;
    assert_eq!(reply.status, 403);
    // Any principal may read another's public keys.
    let reply = sa
        .get(&format!("/v1/principals/{}", server.owner.principal_id()))
        .await;
    assert_eq!(reply.status, 200);
    let list = owner.get("/v1/principals").await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_and_a_fresh_one_still_works() {
    let server = start().await;
    let body = serde_json::to_value(auth_request(&server.owner, now())).unwrap();
    let url = server.url("/v1/auth");
    let first = send(&server.http, Method::POST, &url, None, Some(body.clone())).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    // The very same bytes again, as an eavesdropper or a logging proxy would send them.
    let replay = send(&server.http, Method::POST, &url, None, Some(body.clone())).await;
    assert_eq!(replay.status, 401, "{:?}", replay.body);
    assert_eq!(replay.code(), "unauthenticated");
    assert!(
        replay.message().contains("already used") && replay.message().contains("fresh nonce"),
        "{}",
        replay.message()
    );
    let again = send(&server.http, Method::POST, &url, None, Some(body)).await;
    assert_eq!(again.status, 401, "still refused: {:?}", again.body);
    // Each new assertion has its own nonce and is accepted.
    server.owner().await;
    server.owner().await;
    // The nonce is stored once; the replays are failed authentications, counted per
    // source and minute (point 6) and written at shutdown, not one row each.
    let db = server.database().await;
    let nonces: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM auth_nonces")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(nonces, 3);
    db.close().await;
    let (failed, counts) = failures_after_shutdown(server).await;
    assert_eq!(failed, 2, "two replays: {counts:?}");
}

#[tokio::test]
async fn used_nonces_are_pruned_once_their_assertion_has_expired() {
    let server = start().await;
    let db = server.database().await;
    // A nonce whose assertion left the skew window long ago, and one still inside it.
    for (nonce, expires_at) in [("old", 1_i64), ("live", now() as i64 + 60)] {
        sqlx::query(
            "INSERT INTO auth_nonces (principal_id, nonce, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(server.owner.principal_id().as_str())
        .bind(nonce)
        .bind(expires_at)
        .execute(&db)
        .await
        .unwrap();
    }
    server.owner().await;
    let left: Vec<String> = sqlx::query_scalar("SELECT nonce FROM auth_nonces ORDER BY nonce")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"live".to_owned()) && !left.contains(&"old".to_owned()));
    db.close().await;
    server.shutdown().await;
}

/// Stops `server`, which writes the failed authentications it counted per source and
/// minute, and sums the `auth.failures` events ("N failed, M refused …"), with their texts.
async fn failures_after_shutdown(mut server: TestServer) -> (u64, Vec<String>) {
    server.server.take().unwrap().shutdown().await.unwrap();
    let db = server.database().await;
    let counts: Vec<String> = sqlx::query_scalar(
        "SELECT integration_version FROM audit_events WHERE action = 'auth.failures'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    let failed = counts
        .iter()
        .map(|c| c.split_whitespace().next().unwrap().parse::<u64>().unwrap())
        .sum();
    (failed, counts)
}
