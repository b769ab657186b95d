//! Items, optimistic concurrency, delta sync and tombstones over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, start};
use serde_json::{json, Value};
use sesame_core::api::{ItemChanges, SyncResponse, MAX_BATCH};
use sesame_core::id::Id;
use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD, UPDATE_ITEMS};

fn put_body(expected: u64, state: &str, tag: &str) -> Value {
    json!({
        "expectedVersion": expected,
        "state": state,
        "overview": b64(format!("overview {tag}").as_bytes()),
        "details": b64(format!("details {tag}").as_bytes()),
    })
}

#[tokio::test]
async fn item_create_get_batch_put_delete() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;

    let created = owner.create_item(&vault, b"ov1", b"de1").await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["contentVersion"], 1);
    assert_eq!(created.body["details"], b64(b"de1"));
    let item: Id = created.body["id"].as_str().unwrap().parse().unwrap();
    let path = format!("/v1/vaults/{vault}/items/{item}");

    let got = owner.get(&path).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["overview"], b64(b"ov1"));
    assert_eq!(got.body["details"], b64(b"de1"));

    // Same id again: conflict.
    let again = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            json!({"id": item, "state": "active", "overview": "AA", "details": "AA"}),
        )
        .await;
    assert_eq!(again.status, 409);

    let updated = owner.put(&path, put_body(1, "active", "v2")).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.body["contentVersion"], 2);
    let stale = owner.put(&path, put_body(1, "active", "stale")).await;
    assert_eq!((stale.status.as_u16(), stale.code()), (409, "conflict"));
    assert!(stale.message().contains("version 2"), "{}", stale.message());
    assert_eq!(owner.get(&path).await.body["overview"], b64(b"overview v2"));

    // Archive and restore are puts that change the state.
    let archived = owner.put(&path, put_body(2, "archived", "v3")).await;
    assert_eq!(archived.body["state"], "archived");
    let vault_record = owner.get(&format!("/v1/vaults/{vault}")).await;
    assert_eq!(vault_record.body["activeItemCount"], 0);
    assert_eq!(vault_record.body["contentVersion"], 3);
    let restored = owner.put(&path, put_body(3, "active", "v4")).await;
    assert_eq!(restored.body["state"], "active");

    // Batch get: in order, missing ones as per-item errors.
    let other = owner.create_item(&vault, b"o", b"d").await;
    let missing = Id::generate();
    let batch = owner
        .post(
            &format!("/v1/vaults/{vault}/items/batch-get"),
            json!({"ids": [other.body["id"], missing, item]}),
        )
        .await;
    assert_eq!(batch.status, 200);
    let items = batch.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["item"]["id"], other.body["id"]);
    assert_eq!(items[1]["error"]["code"], "not_found");
    assert_eq!(items[2]["item"]["version"], 4);
    let too_many: Vec<Id> = (0..=MAX_BATCH).map(|_| Id::generate()).collect();
    let reply = owner
        .post(
            &format!("/v1/vaults/{vault}/items/batch-get"),
            json!({ "ids": too_many }),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("at most 50"),
        "{}",
        reply.message()
    );

    assert_eq!(owner.delete(&path).await.status, 204);
    assert_eq!(owner.get(&path).await.status, 404);
    assert_eq!(owner.delete(&path).await.status, 404);
    assert_eq!(
        owner.put(&path, put_body(4, "active", "x")).await.status,
        404
    );
    server.shutdown().await;
}

#[tokio::test]
async fn archiving_needs_archive_items() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (_, editor) = server
        .service_account(
            &owner,
            &[(
                &vault,
                &key,
                (READ_ITEMS | REVEAL_ITEM_PASSWORD) | UPDATE_ITEMS,
            )],
        )
        .await;
    let created = owner.create_item(&vault, b"o", b"d").await;
    let path = format!(
        "/v1/vaults/{vault}/items/{}",
        created.body["id"].as_str().unwrap()
    );
    let denied = editor.put(&path, put_body(1, "archived", "x")).await;
    assert_eq!(denied.status, 403);
    assert!(
        denied.message().contains("ARCHIVE_ITEMS"),
        "{}",
        denied.message()
    );
    assert_eq!(
        editor.put(&path, put_body(1, "active", "x")).await.status,
        200
    );
    assert_eq!(editor.delete(&path).await.status, 403);
    server.shutdown().await;
}

#[tokio::test]
async fn concurrent_puts_with_the_same_version_have_exactly_one_winner() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let created = owner.create_item(&vault, b"o", b"d").await;
    let path = format!(
        "/v1/vaults/{vault}/items/{}",
        created.body["id"].as_str().unwrap()
    );

    let mut tasks = Vec::new();
    for n in 0..24 {
        let session = owner.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            session
                .put(&path, put_body(1, "active", &format!("writer {n}")))
                .await
        }));
    }
    let mut wins = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status.as_u16() {
            200 => wins.push(reply.body["overview"].clone()),
            409 => conflicts += 1,
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!(wins.len(), 1, "exactly one writer wins");
    assert_eq!(conflicts, 23);
    let stored = owner.get(&path).await;
    assert_eq!(stored.body["version"], 2);
    assert_eq!(stored.body["overview"], wins[0]);
    server.shutdown().await;
}

#[tokio::test]
async fn delta_sync_includes_tombstones_and_is_empty_when_unchanged() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let a = owner.create_item(&vault, b"a", b"a").await.body["id"].clone();
    let b = owner.create_item(&vault, b"b", b"b").await.body["id"].clone();

    let full: ItemChanges =
        serde_json::from_value(owner.get(&format!("/v1/vaults/{vault}/items")).await.body).unwrap();
    assert_eq!(full.content_version, 2);
    assert_eq!(full.items.len(), 2);
    assert!(
        full.items.iter().all(|i| i.details.is_none()),
        "no details unless asked"
    );
    let with_details: ItemChanges = serde_json::from_value(
        owner
            .get(&format!("/v1/vaults/{vault}/items?since=0&details=true"))
            .await
            .body,
    )
    .unwrap();
    assert!(with_details.items.iter().all(|i| i.details.is_some()));

    // Delete a, update b: since=2 returns b and a's tombstone only.
    owner
        .delete(&format!("/v1/vaults/{vault}/items/{}", a.as_str().unwrap()))
        .await;
    owner
        .put(
            &format!("/v1/vaults/{vault}/items/{}", b.as_str().unwrap()),
            put_body(1, "active", "b2"),
        )
        .await;
    let delta: ItemChanges = serde_json::from_value(
        owner
            .get(&format!("/v1/vaults/{vault}/items?since=2"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(delta.content_version, 4);
    assert_eq!(delta.items.len(), 1);
    assert_eq!(delta.items[0].id.as_str(), b.as_str().unwrap());
    assert_eq!(delta.deleted.len(), 1);
    assert_eq!(delta.deleted[0].id.as_str(), a.as_str().unwrap());
    assert_eq!(delta.deleted[0].content_version, 3);
    let nothing: ItemChanges = serde_json::from_value(
        owner
            .get(&format!("/v1/vaults/{vault}/items?since=4"))
            .await
            .body,
    )
    .unwrap();
    assert!(nothing.items.is_empty() && nothing.deleted.is_empty());

    // POST /v1/sync: a first sync sends the vault whole.
    let first: SyncResponse = serde_json::from_value(
        owner
            .post("/v1/sync", json!({"cursors": [], "details": false}))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(first.visible, vec![vault]);
    assert_eq!(first.vaults.len(), 1);
    assert_eq!(first.changes.len(), 1);
    assert_eq!(first.changes[0].items.len(), 1);
    let record = &first.vaults[0];
    let cursor = json!({
        "vaultId": vault,
        "contentVersion": record.content_version,
        "attributeVersion": record.attribute_version,
        "permissions": record.permissions,
    });
    // Nothing changed: nothing but the visible ids.
    let unchanged = owner
        .post("/v1/sync", json!({"cursors": [cursor], "details": true}))
        .await;
    assert_eq!(unchanged.status, 200);
    assert_eq!(unchanged.body["vaults"], json!([]));
    assert_eq!(unchanged.body["changes"], json!([]));
    assert_eq!(unchanged.body["visible"], json!([vault]));

    // One item changes: only that change comes back.
    owner
        .delete(&format!("/v1/vaults/{vault}/items/{}", b.as_str().unwrap()))
        .await;
    let changed: SyncResponse = serde_json::from_value(
        owner
            .post("/v1/sync", json!({"cursors": [cursor], "details": false}))
            .await
            .body,
    )
    .unwrap();
    assert!(changed.vaults.is_empty());
    assert_eq!(changed.changes.len(), 1);
    assert!(changed.changes[0].items.is_empty());
    assert_eq!(changed.changes[0].deleted.len(), 1);
    assert_eq!(changed.changes[0].content_version, 5);
    server.shutdown().await;
}
