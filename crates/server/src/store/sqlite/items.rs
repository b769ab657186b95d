//! Items: compare-and-set writes, tombstones and the vault content version that sync
//! reads.

use sesame_core::api::{ItemChanges, ItemCreateRequest, ItemRecord, ItemUpdateRequest, Tombstone};
use sesame_core::id::Id;
use sesame_core::model::ItemState;
use sqlx::sqlite::SqliteConnection;
use sqlx::Row;

use super::access::authorize;
use super::audit::append;
use super::files::attach_blobs;
use super::shares::revoke_shares;
use super::{id_of, item_in, item_of, now_ms, SqliteStore, ITEM_COLUMNS};
use crate::error::ApiError;
use crate::store::{EventRecord, StoreResult};

fn state_text(state: ItemState) -> StoreResult<&'static str> {
    match state {
        ItemState::Active => Ok("active"),
        ItemState::Archived => Ok("archived"),
        _ => Err(ApiError::invalid(
            "state must be \"active\" or \"archived\"",
        )),
    }
}

/// Bumps the vault's content version and returns the new one.
async fn bump_content_version(
    conn: &mut SqliteConnection,
    vault: &Id,
    now: i64,
) -> StoreResult<i64> {
    let row = sqlx::query(
        "UPDATE vaults SET content_version = content_version + 1, updated_at = ? WHERE id = ? \
         RETURNING content_version",
    )
    .bind(now)
    .bind(vault.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(row.try_get("content_version")?),
        None => Err(ApiError::vault_not_found(vault)),
    }
}

pub(super) async fn create_item(
    store: &SqliteStore,
    vault: &Id,
    request: &ItemCreateRequest,
    event: &EventRecord,
) -> StoreResult<ItemRecord> {
    let state = state_text(request.state)?;
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let exists = sqlx::query("SELECT 1 FROM items WHERE vault_id = ? AND id = ?")
        .bind(vault.as_str())
        .bind(request.id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_some() {
        return Err(ApiError::conflict(format!(
            "item id {} already exists in vault {vault} (or was deleted); generate a new id",
            request.id
        )));
    }
    let now = now_ms();
    let content_version = bump_content_version(&mut tx, vault, now).await?;
    sqlx::query(
        "INSERT INTO items (vault_id, id, version, state, content_version, overview, details, \
         created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)",
    )
    .bind(vault.as_str())
    .bind(request.id.as_str())
    .bind(state)
    .bind(content_version)
    .bind(&request.overview.0)
    .bind(&request.details.0)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    attach_blobs(&mut tx, vault, &request.id, &request.files).await?;
    append(&mut tx, event).await?;
    let record = item_in(&mut tx, vault, &request.id)
        .await?
        .ok_or_else(|| ApiError::internal("created item vanished"))?;
    store.commit(tx).await?;
    Ok(record)
}

pub(super) async fn item(
    store: &SqliteStore,
    vault: &Id,
    item: &Id,
) -> StoreResult<Option<ItemRecord>> {
    let mut conn = store.reader.acquire().await?;
    item_in(&mut conn, vault, item).await
}

pub(super) async fn items(
    store: &SqliteStore,
    vault: &Id,
    ids: &[Id],
) -> StoreResult<Vec<Option<ItemRecord>>> {
    let mut conn = store.reader.begin().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(item_in(&mut conn, vault, id).await?);
    }
    conn.commit().await?;
    Ok(out)
}

pub(super) async fn put_item(
    store: &SqliteStore,
    vault: &Id,
    item: &Id,
    request: &ItemUpdateRequest,
    may_change_state: bool,
    event: &EventRecord,
) -> StoreResult<ItemRecord> {
    let state = state_text(request.state)?;
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let current = item_in(&mut tx, vault, item)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("item {item} not found in vault {vault}")))?;
    if current.state != request.state && !may_change_state {
        return Err(ApiError::forbidden(format!(
            "archiving or restoring item {item} needs ARCHIVE_ITEMS on vault {vault}"
        )));
    }
    let now = now_ms();
    let content_version = bump_content_version(&mut tx, vault, now).await?;
    // The compare-and-set: only the writer whose expected version is current wins.
    let updated = sqlx::query(
        "UPDATE items SET version = version + 1, state = ?, content_version = ?, \
         overview = ?, details = ?, updated_at = ? \
         WHERE vault_id = ? AND id = ? AND version = ? AND deleted = 0",
    )
    .bind(state)
    .bind(content_version)
    .bind(&request.overview.0)
    .bind(&request.details.0)
    .bind(now)
    .bind(vault.as_str())
    .bind(item.as_str())
    .bind(i64::from(request.expected_version))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(ApiError::conflict(format!(
            "item {item} is at version {}, but the update is based on version {}: get the \
             item, reapply the change and retry",
            current.version, request.expected_version
        )));
    }
    attach_blobs(&mut tx, vault, item, &request.files).await?;
    append(&mut tx, event).await?;
    let record = item_in(&mut tx, vault, item)
        .await?
        .ok_or_else(|| ApiError::internal("updated item vanished"))?;
    store.commit(tx).await?;
    Ok(record)
}

pub(super) async fn delete_item(
    store: &SqliteStore,
    vault: &Id,
    item: &Id,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    if item_in(&mut tx, vault, item).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "item {item} not found in vault {vault}"
        )));
    }
    let now = now_ms();
    let content_version = bump_content_version(&mut tx, vault, now).await?;
    sqlx::query(
        "UPDATE items SET deleted = 1, overview = x'', details = x'', content_version = ?, \
         updated_at = ? WHERE vault_id = ? AND id = ?",
    )
    .bind(content_version)
    .bind(now)
    .bind(vault.as_str())
    .bind(item.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE file_blobs SET state = 'detached' WHERE vault_id = ? AND item_id = ?")
        .bind(vault.as_str())
        .bind(item.as_str())
        .execute(&mut *tx)
        .await?;
    revoke_shares(&mut tx, "vault_id = ? AND item_id = ?", &[vault, item]).await?;
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(())
}

pub(super) async fn changes_since(
    store: &SqliteStore,
    vault: &Id,
    since: u64,
    details: bool,
) -> StoreResult<ItemChanges> {
    // One read transaction: the content version and the rows come from one snapshot.
    let mut tx = store.reader.begin().await?;
    let content_version: i64 = sqlx::query("SELECT content_version FROM vaults WHERE id = ?")
        .bind(vault.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::vault_not_found(vault))?
        .try_get("content_version")?;
    let details_column = if details {
        "details"
    } else {
        "NULL AS details"
    };
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS}, {details_column}, deleted FROM items \
         WHERE vault_id = ? AND content_version > ? ORDER BY content_version"
    ))
    .bind(vault.as_str())
    .bind(since.min(i64::MAX as u64) as i64)
    .fetch_all(&mut *tx)
    .await?;
    store.commit(tx).await?;
    let mut items = Vec::new();
    let mut deleted = Vec::new();
    for row in &rows {
        if row.try_get::<i64, _>("deleted")? != 0 {
            deleted.push(Tombstone {
                id: id_of(row, "id")?,
                content_version: row.try_get::<i64, _>("content_version")? as u64,
            });
        } else {
            items.push(item_of(row, details)?);
        }
    }
    Ok(ItemChanges {
        vault_id: *vault,
        content_version: content_version as u64,
        items,
        deleted,
    })
}
