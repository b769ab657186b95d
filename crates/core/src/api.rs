//! The wire protocol between the client and the server: JSON over HTTP under `/v1`.
//!
//! Both sides use these types, so they cannot drift apart. The server only ever sees
//! [`Ciphertext`], wrapped keys, public keys, ids, version numbers and permission bits:
//! every name, title, field value and note is sealed by the client (see [`crate::crypto`]).
//!
//! # Endpoints
//!
//! Every endpoint but `POST /v1/auth`, `/healthz`, `/readyz`, `/v1/openapi.json`, the
//! public side of share links (`POST /v1/shares/{s}/challenge`, `POST /v1/shares/{s}/open`)
//! and the share page (`/s/…`) needs `Authorization: Bearer <session>`. Ids in paths are [`Id`]s. "vault access" below means
//! the caller holds a grant on the vault with any permission; without one, every vault
//! endpoint answers `404 not_found` exactly as for a vault that does not exist.
//!
//! | method and path | request → response | who may call |
//! |---|---|---|
//! | `POST /v1/auth` | [`AuthRequest`] → [`AuthResponse`]; an assertion already accepted once (same principal and nonce): `401` | anyone holding a principal's signing key |
//! | `GET /v1/principals/me` | → [`Principal`] | any principal |
//! | `GET /v1/principals` | → `[`[`Principal`]`]` | owner |
//! | `GET /v1/principals/{id}` | → [`Principal`] (public keys, to grant to it) | any principal |
//! | `POST /v1/principals` | [`ServiceAccountCreateRequest`] → [`Principal`] | owner |
//! | `POST /v1/principals/{id}/rotate` | [`KeyRotationRequest`] → [`Principal`] | owner |
//! | `DELETE /v1/principals/{id}` | → `204` (revokes: every session ends) | owner |
//! | `GET /v1/principals/{id}/rate-limit` | → [`PrincipalRateLimit`] (its own budgets and the effective ones) | owner |
//! | `PUT /v1/principals/{id}/rate-limit` | [`RateLimitSettings`] → [`PrincipalRateLimit`]; a budget of 0 or above [`MAX_RATE_LIMIT`]: `400`, nothing stored; the owner or a revoked principal: `400` | owner |
//! | `POST /v1/vaults` | [`VaultCreateRequest`] → [`VaultRecord`] | any principal (gets every permission) |
//! | `GET /v1/vaults` | → `[`[`VaultRecord`]`]`, only vaults with access | any principal |
//! | `GET /v1/vaults/{v}` | → [`VaultRecord`] | vault access |
//! | `PUT /v1/vaults/{v}` | [`VaultUpdateRequest`] → [`VaultRecord`] | `MANAGE_VAULT` |
//! | `DELETE /v1/vaults/{v}` | → `204` | `MANAGE_VAULT` |
//! | `GET /v1/vaults/{v}/access` | → `[`[`VaultAccessRecord`]`]` | `MANAGE_VAULT` |
//! | `PUT /v1/vaults/{v}/access/{principal}` | [`AccessGrantRequest`] → [`VaultAccessRecord`] | `MANAGE_VAULT` |
//! | `DELETE /v1/vaults/{v}/access/{principal}` | → `204` | `MANAGE_VAULT` |
//! | `POST /v1/vaults/{v}/items` | [`ItemCreateRequest`] → [`ItemRecord`] | `CREATE_ITEMS` |
//! | `GET /v1/vaults/{v}/items?since=N&details=B` | → [`ItemChanges`] | `READ_ITEMS` |
//! | `POST /v1/vaults/{v}/items/batch-get` | [`ItemBatchGetRequest`] → [`ItemBatchGetResponse`] | `READ_ITEMS` |
//! | `GET /v1/vaults/{v}/items/{i}` | → [`ItemRecord`] with details | `READ_ITEMS` |
//! | `PUT /v1/vaults/{v}/items/{i}` | [`ItemUpdateRequest`] → [`ItemRecord`]; stale version: `409` | `UPDATE_ITEMS`, and `ARCHIVE_ITEMS` to change the state |
//! | `DELETE /v1/vaults/{v}/items/{i}` | → `204` (leaves a tombstone; frees the item's file blobs) | `DELETE_ITEMS` |
//! | `PUT /v1/vaults/{v}/items/{i}/files/{f}` | streamed file ciphertext (`Content-Length` required) → `204`; too large: `413` before the body is read; an existing attached file: `409` | `CREATE_ITEMS` or `UPDATE_ITEMS` |
//! | `GET /v1/vaults/{v}/items/{i}/files/{f}` | → streamed file ciphertext (`application/octet-stream`, `Content-Length`) of a file the item's current version references | `READ_ITEMS` |
//! | `POST /v1/sync` | [`SyncRequest`] → [`SyncResponse`] | any principal |
//! | `GET /v1/events?after=N&limit=M` | → [`EventsPage`] | owner |
//! | `GET /v1/events/head` | → [`AuditHead`]: the persisted head and the newest signed checkpoint | owner |
//! | `POST /v1/events/checkpoints` | [`AuditCheckpoint`] → the same; a signature that does not verify with the owner key, or a `seq`/`hash` that is not an event of the trail: `400`, nothing stored | owner |
//! | `GET /v1/share-policy` | → [`ItemShareAccountPolicy`](crate::model::ItemShareAccountPolicy) | any principal |
//! | `PUT /v1/share-policy` | [`ItemShareAccountPolicy`](crate::model::ItemShareAccountPolicy) → the same; `Authenticated` on a server without SMTP: `400` | owner |
//! | `POST /v1/vaults/{v}/items/{i}/shares` | [`ShareCreateRequest`] → [`ItemShare`](crate::model::ItemShare); against the policy, or recipients on a server without SMTP: `400` | `READ_ITEMS` and `SEND_ITEMS` |
//! | `GET /v1/shares` | → `[`[`ItemShare`](crate::model::ItemShare)`]`, the caller's, newest first | any principal |
//! | `DELETE /v1/shares/{s}` | → `204` (the ciphertext is deleted at once) | its creator, or the owner |
//! | `POST /v1/shares/{s}/challenge` | [`ShareChallengeRequest`] → `202` [`ShareChallengeResponse`], the same whether or not the address is a recipient (a code is mailed only to a recipient); not a restricted share: `400`; no SMTP configured: `503`; more than 5 challenges per share in 10 minutes (or 20 in a day): `429`; unknown share or wrong token: `404`; expired, revoked or out of views: `410` | anyone holding the link (no session) |
//! | `POST /v1/shares/{s}/open` | [`ShareOpenRequest`] → [`ShareOpenResponse`]; unknown share or wrong token: `404`; expired, revoked or out of views: `410`; restricted to recipients and no `email`/`code`: `401`; wrong, expired or used-up code: `403` (the message says how many tries are left) | anyone holding the link (no session); for a restricted share, a recipient with a mailed code |
//! | `GET /s/{s}` | the share page (HTML; decrypts in the browser) | anyone |
//!
//! # Trust
//!
//! The server is not trusted with keys (see [`crate::crypto`], "Who may be trusted"): the
//! account id is the owner key's fingerprint and [`AuthResponse::owner`] is checked
//! against it; every [`Principal`] carries the owner's `certificate` of its keys, which a
//! client verifies before wrapping a vault key to it; and every wrapped key travels with
//! the granter's `signature` ([`VaultGrant`], [`VaultCreateRequest`],
//! [`AccessGrantRequest`]), which the server checks (`400` when bad, nothing stored) and
//! returns in [`VaultRecord`] as `grantedBy` and `grantSignature`, and which the client
//! verifies before it uses the vault key. Clients never rely on the server's checks.
//!
//! Errors are [`ErrorBody`] with the status of [`ErrorCode::http_status`]. Every
//! authenticated response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the window resets); a `429` also `Retry-After`.
//! Reads and writes have separate budgets per fixed window: the server's defaults, or
//! the principal's own when the owner set them ([`RateLimitSettings`]).
//!
//! # Files
//!
//! A file's bytes never travel in JSON. The client encrypts them with the file's own key
//! as a chunked stream ([`FileEncryptor`](crate::crypto::FileEncryptor)), and uploads the
//! stream as the raw body of `PUT …/files/{f}` under a fresh file id, with
//! `Content-Length` = [`ciphertext_len`](crate::crypto::ciphertext_len) of the plaintext
//! size. The server refuses a `Content-Length` above
//! `ciphertext_len(`[`AuthResponse::max_file_size`]`)` with `413` before it reads the
//! body, writes the body to a temporary file under `<data-dir>/blobs/tmp/`, and only when
//! exactly `Content-Length` bytes arrived does it fsync it, rename it to
//! `<data-dir>/blobs/<vault>/<item>/<file>` and record it as *uploaded*. A body that ends
//! early, errs or runs long is discarded.
//!
//! An uploaded blob is not part of the item yet. The file's metadata (name, size, id and
//! the file key sealed with [`EnvelopeContext::file_key`](crate::crypto::EnvelopeContext))
//! lives in the item's sealed details, and the item create or put that adds it lists every
//! file id the new version references in [`ItemCreateRequest::files`] /
//! [`ItemUpdateRequest::files`]. The server applies that list in the same transaction as
//! the item write: it refuses (`400`, nothing changed) a version that references a file
//! not completely uploaded for this item, marks the listed blobs *attached* and the
//! item's other attached blobs *detached*. So an item version either references complete
//! blobs or was never written: an interrupted or failed upload leaves the item as it was.
//!
//! Detached blobs (a file removed from the item, a deleted item or vault) and uploaded
//! blobs that no version referenced within the server's grace period are deleted from
//! disk by the server's collector, which runs after every item write and upload. The
//! server cannot check a blob's content (it has no key): the client authenticates every
//! chunk while downloading and fails with an integrity error on any tampering.
//!
//! # Versions
//!
//! An item's `version` starts at 1 and grows by one with every update; the client seals
//! the overview and details of version `n` with `n` in their AAD, so the server cannot
//! replay an old version as the current one. A vault's `contentVersion` grows with every
//! item change in it (create, update, delete); each item and tombstone records the
//! `contentVersion` of its last change, which is what `since=` compares against.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::crypto::WrappedVaultKey;
use crate::id::Id;
use crate::model::ItemState;
use crate::ErrorCode;

pub use crate::model::{
    AuditCheckpoint, AuditEvent, AuditHead, EventsPage, Principal, PrincipalKind,
    PrincipalRateLimit, RateLimitSettings, ServiceAccountRights, MAX_RATE_LIMIT,
};

/// Most items a batch call takes, as in the 1Password SDK.
pub const MAX_BATCH: usize = 50;

/// Longest integration name, in characters.
pub const MAX_INTEGRATION_NAME_LEN: usize = 40;
/// Longest integration version, in characters.
pub const MAX_INTEGRATION_VERSION_LEN: usize = 20;

/// Checks an integration name and version, the one rule both the client (before it
/// connects, as the 1Password SDK does) and the server (on every authentication) apply.
///
/// The name: 1 to [`MAX_INTEGRATION_NAME_LEN`] characters, ASCII letters, digits, spaces,
/// `-`, `_` and `.`, starting with a letter or digit. The version: 1 to
/// [`MAX_INTEGRATION_VERSION_LEN`] characters, ASCII letters, digits, `.`, `-`, `_` and
/// `+`, starting with a letter or digit.
pub fn validate_integration(name: &str, version: &str) -> crate::Result<()> {
    check_integration(
        "integration_name",
        name,
        MAX_INTEGRATION_NAME_LEN,
        |c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'),
        "ASCII letters, digits, spaces, '-', '_' and '.'",
    )?;
    check_integration(
        "integration_version",
        version,
        MAX_INTEGRATION_VERSION_LEN,
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'),
        "ASCII letters, digits, '.', '-', '_' and '+'",
    )
}

fn check_integration(
    what: &str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    allowed_text: &str,
) -> crate::Result<()> {
    use crate::Error;
    if value.is_empty() {
        return Err(Error::invalid_input(
            what,
            "is required: set it to the name and version of your program, e.g. \
             \"my-app\" and \"1.0.0\"; it is recorded in the audit trail",
        ));
    }
    let len = value.chars().count();
    if len > max {
        return Err(Error::invalid_input(
            what,
            format!("is {len} characters long; at most {max} are allowed"),
        ));
    }
    if let Some((position, c)) = value.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        return Err(Error::invalid_input(
            what,
            format!(
                "has {c:?} at character {}; only {allowed_text} are allowed",
                position + 1
            ),
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid_input(
            what,
            "must start with a letter or a digit",
        ));
    }
    Ok(())
}

/// Domain label that starts every authentication message.
const AUTH_LABEL: &[u8] = b"sesame/v1/auth";

/// How far an [`AuthRequest`] timestamp may be from the server's clock, in seconds.
pub const AUTH_CLOCK_SKEW_SECONDS: u64 = 120;

/// Opaque encrypted bytes, as unpadded base64url on the wire. `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Ciphertext(pub Vec<u8>);

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ciphertext({} bytes)", self.0.len())
    }
}

impl Serialize for Ciphertext {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&URL_SAFE_NO_PAD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Ciphertext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map(Ciphertext)
            .map_err(|e| serde::de::Error::custom(format!("not unpadded base64url: {e}")))
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable [`ErrorCode`] string, e.g. `not_found`.
    pub code: String,
    /// What was wrong and what to do, for people. Never holds a secret.
    pub message: String,
}

impl ErrorCode {
    /// The HTTP status the server answers this code with.
    ///
    /// ```
    /// assert_eq!(sesame_core::ErrorCode::Conflict.http_status(), 409);
    /// ```
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidReference | Self::InvalidToken | Self::InvalidInput => 400,
            Self::Unauthenticated => 401,
            Self::PermissionDenied => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::Integrity => 422,
            Self::RateLimited => 429,
            Self::Ambiguous => 400,
            Self::Network => 502,
            Self::Server => 500,
        }
    }
}

/// Proof of a principal's signing key, exchanged for a short-lived session.
///
/// `signature` is Ed25519 over [`auth_message`] of the other fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthRequest {
    /// The account.
    pub account_id: Id,
    /// The principal proving its key.
    pub principal_id: Id,
    /// Unix seconds when the request was made; must be within
    /// [`AUTH_CLOCK_SKEW_SECONDS`] of the server's clock.
    pub timestamp: u64,
    /// 16 random bytes, base64url.
    pub nonce: String,
    /// The integration's name, recorded in the audit trail.
    pub integration_name: String,
    /// The integration's version, recorded in the audit trail.
    pub integration_version: String,
    /// The 64-byte Ed25519 signature, base64url.
    pub signature: String,
}

/// The bytes an [`AuthRequest`] signs:
/// `"sesame/v1/auth" || account || principal || timestamp (u64 BE) || nonce (its base64url
/// text) || u16 BE length || integration name || u16 BE length || integration version`.
///
/// ```
/// use sesame_core::{api::auth_message, id::Id};
/// let id: Id = "abcdefghijklmnopqrstuvwxyz".parse()?;
/// let message = auth_message(&id, &id, 1, "AAAA", "app", "1.0");
/// assert!(message.starts_with(b"sesame/v1/auth"));
/// # Ok::<(), sesame_core::Error>(())
/// ```
pub fn auth_message(
    account: &Id,
    principal: &Id,
    timestamp: u64,
    nonce: &str,
    integration_name: &str,
    integration_version: &str,
) -> Vec<u8> {
    let mut message = Vec::with_capacity(AUTH_LABEL.len() + 52 + 8 + nonce.len() + 4 + 128);
    message.extend_from_slice(AUTH_LABEL);
    message.extend_from_slice(account.as_str().as_bytes());
    message.extend_from_slice(principal.as_str().as_bytes());
    message.extend_from_slice(&timestamp.to_be_bytes());
    message.extend_from_slice(nonce.as_bytes());
    for text in [integration_name, integration_version] {
        // Integration names and versions are length-limited far below 64 KiB.
        let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
        message.extend_from_slice(&len.to_be_bytes());
        message.extend_from_slice(&text.as_bytes()[..usize::from(len)]);
    }
    message
}

/// A session, granted for a valid [`AuthRequest`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// The bearer credential for every other call. Secret.
    pub session: String,
    /// Unix seconds when the session ends; authenticate again before then.
    pub expires_at: u64,
    /// Who the session is for.
    pub principal: Principal,
    /// The account owner's public keys and self-signed certificate: the trust anchor. The
    /// client checks that [`account_id_for`](crate::crypto::account_id_for) of its signing
    /// key is the account id of its token, and fails with an integrity error otherwise.
    pub owner: Principal,
    /// The server's clock, unix seconds.
    pub server_time: u64,
    /// The largest file (plaintext bytes) the server accepts; the client refuses larger
    /// ones before uploading. Absent from servers without files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_size: Option<u64>,
}

impl fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthResponse")
            .field("session", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("principal", &self.principal)
            .field("owner", &self.owner)
            .field("server_time", &self.server_time)
            .field("max_file_size", &self.max_file_size)
            .finish()
    }
}

/// One vault a new or rotated principal is granted, with the vault key wrapped to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultGrant {
    /// The vault.
    pub vault_id: Id,
    /// An OR of [`permissions`](crate::model::permissions) flags.
    pub permissions: u32,
    /// The vault key, wrapped to the principal's encryption key.
    pub wrapped_key: WrappedVaultKey,
    /// The caller's Ed25519 signature (base64url) over
    /// [`grant_message`](crate::crypto::grant_message) of this grant, with the principal's
    /// new key generation (1 for a new service account, the current one plus 1 for a
    /// rotation).
    pub signature: String,
}

/// A new service account. The client makes its token (and so its id and keys) and wraps
/// the granted vault keys to it; the server never sees the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountCreateRequest {
    /// The id inside the new token.
    pub id: Id,
    /// A name for people.
    pub name: String,
    /// Ed25519 public key, base64url.
    pub signing_public_key: String,
    /// X25519 public key, base64url.
    pub encryption_public_key: String,
    /// The owner's certificate of the keys at key generation 1 (see
    /// [`Principal::certificate`]); a bad one is a `400`.
    pub certificate: String,
    /// When the token stops working, if it should.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Vaults it may use.
    #[serde(default)]
    pub grants: Vec<VaultGrant>,
    /// Whether it may create vaults (default: no).
    #[serde(default)]
    pub can_create_vaults: bool,
}

/// New keys for a principal (a new token), with every vault key re-wrapped to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyRotationRequest {
    /// Ed25519 public key, base64url.
    pub signing_public_key: String,
    /// X25519 public key, base64url.
    pub encryption_public_key: String,
    /// The owner's certificate of the new keys at the next key generation (see
    /// [`Principal::certificate`]); a bad one is a `400`. The owner itself cannot be
    /// rotated: its key is the account id.
    pub certificate: String,
    /// Every vault it keeps, re-wrapped; grants left out are revoked.
    pub grants: Vec<VaultGrant>,
}

/// A new vault: its id and key are made by the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultCreateRequest {
    /// The new vault's id.
    pub id: Id,
    /// Name and description, sealed with [`Part::VaultAttributes`](crate::crypto::Part) at
    /// attribute version 1.
    pub attributes: Ciphertext,
    /// The vault key wrapped to the creator.
    pub wrapped_key: WrappedVaultKey,
    /// The creator's signature (base64url) over
    /// [`grant_message`](crate::crypto::grant_message) with itself as grantee (at its
    /// current key generation) and granter; a bad one is a `400`.
    pub signature: String,
}

/// A vault as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultRecord {
    /// Its id.
    pub id: Id,
    /// Sealed name and description.
    pub attributes: Ciphertext,
    /// Version of `attributes`, starting at 1.
    pub attribute_version: u64,
    /// Grows with every item change in the vault.
    pub content_version: u64,
    /// Active (not archived, not deleted) items.
    pub active_item_count: u32,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When its attributes or items last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The vault key wrapped to the caller.
    pub wrapped_key: WrappedVaultKey,
    /// Who wrapped the vault key to the caller (and signed the grant).
    #[serde(default)]
    pub granted_by: Option<Id>,
    /// The granter's signature (base64url) over
    /// [`grant_message`](crate::crypto::grant_message) of `wrappedKey` for the caller at
    /// its current key generation. The client uses the vault key only when it verifies.
    #[serde(default)]
    pub grant_signature: Option<String>,
    /// The caller's permissions.
    pub permissions: u32,
}

/// New vault attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultUpdateRequest {
    /// The attribute version this edit is based on; a stale one is a `409`.
    pub expected_attribute_version: u64,
    /// The new attributes, sealed at `expected_attribute_version + 1`.
    pub attributes: Ciphertext,
}

/// A grant of permissions on a vault to a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessGrantRequest {
    /// An OR of [`permissions`](crate::model::permissions) flags (not 0: revoke instead).
    pub permissions: u32,
    /// The vault key wrapped to the principal: required for a new member, optional when
    /// only changing the permissions of an existing one.
    #[serde(default)]
    pub wrapped_key: Option<WrappedVaultKey>,
    /// With `wrappedKey`, required: the caller's signature (base64url) over
    /// [`grant_message`](crate::crypto::grant_message) for the principal at its current
    /// key generation, with the caller as granter; a missing or bad one is a `400`.
    #[serde(default)]
    pub signature: Option<String>,
}

/// One vault of the account as the owner lists it (`GET /v1/account/vaults`): every
/// vault, including those the owner has no grant on (so no key for: it cannot read
/// their attributes, only see who made them and delete them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountVaultRecord {
    /// Its id.
    pub id: Id,
    /// The principal that created it (`None` for a vault made before creators were
    /// recorded whose creator's grant is gone). It may be revoked.
    #[serde(default)]
    pub created_by: Option<Id>,
    /// Active (not archived, not deleted) items.
    pub active_item_count: u32,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When its attributes or items last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Whether the caller has a grant (and so a wrapped key) on it.
    pub member: bool,
}

/// One member of a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAccessRecord {
    /// The vault.
    pub vault_id: Id,
    /// The member.
    pub principal_id: Id,
    /// Its permissions.
    pub permissions: u32,
}

/// A new item; its id is made by the client and its parts sealed at version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemCreateRequest {
    /// The new item's id.
    pub id: Id,
    /// Active or archived (the server needs it for permissions and counts).
    pub state: ItemState,
    /// Sealed overview (title, category, tags, websites).
    pub overview: Ciphertext,
    /// Sealed details (fields, sections, notes, file metadata).
    pub details: Ciphertext,
    /// Every file id the details reference; each must be uploaded completely for this
    /// item first (see "Files" above).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<Id>,
}

/// A new version of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemUpdateRequest {
    /// The version this edit is based on; a stale one is a `409 conflict`.
    pub expected_version: u32,
    /// Active or archived.
    pub state: ItemState,
    /// Overview sealed at `expected_version + 1`.
    pub overview: Ciphertext,
    /// Details sealed at `expected_version + 1`.
    pub details: Ciphertext,
    /// Every file id the new details reference; each must be uploaded completely for this
    /// item (or be attached already). Attached files left out are detached and freed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<Id>,
}

/// An item as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRecord {
    /// Its id.
    pub id: Id,
    /// Its vault.
    pub vault_id: Id,
    /// Its version, from 1.
    pub version: u32,
    /// Active or archived.
    pub state: ItemState,
    /// The vault `contentVersion` of its last change.
    pub content_version: u64,
    /// Sealed overview.
    pub overview: Ciphertext,
    /// Sealed details, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Ciphertext>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A deleted item, kept so that syncing clients learn of the deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    /// The deleted item's id.
    pub id: Id,
    /// The vault `contentVersion` of the deletion.
    pub content_version: u64,
}

/// What changed in a vault after a `since` content version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemChanges {
    /// The vault.
    pub vault_id: Id,
    /// The vault's current content version: the next `since`.
    pub content_version: u64,
    /// Items created or changed after `since`.
    pub items: Vec<ItemRecord>,
    /// Items deleted after `since`.
    pub deleted: Vec<Tombstone>,
}

/// Several items of one vault at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemBatchGetRequest {
    /// At most [`MAX_BATCH`] ids.
    pub ids: Vec<Id>,
}

/// One result of a batch call: the item, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    /// The requested id.
    pub id: Id,
    /// The item, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemRecord>,
    /// The error, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The answer to an [`ItemBatchGetRequest`], in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBatchGetResponse {
    /// One result per requested id.
    pub items: Vec<ItemResult>,
}

/// How far a client has synced one vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncCursor {
    /// The vault.
    pub vault_id: Id,
    /// The content version the client has.
    pub content_version: u64,
    /// The attribute version the client has.
    pub attribute_version: u64,
    /// The permissions the client knows of.
    pub permissions: u32,
}

/// One round trip that brings every vault the caller can see up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRequest {
    /// What the client has; vaults it does not list are sent whole.
    pub cursors: Vec<SyncCursor>,
    /// Whether changed items carry their details too.
    pub details: bool,
}

/// The answer to a [`SyncRequest`]. When nothing changed, `vaults` and `changes` are
/// empty: no ciphertext crosses the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// Every vault id the caller can see now; a cursor not in this list lost access.
    pub visible: Vec<Id>,
    /// Vaults that are new to the client or whose attributes or permissions changed.
    pub vaults: Vec<VaultRecord>,
    /// Item changes of the vaults whose content version moved past the cursor.
    pub changes: Vec<ItemChanges>,
}

/// A new share link of an item: its snapshot sealed with the link's secret (see
/// [`crate::crypto`], "Share links"), and the options the server enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShareCreateRequest {
    /// The share's id, chosen by the client because the ciphertext's AAD binds it.
    pub id: Id,
    /// SHA-256 of the link's access token, base64url (32 bytes).
    pub access_hash: String,
    /// How long the link works.
    pub expire_after: crate::model::ItemShareDuration,
    /// Whether the link works for one view only.
    pub one_time_only: bool,
    /// Who may open it (empty: anyone holding it).
    #[serde(default)]
    pub recipients: Vec<crate::model::ValidRecipient>,
    /// The sealed item snapshot.
    pub item: Ciphertext,
    /// The sealed files, when the share carries them.
    #[serde(default)]
    pub files: Option<Ciphertext>,
}

/// Proof of holding a share link and, for a share restricted to recipients, of being
/// one: an address that is a recipient and the one-time code mailed to it (see
/// [`ShareChallengeRequest`]). `Debug` shows neither the token, the address nor the code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShareOpenRequest {
    /// The link's access token, base64url (32 bytes).
    pub access: String,
    /// The visitor's email address (restricted shares only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The code mailed to `email` (restricted shares only): six digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl std::fmt::Debug for ShareOpenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareOpenRequest")
            .field("access", &"[redacted]")
            .field("email", &self.email.as_ref().map(|_| "[redacted]"))
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Asks the server to mail a one-time code to `email`, to open a share restricted to
/// recipients. The server answers [`ShareChallengeResponse`] whether or not the address
/// is a recipient, and mails a code only when it is. `Debug` shows neither field.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShareChallengeRequest {
    /// The link's access token, base64url (32 bytes).
    pub access: String,
    /// The visitor's email address.
    pub email: String,
}

impl std::fmt::Debug for ShareChallengeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShareChallengeRequest { access: [redacted], email: [redacted] }")
    }
}

/// The answer to every accepted [`ShareChallengeRequest`], recipient or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareChallengeResponse {
    /// How long a mailed code works, in seconds.
    pub expires_in: u64,
    /// How many wrong tries void a code.
    pub attempts: u32,
    /// The number of digits of a code.
    pub code_length: u32,
}

/// A share's ciphertext, served once per view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareOpenResponse {
    /// The sealed item snapshot.
    pub item: Ciphertext,
    /// The sealed files, if the share carries them.
    pub files: Option<Ciphertext>,
    /// When the link stops working, in Unix seconds.
    pub expires_at: u64,
    /// Views left after this one (`None`: unlimited).
    pub views_left: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_an_error_status() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
            assert!(code.http_status() >= 400);
        }
        assert_eq!(ErrorCode::from_name("teapot"), None);
    }

    #[test]
    fn ciphertext_is_base64url_and_debug_hides_it() {
        let c = Ciphertext(vec![0xfb, 0xff, 0x01]);
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"-_8B\"");
        assert_eq!(serde_json::from_str::<Ciphertext>("\"-_8B\"").unwrap(), c);
        assert!(serde_json::from_str::<Ciphertext>("\"+/8B\"").is_err());
        assert_eq!(format!("{c:?}"), "Ciphertext(3 bytes)");
    }

    #[test]
    fn auth_message_binds_every_field() {
        let a: Id = "a".repeat(26).parse().unwrap();
        let b: Id = "b".repeat(26).parse().unwrap();
        let base = auth_message(&a, &b, 7, "nonce", "app", "1.0");
        for other in [
            auth_message(&b, &a, 7, "nonce", "app", "1.0"),
            auth_message(&a, &b, 8, "nonce", "app", "1.0"),
            auth_message(&a, &b, 7, "nonce2", "app", "1.0"),
            auth_message(&a, &b, 7, "nonce", "ap", "p1.0"),
            auth_message(&a, &b, 7, "nonce", "app", "1.1"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn auth_response_debug_hides_the_session() {
        let principal = Principal {
            id: "a".repeat(26).parse().unwrap(),
            name: "ci".into(),
            kind: PrincipalKind::ServiceAccount,
            signing_public_key: String::new(),
            encryption_public_key: String::new(),
            key_generation: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: None,
            revoked_at: None,
            certificate: None,
            can_create_vaults: false,
        };
        let response = AuthResponse {
            session: "v1.secret-session".into(),
            expires_at: 0,
            owner: principal.clone(),
            principal,
            server_time: 0,
            max_file_size: Some(1),
        };
        assert!(!format!("{response:?}").contains("secret-session"));
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["principal"]["kind"], "serviceAccount");
        assert_eq!(json["principal"]["expiresAt"], serde_json::Value::Null);
    }
}
