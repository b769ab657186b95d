//! Vaults: their encrypted attributes and versions, as each member sees them.

use sesame_core::api::{AccountVaultRecord, Ciphertext, VaultCreateRequest, VaultRecord};
use sesame_core::id::Id;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row;

use super::access::authorize;
use super::access::insert_access;
use super::audit::append;
use super::shares::revoke_shares;
use super::{from_ms, id_of, now_ms, opt_id_of, SqliteStore};
use crate::error::ApiError;
use crate::store::{EventRecord, StoreResult};

const VAULT_SELECT: &str = "SELECT v.id, v.attributes, v.attribute_version, v.content_version, \
     v.created_at, v.updated_at, a.wrapped_key, a.permissions, a.granted_by, \
     a.grant_signature, \
     (SELECT COUNT(*) FROM items i WHERE i.vault_id = v.id AND i.deleted = 0 \
      AND i.state = 'active') AS active_item_count \
     FROM vaults v JOIN vault_access a ON a.vault_id = v.id AND a.principal_id = ?";

fn vault_of(row: &SqliteRow) -> StoreResult<VaultRecord> {
    let wrapped: String = row.try_get("wrapped_key")?;
    Ok(VaultRecord {
        id: id_of(row, "id")?,
        attributes: Ciphertext(row.try_get("attributes")?),
        attribute_version: row.try_get::<i64, _>("attribute_version")? as u64,
        content_version: row.try_get::<i64, _>("content_version")? as u64,
        active_item_count: row.try_get::<i64, _>("active_item_count")? as u32,
        created_at: from_ms(row.try_get("created_at")?),
        updated_at: from_ms(row.try_get("updated_at")?),
        wrapped_key: serde_json::from_str(&wrapped)
            .map_err(|e| ApiError::internal(format_args!("stored wrapped key: {e}")))?,
        granted_by: opt_id_of(row, "granted_by")?,
        grant_signature: row.try_get("grant_signature")?,
        permissions: row.try_get::<i64, _>("permissions")? as u32,
    })
}

async fn vault_in(
    conn: &mut SqliteConnection,
    vault: &Id,
    principal: &Id,
) -> StoreResult<Option<VaultRecord>> {
    let row = sqlx::query(&format!("{VAULT_SELECT} WHERE v.id = ?"))
        .bind(principal.as_str())
        .bind(vault.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(vault_of).transpose()
}

pub(super) async fn create_vault(
    store: &SqliteStore,
    creator: &Id,
    request: &VaultCreateRequest,
    permissions: u32,
    event: &EventRecord,
) -> StoreResult<VaultRecord> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let exists = sqlx::query("SELECT 1 FROM vaults WHERE id = ?")
        .bind(request.id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_some() {
        return Err(ApiError::conflict(format!(
            "vault id {} is taken; generate a new id",
            request.id
        )));
    }
    let now = now_ms();
    sqlx::query(
        "INSERT INTO vaults (id, attributes, attribute_version, content_version, created_at, \
         updated_at, created_by) VALUES (?, ?, 1, 0, ?, ?, ?)",
    )
    .bind(request.id.as_str())
    .bind(&request.attributes.0)
    .bind(now)
    .bind(now)
    .bind(creator.as_str())
    .execute(&mut *tx)
    .await?;
    insert_access(
        &mut tx,
        &request.id,
        creator,
        permissions,
        creator,
        &request.wrapped_key,
        &request.signature,
    )
    .await?;
    append(&mut tx, event).await?;
    let record = vault_in(&mut tx, &request.id, creator)
        .await?
        .ok_or_else(|| ApiError::internal("created vault vanished"))?;
    store.commit(tx).await?;
    Ok(record)
}

pub(super) async fn vault(
    store: &SqliteStore,
    vault: &Id,
    principal: &Id,
) -> StoreResult<Option<VaultRecord>> {
    let mut conn = store.reader.acquire().await?;
    vault_in(&mut conn, vault, principal).await
}

pub(super) async fn vaults(store: &SqliteStore, principal: &Id) -> StoreResult<Vec<VaultRecord>> {
    let rows = sqlx::query(&format!("{VAULT_SELECT} ORDER BY v.created_at, v.id"))
        .bind(principal.as_str())
        .fetch_all(&store.reader)
        .await?;
    rows.iter().map(vault_of).collect()
}

pub(super) async fn update_vault(
    store: &SqliteStore,
    vault: &Id,
    principal: &Id,
    expected_attribute_version: u64,
    attributes: &Ciphertext,
    event: &EventRecord,
) -> StoreResult<VaultRecord> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let updated = sqlx::query(
        "UPDATE vaults SET attributes = ?, attribute_version = attribute_version + 1, \
         updated_at = ? WHERE id = ? AND attribute_version = ?",
    )
    .bind(&attributes.0)
    .bind(now_ms())
    .bind(vault.as_str())
    .bind(expected_attribute_version as i64)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        let current = vault_in(&mut tx, vault, principal)
            .await?
            .ok_or_else(|| ApiError::vault_not_found(vault))?;
        return Err(ApiError::conflict(format!(
            "vault {vault} attributes are at version {}, not {expected_attribute_version}: \
             get the vault, reapply the change and retry",
            current.attribute_version
        )));
    }
    append(&mut tx, event).await?;
    let record = vault_in(&mut tx, vault, principal)
        .await?
        .ok_or_else(|| ApiError::vault_not_found(vault))?;
    store.commit(tx).await?;
    Ok(record)
}

pub(super) async fn delete_vault(
    store: &SqliteStore,
    vault: &Id,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let deleted = sqlx::query("DELETE FROM vaults WHERE id = ?")
        .bind(vault.as_str())
        .execute(&mut *tx)
        .await?;
    if deleted.rows_affected() != 1 {
        return Err(ApiError::vault_not_found(vault));
    }
    sqlx::query("UPDATE file_blobs SET state = 'detached' WHERE vault_id = ?")
        .bind(vault.as_str())
        .execute(&mut *tx)
        .await?;
    revoke_shares(&mut tx, "vault_id = ?", &[vault]).await?;
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(())
}

pub(super) async fn account_vaults(
    store: &SqliteStore,
    member: &Id,
) -> StoreResult<Vec<AccountVaultRecord>> {
    let rows = sqlx::query(
        "SELECT v.id, v.created_by, v.created_at, v.updated_at, \
         (SELECT COUNT(*) FROM items i WHERE i.vault_id = v.id AND i.deleted = 0 \
          AND i.state = 'active') AS active_item_count, \
         EXISTS (SELECT 1 FROM vault_access a WHERE a.vault_id = v.id \
          AND a.principal_id = ?) AS member \
         FROM vaults v ORDER BY v.created_at, v.id",
    )
    .bind(member.as_str())
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AccountVaultRecord {
                id: id_of(row, "id")?,
                created_by: opt_id_of(row, "created_by")?,
                active_item_count: row.try_get::<i64, _>("active_item_count")? as u32,
                created_at: from_ms(row.try_get("created_at")?),
                updated_at: from_ms(row.try_get("updated_at")?),
                member: row.try_get::<i64, _>("member")? != 0,
            })
        })
        .collect()
}
