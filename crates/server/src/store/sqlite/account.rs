//! The account row: created once by `init`, read at every start; its session secret is
//! blanked once it has moved to its own key file.

use sesame_core::id::Id;
use sqlx::Row;
use zeroize::Zeroizing;

use super::audit::append;
use super::principals::insert_principal;
use super::{id_of, now_ms, SqliteStore};
use crate::error::ApiError;
use crate::store::{AccountRecord, EventRecord, NewPrincipal, StoreResult};

pub(super) async fn account(store: &SqliteStore) -> StoreResult<Option<AccountRecord>> {
    let row = sqlx::query("SELECT id, session_secret FROM account LIMIT 1")
        .fetch_optional(&store.reader)
        .await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some(AccountRecord {
            id: id_of(&row, "id")?,
            session_secret: Zeroizing::new(row.try_get("session_secret")?),
        })),
    }
}

pub(super) async fn initialize(
    store: &SqliteStore,
    account: &Id,
    session_secret: &[u8],
    owner: &NewPrincipal,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = store.writer.begin().await?;
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
    store.commit(tx).await?;
    Ok(())
}

// Point 5 (server-floods): the session key leaves the database.
pub(super) async fn clear_session_secret(store: &SqliteStore) -> StoreResult<()> {
    let mut conn = store.writer.acquire().await?;
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
