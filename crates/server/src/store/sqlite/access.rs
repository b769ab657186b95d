//! Vault access: who holds which permissions on a vault, with the wrapped vault key its
//! granter signed.

use sesame_core::api::{PrincipalKind, VaultAccessRecord, VaultGrant};
use sesame_core::crypto::WrappedVaultKey;
use sesame_core::id::Id;
use sesame_core::model::permissions::{self, MANAGE_VAULT};
use sqlx::sqlite::SqliteConnection;
use sqlx::Row;

use super::audit::append;
use super::{id_of, principal_in, SqliteStore};
use crate::error::ApiError;
use crate::store::{check_grant, EventRecord, StoreResult};

fn wrapped_json(key: &WrappedVaultKey) -> StoreResult<String> {
    serde_json::to_string(key).map_err(ApiError::internal)
}

pub(super) async fn permissions_in(
    conn: &mut SqliteConnection,
    vault: &Id,
    principal: &Id,
) -> StoreResult<Option<u32>> {
    let row =
        sqlx::query("SELECT permissions FROM vault_access WHERE vault_id = ? AND principal_id = ?")
            .bind(vault.as_str())
            .bind(principal.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<i64, _>("permissions")? as u32),
        None => None,
    })
}

/// Checks `event.requires` inside the caller's transaction, before its change: the
/// single writer serializes it with every grant change, so a grant revoked or lowered
/// after the route's early check cannot let the change through.
pub(super) async fn authorize(conn: &mut SqliteConnection, event: &EventRecord) -> StoreResult<()> {
    if event.requires == 0 {
        return Ok(());
    }
    let (Some(vault), Some(principal)) = (&event.vault_id, &event.principal_id) else {
        return Err(ApiError::internal(
            "a change that requires permissions names no vault or principal",
        ));
    };
    let granted = permissions_in(conn, vault, principal).await?;
    check_grant(granted, vault, event.requires).map(drop)
}

/// Checks that `caller` may hand out the grants of a new service account.
pub(super) async fn check_grants_managed(
    conn: &mut SqliteConnection,
    caller: &Id,
    grants: &[VaultGrant],
) -> StoreResult<()> {
    for grant in grants {
        match permissions_in(conn, &grant.vault_id, caller).await? {
            None => return Err(ApiError::vault_not_found(&grant.vault_id)),
            Some(mine) if !permissions::has(mine, MANAGE_VAULT) => {
                return Err(ApiError::forbidden(format!(
                    "granting access to vault {} needs MANAGE_VAULT on it",
                    grant.vault_id
                )))
            }
            Some(_) => {}
        }
        let exists = sqlx::query("SELECT 1 FROM vaults WHERE id = ?")
            .bind(grant.vault_id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        if exists.is_none() {
            return Err(ApiError::vault_not_found(&grant.vault_id));
        }
    }
    Ok(())
}

/// Inserts one member of a vault with its signed wrapped key.
pub(super) async fn insert_access(
    conn: &mut SqliteConnection,
    vault: &Id,
    principal: &Id,
    permissions: u32,
    granter: &Id,
    wrapped_key: &WrappedVaultKey,
    signature: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO vault_access (vault_id, principal_id, permissions, wrapped_key, \
         granted_by, grant_signature) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(vault.as_str())
    .bind(principal.as_str())
    .bind(i64::from(permissions))
    .bind(wrapped_json(wrapped_key)?)
    .bind(granter.as_str())
    .bind(signature)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_grants(
    conn: &mut SqliteConnection,
    principal: &Id,
    granter: &Id,
    grants: &[VaultGrant],
) -> StoreResult<()> {
    for grant in grants {
        insert_access(
            conn,
            &grant.vault_id,
            principal,
            grant.permissions,
            granter,
            &grant.wrapped_key,
            &grant.signature,
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn permissions(
    store: &SqliteStore,
    vault: &Id,
    principal: &Id,
) -> StoreResult<Option<u32>> {
    let mut conn = store.reader.acquire().await?;
    permissions_in(&mut conn, vault, principal).await
}

pub(super) async fn vault_members(
    store: &SqliteStore,
    vault: &Id,
) -> StoreResult<Vec<VaultAccessRecord>> {
    let rows = sqlx::query(
        "SELECT vault_id, principal_id, permissions FROM vault_access WHERE vault_id = ? \
         ORDER BY principal_id",
    )
    .bind(vault.as_str())
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(VaultAccessRecord {
                vault_id: id_of(row, "vault_id")?,
                principal_id: id_of(row, "principal_id")?,
                permissions: row.try_get::<i64, _>("permissions")? as u32,
            })
        })
        .collect()
}

pub(super) async fn grant(
    store: &SqliteStore,
    vault: &Id,
    principal: &Id,
    permissions: u32,
    granter: &Id,
    wrapped_key: Option<(&WrappedVaultKey, &str)>,
    event: &EventRecord,
) -> StoreResult<VaultAccessRecord> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    match principal_in(&mut tx, principal).await? {
        None => {
            return Err(ApiError::not_found(format!(
                "principal {principal} not found"
            )))
        }
        Some(p) if p.revoked_at.is_some() => {
            return Err(ApiError::invalid(format!(
                "principal {principal} is revoked and cannot be granted access"
            )))
        }
        Some(p) => {
            // Point 3 (issue 9): a vault manager cannot lock the owner out, neither by
            // lowering its permissions nor by replacing its wrapped key with one that
            // does not open the vault. Checked in the transaction that writes.
            if p.kind == PrincipalKind::Owner && granter != principal {
                if let Some(old) = permissions_in(&mut tx, vault, principal).await? {
                    let dropped = old & !permissions;
                    if dropped != 0 {
                        return Err(ApiError::forbidden(format!(
                            "principal {principal} is the account owner: a vault manager \
                             cannot lower its permissions on vault {vault} (this would \
                             remove {}); only the owner changes its own grant",
                            permissions::names(dropped).join(", ")
                        )));
                    }
                    if wrapped_key.is_some() {
                        return Err(ApiError::forbidden(format!(
                            "principal {principal} is the account owner: a vault manager \
                             cannot replace its wrapped key on vault {vault}; send the \
                             permissions without wrappedKey"
                        )));
                    }
                }
            }
        }
    }
    let existing = permissions_in(&mut tx, vault, principal).await?;
    match (existing, wrapped_key) {
        (None, None) => {
            return Err(ApiError::invalid(format!(
                "principal {principal} is not yet a member of vault {vault}: wrappedKey \
                 (the vault key wrapped to its encryption key) is required"
            )))
        }
        (None, Some((key, signature))) => {
            insert_access(
                &mut tx,
                vault,
                principal,
                permissions,
                granter,
                key,
                signature,
            )
            .await?;
        }
        (Some(_), None) => {
            sqlx::query(
                "UPDATE vault_access SET permissions = ? WHERE vault_id = ? AND \
                 principal_id = ?",
            )
            .bind(i64::from(permissions))
            .bind(vault.as_str())
            .bind(principal.as_str())
            .execute(&mut *tx)
            .await?;
        }
        (Some(_), Some((key, signature))) => {
            sqlx::query(
                "UPDATE vault_access SET permissions = ?, wrapped_key = ?, granted_by = ?, \
                 grant_signature = ? WHERE vault_id = ? AND principal_id = ?",
            )
            .bind(i64::from(permissions))
            .bind(wrapped_json(key)?)
            .bind(granter.as_str())
            .bind(signature)
            .bind(vault.as_str())
            .bind(principal.as_str())
            .execute(&mut *tx)
            .await?;
        }
    }
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(VaultAccessRecord {
        vault_id: *vault,
        principal_id: *principal,
        permissions,
    })
}

pub(super) async fn revoke_grant(
    store: &SqliteStore,
    vault: &Id,
    principal: &Id,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let deleted = sqlx::query("DELETE FROM vault_access WHERE vault_id = ? AND principal_id = ?")
        .bind(vault.as_str())
        .bind(principal.as_str())
        .execute(&mut *tx)
        .await?;
    if deleted.rows_affected() != 1 {
        return Err(ApiError::not_found(format!(
            "principal {principal} has no access to vault {vault}"
        )));
    }
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(())
}
