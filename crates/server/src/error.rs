//! Errors: [`ApiError`] is what a request fails with (a code and a message for people,
//! answered as [`api::ErrorBody`]); [`ServerError`] is what starting, initializing or
//! verifying the server fails with.

use std::fmt;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sesame_core::api;
use sesame_core::ErrorCode;

/// A failed request: answered with the status of its code and `{ "code", "message" }`.
///
/// Messages never hold a secret: no token, session, signature, key or ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    status: Option<u16>,
    retry_after: Option<u64>,
}

/// Marks an error response with its code, so the audit layer records the outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome(pub(crate) ErrorCode);

impl ApiError {
    /// An error with `code` and a message for people.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
            retry_after: None,
        }
    }

    /// `400 invalid_input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// `400 invalid_input` for the request field `field` (named as on the wire), with the
    /// reason the core's check of it gave.
    pub(crate) fn invalid_field(field: &str, err: &sesame_core::Error) -> Self {
        match err {
            sesame_core::Error::InvalidInput { message, .. } => {
                Self::invalid(format!("{field} {message}"))
            }
            other => Self::invalid(format!("{field}: {other}")),
        }
    }

    /// `404 not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// `409 conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// `403 permission_denied`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    /// `401 unauthenticated`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// `500 server`: the cause is logged, the caller only learns that the server failed.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            ErrorCode::Server,
            "the server failed to handle the request; it was logged, try again later",
        )
    }

    /// The vault answer for both a missing vault and one the caller has no grant on, so
    /// the two cannot be told apart.
    pub fn vault_not_found(vault: &sesame_core::id::Id) -> Self {
        Self::not_found(format!(
            "vault {vault} not found: it does not exist or this principal has no access to it"
        ))
    }

    /// `429 rate_limited` with `Retry-After`.
    pub(crate) fn rate_limited(message: impl Into<String>, retry_after: u64) -> Self {
        let mut err = Self::new(ErrorCode::RateLimited, message);
        err.retry_after = Some(retry_after);
        err
    }

    /// The same error answered with another HTTP status (e.g. `413` for `invalid_input`).
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status it is answered with.
    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.http_status())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        let full = match &err {
            // SQLITE_FULL (13): a write failed with ENOSPC, or the database hit its size limit.
            sqlx::Error::Database(db) => db.code().is_some_and(|code| code == "13"),
            sqlx::Error::Io(io) => is_storage_full(io),
            _ => false,
        };
        if full {
            tracing::error!(%err, "the data disk is full");
            return Self::storage_full();
        }
        Self::internal(format_args!("database: {err}"))
    }
}

/// Whether an I/O error means the disk (or the file size limit, or a quota) is full.
pub(crate) fn is_storage_full(err: &std::io::Error) -> bool {
    // ENOSPC, EFBIG and EDQUOT on Linux and the BSDs/macOS.
    const FULL: [i32; 3] = if cfg!(target_os = "linux") {
        [28, 27, 122]
    } else {
        [28, 27, 69]
    };
    err.kind() == std::io::ErrorKind::StorageFull
        || err.kind() == std::io::ErrorKind::FileTooLarge
        || err.raw_os_error().is_some_and(|code| FULL.contains(&code))
}

impl ApiError {
    /// `507`: the data disk is full. Nothing of the request was stored; everything stored
    /// before is intact, and the same request works again once there is space.
    pub(crate) fn storage_full() -> Self {
        Self::new(
            ErrorCode::Server,
            "the server's data disk is full, so nothing of this request was stored (everything \
             stored before is intact). The server's operator must free space on the disk of \
             its data directory; then retry the request as it is",
        )
        .with_status(507)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = api::ErrorBody {
            code: self.code.as_str().to_owned(),
            message: self.message,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(Outcome(self.code));
        response
    }
}

/// Why the server could not be initialized, started, migrated or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is invalid; the message says which setting and why.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// `init` ran on a database that already has an account.
    #[error("the server is already initialized (the database at {0} has an account); refusing to create a second owner. Use the existing owner credential, or point --data-dir at an empty directory")]
    AlreadyInitialized(String),
    /// The database has no account yet.
    #[error("the server is not initialized: run `sesame server init` first (database: {0})")]
    NotInitialized(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
    /// A file or socket failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A request-level failure outside a request (e.g. during init).
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<sqlx::Error> for ServerError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for ServerError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Self::Database(format!("migration failed: {err}"))
    }
}
