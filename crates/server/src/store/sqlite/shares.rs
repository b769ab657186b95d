//! Share links: the account's share policy, sealed snapshots, views and the one-time
//! codes of recipients.

use sesame_core::id::Id;
use sesame_core::model::{ItemShare, ItemShareAccountPolicy, ValidRecipient};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row;
use time::OffsetDateTime;

use super::access::authorize;
use super::audit::append;
use super::{from_ms, id_of, item_in, now_ms, to_ms, SqliteStore};
use crate::error::ApiError;
use crate::store::{
    ChallengeOutcome, CodeProof, CodeRefusal, EventRecord, NewShare, ShareChallenge, ShareGone,
    ShareOpening, StoreResult,
};

pub(super) async fn share_policy(store: &SqliteStore) -> StoreResult<ItemShareAccountPolicy> {
    let row = sqlx::query("SELECT policy FROM share_policy WHERE id = 1")
        .fetch_optional(&store.reader)
        .await?;
    match row {
        None => Ok(ItemShareAccountPolicy::default()),
        Some(row) => serde_json::from_str(&row.try_get::<String, _>("policy")?)
            .map_err(|e| ApiError::internal(format_args!("stored share policy: {e}"))),
    }
}

pub(super) async fn set_share_policy(
    store: &SqliteStore,
    policy: &ItemShareAccountPolicy,
    event: &EventRecord,
) -> StoreResult<()> {
    let json = serde_json::to_string(policy).map_err(ApiError::internal)?;
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    sqlx::query(
        "INSERT INTO share_policy (id, policy) VALUES (1, ?) \
         ON CONFLICT (id) DO UPDATE SET policy = excluded.policy",
    )
    .bind(json)
    .execute(&mut *tx)
    .await?;
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(())
}

pub(super) async fn create_share(
    store: &SqliteStore,
    share: &NewShare,
    event: &EventRecord,
) -> StoreResult<ItemShare> {
    let recipients = serde_json::to_string(&share.recipients).map_err(ApiError::internal)?;
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    if item_in(&mut tx, &share.vault, &share.item).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "item {} not found in vault {}",
            share.item, share.vault
        )));
    }
    sqlx::query(
        "UPDATE shares SET item = NULL, files = NULL WHERE item IS NOT NULL AND expires_at <= ?",
    )
    .bind(to_ms(share.created_at))
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO shares (id, vault_id, item_id, created_by, access_hash, created_at, \
         expires_at, max_views, views, recipients, has_files, item, files) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(share.id.as_str())
    .bind(share.vault.as_str())
    .bind(share.item.as_str())
    .bind(share.created_by.as_str())
    .bind(&share.access_hash[..])
    .bind(to_ms(share.created_at))
    .bind(to_ms(share.expires_at))
    .bind(share.max_views.map(i64::from))
    .bind(recipients)
    .bind(share.files_ciphertext.is_some())
    .bind(&share.item_ciphertext)
    .bind(share.files_ciphertext.as_deref())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Err(ApiError::conflict(format!(
            "share id {} is taken; create the share again with a fresh id",
            share.id
        )));
    }
    append(&mut tx, event).await?;
    let stored = share_in(&mut tx, &share.id)
        .await?
        .ok_or_else(|| ApiError::internal("created share vanished"))?;
    store.commit(tx).await?;
    Ok(stored)
}

pub(super) async fn share(store: &SqliteStore, id: &Id) -> StoreResult<Option<ItemShare>> {
    let mut conn = store.reader.acquire().await?;
    share_in(&mut conn, id).await
}

pub(super) async fn shares_by(store: &SqliteStore, creator: &Id) -> StoreResult<Vec<ItemShare>> {
    let rows = sqlx::query(&format!(
        "SELECT {SHARE_COLUMNS} FROM shares WHERE created_by = ? ORDER BY created_at DESC, id"
    ))
    .bind(creator.as_str())
    .fetch_all(&store.reader)
    .await?;
    rows.iter().map(share_of).collect()
}

pub(super) async fn revoke_share(
    store: &SqliteStore,
    id: &Id,
    event: &EventRecord,
) -> StoreResult<()> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    revoke_shares(&mut tx, "id = ?", &[id]).await?;
    append(&mut tx, event).await?;
    store.commit(tx).await?;
    Ok(())
}

pub(super) async fn open_share(
    store: &SqliteStore,
    id: &Id,
    access_hash: &[u8; 32],
    proof: Option<&CodeProof>,
    now: OffsetDateTime,
    event: &EventRecord,
) -> StoreResult<ShareOpening> {
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let mut event = event.clone();
    let (share, row) = match live_share_in(&mut tx, id, access_hash, now, &mut event).await? {
        Lookup::NotFound => {
            append(&mut tx, &event).await?;
            store.commit(tx).await?;
            return Ok(ShareOpening::NotFound);
        }
        Lookup::Gone(gone) => {
            append(&mut tx, &event).await?;
            store.commit(tx).await?;
            return Ok(ShareOpening::Gone(gone));
        }
        Lookup::Live(share, row) => (share, row),
    };
    let recipients = recipients_of(&row)?;
    if !recipients.is_empty() {
        if let Err(refusal) = use_code(&mut tx, id, &recipients, proof, now).await? {
            event.outcome = match refusal {
                CodeRefusal::Missing => "unauthenticated",
                _ => "permission_denied",
            }
            .to_owned();
            append(&mut tx, &event).await?;
            store.commit(tx).await?;
            return Ok(ShareOpening::Refused(refusal));
        }
    }
    let item: Vec<u8> = row
        .try_get::<Option<Vec<u8>>, _>("item")?
        .ok_or_else(|| ApiError::internal("live share without ciphertext"))?;
    let files: Option<Vec<u8>> = row.try_get("files")?;
    let views = share.views + 1;
    let last = share.max_views.is_some_and(|max| views >= max);
    sqlx::query(
        "UPDATE shares SET views = ?, \
         item = CASE WHEN ? THEN NULL ELSE item END, \
         files = CASE WHEN ? THEN NULL ELSE files END WHERE id = ?",
    )
    .bind(i64::from(views))
    .bind(last)
    .bind(last)
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    append(&mut tx, &event).await?;
    store.commit(tx).await?;
    Ok(ShareOpening::Opened {
        share: ItemShare { views, ..share },
        item,
        files,
    })
}

pub(super) async fn challenge_share(
    store: &SqliteStore,
    challenge: &ShareChallenge,
    event: &EventRecord,
) -> StoreResult<ChallengeOutcome> {
    let now = to_ms(challenge.now);
    let mut tx = store.writer.begin().await?;
    authorize(&mut tx, event).await?;
    let mut event = event.clone();
    let lookup = live_share_in(
        &mut tx,
        &challenge.share,
        &challenge.access_hash,
        challenge.now,
        &mut event,
    )
    .await?;
    let row = match lookup {
        Lookup::NotFound => {
            append(&mut tx, &event).await?;
            store.commit(tx).await?;
            return Ok(ChallengeOutcome::NotFound);
        }
        Lookup::Gone(gone) => {
            append(&mut tx, &event).await?;
            store.commit(tx).await?;
            return Ok(ChallengeOutcome::Gone(gone));
        }
        Lookup::Live(_, row) => row,
    };
    let recipients = recipients_of(&row)?;
    if recipients.is_empty() {
        event.outcome = "invalid_input".to_owned();
        append(&mut tx, &event).await?;
        store.commit(tx).await?;
        return Ok(ChallengeOutcome::NotRestricted);
    }
    let longest = challenge.limits.iter().map(|l| l.0).max().unwrap_or(0);
    sqlx::query("DELETE FROM share_challenges WHERE created_at <= ?")
        .bind(now - longest * 1000)
        .execute(&mut *tx)
        .await?;
    for (window, most) in &challenge.limits {
        let since = now - window * 1000;
        let recent: Vec<i64> = sqlx::query_scalar(
            "SELECT created_at FROM share_challenges WHERE share_id = ? AND created_at > ? \
             ORDER BY created_at",
        )
        .bind(challenge.share.as_str())
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        if recent.len() >= *most as usize {
            // Free again when the oldest request in the window leaves it.
            let oldest = recent.first().copied().unwrap_or(now);
            let wait_ms = (oldest + window * 1000 - now).max(1000);
            event.outcome = "rate_limited".to_owned();
            append(&mut tx, &event).await?;
            store.commit(tx).await?;
            return Ok(ChallengeOutcome::RateLimited(
                (wait_ms as u64).div_ceil(1000),
            ));
        }
    }
    let recipient = recipients.iter().any(|r| r.admits(&challenge.email));
    // A newer code voids the older ones of the address.
    sqlx::query(
        "UPDATE share_challenges SET attempts_left = 0 WHERE share_id = ? AND email_mac = ?",
    )
    .bind(challenge.share.as_str())
    .bind(&challenge.email_mac[..])
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO share_challenges (share_id, email_mac, code_mac, created_at, \
         expires_at, attempts_left) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(challenge.share.as_str())
    .bind(&challenge.email_mac[..])
    .bind(if recipient {
        &challenge.code_mac[..]
    } else {
        &challenge.decoy_mac[..]
    })
    .bind(now)
    .bind(to_ms(challenge.expires_at))
    .bind(i64::from(challenge.attempts))
    .execute(&mut *tx)
    .await?;
    event.outcome = if recipient { "ok" } else { "permission_denied" }.to_owned();
    append(&mut tx, &event).await?;
    store.commit(tx).await?;
    Ok(ChallengeOutcome::Recorded { recipient })
}

/// A share looked up by id and access hash.
enum Lookup {
    NotFound,
    Gone(ShareGone),
    /// It can be opened: the share, and its row with `recipients`, `item` and `files`.
    Live(ItemShare, SqliteRow),
}

/// Finds the share `id` if `access_hash` matches, and whether it can still be opened at
/// `now`; a gone share loses its ciphertext. Sets `event`'s ids, and its outcome to
/// `not_found` unless the share is live.
async fn live_share_in(
    conn: &mut SqliteConnection,
    id: &Id,
    access_hash: &[u8; 32],
    now: OffsetDateTime,
    event: &mut EventRecord,
) -> StoreResult<Lookup> {
    let row = sqlx::query(&format!(
        "SELECT {SHARE_COLUMNS}, access_hash, recipients, item, files FROM shares WHERE id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    event.outcome = "not_found".to_owned();
    let Some(row) = row else {
        return Ok(Lookup::NotFound);
    };
    let share = share_of(&row)?;
    event.vault_id = Some(share.vault_id);
    event.item_id = Some(share.item_id);
    let stored_hash: Vec<u8> = row.try_get("access_hash")?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        &stored_hash[..],
        &access_hash[..],
    )) {
        return Ok(Lookup::NotFound);
    }
    let item: Option<Vec<u8>> = row.try_get("item")?;
    let gone = if share.revoked_at.is_some() {
        Some(ShareGone::Revoked)
    } else if now >= share.expires_at {
        Some(ShareGone::Expired(share.expires_at))
    } else if share.max_views.is_some_and(|max| share.views >= max) {
        Some(ShareGone::Exhausted(share.views))
    } else if item.is_none() {
        Some(ShareGone::Revoked)
    } else {
        None
    };
    if let Some(gone) = gone {
        sqlx::query("UPDATE shares SET item = NULL, files = NULL WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
        return Ok(Lookup::Gone(gone));
    }
    event.outcome = "ok".to_owned();
    Ok(Lookup::Live(share, row))
}

fn recipients_of(row: &SqliteRow) -> StoreResult<Vec<ValidRecipient>> {
    serde_json::from_str(&row.try_get::<String, _>("recipients")?)
        .map_err(|e| ApiError::internal(format_args!("stored share recipients: {e}")))
}

/// Checks `proof` against the latest code of its address and uses it up (one view per
/// code), or costs a try when it is wrong; `Err` says why the share stays closed.
async fn use_code(
    conn: &mut SqliteConnection,
    share: &Id,
    recipients: &[ValidRecipient],
    proof: Option<&CodeProof>,
    now: OffsetDateTime,
) -> StoreResult<Result<(), CodeRefusal>> {
    let Some(proof) = proof else {
        return Ok(Err(CodeRefusal::Missing));
    };
    let row = sqlx::query(
        "SELECT id, code_mac, expires_at, attempts_left FROM share_challenges \
         WHERE share_id = ? AND email_mac = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(share.as_str())
    .bind(&proof.email_mac[..])
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Err(CodeRefusal::NoneSent));
    };
    let challenge: i64 = row.try_get("id")?;
    let left: i64 = row.try_get("attempts_left")?;
    if left <= 0 {
        return Ok(Err(CodeRefusal::Used));
    }
    if to_ms(now) >= row.try_get::<i64, _>("expires_at")? {
        return Ok(Err(CodeRefusal::Expired));
    }
    let stored: Vec<u8> = row.try_get("code_mac")?;
    // A non-recipient's row holds random bytes, which no code matches; the address is
    // checked again all the same.
    let right = bool::from(subtle::ConstantTimeEq::ct_eq(
        &stored[..],
        &proof.code_mac[..],
    )) && recipients.iter().any(|r| r.admits(&proof.email));
    let left = if right { 0 } else { left - 1 };
    sqlx::query("UPDATE share_challenges SET attempts_left = ? WHERE id = ?")
        .bind(left)
        .bind(challenge)
        .execute(&mut *conn)
        .await?;
    Ok(if right {
        Ok(())
    } else {
        Err(CodeRefusal::Wrong(left.max(0) as u32))
    })
}

const SHARE_COLUMNS: &str = "id, vault_id, item_id, created_by, created_at, expires_at, \
     max_views, views, has_files, revoked_at";

fn share_of(row: &SqliteRow) -> StoreResult<ItemShare> {
    Ok(ItemShare {
        id: id_of(row, "id")?,
        vault_id: id_of(row, "vault_id")?,
        item_id: id_of(row, "item_id")?,
        created_by: id_of(row, "created_by")?,
        created_at: from_ms(row.try_get("created_at")?),
        expires_at: from_ms(row.try_get("expires_at")?),
        max_views: row
            .try_get::<Option<i64>, _>("max_views")?
            .map(|v| v as u32),
        views: row.try_get::<i64, _>("views")? as u32,
        has_files: row.try_get("has_files")?,
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
    })
}

async fn share_in(conn: &mut SqliteConnection, id: &Id) -> StoreResult<Option<ItemShare>> {
    let row = sqlx::query(&format!("SELECT {SHARE_COLUMNS} FROM shares WHERE id = ?"))
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(share_of).transpose()
}

/// Revokes the shares matching `filter` (its `?`s bound to `ids`) and drops their
/// ciphertext: a deleted item, vault or revoked creator takes its links with it.
pub(super) async fn revoke_shares(
    conn: &mut SqliteConnection,
    filter: &str,
    ids: &[&Id],
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE shares SET revoked_at = COALESCE(revoked_at, ?), item = NULL, files = NULL \
         WHERE {filter}"
    );
    let mut query = sqlx::query(&sql).bind(now_ms());
    for id in ids {
        query = query.bind(id.as_str());
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
