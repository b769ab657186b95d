//! `GET /v1/events`: the audit trail, for the owner; its persisted head and the owner's
//! signed checkpoints.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use sesame_core::api::{AuditCheckpoint, AuditHead, EventsPage};
use sesame_core::audit::hash_bytes;
use sesame_core::crypto::{audit_checkpoint_message, verify_signature};

use super::{ApiJson, ApiQuery, AppState, Caller};
use crate::error::ApiError;
use crate::store::Store;
use crate::wire;

/// Most events in one page.
const MAX_LIMIT: u32 = 1000;

/// The query of `GET /v1/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsQuery {
    #[serde(default)]
    after: u64,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    100
}

/// `GET /v1/events?after=N&limit=M` (owner). The page is read before this request's own
/// event is appended, so a page never contains the request that fetched it.
pub(super) async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    caller.require_owner("read the audit trail")?;
    if query.limit == 0 || query.limit > MAX_LIMIT {
        return Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {}",
            query.limit
        )));
    }
    let events = app.store.events(query.after, query.limit).await?;
    app.store.append_event(&caller.event()).await?;
    let next_cursor = if events.len() == query.limit as usize {
        events.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(EventsPage {
        events,
        next_cursor,
    }))
}

/// `GET /v1/events/head` (owner): the persisted head and the newest signed checkpoint.
pub(super) async fn head<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<AuditHead>, ApiError> {
    caller.require_owner("read the audit trail")?;
    let head = app.store.audit_head().await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(head))
}

/// `POST /v1/events/checkpoints` (owner): stores the owner's signature over the trail's
/// head at an event. The signature is checked here as well as by every client that reads
/// it, so a broken client cannot store a checkpoint that would later look like tampering.
pub(super) async fn checkpoint<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(checkpoint): ApiJson<AuditCheckpoint>,
) -> Result<Json<AuditCheckpoint>, ApiError> {
    caller.require_owner("sign audit checkpoints")?;
    let hash = hash_bytes(&checkpoint.hash).ok_or_else(|| {
        ApiError::invalid("hash must be an event's hash: 64 lowercase hex digits")
    })?;
    let signature = wire::decode::<64>("signature", &checkpoint.signature)?;
    let key = wire::decode::<32>(
        "the stored signing key",
        &caller.principal.signing_public_key,
    )
    .map_err(ApiError::internal)?;
    let message = audit_checkpoint_message(&app.account, checkpoint.seq, &hash);
    if verify_signature(&key, &message, &signature).is_err() {
        return Err(ApiError::invalid(format!(
            "the checkpoint signature does not verify with the owner key over \
             \"sesame/v1/audit-checkpoint\" || account || seq || hash for event {}",
            checkpoint.seq
        )));
    }
    if !app
        .store
        .add_audit_checkpoint(&checkpoint, &caller.event())
        .await?
    {
        return Err(ApiError::invalid(format!(
            "event {} of the audit trail does not exist or has another hash: sign the hash of \
             an event read from GET /v1/events",
            checkpoint.seq
        )));
    }
    Ok(Json(checkpoint))
}
