//! Vault access: who holds which permissions on a vault, with the wrapped vault key its
//! granter signed.

use sesame_core::api::{PrincipalKind, VaultAccessRecord, VaultGrant};
use sesame_core::crypto::WrappedVaultKey;
use sesame_core::id::Id;
use sesame_core::model::permissions::{self, MANAGE_VAULT};
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::audit::append;
use super::{begin, id_of, principal_locked, PgStore};
use crate::error::ApiError;
use crate::store::{check_grant, EventRecord, StoreResult};

fn wrapped_json(key: &WrappedVaultKey) -> StoreResult<String> {
    serde_json::to_string(key).map_err(ApiError::internal)
}

pub(super) async fn permissions_in(
    conn: &mut PgConnection,
    vault: &Id,
    principal: &Id,
) -> StoreResult<Option<u32>> {
    permissions_query(conn, vault, principal, "").await
}

async fn permissions_query(
    conn: &mut PgConnection,
    vault: &Id,
    principal: &Id,
    lock: &str,
) -> StoreResult<Option<u32>> {
    let row = sqlx::query(&format!(
        "SELECT permissions FROM vault_access WHERE vault_id = $1 AND principal_id = $2{lock}"
    ))
    .bind(vault.as_str())
    .bind(principal.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<i64, _>("permissions")? as u32),
        None => None,
    })
}

/// Checks `event.requires` inside the caller's transaction, before its change.
///
/// The grant row is read `FOR SHARE` and so stays locked until commit: a revocation or
/// a change of it (which locks it for update) either committed before this read and is
/// seen, or waits until this change has committed. Either way no write gets through on a
/// grant that no longer allows it.
pub(super) async fn authorize(conn: &mut PgConnection, event: &EventRecord) -> StoreResult<()> {
    if event.requires == 0 {
        return Ok(());
    }
    let (Some(vault), Some(principal)) = (&event.vault_id, &event.principal_id) else {
        return Err(ApiError::internal(
            "a change that requires permissions names no vault or principal",
        ));
    };
    let granted = permissions_query(conn, vault, principal, " FOR SHARE").await?;
    check_grant(granted, vault, event.requires).map(drop)
}

/// Locks, until commit, the grants on `vault` of `principals` (absent ones are not
/// locked), in one statement and in `(vault_id, principal_id)` order, the order of every
/// lock of several grants: two transactions locking overlapping grants never deadlock.
/// For changes of grants, which [`authorize`] alone would only lock for share (two
/// changes of the same grant would then deadlock upgrading their locks).
pub(super) async fn lock_grants(
    conn: &mut PgConnection,
    vault: &Id,
    principals: &[Option<&Id>],
) -> StoreResult<()> {
    let ids: Vec<&str> = principals.iter().flatten().map(|id| id.as_str()).collect();
    sqlx::query(
        "SELECT 1 FROM vault_access WHERE vault_id = $1 AND principal_id = ANY($2::TEXT[]) \
         ORDER BY principal_id FOR UPDATE",
    )
    .bind(vault.as_str())
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(())
}

/// Locks every grant on `vault`, in the order of [`lock_grants`] (before deleting the
/// vault, which deletes them).
pub(super) async fn lock_all_grants(conn: &mut PgConnection, vault: &Id) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM vault_access WHERE vault_id = $1 ORDER BY principal_id FOR UPDATE")
        .bind(vault.as_str())
        .fetch_all(&mut *conn)
        .await?;
    Ok(())
}

/// Checks that `caller` may hand out the grants of a new service account.
///
/// The caller's grants on those vaults are locked for share first (in one statement, in
/// vault order), so that a concurrent revocation or lowering of them waits for this
/// change or is seen by it.
pub(super) async fn check_grants_managed(
    conn: &mut PgConnection,
    caller: &Id,
    grants: &[VaultGrant],
) -> StoreResult<()> {
    let vaults: Vec<&str> = grants.iter().map(|g| g.vault_id.as_str()).collect();
    sqlx::query(
        "SELECT 1 FROM vault_access WHERE principal_id = $1 AND vault_id = ANY($2::TEXT[]) \
         ORDER BY vault_id FOR SHARE",
    )
    .bind(caller.as_str())
    .bind(&vaults)
    .fetch_all(&mut *conn)
    .await?;
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
        let exists = sqlx::query("SELECT 1 FROM vaults WHERE id = $1")
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
    conn: &mut PgConnection,
    vault: &Id,
    principal: &Id,
    permissions: u32,
    granter: &Id,
    wrapped_key: &WrappedVaultKey,
    signature: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO vault_access (vault_id, principal_id, permissions, wrapped_key, \
         granted_by, grant_signature) VALUES ($1, $2, $3, $4, $5, $6)",
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
    conn: &mut PgConnection,
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
    store: &PgStore,
    vault: &Id,
    principal: &Id,
) -> StoreResult<Option<u32>> {
    let mut conn = store.pool.acquire().await?;
    permissions_in(&mut conn, vault, principal).await
}

pub(super) async fn vault_members(
    store: &PgStore,
    vault: &Id,
) -> StoreResult<Vec<VaultAccessRecord>> {
    let rows = sqlx::query(
        "SELECT vault_id, principal_id, permissions FROM vault_access WHERE vault_id = $1 \
         ORDER BY principal_id",
    )
    .bind(vault.as_str())
    .fetch_all(&store.pool)
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
    store: &PgStore,
    vault: &Id,
    principal: &Id,
    permissions: u32,
    granter: &Id,
    wrapped_key: Option<(&WrappedVaultKey, &str)>,
    event: &EventRecord,
) -> StoreResult<VaultAccessRecord> {
    let mut tx = begin(&store.pool).await?;
    // Locks first, in the order of every write (see the module): the member, so that it
    // cannot be revoked or rotated meanwhile (and grants to it are one at a time); then
    // the grants involved, the caller's included, so that `authorize` below reads a
    // grant this transaction already holds.
    let member = principal_locked(&mut tx, principal).await?;
    lock_grants(
        &mut tx,
        vault,
        &[event.principal_id.as_ref(), Some(granter), Some(principal)],
    )
    .await?;
    authorize(&mut tx, event).await?;
    match member {
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
                "UPDATE vault_access SET permissions = $1 WHERE vault_id = $2 AND \
                 principal_id = $3",
            )
            .bind(i64::from(permissions))
            .bind(vault.as_str())
            .bind(principal.as_str())
            .execute(&mut *tx)
            .await?;
        }
        (Some(_), Some((key, signature))) => {
            sqlx::query(
                "UPDATE vault_access SET permissions = $1, wrapped_key = $2, granted_by = $3, \
                 grant_signature = $4 WHERE vault_id = $5 AND principal_id = $6",
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
    tx.commit().await?;
    Ok(VaultAccessRecord {
        vault_id: *vault,
        principal_id: *principal,
        permissions,
    })
}

pub(super) async fn revoke_grant(
    store: &PgStore,
    vault: &Id,
    principal: &Id,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = begin(&store.pool).await?;
    // The caller's grant and the one to delete, locked in order (see `lock_grants`).
    lock_grants(
        &mut tx,
        vault,
        &[event.principal_id.as_ref(), Some(principal)],
    )
    .await?;
    authorize(&mut tx, event).await?;
    let deleted = sqlx::query("DELETE FROM vault_access WHERE vault_id = $1 AND principal_id = $2")
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
    tx.commit().await?;
    Ok(())
}
