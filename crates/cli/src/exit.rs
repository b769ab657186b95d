//! Exit codes: one per kind of failure, so scripts can branch on them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | any other failure (server error, rate limit, local I/O) |
//! | 2 | usage: bad arguments, a malformed reference or template, an ambiguous name |
//! | 3 | not found: vault, item, section, field or principal |
//! | 4 | permission denied |
//! | 5 | authentication: no credential, a blank one, a malformed or rejected token |
//! | 6 | network: the server could not be reached |
//! | 7 | conflict: a write lost a race with another writer |
//! | 8 | integrity: ciphertext or a signature failed verification, or the audit trail is broken |
//!
//! `sesame run` exits with its child's status instead (128 + N when a signal N killed it).

use std::fmt;
use std::process::ExitCode;

use sesame_core::ErrorCode;

/// Examples and the exit-code table, as shown at the end of `sesame --help`.
pub(crate) const HELP: &str = "\
Examples:
  sesame read op://Infra/Postgres/password
  sesame run --env-file .env -- ./server
  sesame item get Postgres --vault Infra --references

Exit codes:
  0  success
  1  other failure (server error, rate limit, local I/O)
  2  usage: bad arguments, malformed reference or template, ambiguous name
  3  not found (vault, item, section, field, principal)
  4  permission denied
  5  authentication: no credential found, a blank one, malformed or rejected token
  6  network: the server could not be reached
  7  conflict: a write lost a race with another writer
  8  integrity: ciphertext or a signature failed verification, or a broken audit trail
  `sesame run` exits with the command's status (128+N if signal N killed it).";

/// A kind of failure, with its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Other = 1,
    Usage = 2,
    NotFound = 3,
    PermissionDenied = 4,
    Authentication = 5,
    Network = 6,
    Conflict = 7,
    Integrity = 8,
}

/// A failure of a command: what to print and how to exit.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: Kind,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit kind of a core error code.
pub(crate) fn kind_of(code: ErrorCode) -> Kind {
    match code {
        ErrorCode::InvalidReference | ErrorCode::InvalidInput | ErrorCode::Ambiguous => Kind::Usage,
        ErrorCode::NotFound => Kind::NotFound,
        ErrorCode::PermissionDenied => Kind::PermissionDenied,
        ErrorCode::Unauthenticated | ErrorCode::InvalidToken => Kind::Authentication,
        ErrorCode::Network => Kind::Network,
        ErrorCode::Conflict => Kind::Conflict,
        ErrorCode::Integrity => Kind::Integrity,
        _ => Kind::Other,
    }
}

impl From<sesame_core::Error> for Failure {
    fn from(error: sesame_core::Error) -> Self {
        Self::new(kind_of(error.code()), error.to_string())
    }
}

/// `Result` of a command.
pub(crate) type CliResult<T = ()> = Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_maps_to_a_documented_kind() {
        for &code in ErrorCode::ALL {
            let kind = kind_of(code) as u8;
            assert!((1..=8).contains(&kind), "{code}");
            assert!(HELP.contains(&format!("  {kind}  ")), "{code}");
        }
        assert_eq!(kind_of(ErrorCode::NotFound), Kind::NotFound);
        assert_eq!(kind_of(ErrorCode::Network) as u8, 6);
        assert_eq!(kind_of(ErrorCode::Integrity) as u8, 8);
    }
}
