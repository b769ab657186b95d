//! The PostgreSQL backend: one database shared by any number of server replicas.
//!
//! Behaviour, errors and messages are those of the SQLite backend. What differs is how
//! writes are kept apart: SQLite has one writer connection, here many processes write at
//! once, so every write transaction runs at READ COMMITTED and takes explicit row locks,
//! always in the same order so that two transactions never wait for each other in a
//! cycle:
//!
//! 1. the principal row a change is about (`FOR NO KEY UPDATE`, or `FOR SHARE`);
//! 2. `vault_access` rows: the caller's grant `FOR SHARE` (`authorize`), or several rows
//!    `FOR UPDATE` in one statement ordered by `(vault_id, principal_id)`;
//! 3. the vault row (item writes bump its content version under this lock);
//! 4. item, file blob, share and challenge rows;
//! 5. last, just before commit, the audit head (`audit_head` row `FOR UPDATE`): every
//!    append serializes on it, so seqs are gapless and commit in order, and the
//!    serialized section is as short as the end of a transaction.
//!
//! Sweeps of expired rows that any transaction may run (shares, challenges, nonces) skip
//! rows other transactions hold (`SKIP LOCKED`) instead of waiting for them.
//!
//! Reads that must see one snapshot (a sync's content version and rows) use a
//! `REPEATABLE READ READ ONLY` transaction, which never fails to serialize.
//!
//! One file per domain; the [`Store`] implementation here only hands each call to it.

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
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, Row, Transaction};
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

/// The embedded PostgreSQL migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per server process: enough for concurrent requests, small enough that
/// several replicas stay under PostgreSQL's default `max_connections` (100).
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a free connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `connect` keeps retrying a database that is not up yet (a server started
/// beside its database, as in a compose file).
const STARTUP_PATIENCE: Duration = Duration::from_secs(30);

/// The first and the longest pause between two connection attempts.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(2);

/// A session left idle inside a transaction (a replica that froze mid-write) is ended by
/// PostgreSQL after this long, so its locks, the audit head's above all, cannot stall
/// every other replica. No transaction of ours idles for more than milliseconds.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";

/// A [`Store`] in a PostgreSQL database, safe to share between server replicas.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Reads' audit events, group-committed through `pool`.
    events: GroupCommit,
}

/// Connects to the PostgreSQL database at `url` and, when `migrate`, applies pending
/// migrations; otherwise checks that every migration is applied.
///
/// A database that does not answer yet (starting up, not yet reachable) is retried with
/// a growing pause for up to 30 seconds. Neither logs nor errors show the URL, which may
/// hold a password: they name the host, port and database.
///
/// # Errors
///
/// [`ServerError::Config`] for a URL that is not a PostgreSQL URL;
/// [`ServerError::Database`] when the database cannot be reached in time, refuses the
/// connection, cannot be migrated, or (without `migrate`) lacks migrations.
pub async fn connect(url: &str, migrate: bool) -> Result<PgStore, ServerError> {
    open(url, migrate, STARTUP_PATIENCE).await
}

/// [`connect`], retrying for at most `patience`.
async fn open(url: &str, migrate: bool, patience: Duration) -> Result<PgStore, ServerError> {
    // sqlx parses any scheme as PostgreSQL's.
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        return Err(ServerError::Config(
            "the PostgreSQL database URL must start with postgres:// or postgresql://".into(),
        ));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| ServerError::Config(format!("the PostgreSQL database URL is invalid: {e}")))?
        .options([(
            "idle_in_transaction_session_timeout",
            IDLE_IN_TRANSACTION_TIMEOUT,
        )]);
    let target = describe(&options);
    let pool = connect_with_retry(&options, &target, patience).await?;
    let ready = if migrate {
        MIGRATOR.run(&pool).await.map_err(ServerError::from)
    } else {
        check_schema(&pool).await
    };
    if let Err(err) = ready {
        pool.close().await;
        return Err(err);
    }
    let group_pool = pool.clone();
    let events = GroupCommit::start(std::sync::Arc::new(move |events| {
        let pool = group_pool.clone();
        Box::pin(async move {
            audit::append_group(&pool, &events).await?;
            // A PostgreSQL commit is durable when it returns.
            let durable: crate::store::group_commit::Durable = Box::pin(async { Ok(()) });
            Ok(durable)
        })
    }));
    Ok(PgStore { pool, events })
}

/// Where `options` point, for logs and errors: host (or socket directory), port and
/// database, never the password.
fn describe(options: &PgConnectOptions) -> String {
    let database = options
        .get_database()
        .unwrap_or_else(|| options.get_username());
    match options.get_socket() {
        Some(socket) => format!(
            "PostgreSQL database {database:?} at socket directory {}",
            socket.display()
        ),
        None => format!(
            "PostgreSQL database {database:?} at {}:{}",
            options.get_host(),
            options.get_port()
        ),
    }
}

/// Connects once to `options`, retrying a database that may come up with a growing
/// pause for at most `patience`, then makes the pool.
///
/// The probe is a single connection rather than the pool's first one: the pool retries
/// a refused connection by itself until its acquire timeout and then reports only that
/// it timed out, losing the cause this reports (and the pacing and logs of the retries).
async fn connect_with_retry(
    options: &PgConnectOptions,
    target: &str,
    patience: Duration,
) -> Result<PgPool, ServerError> {
    let started = tokio::time::Instant::now();
    let mut pause = FIRST_RETRY;
    let mut attempt = 1u32;
    loop {
        let probe = tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(options));
        let (retry, why) = match probe.await {
            Ok(Ok(conn)) => {
                // Closing is a courtesy to the server; the pool connects anew.
                let _ = conn.close().await;
                return Ok(PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    // No ping before each use: it doubled every query's round trips. A
                    // connection the database dropped fails its next query (a 5xx the
                    // client retries) and is discarded.
                    .test_before_acquire(false)
                    .connect_lazy_with(options.clone()));
            }
            // sqlx's errors name neither the URL nor the password.
            Ok(Err(err)) => (may_come_up(&err), err.to_string()),
            Err(_) => (
                true,
                format!("no answer within {} s", ACQUIRE_TIMEOUT.as_secs()),
            ),
        };
        if !retry || started.elapsed() + pause > patience {
            return Err(ServerError::Database(format!(
                "cannot connect to {target} (attempt {attempt}, after {} s): {why}",
                started.elapsed().as_secs()
            )));
        }
        tracing::warn!(
            database = %target,
            attempt,
            retry_in_ms = pause.as_millis() as u64,
            error = %why,
            "the database is not reachable yet; retrying"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_RETRY);
        attempt += 1;
    }
}

/// Whether a failed connection may succeed later without anyone changing the
/// configuration: the server is down or starting, out of connection slots, or its
/// database is not created yet. A refused password or a TLS failure is not retried.
fn may_come_up(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57: operator intervention (57P03: the database
            // system is starting up); 53: insufficient resources (too many
            // connections); 3D000: the database does not exist (yet).
            code.starts_with("08")
                || code.starts_with("57")
                || code.starts_with("53")
                || code == "3D000"
        }),
        _ => false,
    }
}

/// Fails unless every migration of [`MIGRATOR`] is recorded as applied: a server that may
/// not change the schema must not run on an older one.
async fn check_schema(pool: &PgPool) -> Result<(), ServerError> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    let applied: Vec<i64> = if table.is_some() {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let wanted: Vec<i64> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    let present = wanted.iter().filter(|v| applied.contains(v)).count();
    if present < wanted.len() {
        return Err(ServerError::Database(format!(
            "the database schema is not current ({present} of {} migrations applied): run \
             `sesame server migrate --database-url …` with a role that may change the schema",
            wanted.len()
        )));
    }
    Ok(())
}

/// A write transaction at READ COMMITTED (whatever the database's default), which the
/// explicit row locks of each write make correct across replicas.
async fn begin(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    Ok(pool
        .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
        .await?)
}

/// A read-only transaction on one snapshot, for reads of several statements that must
/// agree (a sync's content version and its rows).
async fn snapshot(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    Ok(pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?)
}

/// Whether `err` is a unique violation: a concurrent transaction of another replica
/// inserted the same key first (and committed).
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// `conflict` with `message` for a unique violation, the usual mapping otherwise.
fn conflict_on_unique(err: sqlx::Error, message: impl FnOnce() -> String) -> ApiError {
    if is_unique_violation(&err) {
        ApiError::conflict(message())
    } else {
        err.into()
    }
}

fn id_of(row: &PgRow, column: &str) -> StoreResult<Id> {
    let text: String = row.try_get(column)?;
    Id::from_str(&text)
        .map_err(|_| ApiError::internal(format_args!("stored {column} is not an id")))
}

fn opt_id_of(row: &PgRow, column: &str) -> StoreResult<Option<Id>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        Id::from_str(&t)
            .map_err(|_| ApiError::internal(format_args!("stored {column} is not an id")))
    })
    .transpose()
}

const PRINCIPAL_COLUMNS: &str = "id, name, kind, signing_public_key, encryption_public_key, \
     key_generation, created_at, expires_at, revoked_at, certificate, can_create_vaults";

fn principal_of(row: &PgRow) -> StoreResult<Principal> {
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

async fn principal_in(conn: &mut PgConnection, id: &Id) -> StoreResult<Option<Principal>> {
    let row = sqlx::query(&format!(
        "SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(principal_of).transpose()
}

/// The principal, its row locked until commit against every other change of it (key
/// rotation, revocation, rights, limits, grants to it). `FOR NO KEY UPDATE` leaves the
/// foreign-key checks of rows that reference it free to proceed.
async fn principal_locked(conn: &mut PgConnection, id: &Id) -> StoreResult<Option<Principal>> {
    let row = sqlx::query(&format!(
        "SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE id = $1 FOR NO KEY UPDATE"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(principal_of).transpose()
}

const ITEM_COLUMNS: &str =
    "id, vault_id, version, state, content_version, overview, created_at, updated_at";

fn item_of(row: &PgRow, with_details: bool) -> StoreResult<ItemRecord> {
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

/// How [`item_in`] locks the row it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// Not at all (a plain read).
    None,
    /// Against changes and deletion (a share is being made of it).
    Share,
    /// Against everything (it is being written).
    Update,
}

impl Lock {
    fn clause(self) -> &'static str {
        match self {
            Lock::None => "",
            Lock::Share => " FOR SHARE",
            Lock::Update => " FOR UPDATE",
        }
    }
}

async fn item_in(
    conn: &mut PgConnection,
    vault: &Id,
    item: &Id,
    lock: Lock,
) -> StoreResult<Option<ItemRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS}, details FROM items WHERE vault_id = $1 AND id = $2 \
         AND deleted = 0{}",
        lock.clause()
    ))
    .bind(vault.as_str())
    .bind(item.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(|r| item_of(r, true)).transpose()
}

impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
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

    async fn add_rate_usage(
        &self,
        window: u64,
        window_seconds: u64,
        counts: &[(Id, u64, u64)],
    ) -> StoreResult<Option<Vec<(u64, u64)>>> {
        rate_limits::add_rate_usage(self, window, window_seconds, counts).await
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

#[cfg(test)]
mod tests;
