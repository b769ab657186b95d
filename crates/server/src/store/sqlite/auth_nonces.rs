//! The nonces of accepted auth assertions, so that each assertion is accepted once.

use sesame_core::id::Id;

use super::audit::append;
use super::SqliteStore;
use crate::store::{EventRecord, StoreResult};

pub(super) async fn use_auth_nonce(
    store: &SqliteStore,
    principal: &Id,
    nonce: &str,
    expires_at: u64,
    now: u64,
    event: &EventRecord,
) -> StoreResult<bool> {
    let clamp = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
    let mut tx = store.writer.begin().await?;
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
    store.commit(tx).await?;
    Ok(true)
}
