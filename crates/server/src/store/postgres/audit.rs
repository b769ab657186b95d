//! The audit trail: the hash chain appended at the end of every write's transaction, its
//! persisted head and the owner's signed checkpoints.

use sesame_core::api::{AuditCheckpoint, AuditEvent, AuditHead};
use sesame_core::audit::{event_hash, GENESIS_HASH};
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::Row;

use super::{begin, from_ms, now_ms, opt_id_of, PgStore};
use crate::store::{EventRecord, StoreResult};

/// Appends `event` to the chain inside the caller's transaction; see [`append_all`].
pub(super) async fn append(conn: &mut PgConnection, event: &EventRecord) -> StoreResult<()> {
    append_all(conn, std::slice::from_ref(event)).await
}

/// Appends `events`, with consecutive seqs, to the chain inside the caller's transaction.
///
/// The head row is locked until the transaction ends: appends of every replica take
/// their seqs one transaction after another, and commit in seq order. Callers append
/// last, so the lock is held only for the end of their transaction.
///
/// The events chain from the persisted head, not from the newest stored row: when the
/// newest events were deleted, the new ones leave a gap that verification reports
/// instead of silently continuing the shortened chain.
pub(super) async fn append_all(conn: &mut PgConnection, events: &[EventRecord]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev_hash) = lock_head(conn).await?;
    let count = events.len();
    let mut seqs = Vec::with_capacity(count);
    let mut times = Vec::with_capacity(count);
    let mut principals = Vec::with_capacity(count);
    let mut actions = Vec::with_capacity(count);
    let mut vaults = Vec::with_capacity(count);
    let mut items = Vec::with_capacity(count);
    let mut outcomes = Vec::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    let mut versions = Vec::with_capacity(count);
    let mut prev_hashes = Vec::with_capacity(count);
    let mut hashes = Vec::with_capacity(count);
    for event in events {
        seq += 1;
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
        prev_hash = full.hash.clone();
        seqs.push(seq as i64);
        times.push(time);
        principals.push(full.principal_id.as_ref().map(|id| id.as_str().to_owned()));
        actions.push(full.action);
        vaults.push(full.vault_id.as_ref().map(|id| id.as_str().to_owned()));
        items.push(full.item_id.as_ref().map(|id| id.as_str().to_owned()));
        outcomes.push(full.outcome);
        names.push(full.integration_name);
        versions.push(full.integration_version);
        prev_hashes.push(full.prev_hash);
        hashes.push(full.hash);
    }
    // One statement for the whole group: the head stays locked for one round trip.
    sqlx::query(
        "INSERT INTO audit_events (seq, time, principal_id, action, vault_id, item_id, \
         outcome, integration_name, integration_version, prev_hash, hash) \
         SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], \
         $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[])",
    )
    .bind(&seqs)
    .bind(&times)
    .bind(&principals)
    .bind(&actions)
    .bind(&vaults)
    .bind(&items)
    .bind(&outcomes)
    .bind(&names)
    .bind(&versions)
    .bind(&prev_hashes)
    .bind(&hashes)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq as i64)
        .bind(&prev_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Locks the head row and returns its seq and hash. The migration creates the row; were
/// it missing (its table truncated by hand), it is recreated at the genesis as SQLite
/// treats a missing head, `ON CONFLICT DO NOTHING` so that concurrent first appends
/// all end up locking the one row.
async fn lock_head(conn: &mut PgConnection) -> StoreResult<(u64, String)> {
    for _ in 0..2 {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = head {
            return Ok((
                row.try_get::<i64, _>("seq")? as u64,
                row.try_get::<String, _>("hash")?,
            ));
        }
        sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(GENESIS_HASH)
        .execute(&mut *conn)
        .await?;
    }
    Err(crate::error::ApiError::internal(
        "the audit head row cannot be created",
    ))
}

pub(super) async fn append_event(store: &PgStore, event: &EventRecord) -> StoreResult<()> {
    if event.requires == 0 {
        return store.events.append(event.clone()).await;
    }
    let mut tx = begin(&store.pool).await?;
    append(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends a group of events in one transaction: one durable commit for all of them.
pub(super) async fn append_group(pool: &PgPool, events: &[EventRecord]) -> StoreResult<()> {
    let mut tx = begin(pool).await?;
    append_all(&mut tx, events).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn events(
    store: &PgStore,
    after: u64,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    let rows = sqlx::query(
        "SELECT seq, time, principal_id, action, vault_id, item_id, outcome, \
         integration_name, integration_version, prev_hash, hash FROM audit_events \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after.min(i64::MAX as u64) as i64)
    .bind(i64::from(limit))
    .fetch_all(&store.pool)
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

pub(super) async fn audit_head(store: &PgStore) -> StoreResult<AuditHead> {
    let mut conn = store.pool.acquire().await?;
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
    store: &PgStore,
    checkpoint: &AuditCheckpoint,
    event: &EventRecord,
) -> StoreResult<bool> {
    let seq = i64::try_from(checkpoint.seq).unwrap_or(i64::MAX);
    let mut tx = begin(&store.pool).await?;
    // Stored events never change (the trail is append-only), so no lock is needed to
    // rely on this one.
    let matches = sqlx::query("SELECT 1 FROM audit_events WHERE seq = $1 AND hash = $2")
        .bind(seq)
        .bind(&checkpoint.hash)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if !matches {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, signature, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING",
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
