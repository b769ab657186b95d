//! Item sharing: the account share policy, share links, and the public side of a link
//! (the page that decrypts it in the browser, and the endpoint that serves its
//! ciphertext once per view).
//!
//! The server enforces the policy, expiry, view limits and revocation; it never holds a
//! link's secret, so it cannot read what is shared (see `sesame_core::crypto`, "Share
//! links").

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sesame_core::api::{Ciphertext, ShareCreateRequest, ShareOpenRequest, ShareOpenResponse};
use sesame_core::model::permissions::{READ_ITEMS, SEND_ITEMS};
use sesame_core::model::{AllowedType, ItemShare, ItemShareAccountPolicy, ItemShareDuration};
use time::format_description::well_known::Rfc3339;

use super::{no_content, parse_id, require, ApiJson, AppState, Caller};
use crate::error::ApiError;
use crate::store::{EventRecord, NewShare, ShareGone, ShareOpening, Store};

/// The largest sealed item snapshot: far above any real item, far below the body limit.
const MAX_ITEM_CIPHERTEXT: usize = 256 * 1024;
/// Nonce and tag: the smallest possible sealed snapshot.
const MIN_CIPHERTEXT: usize = 12 + 16;

/// `GET /v1/share-policy`.
pub(super) async fn policy<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<ItemShareAccountPolicy>, ApiError> {
    let policy = app.store.share_policy().await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(policy))
}

/// `PUT /v1/share-policy` (owner).
pub(super) async fn set_policy<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(policy): ApiJson<ItemShareAccountPolicy>,
) -> Result<Json<ItemShareAccountPolicy>, ApiError> {
    caller.require_owner("set the share policy")?;
    check_policy(&policy, app.config.max_body_bytes)?;
    app.store.set_share_policy(&policy, &caller.event()).await?;
    Ok(Json(policy))
}

/// The largest `files.maxSize` a request body of `max_body_bytes` can carry: base64 grows
/// it by a third, and the item snapshot needs its room.
fn largest_files_size(max_body_bytes: usize) -> u64 {
    ((max_body_bytes / 4 * 3).saturating_sub(MAX_ITEM_CIPHERTEXT + 4096)) as u64
}

fn check_policy(policy: &ItemShareAccountPolicy, max_body_bytes: usize) -> Result<(), ApiError> {
    for (what, effective) in [("", policy.clone()), ("files.", policy.effective(true))] {
        if effective.allowed_types.is_empty() {
            return Err(ApiError::invalid(format!(
                "{what}allowedTypes is empty, which would forbid every share; list \"Public\""
            )));
        }
        if effective
            .allowed_types
            .contains(&AllowedType::Authenticated)
        {
            return Err(ApiError::invalid(format!(
                "{what}allowedTypes lists \"Authenticated\", but this server cannot restrict a \
                 link to recipients: they have no way to prove their address yet, so the \
                 restriction would not be enforced; allow only \"Public\""
            )));
        }
        if effective.default_expiry > effective.max_expiry {
            return Err(ApiError::invalid(format!(
                "{what}defaultExpiry ({:?}) is longer than {what}maxExpiry ({:?})",
                effective.default_expiry, effective.max_expiry
            )));
        }
        if effective.max_views == Some(0) {
            return Err(ApiError::invalid(format!(
                "{what}maxViews is 0, which would make every link unusable; give at least 1, \
                 or null for unlimited"
            )));
        }
    }
    let largest = largest_files_size(max_body_bytes);
    if policy.files.allowed && !(1..=largest).contains(&policy.files.max_size) {
        return Err(ApiError::invalid(format!(
            "files.maxSize is {} bytes; with files allowed it must be 1 to {largest} (a share \
             travels in one request of at most max_body_bytes = {max_body_bytes}; raise that \
             server setting to allow more)",
            policy.files.max_size
        )));
    }
    Ok(())
}

/// What `request` may be under `policy`: its view limit, or why it is refused.
fn check_share(
    policy: &ItemShareAccountPolicy,
    request: &ShareCreateRequest,
) -> Result<Option<u32>, ApiError> {
    if let Some(files) = &request.files {
        if !policy.files.allowed {
            return Err(ApiError::invalid(
                "the account's share policy does not allow sharing files (files.allowed is \
                 false): share the item without its files, or ask the owner to allow them",
            ));
        }
        if files.0.len() as u64 > policy.files.max_size {
            return Err(ApiError::invalid(format!(
                "the share's files are {} bytes encrypted; the share policy allows at most {} \
                 (files.maxSize)",
                files.0.len(),
                policy.files.max_size
            )));
        }
    }
    let effective = policy.effective(request.files.is_some());
    if !request.recipients.is_empty() {
        return Err(ApiError::invalid(
            "recipient-restricted shares are not supported by this server: recipients have no \
             way to prove their address yet, so the restriction would not be enforced; create \
             a link without recipients (anyone holding it can open it)",
        ));
    }
    if !effective.allowed_types.contains(&AllowedType::Public) {
        return Err(ApiError::invalid(
            "the account's share policy does not allow public links (allowedTypes)",
        ));
    }
    if request.expire_after > effective.max_expiry {
        return Err(ApiError::invalid(format!(
            "expireAfter is {:?}, longer than the share policy allows ({:?}); choose one of {}",
            request.expire_after,
            effective.max_expiry,
            ItemShareDuration::ALL
                .iter()
                .filter(|d| **d <= effective.max_expiry)
                .map(|d| format!("{d:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let size = request.item.0.len();
    if !(MIN_CIPHERTEXT..=MAX_ITEM_CIPHERTEXT).contains(&size) {
        return Err(ApiError::invalid(format!(
            "item is {size} bytes; a sealed snapshot is {MIN_CIPHERTEXT} to \
             {MAX_ITEM_CIPHERTEXT} bytes"
        )));
    }
    if request
        .files
        .as_ref()
        .is_some_and(|f| f.0.len() < MIN_CIPHERTEXT)
    {
        return Err(ApiError::invalid(
            "files is shorter than a nonce and tag; leave it out when sharing no files",
        ));
    }
    Ok(if request.one_time_only {
        Some(1)
    } else {
        effective.max_views
    })
}

fn decode_32(what: &str, text: &str) -> Result<[u8; 32], ApiError> {
    URL_SAFE_NO_PAD
        .decode(text.as_bytes())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| ApiError::invalid(format!("{what} must be 32 bytes as unpadded base64url")))
}

/// `POST /v1/vaults/{v}/items/{i}/shares`.
pub(super) async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<ShareCreateRequest>,
) -> Result<Json<ItemShare>, ApiError> {
    let (vault, item) = (caller.vault()?, caller.item()?);
    require(&app, &caller, &vault, READ_ITEMS | SEND_ITEMS).await?;
    let access_hash = decode_32("accessHash", &request.access_hash)?;
    let policy = app.store.share_policy().await?;
    let max_views = check_share(&policy, &request)?;
    let created_at = app.clock.now();
    let expires_at = created_at + time::Duration::seconds(request.expire_after.seconds() as i64);
    let share = NewShare {
        id: request.id,
        vault,
        item,
        created_by: *caller.id(),
        access_hash,
        created_at,
        expires_at,
        max_views,
        recipients: request.recipients,
        item_ciphertext: request.item.0,
        files_ciphertext: request.files.map(|f| f.0),
    };
    Ok(Json(app.store.create_share(&share, &caller.event()).await?))
}

/// `GET /v1/shares`: the caller's own.
pub(super) async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Vec<ItemShare>>, ApiError> {
    let shares = app.store.shares_by(caller.id()).await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(shares))
}

/// `DELETE /v1/shares/{s}`: its creator, or the owner.
pub(super) async fn revoke<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let id = caller.share()?;
    let share = app.store.share(&id).await?;
    // Someone else's share answers as a missing one: ids of others' links stay unknown.
    let Some(share) = share.filter(|s| {
        s.created_by == *caller.id()
            || caller.principal.kind == sesame_core::api::PrincipalKind::Owner
    }) else {
        return Err(ApiError::not_found(format!(
            "share {id} not found among the shares this principal created"
        )));
    };
    let mut event = caller.event();
    event.vault_id = Some(share.vault_id);
    event.item_id = Some(share.item_id);
    app.store.revoke_share(&id, &event).await?;
    Ok(no_content())
}

/// `POST /v1/shares/{s}/open`: public; the access token is the credential.
pub(super) async fn open<S: Store>(
    State(app): State<AppState<S>>,
    Path(share): Path<String>,
    ApiJson(request): ApiJson<ShareOpenRequest>,
) -> Result<Response, ApiError> {
    let id = parse_id(&share, "share id")?;
    let token = decode_32("access", &request.access)?;
    let hash = sesame_core::crypto::access_hash(&token);
    let event = EventRecord {
        principal_id: None,
        action: "share.open".to_owned(),
        vault_id: None,
        item_id: None,
        outcome: "ok".to_owned(),
        integration_name: "share link".to_owned(),
        integration_version: String::new(),
    };
    let opening = app
        .store
        .open_share(&id, &hash, app.clock.now(), &event)
        .await?;
    let response = match opening {
        ShareOpening::NotFound => {
            return Err(ApiError::not_found(
                "no share matches this link: it does not exist, or the part after # is wrong \
                 or incomplete",
            ))
        }
        ShareOpening::Gone(gone) => {
            let message = match gone {
                ShareGone::Revoked => {
                    "this share was revoked by its sender, or the item it shared was deleted; \
                     ask the sender for a new link"
                        .to_owned()
                }
                ShareGone::Expired(at) => format!(
                    "this share expired at {}; ask the sender for a new link",
                    at.format(&Rfc3339).unwrap_or_default()
                ),
                ShareGone::Exhausted(views) => format!(
                    "this share was already viewed the most times it allows ({views}); ask \
                     the sender for a new link"
                ),
            };
            return Err(ApiError::not_found(message).with_status(410));
        }
        ShareOpening::Opened { share, item, files } => Json(ShareOpenResponse {
            item: Ciphertext(item),
            files: files.map(Ciphertext),
            expires_at: share.expires_at.unix_timestamp().max(0) as u64,
            views_left: share.max_views.map(|max| max.saturating_sub(share.views)),
        })
        .into_response(),
    };
    Ok(no_store(response))
}

/// Headers of everything under `/s/`: nothing from elsewhere may run, nothing is cached,
/// and the link never leaves in a `Referer`.
const PAGE_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
];

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    for (name, value) in PAGE_HEADERS {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// `GET /s/{s}`: the share page. The id is read by the page's script, so any path
/// segment gets the same page (a malformed one shows the page's "not found").
pub(super) async fn page(Path(_share): Path<String>) -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../share_page/share.html"),
    )
}

/// `GET /s/assets/share.js`.
pub(super) async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../share_page/share.js"),
    )
}

/// `GET /s/assets/share.css`.
pub(super) async fn style() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../share_page/share.css"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn policies_that_cannot_work_are_refused() {
        let ok = ItemShareAccountPolicy::default();
        assert!(check_policy(&ok, 4 << 20).is_ok());
        let mut p = ok.clone();
        p.allowed_types.push(AllowedType::Authenticated);
        assert!(check_policy(&p, 4 << 20)
            .unwrap_err()
            .message()
            .contains("cannot restrict"));
        let mut p = ok.clone();
        p.default_expiry = ItemShareDuration::ThirtyDays;
        p.max_expiry = ItemShareDuration::OneDay;
        assert!(check_policy(&p, 4 << 20).is_err());
        let mut p = ok.clone();
        p.files.max_views = Some(0);
        assert!(check_policy(&p, 4 << 20)
            .unwrap_err()
            .message()
            .starts_with("files.maxViews"));
        let mut p = ok;
        p.files.allowed = true;
        p.files.max_size = 100 << 20;
        assert!(check_policy(&p, 4 << 20)
            .unwrap_err()
            .message()
            .contains("max_body_bytes"));
    }
}
