//! Service accounts' own rate-limit budgets.

use sesame_core::api::{PrincipalKind, RateLimitSettings};
use sesame_core::id::Id;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::audit::append;
use super::{begin, id_of, now_ms, principal_locked, PgStore};
use crate::error::ApiError;
use crate::store::{EventRecord, StoreResult};

pub(super) async fn rate_limits(store: &PgStore) -> StoreResult<Vec<(Id, RateLimitSettings)>> {
    let rows = sqlx::query("SELECT principal_id, reads, writes FROM principal_rate_limits")
        .fetch_all(&store.pool)
        .await?;
    let budget = |row: &PgRow, column: &str| -> StoreResult<Option<u64>> {
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

pub(super) async fn set_rate_limits(
    store: &PgStore,
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
    let mut tx = begin(&store.pool).await?;
    // Locked: a revocation of the principal cannot pass between the check and the write.
    match principal_locked(&mut tx, principal).await? {
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
        sqlx::query("DELETE FROM principal_rate_limits WHERE principal_id = $1")
            .bind(principal.as_str())
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO principal_rate_limits (principal_id, reads, writes, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (principal_id) DO UPDATE SET \
             reads = EXCLUDED.reads, writes = EXCLUDED.writes, updated_at = EXCLUDED.updated_at",
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

/// Adds one replica's counts to the shared ones and returns the totals (see
/// [`Store::add_rate_usage`](crate::store::Store::add_rate_usage)).
pub(super) async fn add_rate_usage(
    store: &PgStore,
    window: u64,
    window_seconds: u64,
    counts: &[(Id, u64, u64)],
) -> StoreResult<Option<Vec<(u64, u64)>>> {
    if counts.is_empty() {
        return Ok(Some(Vec::new()));
    }
    // Rows in id order, so that two replicas adding to the same principals lock them in
    // the same order (no deadlock).
    let mut sorted: Vec<_> = counts.iter().collect();
    sorted.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let ids: Vec<&str> = sorted.iter().map(|c| c.0.as_str()).collect();
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let reads: Vec<i64> = sorted.iter().map(|c| clamp(c.1)).collect();
    let writes: Vec<i64> = sorted.iter().map(|c| clamp(c.2)).collect();
    let rows = sqlx::query(
        "INSERT INTO rate_usage (principal_id, window_seconds, window_number, reads, writes) \
         SELECT id, $2, $3, r, w FROM UNNEST($1::TEXT[], $4::BIGINT[], $5::BIGINT[]) AS c(id, r, w) \
         ON CONFLICT (principal_id, window_seconds, window_number) DO UPDATE \
         SET reads = rate_usage.reads + excluded.reads, \
             writes = rate_usage.writes + excluded.writes \
         RETURNING principal_id, reads, writes",
    )
    .bind(&ids)
    .bind(clamp(window_seconds))
    .bind(clamp(window))
    .bind(&reads)
    .bind(&writes)
    .fetch_all(&store.pool)
    .await?;
    let mut totals = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let reads: i64 = row.try_get("reads")?;
        let writes: i64 = row.try_get("writes")?;
        totals.insert(
            id_of(row, "principal_id")?,
            (reads.max(0) as u64, writes.max(0) as u64),
        );
    }
    // Windows that ended are of no use (the table holds a row per active principal and
    // window, so this stays a small scan).
    sqlx::query("DELETE FROM rate_usage WHERE window_seconds = $1 AND window_number < $2")
        .bind(clamp(window_seconds))
        .bind(clamp(window))
        .execute(&store.pool)
        .await?;
    Ok(Some(
        counts
            .iter()
            .map(|(id, _, _)| totals.get(id).copied().unwrap_or_default())
            .collect(),
    ))
}
