//! The SQLite backend: one file, WAL, `synchronous=FULL` (a commit is on disk when it
//! returns), foreign keys on, embedded migrations.
//!
//! Writes go through a single connection, so SQLite never has to arbitrate between
//! writers (no `SQLITE_BUSY` on lock upgrades) and the audit chain is appended in strict
//! order; reads use a small pool and see every committed write (WAL snapshots).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sesame_core::api::{
    AccountVaultRecord, AuditEvent, Ciphertext, ItemChanges, ItemCreateRequest, ItemRecord,
    ItemUpdateRequest, Principal, PrincipalKind, RateLimitSettings, ServiceAccountRights,
    Tombstone, VaultAccessRecord, VaultCreateRequest, VaultGrant, VaultRecord,
};
// Point 11 (issue 9).
use sesame_core::api::{AuditCheckpoint, AuditHead};
use sesame_core::audit::{event_hash, GENESIS_HASH};
use sesame_core::crypto::WrappedVaultKey;
use sesame_core::id::Id;
use sesame_core::model::permissions::{self, MANAGE_VAULT};
use sesame_core::model::{ItemShare, ItemShareAccountPolicy, ItemState, ValidRecipient};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{
    AccountRecord, BlobKey, BlobRecord, BlobState, ChallengeOutcome, CodeProof, CodeRefusal,
    EventRecord, NewPrincipal, NewShare, ShareChallenge, ShareGone, ShareOpening, Store,
    StoreResult,
};
use crate::error::{ApiError, ServerError};

/// The embedded SQLite migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A [`Store`] in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    ///
    /// # Errors
    ///
    /// [`ServerError::Database`] when the file cannot be opened or migrated.
    pub async fn open(path: &Path) -> Result<Self, ServerError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::data_dir::create_private_dir(parent)?;
        }
        // Point 5: the database and its -wal/-shm (which SQLite creates with the database
        // file's mode) are 0600 whatever the umask.
        crate::data_dir::create_private_file(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| ServerError::Database(format!("cannot open {}: {e}", path.display())))?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            crate::data_dir::tighten_file(Path::new(&file))?;
        }
        Ok(Self { writer, reader })
    }

    /// Closes both pools, waiting for connections to finish.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

fn now_ms() -> i64 {
    // Whole milliseconds, so every stored time round-trips exactly.
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn to_ms(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1_000_000) as i64
}

fn id_of(row: &SqliteRow, column: &str) -> StoreResult<Id> {
    let text: String = row.try_get(column)?;
    Id::from_str(&text)
        .map_err(|_| ApiError::internal(format_args!("stored {column} is not an id")))
}

fn opt_id_of(row: &SqliteRow, column: &str) -> StoreResult<Option<Id>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        Id::from_str(&t)
            .map_err(|_| ApiError::internal(format_args!("stored {column} is not an id")))
    })
    .transpose()
}

fn state_text(state: ItemState) -> StoreResult<&'static str> {
    match state {
        ItemState::Active => Ok("active"),
        ItemState::Archived => Ok("archived"),
        _ => Err(ApiError::invalid(
            "state must be \"active\" or \"archived\"",
        )),
    }
}

fn state_of(text: &str) -> ItemState {
    if text == "archived" {
        ItemState::Archived
    } else {
        ItemState::Active
    }
}

fn kind_text(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Owner => "owner",
        _ => "serviceAccount",
    }
}

const PRINCIPAL_COLUMNS: &str = "id, name, kind, signing_public_key, encryption_public_key, \
     key_generation, created_at, expires_at, revoked_at, certificate, can_create_vaults";

fn principal_of(row: &SqliteRow) -> StoreResult<Principal> {
    let kind: String = row.try_get("kind")?;
    Ok(Principal {
        id: id_of(row, "id")?,
        name: row.try_get("name")?,
        kind: if kind == "owner" {
            PrincipalKind::Owner
        } else {
            PrincipalKind::ServiceAccount
        },
        signing_public_key: row.try_get("signing_public_key")?,
        encryption_public_key: row.try_get("encryption_public_key")?,
        key_generation: row.try_get::<i64, _>("key_generation")? as u32,
        created_at: from_ms(row.try_get("created_at")?),
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_ms),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
        certificate: row.try_get("certificate")?,
        can_create_vaults: row.try_get::<i64, _>("can_create_vaults")? != 0,
    })
}

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

const ITEM_COLUMNS: &str =
    "id, vault_id, version, state, content_version, overview, created_at, updated_at";

fn item_of(row: &SqliteRow, with_details: bool) -> StoreResult<ItemRecord> {
    let state: String = row.try_get("state")?;
    Ok(ItemRecord {
        id: id_of(row, "id")?,
        vault_id: id_of(row, "vault_id")?,
        version: row.try_get::<i64, _>("version")? as u32,
        state: state_of(&state),
        content_version: row.try_get::<i64, _>("content_version")? as u64,
        overview: Ciphertext(row.try_get("overview")?),
        details: if with_details {
            Some(Ciphertext(row.try_get("details")?))
        } else {
            None
        },
        created_at: from_ms(row.try_get("created_at")?),
        updated_at: from_ms(row.try_get("updated_at")?),
    })
}

fn wrapped_json(key: &WrappedVaultKey) -> StoreResult<String> {
    serde_json::to_string(key).map_err(ApiError::internal)
}

/// Appends `event` to the chain inside the caller's transaction.
///
/// The event chains from the persisted head, not from the newest stored row: when the
/// newest events were deleted, the new one leaves a gap that verification reports instead
/// of silently continuing the shortened chain.
async fn append(conn: &mut SqliteConnection, event: &EventRecord) -> StoreResult<()> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev_hash) = match head {
        Some(row) => (
            row.try_get::<i64, _>("seq")? as u64 + 1,
            row.try_get::<String, _>("hash")?,
        ),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let time = now_ms();
    let mut full = AuditEvent {
        seq,
        time: from_ms(time),
        principal_id: event.principal_id,
        action: event.action.clone(),
        vault_id: event.vault_id,
        item_id: event.item_id,
        outcome: event.outcome.clone(),
        integration_name: event.integration_name.clone(),
        integration_version: event.integration_version.clone(),
        prev_hash,
        hash: String::new(),
    };
    full.hash = event_hash(&full);
    sqlx::query(
        "INSERT INTO audit_events (seq, time, principal_id, action, vault_id, item_id, outcome, \
         integration_name, integration_version, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(seq as i64)
    .bind(time)
    .bind(full.principal_id.as_ref().map(Id::as_str))
    .bind(&full.action)
    .bind(full.vault_id.as_ref().map(Id::as_str))
    .bind(full.item_id.as_ref().map(Id::as_str))
    .bind(&full.outcome)
    .bind(&full.integration_name)
    .bind(&full.integration_version)
    .bind(&full.prev_hash)
    .bind(&full.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(seq as i64)
    .bind(&full.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn permissions_in(
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

async fn principal_in(conn: &mut SqliteConnection, id: &Id) -> StoreResult<Option<Principal>> {
    let row = sqlx::query(&format!(
        "SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(principal_of).transpose()
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

async fn item_in(
    conn: &mut SqliteConnection,
    vault: &Id,
    item: &Id,
) -> StoreResult<Option<ItemRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS}, details FROM items WHERE vault_id = ? AND id = ? AND deleted = 0"
    ))
    .bind(vault.as_str())
    .bind(item.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(|r| item_of(r, true)).transpose()
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

/// Checks that `caller` may hand out the grants of a new service account.
async fn check_grants_managed(
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
async fn insert_access(
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

async fn insert_grants(
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

impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn account(&self) -> StoreResult<Option<AccountRecord>> {
        let row = sqlx::query("SELECT id, session_secret FROM account LIMIT 1")
            .fetch_optional(&self.reader)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(AccountRecord {
                id: id_of(&row, "id")?,
                session_secret: Zeroizing::new(row.try_get("session_secret")?),
            })),
        }
    }

    async fn initialize(
        &self,
        account: &Id,
        session_secret: &[u8],
        owner: &NewPrincipal,
        event: &EventRecord,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let existing = sqlx::query("SELECT id FROM account LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() {
            return Err(ApiError::conflict("the server already has an account"));
        }
        let now = now_ms();
        sqlx::query("INSERT INTO account (id, session_secret, created_at) VALUES (?, ?, ?)")
            .bind(account.as_str())
            .bind(session_secret)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_principal(&mut tx, account, owner, now).await?;
        append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn principal(&self, id: &Id) -> StoreResult<Option<Principal>> {
        let mut conn = self.reader.acquire().await?;
        principal_in(&mut conn, id).await
    }

    async fn owner(&self) -> StoreResult<Principal> {
        let row = sqlx::query(&format!(
            "SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE kind = 'owner' LIMIT 1"
        ))
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| ApiError::internal("the account has no owner"))?;
        principal_of(&row)
    }

    async fn principals(&self) -> StoreResult<Vec<Principal>> {
        let rows = sqlx::query(&format!(
            "SELECT {PRINCIPAL_COLUMNS} FROM principals ORDER BY created_at, id"
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(principal_of).collect()
    }

    async fn create_principal(
        &self,
        caller: &Id,
        new: &NewPrincipal,
        grants: &[VaultGrant],
        event: &EventRecord,
    ) -> StoreResult<Principal> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(principal)
    }

    async fn rotate_principal(
        &self,
        caller: &Id,
        id: &Id,
        new_generation: u32,
        signing_public_key: &str,
        encryption_public_key: &str,
        certificate: &str,
        grants: &[VaultGrant],
        event: &EventRecord,
    ) -> StoreResult<Principal> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(principal)
    }

    async fn revoke_principal(&self, id: &Id, event: &EventRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    async fn rate_limits(&self) -> StoreResult<Vec<(Id, RateLimitSettings)>> {
        let rows = sqlx::query("SELECT principal_id, reads, writes FROM principal_rate_limits")
            .fetch_all(&self.reader)
            .await?;
        let budget = |row: &SqliteRow, column: &str| -> StoreResult<Option<u64>> {
            let value: Option<i64> = row.try_get(column)?;
            value
                .map(|v| {
                    u64::try_from(v).map_err(|_| {
                        ApiError::internal(format_args!("stored rate limit {column} is negative"))
                    })
                })
                .transpose()
        };
        rows.iter()
            .map(|row| {
                Ok((
                    id_of(row, "principal_id")?,
                    RateLimitSettings {
                        reads: budget(row, "reads")?,
                        writes: budget(row, "writes")?,
                    },
                ))
            })
            .collect()
    }

    async fn set_rate_limits(
        &self,
        principal: &Id,
        settings: &RateLimitSettings,
        event: &EventRecord,
    ) -> StoreResult<()> {
        let budget = |value: Option<u64>| -> StoreResult<Option<i64>> {
            value
                .map(|v| {
                    i64::try_from(v)
                        .map_err(|_| ApiError::invalid("a rate limit is larger than the largest"))
                })
                .transpose()
        };
        let (reads, writes) = (budget(settings.reads)?, budget(settings.writes)?);
        let mut tx = self.writer.begin().await?;
        match principal_in(&mut tx, principal).await? {
            None => {
                return Err(ApiError::not_found(format!(
                    "principal {principal} not found"
                )))
            }
            Some(p) if p.kind == PrincipalKind::Owner => {
                return Err(ApiError::invalid(format!(
                    "principal {principal} is the account owner, which always has the server's \
                     default rate limits (so it cannot lock itself out); set limits on service \
                     accounts"
                )))
            }
            Some(p) if p.revoked_at.is_some() => {
                return Err(ApiError::invalid(format!(
                    "principal {principal} is revoked; its rate limits no longer matter"
                )))
            }
            Some(_) => {}
        }
        if reads.is_none() && writes.is_none() {
            sqlx::query("DELETE FROM principal_rate_limits WHERE principal_id = ?")
                .bind(principal.as_str())
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO principal_rate_limits (principal_id, reads, writes, updated_at) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (principal_id) DO UPDATE SET \
                 reads = excluded.reads, writes = excluded.writes, updated_at = excluded.updated_at",
            )
            .bind(principal.as_str())
            .bind(reads)
            .bind(writes)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn permissions(&self, vault: &Id, principal: &Id) -> StoreResult<Option<u32>> {
        let mut conn = self.reader.acquire().await?;
        permissions_in(&mut conn, vault, principal).await
    }

    async fn create_vault(
        &self,
        creator: &Id,
        request: &VaultCreateRequest,
        permissions: u32,
        event: &EventRecord,
    ) -> StoreResult<VaultRecord> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(record)
    }

    async fn vault(&self, vault: &Id, principal: &Id) -> StoreResult<Option<VaultRecord>> {
        let mut conn = self.reader.acquire().await?;
        vault_in(&mut conn, vault, principal).await
    }

    async fn vaults(&self, principal: &Id) -> StoreResult<Vec<VaultRecord>> {
        let rows = sqlx::query(&format!("{VAULT_SELECT} ORDER BY v.created_at, v.id"))
            .bind(principal.as_str())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(vault_of).collect()
    }

    async fn update_vault(
        &self,
        vault: &Id,
        principal: &Id,
        expected_attribute_version: u64,
        attributes: &Ciphertext,
        event: &EventRecord,
    ) -> StoreResult<VaultRecord> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(record)
    }

    async fn delete_vault(&self, vault: &Id, event: &EventRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    async fn vault_members(&self, vault: &Id) -> StoreResult<Vec<VaultAccessRecord>> {
        let rows = sqlx::query(
            "SELECT vault_id, principal_id, permissions FROM vault_access WHERE vault_id = ? \
             ORDER BY principal_id",
        )
        .bind(vault.as_str())
        .fetch_all(&self.reader)
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

    async fn grant(
        &self,
        vault: &Id,
        principal: &Id,
        permissions: u32,
        granter: &Id,
        wrapped_key: Option<(&WrappedVaultKey, &str)>,
        event: &EventRecord,
    ) -> StoreResult<VaultAccessRecord> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(VaultAccessRecord {
            vault_id: *vault,
            principal_id: *principal,
            permissions,
        })
    }

    async fn revoke_grant(
        &self,
        vault: &Id,
        principal: &Id,
        event: &EventRecord,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let deleted =
            sqlx::query("DELETE FROM vault_access WHERE vault_id = ? AND principal_id = ?")
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

    async fn create_item(
        &self,
        vault: &Id,
        request: &ItemCreateRequest,
        event: &EventRecord,
    ) -> StoreResult<ItemRecord> {
        let state = state_text(request.state)?;
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(record)
    }

    async fn item(&self, vault: &Id, item: &Id) -> StoreResult<Option<ItemRecord>> {
        let mut conn = self.reader.acquire().await?;
        item_in(&mut conn, vault, item).await
    }

    async fn items(&self, vault: &Id, ids: &[Id]) -> StoreResult<Vec<Option<ItemRecord>>> {
        let mut conn = self.reader.begin().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(item_in(&mut conn, vault, id).await?);
        }
        conn.commit().await?;
        Ok(out)
    }

    async fn put_item(
        &self,
        vault: &Id,
        item: &Id,
        request: &ItemUpdateRequest,
        may_change_state: bool,
        event: &EventRecord,
    ) -> StoreResult<ItemRecord> {
        let state = state_text(request.state)?;
        let mut tx = self.writer.begin().await?;
        let current = item_in(&mut tx, vault, item).await?.ok_or_else(|| {
            ApiError::not_found(format!("item {item} not found in vault {vault}"))
        })?;
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
        tx.commit().await?;
        Ok(record)
    }

    async fn delete_item(&self, vault: &Id, item: &Id, event: &EventRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    async fn changes_since(
        &self,
        vault: &Id,
        since: u64,
        details: bool,
    ) -> StoreResult<ItemChanges> {
        // One read transaction: the content version and the rows come from one snapshot.
        let mut tx = self.reader.begin().await?;
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
        tx.commit().await?;
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

    async fn blob(&self, file: &Id) -> StoreResult<Option<BlobRecord>> {
        let row =
            sqlx::query("SELECT id, vault_id, item_id, size, state FROM file_blobs WHERE id = ?")
                .bind(file.as_str())
                .fetch_optional(&self.reader)
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

    async fn add_blob(&self, key: &BlobKey, size: u64, event: &EventRecord) -> StoreResult<()> {
        let size = i64::try_from(size)
            .map_err(|_| ApiError::invalid("the file is larger than this server can record"))?;
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    async fn blob_garbage(&self, uploaded_before: OffsetDateTime) -> StoreResult<Vec<BlobKey>> {
        let rows = sqlx::query(
            "SELECT id, vault_id, item_id FROM file_blobs \
             WHERE state = 'detached' OR (state = 'uploaded' AND created_at < ?)",
        )
        .bind(to_ms(uploaded_before))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(blob_key_of).collect()
    }

    async fn forget_blob(&self, key: &BlobKey) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM file_blobs WHERE id = ? AND state != 'attached'")
            .bind(key.file.as_str())
            .execute(&self.writer)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn share_policy(&self) -> StoreResult<ItemShareAccountPolicy> {
        let row = sqlx::query("SELECT policy FROM share_policy WHERE id = 1")
            .fetch_optional(&self.reader)
            .await?;
        match row {
            None => Ok(ItemShareAccountPolicy::default()),
            Some(row) => serde_json::from_str(&row.try_get::<String, _>("policy")?)
                .map_err(|e| ApiError::internal(format_args!("stored share policy: {e}"))),
        }
    }

    async fn set_share_policy(
        &self,
        policy: &ItemShareAccountPolicy,
        event: &EventRecord,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(policy).map_err(ApiError::internal)?;
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO share_policy (id, policy) VALUES (1, ?) \
             ON CONFLICT (id) DO UPDATE SET policy = excluded.policy",
        )
        .bind(json)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_share(&self, share: &NewShare, event: &EventRecord) -> StoreResult<ItemShare> {
        let recipients = serde_json::to_string(&share.recipients).map_err(ApiError::internal)?;
        let mut tx = self.writer.begin().await?;
        if item_in(&mut tx, &share.vault, &share.item).await?.is_none() {
            return Err(ApiError::not_found(format!(
                "item {} not found in vault {}",
                share.item, share.vault
            )));
        }
        sqlx::query(
            "UPDATE shares SET item = NULL, files = NULL WHERE item IS NOT NULL AND expires_at <= ?",
        )
        .bind(to_ms(share.created_at))
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO shares (id, vault_id, item_id, created_by, access_hash, created_at, \
             expires_at, max_views, views, recipients, has_files, item, files) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(share.id.as_str())
        .bind(share.vault.as_str())
        .bind(share.item.as_str())
        .bind(share.created_by.as_str())
        .bind(&share.access_hash[..])
        .bind(to_ms(share.created_at))
        .bind(to_ms(share.expires_at))
        .bind(share.max_views.map(i64::from))
        .bind(recipients)
        .bind(share.files_ciphertext.is_some())
        .bind(&share.item_ciphertext)
        .bind(share.files_ciphertext.as_deref())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() != 1 {
            return Err(ApiError::conflict(format!(
                "share id {} is taken; create the share again with a fresh id",
                share.id
            )));
        }
        append(&mut tx, event).await?;
        let stored = share_in(&mut tx, &share.id)
            .await?
            .ok_or_else(|| ApiError::internal("created share vanished"))?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn share(&self, id: &Id) -> StoreResult<Option<ItemShare>> {
        let mut conn = self.reader.acquire().await?;
        share_in(&mut conn, id).await
    }

    async fn shares_by(&self, creator: &Id) -> StoreResult<Vec<ItemShare>> {
        let rows = sqlx::query(&format!(
            "SELECT {SHARE_COLUMNS} FROM shares WHERE created_by = ? ORDER BY created_at DESC, id"
        ))
        .bind(creator.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(share_of).collect()
    }

    async fn revoke_share(&self, id: &Id, event: &EventRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        revoke_shares(&mut tx, "id = ?", &[id]).await?;
        append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn open_share(
        &self,
        id: &Id,
        access_hash: &[u8; 32],
        proof: Option<&CodeProof>,
        now: OffsetDateTime,
        event: &EventRecord,
    ) -> StoreResult<ShareOpening> {
        let mut tx = self.writer.begin().await?;
        let mut event = event.clone();
        let (share, row) = match live_share_in(&mut tx, id, access_hash, now, &mut event).await? {
            Lookup::NotFound => {
                append(&mut tx, &event).await?;
                tx.commit().await?;
                return Ok(ShareOpening::NotFound);
            }
            Lookup::Gone(gone) => {
                append(&mut tx, &event).await?;
                tx.commit().await?;
                return Ok(ShareOpening::Gone(gone));
            }
            Lookup::Live(share, row) => (share, row),
        };
        let recipients = recipients_of(&row)?;
        if !recipients.is_empty() {
            if let Err(refusal) = use_code(&mut tx, id, &recipients, proof, now).await? {
                event.outcome = match refusal {
                    CodeRefusal::Missing => "unauthenticated",
                    _ => "permission_denied",
                }
                .to_owned();
                append(&mut tx, &event).await?;
                tx.commit().await?;
                return Ok(ShareOpening::Refused(refusal));
            }
        }
        let item: Vec<u8> = row
            .try_get::<Option<Vec<u8>>, _>("item")?
            .ok_or_else(|| ApiError::internal("live share without ciphertext"))?;
        let files: Option<Vec<u8>> = row.try_get("files")?;
        let views = share.views + 1;
        let last = share.max_views.is_some_and(|max| views >= max);
        sqlx::query(
            "UPDATE shares SET views = ?, \
             item = CASE WHEN ? THEN NULL ELSE item END, \
             files = CASE WHEN ? THEN NULL ELSE files END WHERE id = ?",
        )
        .bind(i64::from(views))
        .bind(last)
        .bind(last)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        append(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(ShareOpening::Opened {
            share: ItemShare { views, ..share },
            item,
            files,
        })
    }

    async fn challenge_share(
        &self,
        challenge: &ShareChallenge,
        event: &EventRecord,
    ) -> StoreResult<ChallengeOutcome> {
        let now = to_ms(challenge.now);
        let mut tx = self.writer.begin().await?;
        let mut event = event.clone();
        let lookup = live_share_in(
            &mut tx,
            &challenge.share,
            &challenge.access_hash,
            challenge.now,
            &mut event,
        )
        .await?;
        let row = match lookup {
            Lookup::NotFound => {
                append(&mut tx, &event).await?;
                tx.commit().await?;
                return Ok(ChallengeOutcome::NotFound);
            }
            Lookup::Gone(gone) => {
                append(&mut tx, &event).await?;
                tx.commit().await?;
                return Ok(ChallengeOutcome::Gone(gone));
            }
            Lookup::Live(_, row) => row,
        };
        let recipients = recipients_of(&row)?;
        if recipients.is_empty() {
            event.outcome = "invalid_input".to_owned();
            append(&mut tx, &event).await?;
            tx.commit().await?;
            return Ok(ChallengeOutcome::NotRestricted);
        }
        let longest = challenge.limits.iter().map(|l| l.0).max().unwrap_or(0);
        sqlx::query("DELETE FROM share_challenges WHERE created_at <= ?")
            .bind(now - longest * 1000)
            .execute(&mut *tx)
            .await?;
        for (window, most) in &challenge.limits {
            let since = now - window * 1000;
            let recent: Vec<i64> = sqlx::query_scalar(
                "SELECT created_at FROM share_challenges WHERE share_id = ? AND created_at > ? \
                 ORDER BY created_at",
            )
            .bind(challenge.share.as_str())
            .bind(since)
            .fetch_all(&mut *tx)
            .await?;
            if recent.len() >= *most as usize {
                // Free again when the oldest request in the window leaves it.
                let oldest = recent.first().copied().unwrap_or(now);
                let wait_ms = (oldest + window * 1000 - now).max(1000);
                event.outcome = "rate_limited".to_owned();
                append(&mut tx, &event).await?;
                tx.commit().await?;
                return Ok(ChallengeOutcome::RateLimited(
                    (wait_ms as u64).div_ceil(1000),
                ));
            }
        }
        let recipient = recipients.iter().any(|r| r.admits(&challenge.email));
        // A newer code voids the older ones of the address.
        sqlx::query(
            "UPDATE share_challenges SET attempts_left = 0 WHERE share_id = ? AND email_mac = ?",
        )
        .bind(challenge.share.as_str())
        .bind(&challenge.email_mac[..])
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO share_challenges (share_id, email_mac, code_mac, created_at, \
             expires_at, attempts_left) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(challenge.share.as_str())
        .bind(&challenge.email_mac[..])
        .bind(if recipient {
            &challenge.code_mac[..]
        } else {
            &challenge.decoy_mac[..]
        })
        .bind(now)
        .bind(to_ms(challenge.expires_at))
        .bind(i64::from(challenge.attempts))
        .execute(&mut *tx)
        .await?;
        event.outcome = if recipient { "ok" } else { "permission_denied" }.to_owned();
        append(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(ChallengeOutcome::Recorded { recipient })
    }

    async fn append_event(&self, event: &EventRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn events(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT seq, time, principal_id, action, vault_id, item_id, outcome, \
             integration_name, integration_version, prev_hash, hash FROM audit_events \
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    seq: row.try_get::<i64, _>("seq")? as u64,
                    time: from_ms(row.try_get("time")?),
                    principal_id: opt_id_of(row, "principal_id")?,
                    action: row.try_get("action")?,
                    vault_id: opt_id_of(row, "vault_id")?,
                    item_id: opt_id_of(row, "item_id")?,
                    outcome: row.try_get("outcome")?,
                    integration_name: row.try_get("integration_name")?,
                    integration_version: row.try_get("integration_version")?,
                    prev_hash: row.try_get("prev_hash")?,
                    hash: row.try_get("hash")?,
                })
            })
            .collect()
    }

    // Point 11 (issue 9): the persisted audit head and the owner's signed checkpoints.

    async fn audit_head(&self) -> StoreResult<AuditHead> {
        let mut conn = self.reader.acquire().await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?;
        let (seq, hash) = match head {
            Some(row) => (
                row.try_get::<i64, _>("seq")? as u64,
                row.try_get::<String, _>("hash")?,
            ),
            None => (0, GENESIS_HASH.to_owned()),
        };
        let checkpoint = sqlx::query(
            "SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| -> StoreResult<AuditCheckpoint> {
            Ok(AuditCheckpoint {
                seq: row.try_get::<i64, _>("seq")? as u64,
                hash: row.try_get("hash")?,
                signature: row.try_get("signature")?,
            })
        })
        .transpose()?;
        Ok(AuditHead {
            seq,
            hash,
            checkpoint,
        })
    }

    async fn add_audit_checkpoint(
        &self,
        checkpoint: &AuditCheckpoint,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let seq = i64::try_from(checkpoint.seq).unwrap_or(i64::MAX);
        let mut tx = self.writer.begin().await?;
        let matches = sqlx::query("SELECT 1 FROM audit_events WHERE seq = ? AND hash = ?")
            .bind(seq)
            .bind(&checkpoint.hash)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !matches {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, signature, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (seq) DO NOTHING",
        )
        .bind(seq)
        .bind(&checkpoint.hash)
        .bind(&checkpoint.signature)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    // Point 12 (issue 9): each signed auth assertion is accepted once.

    async fn use_auth_nonce(
        &self,
        principal: &Id,
        nonce: &str,
        expires_at: u64,
        now: u64,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        let clamp = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM auth_nonces WHERE expires_at <= ?")
            .bind(clamp(now))
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO auth_nonces (principal_id, nonce, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (principal_id, nonce) DO NOTHING",
        )
        .bind(principal.as_str())
        .bind(nonce)
        .bind(clamp(expires_at))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    // Vault rights (issue 9, points 2 to 4).

    async fn set_principal_rights(
        &self,
        id: &Id,
        rights: &ServiceAccountRights,
        event: &EventRecord,
    ) -> StoreResult<Principal> {
        let mut tx = self.writer.begin().await?;
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
        tx.commit().await?;
        Ok(principal)
    }

    async fn account_vaults(&self, member: &Id) -> StoreResult<Vec<AccountVaultRecord>> {
        let rows = sqlx::query(
            "SELECT v.id, v.created_by, v.created_at, v.updated_at, \
             (SELECT COUNT(*) FROM items i WHERE i.vault_id = v.id AND i.deleted = 0 \
              AND i.state = 'active') AS active_item_count, \
             EXISTS (SELECT 1 FROM vault_access a WHERE a.vault_id = v.id \
              AND a.principal_id = ?) AS member \
             FROM vaults v ORDER BY v.created_at, v.id",
        )
        .bind(member.as_str())
        .fetch_all(&self.reader)
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

    // Point 5 (server-floods): the session key leaves the database.
    async fn clear_session_secret(&self) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        // Overwrite the freed page content too, and checkpoint, so the old key is not left
        // in the file's free space or its WAL.
        sqlx::query("PRAGMA secure_delete = ON")
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE account SET session_secret = x''")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA secure_delete = OFF")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// A share looked up by id and access hash.
enum Lookup {
    NotFound,
    Gone(ShareGone),
    /// It can be opened: the share, and its row with `recipients`, `item` and `files`.
    Live(ItemShare, SqliteRow),
}

/// Finds the share `id` if `access_hash` matches, and whether it can still be opened at
/// `now`; a gone share loses its ciphertext. Sets `event`'s ids, and its outcome to
/// `not_found` unless the share is live.
async fn live_share_in(
    conn: &mut SqliteConnection,
    id: &Id,
    access_hash: &[u8; 32],
    now: OffsetDateTime,
    event: &mut EventRecord,
) -> StoreResult<Lookup> {
    let row = sqlx::query(&format!(
        "SELECT {SHARE_COLUMNS}, access_hash, recipients, item, files FROM shares WHERE id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    event.outcome = "not_found".to_owned();
    let Some(row) = row else {
        return Ok(Lookup::NotFound);
    };
    let share = share_of(&row)?;
    event.vault_id = Some(share.vault_id);
    event.item_id = Some(share.item_id);
    let stored_hash: Vec<u8> = row.try_get("access_hash")?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        &stored_hash[..],
        &access_hash[..],
    )) {
        return Ok(Lookup::NotFound);
    }
    let item: Option<Vec<u8>> = row.try_get("item")?;
    let gone = if share.revoked_at.is_some() {
        Some(ShareGone::Revoked)
    } else if now >= share.expires_at {
        Some(ShareGone::Expired(share.expires_at))
    } else if share.max_views.is_some_and(|max| share.views >= max) {
        Some(ShareGone::Exhausted(share.views))
    } else if item.is_none() {
        Some(ShareGone::Revoked)
    } else {
        None
    };
    if let Some(gone) = gone {
        sqlx::query("UPDATE shares SET item = NULL, files = NULL WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
        return Ok(Lookup::Gone(gone));
    }
    event.outcome = "ok".to_owned();
    Ok(Lookup::Live(share, row))
}

fn recipients_of(row: &SqliteRow) -> StoreResult<Vec<ValidRecipient>> {
    serde_json::from_str(&row.try_get::<String, _>("recipients")?)
        .map_err(|e| ApiError::internal(format_args!("stored share recipients: {e}")))
}

/// Checks `proof` against the latest code of its address and uses it up (one view per
/// code), or costs a try when it is wrong; `Err` says why the share stays closed.
async fn use_code(
    conn: &mut SqliteConnection,
    share: &Id,
    recipients: &[ValidRecipient],
    proof: Option<&CodeProof>,
    now: OffsetDateTime,
) -> StoreResult<Result<(), CodeRefusal>> {
    let Some(proof) = proof else {
        return Ok(Err(CodeRefusal::Missing));
    };
    let row = sqlx::query(
        "SELECT id, code_mac, expires_at, attempts_left FROM share_challenges \
         WHERE share_id = ? AND email_mac = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(share.as_str())
    .bind(&proof.email_mac[..])
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Err(CodeRefusal::NoneSent));
    };
    let challenge: i64 = row.try_get("id")?;
    let left: i64 = row.try_get("attempts_left")?;
    if left <= 0 {
        return Ok(Err(CodeRefusal::Used));
    }
    if to_ms(now) >= row.try_get::<i64, _>("expires_at")? {
        return Ok(Err(CodeRefusal::Expired));
    }
    let stored: Vec<u8> = row.try_get("code_mac")?;
    // A non-recipient's row holds random bytes, which no code matches; the address is
    // checked again all the same.
    let right = bool::from(subtle::ConstantTimeEq::ct_eq(
        &stored[..],
        &proof.code_mac[..],
    )) && recipients.iter().any(|r| r.admits(&proof.email));
    let left = if right { 0 } else { left - 1 };
    sqlx::query("UPDATE share_challenges SET attempts_left = ? WHERE id = ?")
        .bind(left)
        .bind(challenge)
        .execute(&mut *conn)
        .await?;
    Ok(if right {
        Ok(())
    } else {
        Err(CodeRefusal::Wrong(left.max(0) as u32))
    })
}

const SHARE_COLUMNS: &str = "id, vault_id, item_id, created_by, created_at, expires_at, \
     max_views, views, has_files, revoked_at";

fn share_of(row: &SqliteRow) -> StoreResult<ItemShare> {
    Ok(ItemShare {
        id: id_of(row, "id")?,
        vault_id: id_of(row, "vault_id")?,
        item_id: id_of(row, "item_id")?,
        created_by: id_of(row, "created_by")?,
        created_at: from_ms(row.try_get("created_at")?),
        expires_at: from_ms(row.try_get("expires_at")?),
        max_views: row
            .try_get::<Option<i64>, _>("max_views")?
            .map(|v| v as u32),
        views: row.try_get::<i64, _>("views")? as u32,
        has_files: row.try_get("has_files")?,
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
    })
}

async fn share_in(conn: &mut SqliteConnection, id: &Id) -> StoreResult<Option<ItemShare>> {
    let row = sqlx::query(&format!("SELECT {SHARE_COLUMNS} FROM shares WHERE id = ?"))
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(share_of).transpose()
}

/// Revokes the shares matching `filter` (its `?`s bound to `ids`) and drops their
/// ciphertext: a deleted item, vault or revoked creator takes its links with it.
async fn revoke_shares(conn: &mut SqliteConnection, filter: &str, ids: &[&Id]) -> StoreResult<()> {
    let sql = format!(
        "UPDATE shares SET revoked_at = COALESCE(revoked_at, ?), item = NULL, files = NULL \
         WHERE {filter}"
    );
    let mut query = sqlx::query(&sql).bind(now_ms());
    for id in ids {
        query = query.bind(id.as_str());
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

async fn insert_principal(
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
async fn attach_blobs(
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
