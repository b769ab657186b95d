//! The nonces of accepted auth assertions, so that each assertion is accepted once.

use sesame_core::id::Id;

use super::audit::append;
use super::{begin, PgStore};
use crate::store::{EventRecord, StoreResult};

pub(super) async fn use_auth_nonce(
    store: &PgStore,
    principal: &Id,
    nonce: &str,
    expires_at: u64,
    now: u64,
    event: &EventRecord,
) -> StoreResult<bool> {
    let clamp = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
    let mut tx = begin(&store.pool).await?;
    // The primary key decides between replicas: a concurrent insert of the same nonce
    // makes this one wait for it, then do nothing. A row that expired but is not pruned
    // yet counts as pruned (SQLite prunes before inserting).
    let inserted = sqlx::query(
        "INSERT INTO auth_nonces (principal_id, nonce, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (principal_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at \
         WHERE auth_nonces.expires_at <= $4",
    )
    .bind(principal.as_str())
    .bind(nonce)
    .bind(clamp(expires_at))
    .bind(clamp(now))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        return Ok(false);
    }
    // Prune expired nonces after the insert, skipping those another transaction holds
    // (another replica pruning them too): pruning never makes two logins wait for each
    // other.
    sqlx::query(
        "DELETE FROM auth_nonces WHERE (principal_id, nonce) IN (SELECT principal_id, nonce \
         FROM auth_nonces WHERE expires_at <= $1 AND NOT (principal_id = $2 AND nonce = $3) \
         FOR UPDATE SKIP LOCKED)",
    )
    .bind(clamp(now))
    .bind(principal.as_str())
    .bind(nonce)
    .execute(&mut *tx)
    .await?;
    append(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}
