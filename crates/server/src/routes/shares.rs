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
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sesame_core::api::{
    Ciphertext, ShareChallengeRequest, ShareChallengeResponse, ShareCreateRequest,
    ShareOpenRequest, ShareOpenResponse,
};
use sesame_core::id::Id;
use sesame_core::model::permissions::{READ_ITEMS, SEND_ITEMS};
use sesame_core::model::{
    AllowedRecipientType, AllowedType, ItemShare, ItemShareAccountPolicy, ItemShareDuration,
    ValidRecipient,
};
use sesame_core::ErrorCode;
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::{no_content, parse_id, record_failure, require, ApiJson, AppState, Caller};
use crate::error::ApiError;
use crate::store::{
    ChallengeOutcome, CodeProof, CodeRefusal, EventRecord, NewShare, ShareChallenge, ShareGone,
    ShareOpening, Store,
};
use crate::wire;

/// The largest sealed item snapshot: far above any real item, far below the body limit.
const MAX_ITEM_CIPHERTEXT: usize = 256 * 1024;
/// Nonce and tag: the smallest possible sealed snapshot.
const MIN_CIPHERTEXT: usize = 12 + 16;
/// The most recipients one share may name.
const MAX_RECIPIENTS: usize = 100;
/// How long a mailed code works, in seconds.
const CODE_TTL_SECONDS: u64 = 600;
/// Wrong tries before a code is void.
const CODE_ATTEMPTS: u32 = 5;
/// Digits of a code.
const CODE_DIGITS: u32 = 6;
/// Code requests per share: at most `.1` in any `.0` seconds. With 5 tries per code, a
/// holder of the link who is not a recipient has at most 25 guesses (of a million) per
/// 10 minutes and 100 per day.
const CHALLENGE_LIMITS: [(i64, u32); 2] = [(600, 5), (86_400, 20)];

/// The key of the MACs that stand for addresses and codes in the database: derived from
/// the account's secret, so a copy of `share_challenges` alone cannot be brute-forced.
pub(crate) struct CodeKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey([redacted])")
    }
}

impl CodeKey {
    /// `HMAC-SHA256(account_secret, "sesame/v1/share-code-key")`.
    pub(crate) fn derive(account_secret: &[u8]) -> Result<Self, crate::error::ServerError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(account_secret)
            .map_err(|e| crate::error::ServerError::Config(format!("account secret: {e}")))?;
        mac.update(b"sesame/v1/share-code-key");
        Ok(Self(Zeroizing::new(mac.finalize().into_bytes().into())))
    }

    /// HMAC of length-prefixed parts (so no two part lists collide).
    fn mac(&self, parts: &[&[u8]]) -> Result<[u8; 32], ApiError> {
        // HMAC takes a key of any length, so this does not fail.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref()).map_err(ApiError::internal)?;
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        Ok(mac.finalize().into_bytes().into())
    }

    fn email_mac(&self, share: &Id, email: &str) -> Result<[u8; 32], ApiError> {
        self.mac(&[b"email", share.as_str().as_bytes(), email.as_bytes()])
    }

    fn code_mac(&self, share: &Id, email: &str, code: &str) -> Result<[u8; 32], ApiError> {
        self.mac(&[
            b"code",
            share.as_str().as_bytes(),
            email.as_bytes(),
            code.as_bytes(),
        ])
    }
}

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
    check_policy(&policy, app.config.max_body_bytes, app.mailer.is_some())?;
    app.store.set_share_policy(&policy, &caller.event()).await?;
    Ok(Json(policy))
}

/// The largest `files.maxSize` a request body of `max_body_bytes` can carry: base64 grows
/// it by a third, and the item snapshot needs its room.
fn largest_files_size(max_body_bytes: usize) -> u64 {
    ((max_body_bytes / 4 * 3).saturating_sub(MAX_ITEM_CIPHERTEXT + 4096)) as u64
}

fn check_policy(
    policy: &ItemShareAccountPolicy,
    max_body_bytes: usize,
    smtp: bool,
) -> Result<(), ApiError> {
    for (what, effective) in [("", policy.clone()), ("files.", policy.effective(true))] {
        if effective.allowed_types.is_empty() {
            return Err(ApiError::invalid(format!(
                "{what}allowedTypes is empty, which would forbid every share; list \"Public\" \
                 or \"Authenticated\""
            )));
        }
        if effective
            .allowed_types
            .contains(&AllowedType::Authenticated)
        {
            if !smtp {
                return Err(ApiError::invalid(format!(
                    "{what}allowedTypes lists \"Authenticated\", but this server has no SMTP \
                     server configured, so recipients could not be mailed the codes that prove \
                     their address and the restriction would not be enforced; configure \
                     smtp_url and smtp_from (or SESAME_SMTP_URL and SESAME_SMTP_FROM) on the \
                     server, or allow only \"Public\""
                )));
            }
            if effective.allowed_recipient_types.is_empty() {
                return Err(ApiError::invalid(format!(
                    "{what}allowedTypes lists \"Authenticated\" but \
                     {what}allowedRecipientTypes is empty, so no recipient could be named; \
                     list \"Email\" and/or \"Domain\""
                )));
            }
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

/// What `request` may be under `policy`: its view limit and its recipients (parsed
/// again, lowercased, without duplicates), or why it is refused.
fn check_share(
    policy: &ItemShareAccountPolicy,
    request: &ShareCreateRequest,
    smtp: bool,
) -> Result<(Option<u32>, Vec<ValidRecipient>), ApiError> {
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
    let recipients = check_recipients(&effective, &request.recipients, smtp)?;
    if recipients.is_empty() && !effective.allowed_types.contains(&AllowedType::Public) {
        return Err(ApiError::invalid(
            "the account's share policy does not allow public links (allowedTypes): name the \
             recipients who may open it",
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
    let max_views = if request.one_time_only {
        Some(1)
    } else {
        effective.max_views
    };
    Ok((max_views, recipients))
}

/// The recipients of a new share, checked against `policy` (the one that applies to it).
fn check_recipients(
    policy: &ItemShareAccountPolicy,
    recipients: &[ValidRecipient],
    smtp: bool,
) -> Result<Vec<ValidRecipient>, ApiError> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    if !smtp {
        return Err(ApiError::invalid(
            "recipient-restricted shares are not supported by this server: it has no SMTP \
             server configured to mail recipients the codes that prove their address, so the \
             restriction would not be enforced; create a link without recipients (anyone \
             holding it can open it), or configure smtp_url on the server",
        ));
    }
    if !policy.allowed_types.contains(&AllowedType::Authenticated) {
        return Err(ApiError::invalid(
            "the account's share policy does not allow links restricted to recipients \
             (allowedTypes has no \"Authenticated\"); share without recipients",
        ));
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid(format!(
            "a share names at most {MAX_RECIPIENTS} recipients; this one names {} (name a \
             domain to admit everyone at it)",
            recipients.len()
        )));
    }
    let mut valid: Vec<ValidRecipient> = Vec::with_capacity(recipients.len());
    for (index, recipient) in recipients.iter().enumerate() {
        let (text, kind) = match recipient {
            ValidRecipient::Email { email } => (email, AllowedRecipientType::Email),
            ValidRecipient::Domain { domain } => (domain, AllowedRecipientType::Domain),
        };
        let parsed = ValidRecipient::parse(text.trim()).map_err(|why| {
            ApiError::invalid(format!("recipient {} ({text:?}) {why}", index + 1))
        })?;
        let parsed_kind = match parsed {
            ValidRecipient::Email { .. } => AllowedRecipientType::Email,
            ValidRecipient::Domain { .. } => AllowedRecipientType::Domain,
        };
        if parsed_kind != kind {
            return Err(ApiError::invalid(format!(
                "recipient {} ({text:?}) is given as {kind:?} but is a{} {parsed_kind:?}",
                index + 1,
                if parsed_kind == AllowedRecipientType::Email {
                    "n"
                } else {
                    ""
                }
            )));
        }
        if !policy.allowed_recipient_types.contains(&kind) {
            return Err(ApiError::invalid(format!(
                "recipient {} ({text:?}) is of type {kind:?}, which the account's share policy \
                 does not allow (allowedRecipientTypes: {:?})",
                index + 1,
                policy.allowed_recipient_types
            )));
        }
        if !valid.contains(&parsed) {
            valid.push(parsed);
        }
    }
    Ok(valid)
}

/// `POST /v1/vaults/{v}/items/{i}/shares`.
pub(super) async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<ShareCreateRequest>,
) -> Result<Json<ItemShare>, ApiError> {
    let (vault, item) = (caller.vault()?, caller.item()?);
    require(&app, &caller, &vault, READ_ITEMS | SEND_ITEMS).await?;
    let access_hash = wire::decode("accessHash", &request.access_hash)?;
    let policy = app.store.share_policy().await?;
    let (max_views, recipients) = check_share(&policy, &request, app.mailer.is_some())?;
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
        recipients,
        item_ciphertext: request.item.0,
        files_ciphertext: request.files.map(|f| f.0),
    };
    let event = caller.change(READ_ITEMS | SEND_ITEMS);
    Ok(Json(app.store.create_share(&share, &event).await?))
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

/// The audit event of a request on a share's public side (no principal).
fn public_event(action: &str) -> EventRecord {
    EventRecord {
        principal_id: None,
        action: action.to_owned(),
        vault_id: None,
        item_id: None,
        outcome: "ok".to_owned(),
        integration_name: "share link".to_owned(),
        integration_version: String::new(),
        requires: 0,
    }
}

fn share_not_found() -> ApiError {
    ApiError::not_found(
        "no share matches this link: it does not exist, or the part after # is wrong or \
         incomplete",
    )
}

fn share_gone(gone: ShareGone) -> ApiError {
    let message = match gone {
        ShareGone::Revoked => "this share was revoked by its sender, or the item it shared was \
             deleted; ask the sender for a new link"
            .to_owned(),
        ShareGone::Expired(at) => format!(
            "this share expired at {}; ask the sender for a new link",
            at.format(&Rfc3339).unwrap_or_default()
        ),
        ShareGone::Exhausted(views) => format!(
            "this share was already viewed the most times it allows ({views}); ask the sender \
             for a new link"
        ),
    };
    ApiError::not_found(message).with_status(410)
}

/// The visitor's address: one email address, lowercased by the recipients' parser.
fn visitor_email(text: &str) -> Result<String, ApiError> {
    match ValidRecipient::parse(text.trim()) {
        Ok(ValidRecipient::Email { email }) => Ok(email),
        Ok(ValidRecipient::Domain { .. }) => Err(ApiError::invalid(
            "email is a domain; give your own email address (the code is mailed to it)",
        )),
        Err(why) => Err(ApiError::invalid(format!("email {why}"))),
    }
}

/// A fresh code: `CODE_DIGITS` uniform decimal digits from the OS CSPRNG.
fn new_code() -> Zeroizing<String> {
    let n = rand::rngs::OsRng.gen_range(0..10u32.pow(CODE_DIGITS));
    Zeroizing::new(format!("{n:0width$}", width = CODE_DIGITS as usize))
}

/// `POST /v1/shares/{s}/challenge`: public; the access token is the credential. Mails a
/// code to the address when it is a recipient, and answers the same when it is not.
pub(super) async fn challenge<S: Store>(
    State(app): State<AppState<S>>,
    Path(share): Path<String>,
    ApiJson(request): ApiJson<ShareChallengeRequest>,
) -> Result<Response, ApiError> {
    let id = parse_id(&share, "share id")?;
    let token = wire::decode::<32>("access", &request.access)?;
    let email = visitor_email(&request.email)?;
    let mut event = public_event("share.challenge");
    let Some(mailer) = app.mailer.clone() else {
        event.outcome = ErrorCode::Server.as_str().to_owned();
        record_failure(&app, &event).await;
        return Err(ApiError::new(
            ErrorCode::Server,
            "this server cannot mail codes (no SMTP server is configured), so shares \
             restricted to recipients cannot be opened; ask the sender for a link without \
             recipients",
        )
        .with_status(503));
    };
    let code = new_code();
    let mut decoy_mac = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut decoy_mac);
    let now = app.clock.now();
    let challenge = ShareChallenge {
        share: id,
        access_hash: sesame_core::crypto::access_hash(&token),
        email_mac: app.code_key.email_mac(&id, &email)?,
        code_mac: app.code_key.code_mac(&id, &email, &code)?,
        email,
        decoy_mac,
        now,
        expires_at: now + time::Duration::seconds(CODE_TTL_SECONDS as i64),
        attempts: CODE_ATTEMPTS,
        limits: CHALLENGE_LIMITS.to_vec(),
    };
    match app.store.challenge_share(&challenge, &event).await? {
        ChallengeOutcome::NotFound => return Err(share_not_found()),
        ChallengeOutcome::Gone(gone) => return Err(share_gone(gone)),
        ChallengeOutcome::NotRestricted => {
            return Err(ApiError::invalid(
                "this share is not restricted to recipients: open it without a code",
            ))
        }
        ChallengeOutcome::RateLimited(seconds) => {
            return Err(ApiError::rate_limited(
                format!(
                    "too many codes were asked for this share lately; try again in {seconds} \
                     seconds"
                ),
                seconds,
            ))
        }
        ChallengeOutcome::Recorded { recipient } => {
            if recipient {
                // Mailed in the background, so a recipient's answer takes no longer than
                // anyone else's (the time of an SMTP exchange would tell them apart).
                let app = app.clone();
                let to = Zeroizing::new(challenge.email.clone());
                tokio::spawn(async move {
                    let sent = mailer.send_code(&to, &code, CODE_TTL_SECONDS / 60).await;
                    if let Err(failure) = sent {
                        tracing::error!(share = %id, %failure, "could not mail a share code");
                        let mut event = public_event("share.code_mail");
                        event.outcome = ErrorCode::Server.as_str().to_owned();
                        record_failure(&app, &event).await;
                    }
                });
            }
        }
    }
    let body = Json(ShareChallengeResponse {
        expires_in: CODE_TTL_SECONDS,
        attempts: CODE_ATTEMPTS,
        code_length: CODE_DIGITS,
    });
    Ok(no_store(
        (axum::http::StatusCode::ACCEPTED, body).into_response(),
    ))
}

/// `POST /v1/shares/{s}/open`: public; the access token is the credential, plus, for a
/// share restricted to recipients, an address and the code mailed to it.
pub(super) async fn open<S: Store>(
    State(app): State<AppState<S>>,
    Path(share): Path<String>,
    ApiJson(request): ApiJson<ShareOpenRequest>,
) -> Result<Response, ApiError> {
    let id = parse_id(&share, "share id")?;
    let token = wire::decode::<32>("access", &request.access)?;
    let hash = sesame_core::crypto::access_hash(&token);
    let proof = match (&request.email, &request.code) {
        (None, None) => None,
        (Some(email), Some(code)) => {
            let email = visitor_email(email)?;
            let code = Zeroizing::new(code.trim().to_owned());
            if code.len() != CODE_DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::invalid(format!(
                    "code must be the {CODE_DIGITS} digits of the mail"
                )));
            }
            Some(CodeProof {
                email_mac: app.code_key.email_mac(&id, &email)?,
                code_mac: app.code_key.code_mac(&id, &email, &code)?,
                email,
            })
        }
        _ => {
            return Err(ApiError::invalid(
                "give both email and code (the code mailed to that address), or neither",
            ))
        }
    };
    let event = public_event("share.open");
    let opening = app
        .store
        .open_share(&id, &hash, proof.as_ref(), app.clock.now(), &event)
        .await?;
    let response = match opening {
        ShareOpening::NotFound => return Err(share_not_found()),
        ShareOpening::Gone(gone) => return Err(share_gone(gone)),
        ShareOpening::Refused(refusal) => return Err(code_refused(refusal)),
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

fn code_refused(refusal: CodeRefusal) -> ApiError {
    let again = "ask for a new code";
    match refusal {
        CodeRefusal::Missing => ApiError::unauthenticated(
            "this share is restricted to its recipients: ask for a code with your email \
             address (POST /v1/shares/{id}/challenge), then open it with the address and the \
             code",
        ),
        CodeRefusal::NoneSent => ApiError::forbidden(format!(
            "no code was asked for this address, or it is too old; {again}"
        )),
        CodeRefusal::Used => ApiError::forbidden(format!(
            "this code no longer works: it was used, replaced by a newer one, or voided after \
             too many wrong tries; {again}"
        )),
        CodeRefusal::Expired => ApiError::forbidden(format!(
            "this code expired (a code works for {} minutes); {again}",
            CODE_TTL_SECONDS / 60
        )),
        CodeRefusal::Wrong(0) => ApiError::forbidden(format!(
            "wrong code; that was the last try, so this code is now void: {again}"
        )),
        CodeRefusal::Wrong(1) => ApiError::forbidden("wrong code; 1 try left"),
        CodeRefusal::Wrong(left) => ApiError::forbidden(format!("wrong code; {left} tries left")),
    }
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
        assert!(check_policy(&ok, 4 << 20, false).is_ok());
        let mut p = ok.clone();
        p.allowed_types.push(AllowedType::Authenticated);
        assert!(check_policy(&p, 4 << 20, false)
            .unwrap_err()
            .message()
            .contains("configure smtp_url"));
        assert!(check_policy(&p, 4 << 20, true)
            .unwrap_err()
            .message()
            .contains("allowedRecipientTypes is empty"));
        p.allowed_recipient_types = vec![AllowedRecipientType::Domain];
        assert!(check_policy(&p, 4 << 20, true).is_ok());
        p.files.allowed_recipient_types = Some(Vec::new());
        assert!(check_policy(&p, 4 << 20, true)
            .unwrap_err()
            .message()
            .starts_with("files.allowedTypes"));
        let mut p = ok.clone();
        p.default_expiry = ItemShareDuration::ThirtyDays;
        p.max_expiry = ItemShareDuration::OneDay;
        assert!(check_policy(&p, 4 << 20, false).is_err());
        let mut p = ok.clone();
        p.files.max_views = Some(0);
        assert!(check_policy(&p, 4 << 20, false)
            .unwrap_err()
            .message()
            .starts_with("files.maxViews"));
        let mut p = ok;
        p.files.allowed = true;
        p.files.max_size = 100 << 20;
        assert!(check_policy(&p, 4 << 20, false)
            .unwrap_err()
            .message()
            .contains("max_body_bytes"));
    }
}
