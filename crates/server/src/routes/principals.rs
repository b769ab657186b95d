//! `POST /v1/auth` and the principals: the owner and service accounts.

use std::collections::HashSet;

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use sesame_core::api::{
    AuthRequest, AuthResponse, KeyRotationRequest, Principal, PrincipalKind, PrincipalRateLimit,
    RateLimitSettings, ServiceAccountCreateRequest, ServiceAccountRights, VaultGrant,
    MAX_INTEGRATION_NAME_LEN, MAX_INTEGRATION_VERSION_LEN, MAX_RATE_LIMIT,
};
use time::OffsetDateTime;

use super::{no_content, ApiJson, AppState, Caller};
use crate::auth::{check_assertion, for_audit, unix_now, Claims};
use crate::error::ApiError;
use crate::store::{EventRecord, NewPrincipal, Store};
use crate::trust::{check_certificate, check_grant};
use crate::wire;
use sesame_core::id::Id;

/// `POST /v1/auth`: a signed assertion for a session. Success and failure are audited.
pub(super) async fn authenticate<S: Store>(
    State(app): State<AppState<S>>,
    axum::Extension(source): axum::Extension<crate::rate_limit::Source>,
    ApiJson(request): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, ApiError> {
    let now = unix_now();
    let principal = if request.account_id == app.account {
        app.store.principal(&request.principal_id).await?
    } else {
        None
    };
    let event = EventRecord {
        principal_id: principal.as_ref().map(|p| p.id),
        action: "auth".to_owned(),
        vault_id: None,
        item_id: None,
        outcome: "ok".to_owned(),
        integration_name: for_audit(&request.integration_name, MAX_INTEGRATION_NAME_LEN),
        integration_version: for_audit(&request.integration_version, MAX_INTEGRATION_VERSION_LEN),
        requires: 0,
    };
    let result = check_assertion(&app.account, &request, principal.as_ref(), now);
    let (Some(principal), Ok(())) = (principal, &result) else {
        let err = result
            .err()
            .unwrap_or_else(|| ApiError::internal("authentication without a principal"));
        // Counted per source and minute, not one audit row each (point 6).
        app.failures.record(source, false, now);
        return Err(err);
    };
    let mut expires_at = now + app.config.session_ttl_seconds;
    if let Some(end) = principal.expires_at {
        expires_at = expires_at.min(u64::try_from(end.unix_timestamp()).unwrap_or(0));
    }
    let session = app.sessions.issue(&Claims {
        p: principal.id,
        a: app.account,
        g: principal.key_generation,
        exp: expires_at,
        n: request.integration_name,
        v: request.integration_version,
    })?;
    let owner = app.store.owner().await?;
    // The assertion stays acceptable while its timestamp is within the skew window, so
    // its nonce is remembered until then; the audit event is in the same transaction, so
    // an answer that failed to be stored leaves the nonce unused for a retry.
    let acceptable_until = request
        .timestamp
        .saturating_add(sesame_core::api::AUTH_CLOCK_SKEW_SECONDS + 1);
    if !app
        .store
        .use_auth_nonce(&principal.id, &request.nonce, acceptable_until, now, &event)
        .await?
    {
        let err = ApiError::unauthenticated(
            "this signed assertion was already used: every POST /v1/auth needs a fresh nonce \
             and signature (Sesame clients make one per request); a replayed request is refused",
        );
        // A replay is a failed authentication: counted per source and minute (point 6).
        app.failures.record(source, false, now);
        return Err(err);
    }
    tracing::info!(principal = %principal.id, "authenticated");
    Ok(Json(AuthResponse {
        session,
        expires_at,
        principal,
        owner,
        server_time: now,
        max_file_size: Some(app.config.max_file_bytes),
    }))
}

/// `GET /v1/principals/me`.
pub(super) async fn me<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Principal>, ApiError> {
    app.store.append_event(&caller.event()).await?;
    Ok(Json(caller.principal))
}

/// `GET /v1/principals` (owner).
pub(super) async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Vec<Principal>>, ApiError> {
    caller.require_owner("list principals")?;
    let principals = app.store.principals().await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(principals))
}

/// `GET /v1/principals/{id}`: public keys, to grant vaults to it.
pub(super) async fn get<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Principal>, ApiError> {
    let id = caller.subject()?;
    let principal = app
        .store
        .principal(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("principal {id} not found")))?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(principal))
}

fn check_public_key(what: &str, value: &str) -> Result<(), ApiError> {
    wire::decode::<32>(what, value).map(drop)
}

/// Checks the grants of a new or rotated principal: permissions, no repeats, and the
/// caller's signature of each wrapped key for `grantee` at `generation`.
fn check_grants(
    account: &Id,
    caller: &Principal,
    grantee: &Id,
    generation: u32,
    grants: &[VaultGrant],
) -> Result<(), ApiError> {
    let mut seen = HashSet::new();
    for (index, grant) in grants.iter().enumerate() {
        check_grant(
            &format!("grants[{index}].signature"),
            account,
            &grant.vault_id,
            grantee,
            generation,
            caller,
            &grant.wrapped_key,
            &grant.signature,
        )?;
        if grant.permissions == 0 {
            return Err(ApiError::invalid(format!(
                "grants[{index}].permissions is 0: grant at least one permission or leave the \
                 vault out"
            )));
        }
        sesame_core::model::permissions::check_grantable(grant.permissions)
            .map_err(|e| ApiError::invalid(format!("grants[{index}]: {e}")))?;
        if !seen.insert(grant.vault_id) {
            return Err(ApiError::invalid(format!(
                "grants[{index}] names vault {} a second time",
                grant.vault_id
            )));
        }
    }
    Ok(())
}

/// `POST /v1/principals` (owner): a new service account.
pub(super) async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<ServiceAccountCreateRequest>,
) -> Result<Json<Principal>, ApiError> {
    caller.require_owner("create service accounts")?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name must be 1 to 128 characters without control characters",
        ));
    }
    check_public_key("signingPublicKey", &request.signing_public_key)?;
    check_public_key("encryptionPublicKey", &request.encryption_public_key)?;
    if request
        .expires_at
        .is_some_and(|t| t <= OffsetDateTime::now_utc())
    {
        return Err(ApiError::invalid("expiresAt is in the past"));
    }
    check_certificate(
        &app.account,
        &caller.principal,
        &request.id,
        1,
        &request.signing_public_key,
        &request.encryption_public_key,
        &request.certificate,
    )?;
    check_grants(
        &app.account,
        &caller.principal,
        &request.id,
        1,
        &request.grants,
    )?;
    let new = NewPrincipal {
        id: request.id,
        name: name.to_owned(),
        kind: PrincipalKind::ServiceAccount,
        signing_public_key: request.signing_public_key,
        encryption_public_key: request.encryption_public_key,
        expires_at: request.expires_at,
        certificate: request.certificate,
        can_create_vaults: request.can_create_vaults,
    };
    let principal = app
        .store
        .create_principal(caller.id(), &new, &request.grants, &caller.event())
        .await?;
    Ok(Json(principal))
}

/// `POST /v1/principals/{id}/rotate` (owner): new keys, sessions of the old ones end.
pub(super) async fn rotate<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<KeyRotationRequest>,
) -> Result<Json<Principal>, ApiError> {
    caller.require_owner("rotate tokens")?;
    let id = caller.subject()?;
    check_public_key("signingPublicKey", &request.signing_public_key)?;
    check_public_key("encryptionPublicKey", &request.encryption_public_key)?;
    let current = app
        .store
        .principal(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("principal {id} not found")))?;
    if current.kind == PrincipalKind::Owner {
        return Err(ApiError::invalid(format!(
            "principal {id} is the account owner, whose key is the account id and cannot be \
             rotated"
        )));
    }
    let generation = current
        .key_generation
        .checked_add(1)
        .ok_or_else(|| ApiError::conflict(format!("principal {id} cannot be rotated again")))?;
    // The owner certifies the keys at the generation the rotation creates.
    check_certificate(
        &app.account,
        &caller.principal,
        &id,
        generation,
        &request.signing_public_key,
        &request.encryption_public_key,
        &request.certificate,
    )?;
    check_grants(
        &app.account,
        &caller.principal,
        &id,
        generation,
        &request.grants,
    )?;
    let principal = app
        .store
        .rotate_principal(
            caller.id(),
            &id,
            generation,
            &request.signing_public_key,
            &request.encryption_public_key,
            &request.certificate,
            &request.grants,
            &caller.event(),
        )
        .await?;
    Ok(Json(principal))
}

/// `DELETE /v1/principals/{id}` (owner): revokes; every session ends at once.
pub(super) async fn revoke<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_owner("revoke tokens")?;
    let id = caller.subject()?;
    app.store.revoke_principal(&id, &caller.event()).await?;
    Ok(no_content())
}

/// `GET /v1/principals/{id}/rate-limit` (owner): its own budgets and the effective ones.
pub(super) async fn rate_limit<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<PrincipalRateLimit>, ApiError> {
    caller.require_owner("read rate limits")?;
    let id = caller.subject()?;
    if app.store.principal(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("principal {id} not found")));
    }
    // The limiter's copy is what requests are counted against.
    let limits = app.limiter.describe(&id);
    app.store.append_event(&caller.event()).await?;
    Ok(Json(limits))
}

/// Each budget, if given, is 1 to [`MAX_RATE_LIMIT`].
fn check_budgets(settings: &RateLimitSettings) -> Result<(), ApiError> {
    for (name, value) in [("reads", settings.reads), ("writes", settings.writes)] {
        match value {
            Some(0) => {
                return Err(ApiError::invalid(format!(
                    "{name} is 0: a budget must be at least 1 request per window (null restores \
                     the server default; to stop a service account, revoke it)"
                )))
            }
            Some(n) if n > MAX_RATE_LIMIT => {
                return Err(ApiError::invalid(format!(
                    "{name} is {n}: a budget may be at most {MAX_RATE_LIMIT} requests per window"
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// `PUT /v1/principals/{id}/rate-limit` (owner): sets or (with both `null`) removes a
/// service account's own budgets; they apply from the next request on.
pub(super) async fn set_rate_limit<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(settings): ApiJson<RateLimitSettings>,
) -> Result<Json<PrincipalRateLimit>, ApiError> {
    caller.require_owner("set rate limits")?;
    let id = caller.subject()?;
    check_budgets(&settings)?;
    let _ordered = app.limiter.lock_updates().await;
    app.store
        .set_rate_limits(&id, &settings, &caller.event())
        .await?;
    app.limiter.set_override(id, settings);
    tracing::info!(principal = %id, reads = ?settings.reads, writes = ?settings.writes, "rate limits set");
    Ok(Json(app.limiter.describe(&id)))
}

/// `PUT /v1/principals/{id}/rights` (owner): what a service account may do beyond its
/// vault grants (today: create vaults). Applies from its next request on.
pub(super) async fn set_rights<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(rights): ApiJson<ServiceAccountRights>,
) -> Result<Json<Principal>, ApiError> {
    caller.require_owner("set the rights of service accounts")?;
    let id = caller.subject()?;
    let principal = app
        .store
        .set_principal_rights(&id, &rights, &caller.event())
        .await?;
    tracing::info!(principal = %id, can_create_vaults = rights.can_create_vaults, "rights set");
    Ok(Json(principal))
}
