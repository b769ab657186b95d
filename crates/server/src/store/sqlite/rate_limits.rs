//! Service accounts' own rate-limit budgets.

use sesame_core::api::{PrincipalKind, RateLimitSettings};
use sesame_core::id::Id;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::audit::append;
use super::{id_of, now_ms, principal_in, SqliteStore};
use crate::error::ApiError;
use crate::store::{EventRecord, StoreResult};

pub(super) async fn rate_limits(store: &SqliteStore) -> StoreResult<Vec<(Id, RateLimitSettings)>> {
    let rows = sqlx::query("SELECT principal_id, reads, writes FROM principal_rate_limits")
        .fetch_all(&store.reader)
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

pub(super) async fn set_rate_limits(
    store: &SqliteStore,
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
    let mut tx = store.writer.begin().await?;
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
    store.commit(tx).await?;
    Ok(())
}
