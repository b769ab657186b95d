//! Per-principal rate limits set by the owner: `GET`/`PUT /v1/principals/{id}/rate-limit`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{start_with, Session, TestServer};
use serde_json::{json, Value};

fn path(id: &impl std::fmt::Display) -> String {
    format!("/v1/principals/{id}/rate-limit")
}

/// Rows of `principal_rate_limits`, read straight from the database.
async fn stored(server: &TestServer) -> Vec<(String, Option<i64>, Option<i64>)> {
    let db = server.database().await;
    let rows: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT principal_id, reads, writes FROM principal_rate_limits ORDER BY principal_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    rows
}

/// `(action, outcome)` of every audit event.
async fn events(owner: &Session) -> Vec<(String, String)> {
    let page = owner.get("/v1/events?after=0&limit=1000").await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    page.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_owner_set_write_limit_applies_to_that_service_account_only_and_resets() {
    let server = start_with(|c| {
        c.rate_limit_reads = 50;
        c.rate_limit_writes = 40;
    })
    .await;
    let owner = server.owner().await;
    let (_, sa) = server.service_account(&owner, &[]).await;
    let (_, other) = server.service_account(&owner, &[]).await;

    let before = owner.get(&path(&sa.principal)).await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert_eq!(
        before.body,
        json!({"principalId": sa.principal, "reads": null, "writes": null,
               "effectiveReads": 50, "effectiveWrites": 40, "windowSeconds": 3600})
    );

    let set = owner.put(&path(&sa.principal), json!({"writes": 2})).await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.body["writes"], 2);
    assert_eq!(set.body["reads"], Value::Null);
    assert_eq!(
        (&set.body["effectiveReads"], &set.body["effectiveWrites"]),
        (&json!(50), &json!(2))
    );
    assert_eq!(owner.get(&path(&sa.principal)).await.body, set.body);
    assert_eq!(
        stored(&server).await,
        vec![(sa.principal.to_string(), None, Some(2))]
    );

    // Two writes, then 429 with the override in the headers; reads keep the default.
    for remaining in ["1", "0"] {
        let created = sa.post("/v1/vaults", json!({})).await;
        assert_eq!(created.status, 400, "counted, then refused as malformed");
        assert_eq!(created.headers["x-ratelimit-limit"], "2");
        assert_eq!(created.headers["x-ratelimit-remaining"], remaining);
    }
    let limited = sa.post("/v1/vaults", json!({})).await;
    assert_eq!(
        (limited.status.as_u16(), limited.code()),
        (429, "rate_limited")
    );
    assert!(limited.headers.contains_key("retry-after"));
    assert!(
        limited.message().contains("2 write"),
        "{}",
        limited.message()
    );
    let read = sa.get("/v1/vaults").await;
    assert_eq!(read.status, 200);
    assert_eq!(read.headers["x-ratelimit-limit"], "50");
    // Another service account and the owner keep the defaults.
    let free = other.post("/v1/vaults", json!({})).await;
    assert_eq!(free.headers["x-ratelimit-limit"], "40");
    assert_eq!(
        owner.post("/v1/vaults", json!({})).await.headers["x-ratelimit-limit"],
        "40"
    );

    // Reset: both null removes the override; the next write goes through.
    let reset = owner
        .put(&path(&sa.principal), json!({"reads": null, "writes": null}))
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    assert_eq!(
        (&reset.body["writes"], &reset.body["effectiveWrites"]),
        (&Value::Null, &json!(40))
    );
    assert!(stored(&server).await.is_empty());
    let again = sa.post("/v1/vaults", json!({})).await;
    assert_eq!(
        again.status, 400,
        "no longer rate-limited: {:?}",
        again.body
    );
    assert_eq!(again.headers["x-ratelimit-limit"], "40");

    let actions = events(&owner).await;
    let sets = actions
        .iter()
        .filter(|(a, o)| a == "principal.rate_limit.set" && o == "ok")
        .count();
    assert_eq!(sets, 2, "{actions:?}");
    assert!(actions.contains(&("principal.rate_limit.get".into(), "ok".into())));
    assert!(actions.contains(&("vault.create".into(), "rate_limited".into())));
    server.shutdown().await;
}

#[tokio::test]
async fn only_the_owner_may_read_or_set_limits_and_bad_values_store_nothing() {
    let server = start_with(|_| {}).await;
    let owner = server.owner().await;
    let (_, sa) = server.service_account(&owner, &[]).await;

    for reply in [
        sa.get(&path(&sa.principal)).await,
        sa.put(&path(&sa.principal), json!({"writes": 100_000_000}))
            .await,
        sa.put(&path(&owner.principal), json!({"reads": 1})).await,
    ] {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (403, "permission_denied"),
            "{:?}",
            reply.body
        );
        assert!(reply.message().contains("owner"), "{}", reply.message());
    }

    for (body, needle) in [
        (json!({"writes": 0}), "writes is 0"),
        (json!({"reads": 0, "writes": 5}), "reads is 0"),
        (json!({"reads": 1_000_000_001u64}), "at most 1000000000"),
        (json!({"writes": u64::MAX}), "at most"),
        (json!({"writes": -1}), "writes"),
        (json!({"writes": 1.5}), "writes"),
        (json!({"writes": "10"}), "writes"),
        (json!({"write": 10}), "write"),
    ] {
        let reply = owner.put(&path(&sa.principal), body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "invalid_input"),
            "{body}: {:?}",
            reply.body
        );
        assert!(
            reply.message().contains(needle),
            "{body}: {}",
            reply.message()
        );
    }
    assert!(stored(&server).await.is_empty(), "nothing stored");
    let unchanged = owner.get(&path(&sa.principal)).await;
    assert_eq!(
        (&unchanged.body["reads"], &unchanged.body["writes"]),
        (&Value::Null, &Value::Null)
    );

    // The owner keeps the defaults (it could lock itself out); revoked and unknown
    // principals have nothing to limit.
    let itself = owner
        .put(&path(&owner.principal), json!({"writes": 5}))
        .await;
    assert_eq!(itself.status, 400, "{:?}", itself.body);
    assert!(itself.message().contains("owner"), "{}", itself.message());
    let unknown = sesame_core::id::Id::generate();
    assert_eq!(owner.get(&path(&unknown)).await.status, 404);
    assert_eq!(
        owner
            .put(&path(&unknown), json!({"writes": 5}))
            .await
            .status,
        404
    );
    assert_eq!(
        owner
            .put("/v1/principals/NOPE/rate-limit", json!({"writes": 5}))
            .await
            .status,
        400
    );
    let revoked = owner
        .delete(&format!("/v1/principals/{}", sa.principal))
        .await;
    assert_eq!(revoked.status, 204);
    let late = owner.put(&path(&sa.principal), json!({"writes": 5})).await;
    assert_eq!(late.status, 400, "{:?}", late.body);
    assert!(late.message().contains("revoked"), "{}", late.message());
    assert!(stored(&server).await.is_empty());

    let actions = events(&owner).await;
    for outcome in ["permission_denied", "invalid_input", "not_found"] {
        assert!(
            actions.contains(&("principal.rate_limit.set".into(), outcome.into())),
            "{outcome}: {actions:?}"
        );
    }
    assert!(actions.contains(&(
        "principal.rate_limit.get".into(),
        "permission_denied".into()
    )));
    assert!(!actions
        .iter()
        .any(|(a, o)| a == "principal.rate_limit.set" && o == "ok"));
    server.shutdown().await;
}

#[tokio::test]
async fn limits_survive_a_restart() {
    let mut server = start_with(|_| {}).await;
    let owner = server.owner().await;
    let (_, sa) = server.service_account(&owner, &[]).await;
    let set = owner
        .put(&path(&sa.principal), json!({"reads": 1, "writes": 7}))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);

    let running = server.server.take().unwrap();
    running.shutdown().await.unwrap();
    let again = sesame_server::spawn(server.config.clone()).await.unwrap();
    server.base = again.url();
    server.server = Some(again);
    let (owner, sa) = (
        Session {
            base: server.base.clone(),
            ..owner
        },
        Session {
            base: server.base.clone(),
            ..sa
        },
    );

    let read = owner.get(&path(&sa.principal)).await;
    assert_eq!(
        (&read.body["reads"], &read.body["writes"]),
        (&json!(1), &json!(7))
    );
    let first = sa.get("/v1/vaults").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.headers["x-ratelimit-limit"], "1");
    assert_eq!(sa.get("/v1/vaults").await.status, 429);
    server.shutdown().await;
}
