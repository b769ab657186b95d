//! The audit trail: the hash chain appended inside every write's transaction, its
//! persisted head and the owner's signed checkpoints.

use sesame_core::api::{AuditCheckpoint, AuditEvent, AuditHead};
use sesame_core::audit::{event_hash, GENESIS_HASH};
use sesame_core::id::Id;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Row, SqlitePool};

use super::{from_ms, now_ms, opt_id_of, SqliteStore};
use crate::store::{EventRecord, StoreResult};

/// Appends `event` to the chain inside the caller's transaction; see [`append_all`].
pub(super) async fn append(conn: &mut SqliteConnection, event: &EventRecord) -> StoreResult<()> {
    append_all(conn, std::slice::from_ref(event)).await
}

/// Appends `events`, with consecutive seqs, to the chain inside the caller's transaction:
/// one read of the head, one multi-row insert and one head update, whatever the number
/// of events (each statement is a round trip to the connection's thread).
///
/// The events chain from the persisted head, not from the newest stored row: when the
/// newest events were deleted, the new ones leave a gap that verification reports
/// instead of silently continuing the shortened chain.
pub(super) async fn append_all(
    conn: &mut SqliteConnection,
    events: &[EventRecord],
) -> StoreResult<()> {
    let Some(last) = events.len().checked_sub(1) else {
        return Ok(());
    };
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (mut seq, mut prev_hash) = match head {
        Some(row) => (
            row.try_get::<i64, _>("seq")? as u64,
            row.try_get::<String, _>("hash")?,
        ),
        None => (0, GENESIS_HASH.to_owned()),
    };
    let time = now_ms();
    let mut chained = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
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
        prev_hash = full.hash.clone();
        chained.push(full);
    }
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO audit_events (seq, time, principal_id, action, vault_id, item_id, outcome, \
         integration_name, integration_version, prev_hash, hash) ",
    );
    insert.push_values(&chained, |mut row, full| {
        row.push_bind(full.seq as i64)
            .push_bind(time)
            .push_bind(full.principal_id.as_ref().map(Id::as_str))
            .push_bind(&full.action)
            .push_bind(full.vault_id.as_ref().map(Id::as_str))
            .push_bind(full.item_id.as_ref().map(Id::as_str))
            .push_bind(&full.outcome)
            .push_bind(&full.integration_name)
            .push_bind(&full.integration_version)
            .push_bind(&full.prev_hash)
            .push_bind(&full.hash);
    });
    insert.build().execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(chained[last].seq as i64)
    .bind(&chained[last].hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn append_event(store: &SqliteStore, event: &EventRecord) -> StoreResult<()> {
    if event.requires == 0 {
        return store.events.append(event.clone()).await;
    }
    let mut tx = store.writer.begin().await?;
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(())
}

/// Appends a group of events in one transaction; the returned future waits until the
/// commit is durable (see `GroupCommit`).
pub(super) async fn append_group(
    writer: &SqlitePool,
    wal: &super::wal_sync::WalSync,
    events: &[EventRecord],
) -> StoreResult<crate::store::group_commit::Durable> {
    let mut tx = writer.begin().await?;
    append_all(&mut tx, events).await?;
    tx.commit().await?;
    let wal = wal.clone();
    Ok(Box::pin(async move { wal.sync().await }))
}

pub(super) async fn events(
    store: &SqliteStore,
    after: u64,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    let rows = sqlx::query(
        "SELECT seq, time, principal_id, action, vault_id, item_id, outcome, \
         integration_name, integration_version, prev_hash, hash FROM audit_events \
         WHERE seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(after.min(i64::MAX as u64) as i64)
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
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

pub(super) async fn audit_head(store: &SqliteStore) -> StoreResult<AuditHead> {
    let mut conn = store.reader.acquire().await?;
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
    let checkpoint =
        sqlx::query("SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
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

pub(super) async fn add_audit_checkpoint(
    store: &SqliteStore,
    checkpoint: &AuditCheckpoint,
    event: &EventRecord,
) -> StoreResult<bool> {
    let seq = i64::try_from(checkpoint.seq).unwrap_or(i64::MAX);
    let mut tx = store.writer.begin().await?;
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
    store.commit(tx).await?;
    Ok(true)
}
