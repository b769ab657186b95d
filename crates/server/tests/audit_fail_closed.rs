//! The audit trail fails closed, on SQLite and on PostgreSQL (`SESAME_TEST_POSTGRES`):
//! when a request's event cannot be stored, the request fails and has no effect (no
//! change without its event, no data served without its read event). And concurrent
//! reads, whose events are group-committed, each get exactly one event in one unbroken
//! chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{b64, start_with, Session, TestServer};
use serde_json::{json, Value};
use sesame_core::api::AuditEvent;
use sesame_core::id::Id;

/// Makes every append to the audit trail fail (as a full or broken database would) while
/// the server runs.
async fn break_audit(server: &TestServer, db: &sqlx::AnyPool) {
    let sql = if server.on_postgres() {
        // Checked for every new row, never for the existing ones.
        "ALTER TABLE audit_events ADD CONSTRAINT audit_off CHECK (false) NOT VALID"
    } else {
        "CREATE TRIGGER audit_off BEFORE INSERT ON audit_events \
         BEGIN SELECT RAISE(ABORT, 'audit disk full'); END"
    };
    sqlx::query(sql)
        .execute(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Undoes [`break_audit`].
async fn repair_audit(server: &TestServer, db: &sqlx::AnyPool) {
    let sql = if server.on_postgres() {
        "ALTER TABLE audit_events DROP CONSTRAINT audit_off"
    } else {
        "DROP TRIGGER audit_off"
    };
    sqlx::query(sql)
        .execute(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn stored_events(db: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(db)
        .await
        .unwrap()
}

/// `(version, overview, details)` of the item row, if there is one.
async fn stored_item(
    db: &sqlx::AnyPool,
    vault: &Id,
    item: &str,
) -> Option<(i64, Vec<u8>, Vec<u8>)> {
    sqlx::query_as("SELECT version, overview, details FROM items WHERE vault_id = $1 AND id = $2")
        .bind(vault.as_str())
        .bind(item)
        .fetch_optional(db)
        .await
        .unwrap()
}

/// Every event of the trail, checked to be one chain: seqs 1, 2, 3…, each event's hash
/// its own and its `prevHash` the previous event's hash.
async fn whole_chain(owner: &Session) -> Vec<AuditEvent> {
    let page = owner.get("/v1/events?after=0&limit=1000").await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let events: Vec<AuditEvent> = serde_json::from_value(page.body["events"].clone()).unwrap();
    assert_eq!(events[0].prev_hash, sesame_server::audit::GENESIS_HASH);
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event.seq, n as u64 + 1, "seqs are consecutive");
        assert_eq!(
            sesame_server::audit::event_hash(event),
            event.hash,
            "{event:?}"
        );
    }
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash, "seq {}", pair[1].seq);
    }
    events
}

fn item_body(id: &str, overview: &[u8], details: &[u8]) -> Value {
    json!({"id": id, "state": "active", "overview": b64(overview), "details": b64(details)})
}

#[tokio::test]
async fn when_audit_events_cannot_be_stored_requests_fail_and_change_nothing() {
    let server = start_with(|_| {}).await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let created = owner
        .create_item(&vault, b"old overview", b"old details")
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let item = created.body["id"].as_str().unwrap().to_owned();
    let version = created.body["version"].as_i64().unwrap();
    let items = format!("/v1/vaults/{vault}/items");
    let item_path = format!("{items}/{item}");

    let db = server.database().await;
    let events_before = stored_events(&db).await;
    break_audit(&server, &db).await;

    // A create: refused with a server error, and no item row.
    let lost = Id::generate().to_string();
    let reply = owner.post(&items, item_body(&lost, b"new", b"new")).await;
    assert!(
        reply.status.is_server_error(),
        "a create whose event cannot be stored answered {}: {:?}",
        reply.status,
        reply.body
    );
    assert_eq!(
        stored_item(&db, &vault, &lost).await,
        None,
        "the create was stored"
    );

    // An update: refused, and the item keeps its version and ciphertext.
    let update = json!({"expectedVersion": version, "state": "active",
                        "overview": b64(b"changed"), "details": b64(b"changed")});
    let reply = owner.put(&item_path, update.clone()).await;
    assert!(
        reply.status.is_server_error(),
        "an update whose event cannot be stored answered {}: {:?}",
        reply.status,
        reply.body
    );
    assert_eq!(
        stored_item(&db, &vault, &item).await,
        Some((version, b"old overview".to_vec(), b"old details".to_vec())),
        "the update was stored"
    );

    // Reads: no data served without its event.
    for path in [&item_path, &items] {
        let reply = owner.get(path).await;
        assert!(
            reply.status.is_server_error(),
            "GET {path} whose event cannot be stored answered {}: {:?}",
            reply.status,
            reply.body
        );
        let text = reply.body.to_string();
        assert!(
            !text.contains(&b64(b"old overview")),
            "GET {path} served the item: {text}"
        );
    }
    assert_eq!(
        stored_events(&db).await,
        events_before,
        "an event was stored"
    );

    // The fault removed, everything works again, and nothing of the failed requests
    // happened after all.
    repair_audit(&server, &db).await;
    let read = owner.get(&item_path).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["version"], version);
    assert_eq!(read.body["overview"], b64(b"old overview"));
    assert_eq!(read.body["details"], b64(b"old details"));
    let missing = owner.get(&format!("{items}/{lost}")).await;
    assert_eq!(missing.status, 404, "{:?}", missing.body);
    let updated = owner.put(&item_path, update).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["version"], version + 1);
    let again = owner.post(&items, item_body(&lost, b"new", b"new")).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(
        stored_item(&db, &vault, &lost).await,
        Some((1, b"new".to_vec(), b"new".to_vec()))
    );
    db.close().await;

    let events = whole_chain(&owner).await;
    let after: Vec<(&str, Option<String>, &str)> = events[events_before as usize..]
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.item_id.map(|id| id.to_string()),
                e.outcome.as_str(),
            )
        })
        .take(4)
        .collect();
    assert_eq!(
        after,
        [
            ("item.get", Some(item.clone()), "ok"),
            ("item.get", Some(lost.clone()), "not_found"),
            ("item.update", Some(item.clone()), "ok"),
            ("item.create", Some(lost.clone()), "ok"),
        ],
        "the first events after the fault are the requests made after it"
    );
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    assert!(report.intact(), "{report:?}");
    server.shutdown().await;
}

/// 64 concurrent reads of one item: each answers, and each has its own event, stored in
/// one run of consecutive seqs of an intact chain (the group commit of reads' events).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reads_each_store_one_event_in_an_unbroken_chain() {
    const READS: usize = 64;
    let server = start_with(|c| c.rate_limit_reads = 10_000).await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let created = owner.create_item(&vault, b"overview", b"details").await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let item = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/vaults/{vault}/items/{item}");

    let reads: Vec<_> = (0..READS)
        .map(|_| {
            let (owner, path) = (owner.clone(), path.clone());
            tokio::spawn(async move { owner.get(&path).await })
        })
        .collect();
    for read in reads {
        let reply = read.await.unwrap();
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["overview"], b64(b"overview"));
    }

    let events = whole_chain(&owner).await;
    let seqs: Vec<u64> = events
        .iter()
        .filter(|e| {
            e.action == "item.get" && e.item_id.map(|id| id.to_string()) == Some(item.clone())
        })
        .map(|e| {
            assert_eq!(e.outcome, "ok", "{e:?}");
            e.seq
        })
        .collect();
    assert_eq!(seqs.len(), READS, "one event per read: {seqs:?}");
    let first = seqs[0];
    assert_eq!(
        seqs,
        (first..first + READS as u64).collect::<Vec<_>>(),
        "the reads' events are consecutive"
    );
    let report = sesame_server::verify_audit(&server.config).await.unwrap();
    assert!(report.intact(), "{report:?}");
    server.shutdown().await;
}
