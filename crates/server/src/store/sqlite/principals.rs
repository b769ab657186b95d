//! Principals: the owner and service accounts, their keys, certificates and rights.

use std::str::FromStr;

use sesame_core::api::{Principal, PrincipalKind, ServiceAccountRights, VaultGrant};
use sesame_core::id::Id;
use sesame_core::model::permissions::{self, MANAGE_VAULT};
use sqlx::sqlite::SqliteConnection;
use sqlx::Row;

use super::access::{check_grants_managed, insert_grants, permissions_in};
use super::audit::append;
use super::shares::revoke_shares;
use super::{now_ms, principal_in, principal_of, to_ms, SqliteStore, PRINCIPAL_COLUMNS};
use crate::error::ApiError;
use crate::store::{EventRecord, NewPrincipal, StoreResult};

fn kind_text(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Owner => "owner",
        _ => "serviceAccount",
    }
}

pub(super) async fn principal(store: &SqliteStore, id: &Id) -> StoreResult<Option<Principal>> {
    let mut conn = store.reader.acquire().await?;
    principal_in(&mut conn, id).await
}

pub(super) async fn owner(store: &SqliteStore) -> StoreResult<Principal> {
    let row = sqlx::query(&format!(
        "SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE kind = 'owner' LIMIT 1"
    ))
    .fetch_optional(&store.reader)
    .await?
    .ok_or_else(|| ApiError::internal("the account has no owner"))?;
    principal_of(&row)
}

pub(super) async fn principals(store: &SqliteStore) -> StoreResult<Vec<Principal>> {
    let rows = sqlx::query(&format!(
        "SELECT {PRINCIPAL_COLUMNS} FROM principals ORDER BY created_at, id"
    ))
    .fetch_all(&store.reader)
    .await?;
    rows.iter().map(principal_of).collect()
}

pub(super) async fn create_principal(
    store: &SqliteStore,
    caller: &Id,
    new: &NewPrincipal,
    grants: &[VaultGrant],
    event: &EventRecord,
) -> StoreResult<Principal> {
    let mut tx = store.writer.begin().await?;
    if principal_in(&mut tx, &new.id).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "principal id {} is taken; generate a new token",
            new.id
        )));
    }
    check_grants_managed(&mut tx, caller, grants).await?;
    let account: String = sqlx::query("SELECT id FROM account LIMIT 1")
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
    let account = Id::from_str(&account).map_err(ApiError::internal)?;
    insert_principal(&mut tx, &account, new, now_ms()).await?;
    insert_grants(&mut tx, &new.id, caller, grants).await?;
    append(&mut tx, event).await?;
    let principal = principal_in(&mut tx, &new.id)
        .await?
        .ok_or_else(|| ApiError::internal("created principal vanished"))?;
    store.commit(tx).await?;
    Ok(principal)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn rotate_principal(
    store: &SqliteStore,
    caller: &Id,
    id: &Id,
    new_generation: u32,
    signing_public_key: &str,
    encryption_public_key: &str,
    certificate: &str,
    grants: &[VaultGrant],
    event: &EventRecord,
) -> StoreResult<Principal> {
    let mut tx = store.writer.begin().await?;
    match principal_in(&mut tx, id).await? {
        None => return Err(ApiError::not_found(format!("principal {id} not found"))),
        Some(p) if p.revoked_at.is_some() => {
            return Err(ApiError::conflict(format!(
                "principal {id} is revoked; create a new service account instead"
            )))
        }
        Some(p) if p.kind == PrincipalKind::Owner => {
            return Err(ApiError::invalid(format!(
                "principal {id} is the account owner, whose key is the account id and \
                 cannot be rotated"
            )))
        }
        Some(p) if p.key_generation.checked_add(1) != Some(new_generation) => {
            return Err(ApiError::conflict(format!(
                "principal {id} is at key generation {}, so the rotation must certify \
                 generation {}, not {new_generation}; get the principal and retry",
                p.key_generation,
                u64::from(p.key_generation) + 1
            )))
        }
        Some(_) => {}
    }
    for grant in grants {
        let mine = permissions_in(&mut tx, &grant.vault_id, caller).await?;
        if mine.is_some_and(|m| permissions::has(m, MANAGE_VAULT)) {
            continue;
        }
        match permissions_in(&mut tx, &grant.vault_id, id).await? {
            None if mine.is_none() => return Err(ApiError::vault_not_found(&grant.vault_id)),
            None => {
                return Err(ApiError::forbidden(format!(
                    "principal {id} has no access to vault {}: adding it needs \
                     MANAGE_VAULT on the vault",
                    grant.vault_id
                )))
            }
            Some(old) if grant.permissions & !old != 0 => {
                return Err(ApiError::forbidden(format!(
                    "raising the permissions of principal {id} on vault {} needs \
                     MANAGE_VAULT on the vault",
                    grant.vault_id
                )))
            }
            Some(_) => {}
        }
    }
    sqlx::query("DELETE FROM vault_access WHERE principal_id = ?")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    insert_grants(&mut tx, id, caller, grants).await?;
    sqlx::query(
        "UPDATE principals SET signing_public_key = ?, encryption_public_key = ?, \
         certificate = ?, key_generation = ? WHERE id = ?",
    )
    .bind(signing_public_key)
    .bind(encryption_public_key)
    .bind(certificate)
    .bind(i64::from(new_generation))
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    append(&mut tx, event).await?;
    let principal = principal_in(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::internal("rotated principal vanished"))?;
    store.commit(tx).await?;
    Ok(principal)
}

pub(super) async fn revoke_principal(
    store: &SqliteStore,
    id: &Id,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = store.writer.begin().await?;
    match principal_in(&mut tx, id).await? {
        None => return Err(ApiError::not_found(format!("principal {id} not found"))),
        Some(p) if p.kind == PrincipalKind::Owner => {
            return Err(ApiError::invalid(format!(
                "principal {id} is the account owner, which cannot be revoked; rotate its \
                 token instead"
            )))
        }
        Some(_) => {}
    }
    sqlx::query("UPDATE principals SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
        .bind(now_ms())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM vault_access WHERE principal_id = ?")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    revoke_shares(&mut tx, "created_by = ?", &[id]).await?;
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(())
}

// Vault rights (issue 9, points 2 to 4).

pub(super) async fn set_principal_rights(
    store: &SqliteStore,
    id: &Id,
    rights: &ServiceAccountRights,
    event: &EventRecord,
) -> StoreResult<Principal> {
    let mut tx = store.writer.begin().await?;
    match principal_in(&mut tx, id).await? {
        None => return Err(ApiError::not_found(format!("principal {id} not found"))),
        Some(p) if p.kind == PrincipalKind::Owner => {
            return Err(ApiError::invalid(format!(
                "principal {id} is the account owner, which always may create vaults; \
                 set rights on service accounts"
            )))
        }
        Some(p) if p.revoked_at.is_some() => {
            return Err(ApiError::invalid(format!(
                "principal {id} is revoked; its rights no longer matter"
            )))
        }
        Some(_) => {}
    }
    sqlx::query("UPDATE principals SET can_create_vaults = ? WHERE id = ?")
        .bind(rights.can_create_vaults)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    append(&mut tx, event).await?;
    let principal = principal_in(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::internal("updated principal vanished"))?;
    store.commit(tx).await?;
    Ok(principal)
}

pub(super) async fn insert_principal(
    conn: &mut SqliteConnection,
    account: &Id,
    new: &NewPrincipal,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO principals (id, account_id, name, kind, signing_public_key, \
         encryption_public_key, key_generation, created_at, expires_at, certificate, \
         can_create_vaults) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
    )
    .bind(new.id.as_str())
    .bind(account.as_str())
    .bind(&new.name)
    .bind(kind_text(new.kind))
    .bind(&new.signing_public_key)
    .bind(&new.encryption_public_key)
    .bind(now)
    .bind(new.expires_at.map(to_ms))
    .bind(&new.certificate)
    .bind(new.kind == PrincipalKind::Owner || new.can_create_vaults)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
