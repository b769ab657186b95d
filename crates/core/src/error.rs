//! One error type for the whole client, with a stable machine-readable code.
//!
//! Every binding maps [`ErrorCode`] to its own idiom (a Python exception class, a JS
//! `.code`, a Go sentinel), so codes are part of the public contract: never rename one.
//! Messages are for people and may improve; they never contain a secret value.

use std::fmt;
use std::time::Duration;

use crate::reference::ReferenceError;
use crate::token::TokenError;

/// A `Result` whose error is [`sesame_core::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The stable code of an [`Error`], shared by every language binding.
///
/// ```
/// use sesame_core::ErrorCode;
/// assert_eq!(ErrorCode::InvalidReference.as_str(), "invalid_reference");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A secret reference is malformed.
    InvalidReference,
    /// A service account token is malformed.
    InvalidToken,
    /// An argument is out of range or malformed (recipes, TOTP secrets, ids, …).
    InvalidInput,
    /// The vault, item, section, field or file does not exist (or is not visible).
    NotFound,
    /// A name matched more than one vault, item, section or field.
    Ambiguous,
    /// The caller is authenticated but not allowed to do this.
    PermissionDenied,
    /// The token was rejected, revoked or has expired.
    Unauthenticated,
    /// Too many requests; retry later.
    RateLimited,
    /// A write lost an optimistic-concurrency race.
    Conflict,
    /// The server could not be reached or the connection failed.
    Network,
    /// The server failed.
    Server,
    /// Ciphertext failed authentication or decoded to something impossible.
    Integrity,
}

impl ErrorCode {
    /// The code as the lowercase snake-case string every binding exposes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidReference => "invalid_reference",
            Self::InvalidToken => "invalid_token",
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::Ambiguous => "ambiguous",
            Self::PermissionDenied => "permission_denied",
            Self::Unauthenticated => "unauthenticated",
            Self::RateLimited => "rate_limited",
            Self::Conflict => "conflict",
            Self::Network => "network",
            Self::Server => "server",
            Self::Integrity => "integrity",
        }
    }

    /// Every code, in declaration order (for bindings that generate their error classes).
    pub const ALL: [ErrorCode; 12] = [
        Self::InvalidReference,
        Self::InvalidToken,
        Self::InvalidInput,
        Self::NotFound,
        Self::Ambiguous,
        Self::PermissionDenied,
        Self::Unauthenticated,
        Self::RateLimited,
        Self::Conflict,
        Self::Network,
        Self::Server,
        Self::Integrity,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
        /// The kind of thing: `vault`, `item`, `section`, `field`, `file`.
        what: String,
        /// Which name or id, and where it was looked for.
        message: String,
    },

    /// A name matched several candidates; reference one of them by id instead.
    #[error("{what} {name:?} is ambiguous: it matches {} candidates ({}); reference it by id", candidates.len(), candidates.join(", "))]
    Ambiguous {
        /// The kind of thing: `vault`, `item`, `section`, `field`, `file`.
        what: String,
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

    /// An [`Error::Integrity`] failure.
    pub fn integrity(message: impl Into<String>) -> Self {
        Self::Integrity(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
        }
    }

    #[test]
    fn ambiguous_lists_candidates() {
        let err = Error::Ambiguous {
            what: "item".into(),
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
    }
}
