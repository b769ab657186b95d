//! File blobs: the records of uploaded files through their life (uploaded, attached,
//! detached).

use sesame_core::id::Id;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;
use time::OffsetDateTime;

use super::access::authorize;
use super::audit::append;
use super::{begin, id_of, now_ms, to_ms, PgStore};
use crate::error::ApiError;
use crate::store::{BlobKey, BlobRecord, BlobState, EventRecord, StoreResult};

pub(super) async fn blob(store: &PgStore, file: &Id) -> StoreResult<Option<BlobRecord>> {
    let row =
        sqlx::query("SELECT id, vault_id, item_id, size, state FROM file_blobs WHERE id = $1")
            .bind(file.as_str())
            .fetch_optional(&store.pool)
            .await?;
    row.map(|row| {
        let state = match row.try_get::<String, _>("state")?.as_str() {
            "uploaded" => BlobState::Uploaded,
            "attached" => BlobState::Attached,
            _ => BlobState::Detached,
        };
        Ok(BlobRecord {
            key: blob_key_of(&row)?,
            size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or(0),
            state,
        })
    })
    .transpose()
}

pub(super) async fn add_blob(
    store: &PgStore,
    key: &BlobKey,
    size: u64,
    event: &EventRecord,
) -> StoreResult<()> {
    let size = i64::try_from(size)
        .map_err(|_| ApiError::invalid("the file is larger than this server can record"))?;
    let mut tx = begin(&store.pool).await?;
    authorize(&mut tx, event).await?;
    // A retried upload of the same id for the same item replaces the earlier one while
    // nothing references it; anything else keeps its blob. The upsert is atomic: of two
    // replicas recording the same id, the second waits for the first and then updates
    // or leaves the row by the same rule.
    let written = sqlx::query(
        "INSERT INTO file_blobs (id, vault_id, item_id, size, state, created_at) \
         VALUES ($1, $2, $3, $4, 'uploaded', $5) \
         ON CONFLICT (id) DO UPDATE SET size = EXCLUDED.size, created_at = EXCLUDED.created_at \
         WHERE file_blobs.state = 'uploaded' AND file_blobs.vault_id = EXCLUDED.vault_id \
         AND file_blobs.item_id = EXCLUDED.item_id",
    )
    .bind(key.file.as_str())
    .bind(key.vault.as_str())
    .bind(key.item.as_str())
    .bind(size)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if written.rows_affected() != 1 {
        return Err(ApiError::conflict(format!(
            "file id {} is already in use; upload the file under a new id",
            key.file
        )));
    }
    append(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn blob_garbage(
    store: &PgStore,
    uploaded_before: OffsetDateTime,
) -> StoreResult<Vec<BlobKey>> {
    let rows = sqlx::query(
        "SELECT id, vault_id, item_id FROM file_blobs \
         WHERE state = 'detached' OR (state = 'uploaded' AND created_at < $1)",
    )
    .bind(to_ms(uploaded_before))
    .fetch_all(&store.pool)
    .await?;
    rows.iter().map(blob_key_of).collect()
}

pub(super) async fn forget_blob(store: &PgStore, key: &BlobKey) -> StoreResult<bool> {
    // One statement: if an item write holds the row (attaching it), this waits for it
    // and then checks the state again, so an attached blob is never forgotten.
    let deleted = sqlx::query("DELETE FROM file_blobs WHERE id = $1 AND state != 'attached'")
        .bind(key.file.as_str())
        .execute(&store.pool)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

fn blob_key_of(row: &PgRow) -> StoreResult<BlobKey> {
    Ok(BlobKey {
        vault: id_of(row, "vault_id")?,
        item: id_of(row, "item_id")?,
        file: id_of(row, "id")?,
    })
}

/// Makes `files` the attached blobs of an item, inside the item write's transaction:
/// every one must be uploaded (or attached) for this very item, and the item's other
/// attached blobs become detached.
///
/// This item's blob rows among `files` are locked first (in one statement, in id order),
/// so the collector cannot forget one between the check and the attachment: its delete
/// waits, then sees it attached. Rows of other items are not locked: they only make the
/// request invalid.
pub(super) async fn attach_blobs(
    conn: &mut PgConnection,
    vault: &Id,
    item: &Id,
    files: &[Id],
) -> StoreResult<()> {
    let ids: Vec<&str> = files.iter().map(Id::as_str).collect();
    let rows = sqlx::query(
        "SELECT id, state FROM file_blobs WHERE id = ANY($1::TEXT[]) AND vault_id = $2 \
         AND item_id = $3 ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .bind(vault.as_str())
    .bind(item.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let mut usable = std::collections::HashSet::with_capacity(rows.len());
    for row in &rows {
        let state: String = row.try_get("state")?;
        if state == "uploaded" || state == "attached" {
            usable.insert(id_of(row, "id")?);
        }
    }
    if let Some(file) = files.iter().find(|file| !usable.contains(*file)) {
        return Err(ApiError::invalid(format!(
            "the item references file {file}, which is not uploaded completely for item \
             {item}: upload it with PUT /v1/vaults/{vault}/items/{item}/files/{file} first"
        )));
    }
    sqlx::query(
        "UPDATE file_blobs SET state = 'detached' \
         WHERE vault_id = $1 AND item_id = $2 AND state = 'attached'",
    )
    .bind(vault.as_str())
    .bind(item.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE file_blobs SET state = 'attached' WHERE id = ANY($1::TEXT[])")
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
