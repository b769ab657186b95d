//! Rate limits and the audit trail over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{start_with, TestServer};

#[tokio::test]
async fn a_tiny_budget_answers_429_with_headers() {
    let server = start_with(|c| {
        c.rate_limit_reads = 3;
        c.rate_limit_writes = 2;
    })
    .await;
    let owner = server.owner().await;
    for expected_remaining in [2, 1, 0] {
        let reply = owner.get("/v1/vaults").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.headers["x-ratelimit-limit"], "3");
        assert_eq!(
            reply.headers["x-ratelimit-remaining"],
            expected_remaining.to_string().as_str()
        );
        let reset: u64 = reply.headers["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3600).contains(&reset));
    }
    let limited = owner.get("/v1/vaults").await;
    assert_eq!(
        (limited.status.as_u16(), limited.code()),
        (429, "rate_limited")
    );
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry));
    assert_eq!(limited.headers["x-ratelimit-remaining"], "0");
    assert!(limited.message().contains("read"), "{}", limited.message());

    // Writes have their own budget.
    owner.create_vault(&server.owner).await;
    owner.create_vault(&server.owner).await;
    let reply = owner
        .post("/v1/vaults", serde_json::json!({"id": "x"}))
        .await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.headers["x-ratelimit-limit"], "2");
    server.shutdown().await;
}

#[tokio::test]
async fn the_audit_trail_records_requests_chains_them_and_detects_tampering() {
    let server = start_with(|_| {}).await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let item = owner.create_item(&vault, b"o", b"d").await;
    let item_id = item.body["id"].as_str().unwrap().to_owned();
    owner
        .get(&format!("/v1/vaults/{vault}/items/{item_id}"))
        .await;
    let conflict = owner
        .put(
            &format!("/v1/vaults/{vault}/items/{item_id}"),
            serde_json::json!({"expectedVersion": 7, "state": "active", "overview": "AA", "details": "AA"}),
        )
        .await;
    assert_eq!(conflict.status, 409);

    let page = owner.get("/v1/events?after=0&limit=1000").await;
    assert_eq!(page.status, 200);
    let events = page.body["events"].as_array().unwrap().clone();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("account.init", "ok"),
            ("auth", "ok"),
            ("vault.create", "ok"),
            ("item.create", "ok"),
            ("item.get", "ok"),
            ("item.update", "conflict"),
        ]
    );
    let update = &events[5];
    assert_eq!(update["vaultId"], vault.as_str());
    assert_eq!(update["itemId"], item_id.as_str());
    assert_eq!(update["principalId"], server.owner.principal_id().as_str());
    assert_eq!(update["integrationName"], "sesame-tests");
    assert_eq!(update["integrationVersion"], "1.0.0");
    assert_eq!(events[0]["prevHash"], sesame_server::audit::GENESIS_HASH);
    for pair in events.windows(2) {
        assert_eq!(pair[1]["prevHash"], pair[0]["hash"]);
    }
    // Clients can check each event's hash themselves.
    for event in &events {
        let parsed: sesame_core::api::AuditEvent = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(sesame_server::audit::event_hash(&parsed), parsed.hash);
    }

    // Paging with the cursor.
    let first = owner.get("/v1/events?limit=2").await;
    assert_eq!(first.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["nextCursor"], 2);
    let second = owner.get("/v1/events?after=2&limit=2").await;
    assert_eq!(second.body["events"][0]["seq"], 3);
    assert_eq!(owner.get("/v1/events?limit=0").await.status, 400);

    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert!(report.events >= 9);

    // The database refuses edits of the trail; someone with the file (or the database's
    // owner role) can drop the guard, but verification then names the altered event.
    let db = server.database().await;
    let refused = sqlx::query("UPDATE audit_events SET outcome = 'ok' WHERE seq = 6")
        .execute(&db)
        .await;
    assert!(refused.is_err(), "the append-only trigger refuses updates");
    drop_guard(&server, &db, "audit_events", "audit_events_no_update").await;
    sqlx::query("UPDATE audit_events SET outcome = 'ok' WHERE seq = 6")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    let (seq, why) = report.first_broken.clone().unwrap();
    assert_eq!(seq, 6, "{why}");
    assert_eq!(report.events, 5);
    server.shutdown().await;
}

#[tokio::test]
async fn deleting_an_event_is_detected() {
    let server = start_with(|_| {}).await;
    let owner = server.owner().await;
    owner.get("/v1/vaults").await;
    owner.get("/v1/vaults").await;
    let db = server.database().await;
    let refused = sqlx::query("DELETE FROM audit_events WHERE seq = 2")
        .execute(&db)
        .await;
    assert!(refused.is_err(), "the append-only trigger refuses deletes");
    if server.on_postgres() {
        // TRUNCATE fires no row trigger: PostgreSQL has a statement trigger for it.
        let truncated = sqlx::query("TRUNCATE audit_events").execute(&db).await;
        assert!(
            truncated.is_err(),
            "the append-only trigger refuses TRUNCATE"
        );
    }
    drop_guard(&server, &db, "audit_events", "audit_events_no_delete").await;
    sqlx::query("DELETE FROM audit_events WHERE seq = 2")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    assert_eq!(report.first_broken.unwrap().0, 3);
    server.shutdown().await;
}

/// Drops one append-only guard (`trigger` on `table`), as someone holding the database
/// file (SQLite) or the database owner's role (PostgreSQL) can.
async fn drop_guard(server: &TestServer, db: &sqlx::AnyPool, table: &str, trigger: &str) {
    let sql = if server.on_postgres() {
        format!("DROP TRIGGER {trigger} ON {table}")
    } else {
        format!("DROP TRIGGER {trigger}")
    };
    sqlx::query(&sql)
        .execute(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Drops the append-only guards of the trail, its head and its checkpoints.
async fn drop_guards(server: &TestServer, db: &sqlx::AnyPool) {
    for (table, trigger) in [
        ("audit_events", "audit_events_no_delete"),
        ("audit_events", "audit_events_no_update"),
        ("audit_head", "audit_head_only_grows"),
        ("audit_checkpoints", "audit_checkpoints_no_delete"),
    ] {
        drop_guard(server, db, table, trigger).await;
    }
}

#[tokio::test]
async fn deleting_the_newest_events_is_detected_by_the_persisted_head() {
    let server = start_with(|_| {}).await;
    let owner = server.owner().await;
    for _ in 0..4 {
        owner.get("/v1/vaults").await;
    }
    let db = server.database().await;
    drop_guards(&server, &db).await;
    // The chain that remains is a perfectly valid, shorter chain.
    sqlx::query("DELETE FROM audit_events WHERE seq > 3")
        .execute(&db)
        .await
        .unwrap();
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    let (seq, why) = report.first_broken.clone().expect("truncation detected");
    assert_eq!((seq, report.events), (4, 3), "{why}");
    assert!(
        why.contains("persisted head") && why.contains("deleted"),
        "{why}"
    );
    // The next event chains from the persisted head, so the gap stays visible.
    owner.get("/v1/vaults").await;
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    let (_, why) = report.first_broken.expect("still detected");
    assert!(why.contains("events are missing"), "{why}");
    db.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn checkpoints_must_be_signed_by_the_owner_over_a_real_event() {
    use sesame_core::crypto::audit_checkpoint_message;
    let server = start_with(|_| {}).await;
    let owner = server.owner().await;
    owner.get("/v1/vaults").await;
    let page = owner.get("/v1/events?limit=1000").await;
    let last = page.body["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let seq = last["seq"].as_u64().unwrap();
    let hash = last["hash"].as_str().unwrap().to_owned();
    let sign = |token: &sesame_core::token::ServiceAccountToken, seq: u64, hash: &str| {
        let bytes = sesame_core::audit::hash_bytes(hash).unwrap();
        common::b64(
            &token
                .keys()
                .sign(&audit_checkpoint_message(&server.account, seq, &bytes)),
        )
    };
    let body = |seq: u64, hash: &str, signature: String| serde_json::json!({"seq": seq, "hash": hash, "signature": signature});
    // Signed by someone else.
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (sa, sa_session) = server.service_account(&owner, &[(&vault, &key, 48)]).await;
    let forged = owner
        .post(
            "/v1/events/checkpoints",
            body(seq, &hash, sign(&sa, seq, &hash)),
        )
        .await;
    assert_eq!(forged.status, 400, "{:?}", forged.body);
    assert!(
        forged.message().contains("does not verify"),
        "{}",
        forged.message()
    );
    // A hash that is not event seq's.
    let other = "ab".repeat(32);
    let wrong = owner
        .post(
            "/v1/events/checkpoints",
            body(seq, &other, sign(&server.owner, seq, &other)),
        )
        .await;
    assert_eq!(wrong.status, 400, "{:?}", wrong.body);
    assert!(
        wrong.message().contains("another hash"),
        "{}",
        wrong.message()
    );
    // A service account may not sign at all.
    let denied = sa_session
        .post(
            "/v1/events/checkpoints",
            body(seq, &hash, sign(&sa, seq, &hash)),
        )
        .await;
    assert_eq!(denied.status, 403, "{:?}", denied.body);
    assert_eq!(
        owner.get("/v1/events/head").await.body["checkpoint"],
        serde_json::Value::Null
    );

    let good = owner
        .post(
            "/v1/events/checkpoints",
            body(seq, &hash, sign(&server.owner, seq, &hash)),
        )
        .await;
    assert_eq!(good.status, 200, "{:?}", good.body);
    let head = owner.get("/v1/events/head").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.body["checkpoint"]["seq"], seq);
    assert!(head.body["seq"].as_u64().unwrap() > seq);
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!(report.signed_through, Some(seq));

    // Rewriting an event below the checkpoint, re-hashing the rest and the persisted head
    // leaves a valid chain; only the checkpoint shows it.
    let db = server.database().await;
    drop_guards(&server, &db).await;
    let page = owner.get("/v1/events?limit=1000").await;
    let mut events: Vec<sesame_core::api::AuditEvent> =
        serde_json::from_value(page.body["events"].clone()).unwrap();
    events[1].outcome = "permission_denied".into();
    let mut prev = events[0].hash.clone();
    for event in &mut events[1..] {
        event.prev_hash = prev;
        event.hash = sesame_core::audit::event_hash(event);
        prev = event.hash.clone();
        sqlx::query(
            "UPDATE audit_events SET outcome = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
        )
        .bind(&event.outcome)
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .bind(event.seq as i64)
        .execute(&db)
        .await
        .unwrap();
    }
    // Events appended since the page was read are dropped, and the head rewritten.
    let last = events.last().unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq > $1")
        .bind(last.seq as i64)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2")
        .bind(last.seq as i64)
        .bind(&last.hash)
        .execute(&db)
        .await
        .unwrap();
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    let (broken, why) = report.first_broken.expect("rewrite detected");
    assert_eq!(broken, seq, "{why}");
    assert!(why.contains("rewritten"), "{why}");
    db.close().await;
    server.shutdown().await;
}
