//! The SQLite backend: one file, WAL, `synchronous=FULL` (a commit is on disk when it
//! returns), foreign keys on, embedded migrations.
//!
//! Writes go through a single connection, so SQLite never has to arbitrate between
//! writers (no `SQLITE_BUSY` on lock upgrades) and the audit chain is appended in strict
//! order; reads use a small pool and see every committed write (WAL snapshots).
//!
//! One file per domain; the [`Store`] implementation here only hands each call to it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sesame_core::api::{
    AccountVaultRecord, AuditCheckpoint, AuditEvent, AuditHead, Ciphertext, ItemChanges,
    ItemCreateRequest, ItemRecord, ItemUpdateRequest, Principal, PrincipalKind, RateLimitSettings,
    ServiceAccountRights, VaultAccessRecord, VaultCreateRequest, VaultGrant, VaultRecord,
};
use sesame_core::crypto::WrappedVaultKey;
use sesame_core::id::Id;
use sesame_core::model::{ItemShare, ItemShareAccountPolicy};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;

use super::{
    AccountRecord, BlobKey, BlobRecord, ChallengeOutcome, CodeProof, EventRecord, NewPrincipal,
    NewShare, ShareChallenge, ShareOpening, Store, StoreResult,
};
use crate::error::{ApiError, ServerError};
use crate::store::rows::{from_ms, now_ms, state_of, to_ms};
use crate::store::GroupCommit;

mod access;
mod account;
mod audit;
mod auth_nonces;
mod files;
mod items;
mod principals;
mod rate_limits;
mod shares;
mod vaults;
mod wal_sync;

/// The embedded SQLite migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A [`Store`] in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Makes the writer's commits durable, many per `fsync`.
    wal: wal_sync::WalSync,
    /// Reads' audit events, appended many per transaction through `writer`.
    events: GroupCommit,
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
        // NORMAL: the writer's commits are made durable by `WalSync`, many per fsync
        // (see wal_sync.rs). The connection stays open for the life of the store: SQLite
        // deletes the WAL when its last connection closes, and `WalSync` holds it open.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // A file does not drop connections; a ping before each use would be one more
            // hop to the connection's thread per query.
            .test_before_acquire(false)
            .connect_with(options.clone().synchronous(SqliteSynchronous::Normal))
            .await
            .map_err(|e| ServerError::Database(format!("cannot open {}: {e}", path.display())))?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            crate::data_dir::tighten_file(Path::new(&file))?;
        }
        let wal = wal_sync::WalSync::open(path)?;
        let (group_writer, group_wal) = (writer.clone(), wal.clone());
        let events = GroupCommit::start(std::sync::Arc::new(move |events| {
            let (writer, wal) = (group_writer.clone(), group_wal.clone());
            Box::pin(async move { audit::append_group(&writer, &wal, &events).await })
        }));
        Ok(Self {
            writer,
            reader,
            wal,
            events,
        })
    }

    /// Commits a write transaction and waits until it is durable.
    async fn commit(&self, tx: sqlx::Transaction<'_, sqlx::Sqlite>) -> StoreResult<()> {
        tx.commit().await?;
        self.wal.sync().await
    }
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

async fn principal_in(conn: &mut SqliteConnection, id: &Id) -> StoreResult<Option<Principal>> {
    let row = sqlx::query(&format!(
        "SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(principal_of).transpose()
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

impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    async fn account(&self) -> StoreResult<Option<AccountRecord>> {
        account::account(self).await
    }

    async fn initialize(
        &self,
        account: &Id,
        session_secret: &[u8],
        owner: &NewPrincipal,
        event: &EventRecord,
    ) -> StoreResult<()> {
        account::initialize(self, account, session_secret, owner, event).await
    }

    async fn principal(&self, id: &Id) -> StoreResult<Option<Principal>> {
        principals::principal(self, id).await
    }

    async fn owner(&self) -> StoreResult<Principal> {
        principals::owner(self).await
    }

    async fn principals(&self) -> StoreResult<Vec<Principal>> {
        principals::principals(self).await
    }

    async fn create_principal(
        &self,
        caller: &Id,
        new: &NewPrincipal,
        grants: &[VaultGrant],
        event: &EventRecord,
    ) -> StoreResult<Principal> {
        principals::create_principal(self, caller, new, grants, event).await
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
        principals::rotate_principal(
            self,
            caller,
            id,
            new_generation,
            signing_public_key,
            encryption_public_key,
            certificate,
            grants,
            event,
        )
        .await
    }

    async fn revoke_principal(&self, id: &Id, event: &EventRecord) -> StoreResult<()> {
        principals::revoke_principal(self, id, event).await
    }

    async fn rate_limits(&self) -> StoreResult<Vec<(Id, RateLimitSettings)>> {
        rate_limits::rate_limits(self).await
    }

    async fn set_rate_limits(
        &self,
        principal: &Id,
        settings: &RateLimitSettings,
        event: &EventRecord,
    ) -> StoreResult<()> {
        rate_limits::set_rate_limits(self, principal, settings, event).await
    }

    async fn permissions(&self, vault: &Id, principal: &Id) -> StoreResult<Option<u32>> {
        access::permissions(self, vault, principal).await
    }

    async fn create_vault(
        &self,
        creator: &Id,
        request: &VaultCreateRequest,
        permissions: u32,
        event: &EventRecord,
    ) -> StoreResult<VaultRecord> {
        vaults::create_vault(self, creator, request, permissions, event).await
    }

    async fn vault(&self, vault: &Id, principal: &Id) -> StoreResult<Option<VaultRecord>> {
        vaults::vault(self, vault, principal).await
    }

    async fn vaults(&self, principal: &Id) -> StoreResult<Vec<VaultRecord>> {
        vaults::vaults(self, principal).await
    }

    async fn update_vault(
        &self,
        vault: &Id,
        principal: &Id,
        expected_attribute_version: u64,
        attributes: &Ciphertext,
        event: &EventRecord,
    ) -> StoreResult<VaultRecord> {
        vaults::update_vault(
            self,
            vault,
            principal,
            expected_attribute_version,
            attributes,
            event,
        )
        .await
    }

    async fn delete_vault(&self, vault: &Id, event: &EventRecord) -> StoreResult<()> {
        vaults::delete_vault(self, vault, event).await
    }

    async fn vault_members(&self, vault: &Id) -> StoreResult<Vec<VaultAccessRecord>> {
        access::vault_members(self, vault).await
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
        access::grant(
            self,
            vault,
            principal,
            permissions,
            granter,
            wrapped_key,
            event,
        )
        .await
    }

    async fn revoke_grant(
        &self,
        vault: &Id,
        principal: &Id,
        event: &EventRecord,
    ) -> StoreResult<()> {
        access::revoke_grant(self, vault, principal, event).await
    }

    async fn create_item(
        &self,
        vault: &Id,
        request: &ItemCreateRequest,
        event: &EventRecord,
    ) -> StoreResult<ItemRecord> {
        items::create_item(self, vault, request, event).await
    }

    async fn item(&self, vault: &Id, item: &Id) -> StoreResult<Option<ItemRecord>> {
        items::item(self, vault, item).await
    }

    async fn items(&self, vault: &Id, ids: &[Id]) -> StoreResult<Vec<Option<ItemRecord>>> {
        items::items(self, vault, ids).await
    }

    async fn put_item(
        &self,
        vault: &Id,
        item: &Id,
        request: &ItemUpdateRequest,
        may_change_state: bool,
        event: &EventRecord,
    ) -> StoreResult<ItemRecord> {
        items::put_item(self, vault, item, request, may_change_state, event).await
    }

    async fn delete_item(&self, vault: &Id, item: &Id, event: &EventRecord) -> StoreResult<()> {
        items::delete_item(self, vault, item, event).await
    }

    async fn changes_since(
        &self,
        vault: &Id,
        since: u64,
        details: bool,
    ) -> StoreResult<ItemChanges> {
        items::changes_since(self, vault, since, details).await
    }

    async fn blob(&self, file: &Id) -> StoreResult<Option<BlobRecord>> {
        files::blob(self, file).await
    }

    async fn add_blob(&self, key: &BlobKey, size: u64, event: &EventRecord) -> StoreResult<()> {
        files::add_blob(self, key, size, event).await
    }

    async fn blob_garbage(&self, uploaded_before: OffsetDateTime) -> StoreResult<Vec<BlobKey>> {
        files::blob_garbage(self, uploaded_before).await
    }

    async fn forget_blob(&self, key: &BlobKey) -> StoreResult<bool> {
        files::forget_blob(self, key).await
    }

    async fn share_policy(&self) -> StoreResult<ItemShareAccountPolicy> {
        shares::share_policy(self).await
    }

    async fn set_share_policy(
        &self,
        policy: &ItemShareAccountPolicy,
        event: &EventRecord,
    ) -> StoreResult<()> {
        shares::set_share_policy(self, policy, event).await
    }

    async fn create_share(&self, share: &NewShare, event: &EventRecord) -> StoreResult<ItemShare> {
        shares::create_share(self, share, event).await
    }

    async fn share(&self, id: &Id) -> StoreResult<Option<ItemShare>> {
        shares::share(self, id).await
    }

    async fn shares_by(&self, creator: &Id) -> StoreResult<Vec<ItemShare>> {
        shares::shares_by(self, creator).await
    }

    async fn revoke_share(&self, id: &Id, event: &EventRecord) -> StoreResult<()> {
        shares::revoke_share(self, id, event).await
    }

    async fn open_share(
        &self,
        id: &Id,
        access_hash: &[u8; 32],
        proof: Option<&CodeProof>,
        now: OffsetDateTime,
        event: &EventRecord,
    ) -> StoreResult<ShareOpening> {
        shares::open_share(self, id, access_hash, proof, now, event).await
    }

    async fn challenge_share(
        &self,
        challenge: &ShareChallenge,
        event: &EventRecord,
    ) -> StoreResult<ChallengeOutcome> {
        shares::challenge_share(self, challenge, event).await
    }

    async fn append_event(&self, event: &EventRecord) -> StoreResult<()> {
        audit::append_event(self, event).await
    }

    async fn events(&self, after: u64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        audit::events(self, after, limit).await
    }

    async fn audit_head(&self) -> StoreResult<AuditHead> {
        audit::audit_head(self).await
    }

    async fn add_audit_checkpoint(
        &self,
        checkpoint: &AuditCheckpoint,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        audit::add_audit_checkpoint(self, checkpoint, event).await
    }

    async fn use_auth_nonce(
        &self,
        principal: &Id,
        nonce: &str,
        expires_at: u64,
        now: u64,
        event: &EventRecord,
    ) -> StoreResult<bool> {
        auth_nonces::use_auth_nonce(self, principal, nonce, expires_at, now, event).await
    }

    async fn set_principal_rights(
        &self,
        id: &Id,
        rights: &ServiceAccountRights,
        event: &EventRecord,
    ) -> StoreResult<Principal> {
        principals::set_principal_rights(self, id, rights, event).await
    }

    async fn account_vaults(&self, member: &Id) -> StoreResult<Vec<AccountVaultRecord>> {
        vaults::account_vaults(self, member).await
    }

    async fn clear_session_secret(&self) -> StoreResult<()> {
        account::clear_session_secret(self).await
    }
}

impl SqliteStore {
    /// Writes an online, consistent copy of the database to the new file `to` with
    /// `VACUUM INTO` on a read connection: one read transaction (a WAL snapshot), so the
    /// server keeps reading and writing meanwhile and the copy is the database as of one
    /// commit, compacted. `to` is created first, empty and `0600` (refused if it exists),
    /// so the copy is never readable by others, not even while it is written; it is synced
    /// to disk before this returns, and a failed copy is removed.
    ///
    /// The copy holds the database only: the session key file (deliberately kept out of
    /// the database, see SECURITY.md) and the file blobs (`blobs/`) of the data directory
    /// must be backed up with it.
    ///
    /// # Errors
    ///
    /// [`ServerError::Io`] when `to` exists or cannot be created, [`ServerError::Config`]
    /// when its path is not UTF-8, [`ServerError::Database`] when the copy fails.
    pub async fn backup(&self, to: &Path) -> Result<(), ServerError> {
        let target = to.to_str().ok_or_else(|| {
            ServerError::Config(format!(
                "the backup path {} is not UTF-8, which SQLite cannot be given",
                to.display()
            ))
        })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options.open(to).map_err(|source| ServerError::Io {
            what: if source.kind() == std::io::ErrorKind::AlreadyExists {
                format!("{} already exists; refusing to overwrite it", to.display())
            } else {
                format!("cannot create the backup file {}", to.display())
            },
            source,
        })?;
        // The umask only removes bits: this makes sure, whatever it is.
        crate::data_dir::tighten_file(to)?;
        // `VACUUM INTO` accepts an existing file only when it is empty, as this one is.
        let copied = sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.reader)
            .await;
        if let Err(e) = copied {
            let _ = std::fs::remove_file(to);
            return Err(ServerError::Database(format!(
                "cannot back up the database to {}: {e}",
                to.display()
            )));
        }
        // SQLite does not sync the file `VACUUM INTO` wrote: a backup must be on disk.
        let synced = match tokio::fs::File::open(to).await {
            Ok(file) => file.sync_all().await,
            Err(e) => Err(e),
        };
        synced.map_err(|source| ServerError::Io {
            what: format!("cannot sync the backup file {} to disk", to.display()),
            source,
        })?;
        crate::data_dir::tighten_file(to)
    }
}
