//! The account row: created once by `init`, read at every start; its session secret is
//! blanked once it has moved to its own key file.

use sesame_core::id::Id;
use sqlx::Row;
use zeroize::Zeroizing;

use super::audit::append;
use super::principals::insert_principal;
use super::{begin, conflict_on_unique, id_of, now_ms, PgStore};
use crate::error::ApiError;
use crate::store::{AccountRecord, EventRecord, NewPrincipal, StoreResult};

const ALREADY: &str = "the server already has an account";

pub(super) async fn account(store: &PgStore) -> StoreResult<Option<AccountRecord>> {
    let row = sqlx::query("SELECT id, session_secret FROM account LIMIT 1")
        .fetch_optional(&store.pool)
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
    store: &PgStore,
    account: &Id,
    session_secret: &[u8],
    owner: &NewPrincipal,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = begin(&store.pool).await?;
    let existing = sqlx::query("SELECT id FROM account LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    if existing.is_some() {
        return Err(ApiError::conflict(ALREADY));
    }
    let now = now_ms();
    // Two initializations racing (from two replicas) both find no account; the
    // one-account index makes the second insert fail once the first commits.
    sqlx::query("INSERT INTO account (id, session_secret, created_at) VALUES ($1, $2, $3)")
        .bind(account.as_str())
        .bind(session_secret)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, || ALREADY.to_owned()))?;
    insert_principal(&mut tx, account, owner, now).await?;
    append(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

// Point 5 (server-floods): the session key leaves the database.
pub(super) async fn clear_session_secret(store: &PgStore) -> StoreResult<()> {
    sqlx::query("UPDATE account SET session_secret = ''::BYTEA")
        .execute(&store.pool)
        .await?;
    // PostgreSQL keeps the old row version until a vacuum frees it; ask for one now
    // rather than at autovacuum's leisure. Best effort: a role that does not own the
    // table is told to skip it (a notice, not an error), and any failure leaves the
    // secret where autovacuum will free it.
    if let Err(err) = sqlx::query("VACUUM account").execute(&store.pool).await {
        tracing::debug!(%err, "VACUUM account after clearing the session secret failed");
    }
    Ok(())
}
