//! Principals (the owner and service accounts), their rights and their rate limits.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::Id;

/// The kind of a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "unsupported")))]
pub enum PrincipalKind {
    /// The account owner: manages service accounts and reads the audit trail.
    Owner,
    /// A service account: what automation and agents use.
    ServiceAccount,
    /// A kind this version does not know.
    #[serde(other)]
    Unsupported,
}

/// A principal as the server knows it: public keys only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    /// Its id.
    pub id: Id,
    /// A name for people, e.g. `ci-deploy`. Not secret.
    pub name: String,
    /// Owner or service account.
    pub kind: PrincipalKind,
    /// Ed25519 public key, base64url.
    pub signing_public_key: String,
    /// X25519 public key, base64url: vault keys are wrapped to it.
    pub encryption_public_key: String,
    /// Incremented by every key rotation; sessions of older generations are rejected.
    pub key_generation: u32,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub created_at: OffsetDateTime,
    /// When its token stops working, if it expires.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<super::schema::Rfc3339>"))]
    pub expires_at: Option<OffsetDateTime>,
    /// When it was revoked, if it was.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<super::schema::Rfc3339>"))]
    pub revoked_at: Option<OffsetDateTime>,
    /// The owner's Ed25519 signature (64 bytes, base64url) over
    /// [`principal_certificate_message`](crate::crypto::principal_certificate_message) of
    /// the account, this id, `key_generation` and both public keys. The owner's own is
    /// self-signed at account creation. Clients wrap vault keys only to principals whose
    /// certificate verifies; absent only for data made before certificates existed.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Whether it may create vaults: always for the owner; for a service account only
    /// when the owner gave it the right ([`ServiceAccountRights`]).
    #[serde(default)]
    pub can_create_vaults: bool,
}

/// What a service account may do beyond its vault grants, set by the owner at creation
/// (`ServiceAccountCreateRequest::can_create_vaults`) or later with
/// `PUT /v1/principals/{id}/rights`.
///
/// ```
/// let rights: sesame_core::model::ServiceAccountRights =
///     serde_json::from_str(r#"{"canCreateVaults": true}"#).unwrap();
/// assert!(rights.can_create_vaults);
/// assert!(serde_json::from_str::<sesame_core::model::ServiceAccountRights>("{}").is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountRights {
    /// May it create vaults (of which it is then the manager)?
    pub can_create_vaults: bool,
}

/// The largest read or write budget per window a principal can be given.
///
/// ```
/// assert_eq!(sesame_core::model::MAX_RATE_LIMIT, 1_000_000_000);
/// ```
pub const MAX_RATE_LIMIT: u64 = 1_000_000_000;

/// A principal's own rate limits, set by the owner (`PUT /v1/principals/{id}/rate-limit`).
///
/// `null` (or a missing key) means the server's default budget. A request replaces both
/// budgets: `{"reads": null, "writes": null}` removes the override.
///
/// ```
/// let settings: sesame_core::model::RateLimitSettings =
///     serde_json::from_str(r#"{"reads": null, "writes": 100}"#).unwrap();
/// assert_eq!((settings.reads, settings.writes), (None, Some(100)));
/// assert!(serde_json::from_str::<sesame_core::model::RateLimitSettings>(r#"{"write": 1}"#).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Read requests per window, 1 to [`MAX_RATE_LIMIT`]; `None`: the server default.
    #[serde(default)]
    pub reads: Option<u64>,
    /// Write requests per window, 1 to [`MAX_RATE_LIMIT`]; `None`: the server default.
    #[serde(default)]
    pub writes: Option<u64>,
}

/// A principal's rate limits: its own settings and the budgets that apply to it.
///
/// ```
/// let json = r#"{"principalId": "aaaaaaaaaaaaaaaaaaaaaaaaaa", "reads": null, "writes": 5,
///     "effectiveReads": 100000, "effectiveWrites": 5, "windowSeconds": 3600}"#;
/// let limits: sesame_core::model::PrincipalRateLimit = serde_json::from_str(json).unwrap();
/// assert_eq!(limits.effective_writes, 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PrincipalRateLimit {
    /// The principal.
    pub principal_id: Id,
    /// Its own read budget, if the owner set one.
    pub reads: Option<u64>,
    /// Its own write budget, if the owner set one.
    pub writes: Option<u64>,
    /// Read requests it may make per window: `reads` or the server default.
    pub effective_reads: u64,
    /// Write requests it may make per window: `writes` or the server default.
    pub effective_writes: u64,
    /// The length of a window, in seconds (fixed windows).
    pub window_seconds: u64,
}

/// The server's rate-limit budget for this token, from the last response that carried it.
///
/// ```
/// let state = sesame_core::model::RateLimitState::default();
/// assert_eq!(state.remaining, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RateLimitState {
    /// Requests allowed per window (`X-RateLimit-Limit`).
    pub limit: u64,
    /// Requests left in this window (`X-RateLimit-Remaining`).
    pub remaining: u64,
    /// Time until the window resets, as of that response (`X-RateLimit-Reset`); whole
    /// seconds in JSON, as `resetSeconds`.
    #[serde(rename = "resetSeconds", with = "super::seconds")]
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub reset: Duration,
}
