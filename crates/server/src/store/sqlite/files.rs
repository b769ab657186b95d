//! File blobs: the records of uploaded files through their life (uploaded, attached,
//! detached).

use sesame_core::id::Id;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row;
use time::OffsetDateTime;

use super::access::authorize;
use super::audit::append;
use super::{id_of, now_ms, to_ms, SqliteStore};
use crate::error::ApiError;
use crate::store::{BlobKey, BlobRecord, BlobState, EventRecord, StoreResult};

pub(super) async fn blob(store: &SqliteStore, file: &Id) -> StoreResult<Option<BlobRecord>> {
    let row = sqlx::query("SELECT id, vault_id, item_id, size, state FROM file_blobs WHERE id = ?")
        .bind(file.as_str())
        .fetch_optional(&store.reader)
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
    store: &SqliteStore,
    key: &BlobKey,
    size: u64,
    event: &EventRecord,
) -> StoreResult<()> {
    let size = i64::try_from(size)
        .map_err(|_| ApiError::invalid("the file is larger than this server can record"))?;
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    // A retried upload of the same id for the same item replaces the earlier one while
    // nothing references it; anything else keeps its blob.
    let written = sqlx::query(
        "INSERT INTO file_blobs (id, vault_id, item_id, size, state, created_at) \
         VALUES (?, ?, ?, ?, 'uploaded', ?) \
         ON CONFLICT(id) DO UPDATE SET size = excluded.size, created_at = excluded.created_at \
         WHERE file_blobs.state = 'uploaded' AND file_blobs.vault_id = excluded.vault_id \
         AND file_blobs.item_id = excluded.item_id",
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
    store.commit(tx).await?;
    Ok(())
}

pub(super) async fn blob_garbage(
    store: &SqliteStore,
    uploaded_before: OffsetDateTime,
) -> StoreResult<Vec<BlobKey>> {
    let rows = sqlx::query(
        "SELECT id, vault_id, item_id FROM file_blobs \
         WHERE state = 'detached' OR (state = 'uploaded' AND created_at < ?)",
    )
    .bind(to_ms(uploaded_before))
    .fetch_all(&store.reader)
    .await?;
    rows.iter().map(blob_key_of).collect()
}

pub(super) async fn forget_blob(store: &SqliteStore, key: &BlobKey) -> StoreResult<bool> {
    let deleted = sqlx::query("DELETE FROM file_blobs WHERE id = ? AND state != 'attached'")
        .bind(key.file.as_str())
        .execute(&store.writer)
        .await?;
    // Durable before the caller deletes the file: a crash must not bring back a record
    // whose file is gone.
    store.wal.sync().await?;
    Ok(deleted.rows_affected() == 1)
}

fn blob_key_of(row: &SqliteRow) -> StoreResult<BlobKey> {
    Ok(BlobKey {
        vault: id_of(row, "vault_id")?,
        item: id_of(row, "item_id")?,
        file: id_of(row, "id")?,
    })
}

/// Makes `files` the attached blobs of an item, inside the item write's transaction:
/// every one must be uploaded (or attached) for this very item, and the item's other
/// attached blobs become detached.
pub(super) async fn attach_blobs(
    conn: &mut SqliteConnection,
    vault: &Id,
    item: &Id,
    files: &[Id],
) -> StoreResult<()> {
    for file in files {
        let row = sqlx::query("SELECT vault_id, item_id, state FROM file_blobs WHERE id = ?")
            .bind(file.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        let usable = match &row {
            Some(row) => {
                let state: String = row.try_get("state")?;
                id_of(row, "vault_id")? == *vault
                    && id_of(row, "item_id")? == *item
                    && (state == "uploaded" || state == "attached")
            }
            None => false,
        };
        if !usable {
            return Err(ApiError::invalid(format!(
                "the item references file {file}, which is not uploaded completely for item \
                 {item}: upload it with PUT /v1/vaults/{vault}/items/{item}/files/{file} first"
            )));
        }
    }
    sqlx::query(
        "UPDATE file_blobs SET state = 'detached' \
         WHERE vault_id = ? AND item_id = ? AND state = 'attached'",
    )
    .bind(vault.as_str())
    .bind(item.as_str())
    .execute(&mut *conn)
    .await?;
    for file in files {
        sqlx::query("UPDATE file_blobs SET state = 'attached' WHERE id = ?")
            .bind(file.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
