//! One error type for the whole client, with a stable machine-readable code.
//!
//! Every binding maps [`ErrorCode`] to its own idiom (a Python exception class, a JS
//! `.code`, a Go sentinel), so codes are part of the public contract: never rename one.
//! Messages are for people and may improve; they never contain a secret value.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::reference::ReferenceError;
use crate::token::TokenError;

/// A `Result` whose error is [`sesame_core::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Declares [`ErrorCode`] once: each code's variant, stable number and string, so the
/// three can never disagree. Numbers are for the C ABI and are never reused: a retired
/// code keeps its number reserved, and a new code takes the next free one.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $number:literal, $text:literal;)*) => {
        /// The stable code of an [`Error`], shared by every language binding.
        ///
        /// ```
        /// use sesame_core::ErrorCode;
        /// assert_eq!(ErrorCode::InvalidReference.as_str(), "invalid_reference");
        /// assert_eq!(ErrorCode::InvalidReference.number(), 1);
        /// assert_eq!(ErrorCode::from_name("not_found"), Some(ErrorCode::NotFound));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(u32)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant = $number,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order (for bindings that generate their error
            /// classes).
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];

            /// The code as the lowercase snake-case string every binding exposes.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            /// The code's stable number (the C ABI's status; 0 is success there).
            pub const fn number(self) -> u32 {
                self as u32
            }

            /// The code named `text` (as [`as_str`](Self::as_str) writes it), if any.
            pub fn from_name(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// What the code means, for generated documentation.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($($doc),*).trim_ascii(),)*
                }
            }
        }
    };
}

error_codes! {
    /// A secret reference is malformed.
    InvalidReference = 1, "invalid_reference";
    /// A service account token is malformed.
    InvalidToken = 2, "invalid_token";
    /// An argument is out of range or malformed (recipes, TOTP secrets, ids, …).
    InvalidInput = 3, "invalid_input";
    /// The vault, item, section, field or file does not exist (or is not visible).
    NotFound = 4, "not_found";
    /// A name matched more than one vault, item, section or field.
    Ambiguous = 5, "ambiguous";
    /// The caller is authenticated but not allowed to do this.
    PermissionDenied = 6, "permission_denied";
    /// The token was rejected, revoked or has expired.
    Unauthenticated = 7, "unauthenticated";
    /// Too many requests; retry later.
    RateLimited = 8, "rate_limited";
    /// A write lost an optimistic-concurrency race.
    Conflict = 9, "conflict";
    /// The server could not be reached or the connection failed.
    Network = 10, "network";
    /// The server failed.
    Server = 11, "server";
    /// Ciphertext failed authentication or decoded to something impossible.
    Integrity = 12, "integrity";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The [`as_str`](ErrorCode::as_str) strings that `Serialize` writes, each a `const` with
/// its [`description`](ErrorCode::description).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for ErrorCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::ErrorCode").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<serde_json::Value> = ErrorCode::ALL
            .iter()
            .map(|code| {
                serde_json::json!({
                    "type": "string",
                    "const": code.as_str(),
                    "description": code.description(),
                })
            })
            .collect();
        schemars::json_schema!({
            "description": "The stable code of an error, shared by every language binding.",
            "oneOf": codes,
        })
    }
}

/// The kind of thing an error is about: what was not found, or what a name matched more
/// than one of.
///
/// ```
/// use sesame_core::error::Resource;
/// assert_eq!(Resource::Vault.as_str(), "vault");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Resource {
    /// A vault.
    Vault,
    /// An item.
    Item,
    /// A section of an item.
    Section,
    /// A field of an item.
    Field,
    /// A file attached to an item, or a document's content.
    File,
    /// A principal: the owner or a service account.
    Principal,
    /// An item share (a link).
    Share,
    /// The account's share policy.
    SharePolicy,
    /// Audit events.
    Events,
    /// A server endpoint (a server too old or misconfigured for a call).
    Endpoint,
}

impl Resource {
    /// The kind as the lowercase word messages and bindings use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Vault => "vault",
            Self::Item => "item",
            Self::Section => "section",
            Self::Field => "field",
            Self::File => "file",
            Self::Principal => "principal",
            Self::Share => "share",
            Self::SharePolicy => "share policy",
            Self::Events => "events",
            Self::Endpoint => "endpoint",
        }
    }
}

impl PartialEq<str> for Resource {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Resource {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The machine-readable facts of an [`Error`], beside its code and message: what every
/// binding puts on its exception, and what the call envelope carries. Fields that do not
/// apply are absent (`None`, empty).
///
/// ```
/// use sesame_core::reference::validate;
/// let err = sesame_core::Error::from(validate("op://Infra//password").unwrap_err());
/// let details = err.details();
/// let reference = details.reference.unwrap();
/// assert_eq!((reference.kind, reference.segment, reference.offset), ("empty_segment", "item", 11));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorDetails {
    /// What kind of thing was not found or is ambiguous.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// The name that matched nothing, or more than one candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ids of every candidate an ambiguous name matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// The argument that was malformed or out of range (`recipe.length`, `timeout`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
    /// How long the server asked the caller to wait before retrying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// Where and why a secret reference is malformed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceErrorDetails>,
    /// Why a service account token is malformed (its stable kind, e.g. `bad_checksum`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<&'static str>,
    /// The HTTP status of the server's answer the error came from. [`Error::details`]
    /// cannot know it; [`Error::details_with`] adds it from
    /// [`with_http_failure`](crate::client::with_http_failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// The server's id of the request the error came from (its `x-request-id`), to
    /// quote when reporting a problem (the server logs its failures with it); filled like
    /// `status_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Where and why a secret reference is malformed (see [`ReferenceError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReferenceErrorDetails {
    /// The stable kind, e.g. `empty_segment`.
    pub kind: &'static str,
    /// The byte offset in the reference at fault.
    pub offset: usize,
    /// The segment at fault: `scheme`, `vault`, `item`, `section`, `field` or `query`.
    pub segment: &'static str,
    /// What to write instead.
    pub hint: &'static str,
}

/// Everything that can go wrong in `sesame-core`.
///
/// Match on [`Error::code`] for behaviour; display the error for people.
///
/// ```
/// use sesame_core::{Error, ErrorCode};
/// let err = Error::invalid_input("recipe.length", "must be between 8 and 100, got 3");
/// assert_eq!(err.code(), ErrorCode::InvalidInput);
/// assert_eq!(err.to_string(), "invalid recipe.length: must be between 8 and 100, got 3");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A malformed secret reference, with the offending offset, segment and a hint.
    #[error(transparent)]
    InvalidReference(#[from] ReferenceError),

    /// A malformed service account token. Never includes the token itself.
    #[error(transparent)]
    InvalidToken(#[from] TokenError),

    /// An argument was malformed or out of range.
    #[error("invalid {what}: {message}")]
    InvalidInput {
        /// Which argument, e.g. `recipe.length` or `totp.secret`.
        what: String,
        /// What was wrong and what is allowed.
        message: String,
    },

    /// Something named by the caller does not exist or is not visible to them.
    #[error("{what} not found: {message}")]
    NotFound {
        /// The kind of thing.
        what: Resource,
        /// The name or id that matched nothing, when there was one.
        name: Option<String>,
        /// Which name or id, and where it was looked for.
        message: String,
    },

    /// A name matched several candidates; reference one of them by id instead.
    #[error("{what} {name:?} is ambiguous: it matches {} candidates ({}); reference it by id", candidates.len(), candidates.join(", "))]
    Ambiguous {
        /// The kind of thing.
        what: Resource,
        /// The name that matched more than once.
        name: String,
        /// The ids of every match.
        candidates: Vec<String>,
    },

    /// The caller may not perform this operation.
    #[error("permission denied: {0}")]
    PermissionDenied(String),

    /// The credentials were rejected.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),

    /// The server's rate limit was hit.
    #[error("rate limited: retry after {}s", retry_after.map_or(0, |d| d.as_secs()))]
    RateLimited {
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
    },

    /// A write was based on a stale version.
    #[error("conflict: {0}")]
    Conflict(String),

    /// The network failed.
    #[error("network error: {0}")]
    Network(String),

    /// The server failed.
    #[error("server error: {0}")]
    Server(String),

    /// Ciphertext failed to authenticate or decrypted to malformed data.
    #[error("integrity check failed: {0}")]
    Integrity(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidReference(_) => ErrorCode::InvalidReference,
            Self::InvalidToken(_) => ErrorCode::InvalidToken,
            Self::InvalidInput { .. } => ErrorCode::InvalidInput,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::Ambiguous { .. } => ErrorCode::Ambiguous,
            Self::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Network(_) => ErrorCode::Network,
            Self::Server(_) => ErrorCode::Server,
            Self::Integrity(_) => ErrorCode::Integrity,
        }
    }

    /// An [`Error::InvalidInput`] for the argument `what`.
    pub fn invalid_input(what: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            what: what.into(),
            message: message.into(),
        }
    }

    /// An [`Error::NotFound`] for a `what`, with a message saying which and where.
    pub fn not_found(what: Resource, message: impl Into<String>) -> Self {
        Self::NotFound {
            what,
            name: None,
            message: message.into(),
        }
    }

    /// The facts of this error as data, for bindings and the call envelope.
    pub fn details(&self) -> ErrorDetails {
        let mut details = ErrorDetails::default();
        match self {
            Self::InvalidReference(e) => {
                details.reference = Some(ReferenceErrorDetails {
                    kind: e.kind().code(),
                    offset: e.offset(),
                    segment: e.segment().as_str(),
                    hint: e.hint(),
                });
            }
            Self::InvalidToken(e) => details.token = Some(e.kind().code()),
            Self::InvalidInput { what, .. } => details.argument = Some(what.clone()),
            Self::NotFound { what, name, .. } => {
                details.resource = Some(*what);
                details.name.clone_from(name);
            }
            Self::Ambiguous {
                what,
                name,
                candidates,
            } => {
                details.resource = Some(*what);
                details.name = Some(name.clone());
                details.candidates = candidates.clone();
            }
            Self::RateLimited { retry_after } => {
                details.retry_after_seconds = retry_after.map(|d| d.as_secs());
            }
            _ => {}
        }
        details
    }

    /// An [`Error::Integrity`] failure.
    pub fn integrity(message: impl Into<String>) -> Self {
        Self::Integrity(message.into())
    }
}

/// An error as data: `{"code", "message", …details}` (see [`ErrorDetails`]), the shape of
/// every binding's error envelope. The message never contains a secret.
impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.envelope(self.details()).serialize(s)
    }
}

/// An error as the bindings send it: `code`, `message`, and the details beside them.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ErrorEnvelope {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong, for people (never a secret).
    pub message: String,
    /// The facts that apply.
    #[serde(flatten)]
    pub details: ErrorDetails,
}

impl Error {
    /// [`details`](Self::details), with the status and request id of the HTTP answer the
    /// error came from when `http` (from
    /// [`with_http_failure`](crate::client::with_http_failure)) says which.
    pub fn details_with(&self, http: Option<&crate::client::HttpFailure>) -> ErrorDetails {
        let mut details = self.details();
        if let Some(http) = http {
            details.status_code = Some(http.status);
            details.request_id.clone_from(&http.request_id);
        }
        details
    }

    /// The envelope `Serialize` writes, with `details`.
    pub fn envelope(&self, details: ErrorDetails) -> ErrorEnvelope {
        ErrorEnvelope {
            code: self.code(),
            message: self.to_string(),
            details,
        }
    }
}

/// The envelope `Serialize` writes: `code` and `message`, and beside them the
/// [`ErrorDetails`] fields that apply.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Error {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Error".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Error").into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        /// An error as data: its stable code, a message for people (never a secret) and
        /// the machine-readable details that apply.
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Envelope {
            /// The stable code.
            code: ErrorCode,
            /// What went wrong, for people.
            message: String,
            #[serde(flatten)]
            details: ErrorDetails,
        }
        Envelope::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        let mut numbers = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(numbers.insert(code.number()) && code.number() > 0, "{s}");
            assert_eq!(ErrorCode::from_name(s), Some(code));
            assert!(!code.description().is_empty());
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
        }
    }

    #[test]
    fn ambiguous_lists_candidates() {
        let err = Error::Ambiguous {
            what: Resource::Item,
            name: "db".into(),
            candidates: vec!["a".repeat(26), "b".repeat(26)],
        };
        assert_eq!(err.code(), ErrorCode::Ambiguous);
        let text = err.to_string();
        assert!(
            text.contains(&"a".repeat(26)) && text.contains(&"b".repeat(26)),
            "{text}"
        );
        assert!(text.contains("by id"), "{text}");
        let details = serde_json::to_value(err.details()).unwrap_or_default();
        assert_eq!(details["resource"], "item");
        assert_eq!(details["name"], "db");
        assert_eq!(details["candidates"][1], "b".repeat(26));
    }

    #[test]
    fn numbers_are_stable() {
        // Published in the C header: changing one breaks every compiled Go program.
        let numbers: Vec<(&str, u32)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.number()))
            .collect();
        assert_eq!(
            numbers[..3],
            [
                ("invalid_reference", 1),
                ("invalid_token", 2),
                ("invalid_input", 3)
            ]
        );
        assert_eq!(ErrorCode::Integrity.number(), 12);
    }

    #[test]
    fn not_found_names_what_matched_nothing() {
        let err = Error::NotFound {
            what: Resource::Field,
            name: Some("pasword".into()),
            message: "no field \"pasword\" in item Postgres".into(),
        };
        let details = err.details();
        assert_eq!(
            (details.resource, details.name.as_deref()),
            (Some(Resource::Field), Some("pasword"))
        );
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let err = Error::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(err.details().retry_after_seconds, Some(7));
    }
}
