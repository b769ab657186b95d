//! Exit codes: one per kind of failure, so scripts can branch on them.
//!
//! [`EXIT_CODES`] is the one table: which core error codes give which exit code and what
//! each means. [`kind_of`] maps errors with it, and [`help`] prints it at the end of
//! `sesame --help`; a test checks that the README's table says the same.

use std::fmt;
use std::process::ExitCode;

use sesame_core::ErrorCode;

/// A kind of failure; its discriminant is its exit code.
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

/// One exit code: its kind, the core error codes that exit with it, and what it means.
#[derive(Debug)]
pub(crate) struct ExitCodeRow {
    pub(crate) kind: Kind,
    pub(crate) errors: &'static [ErrorCode],
    pub(crate) meaning: &'static str,
}

/// What success means, as the tables show it.
const SUCCESS: &str = "success";

/// Every failure exit code, in order. A core error code listed nowhere (a new one)
/// exits with [`Kind::Other`].
pub(crate) const EXIT_CODES: [ExitCodeRow; 8] = [
    ExitCodeRow {
        kind: Kind::Other,
        errors: &[ErrorCode::RateLimited, ErrorCode::Server],
        meaning: "other failure (server error, rate limit, local I/O)",
    },
    ExitCodeRow {
        kind: Kind::Usage,
        errors: &[
            ErrorCode::InvalidReference,
            ErrorCode::InvalidInput,
            ErrorCode::Ambiguous,
        ],
        meaning: "usage: bad arguments (a number, size or duration outside its range: the \
                  message names the range), malformed reference or template, ambiguous name",
    },
    ExitCodeRow {
        kind: Kind::NotFound,
        errors: &[ErrorCode::NotFound],
        meaning: "not found (vault, item, section, field, principal)",
    },
    ExitCodeRow {
        kind: Kind::PermissionDenied,
        errors: &[ErrorCode::PermissionDenied],
        meaning: "permission denied",
    },
    ExitCodeRow {
        kind: Kind::Authentication,
        errors: &[ErrorCode::Unauthenticated, ErrorCode::InvalidToken],
        meaning: "authentication: no credential found, a blank `SESAME_SERVICE_ACCOUNT_TOKEN` \
                  or empty `--token-file`, malformed or rejected token",
    },
    ExitCodeRow {
        kind: Kind::Network,
        errors: &[ErrorCode::Network],
        meaning: "network: the server could not be reached",
    },
    ExitCodeRow {
        kind: Kind::Conflict,
        errors: &[ErrorCode::Conflict],
        meaning: "conflict: a write lost a race with another writer",
    },
    ExitCodeRow {
        kind: Kind::Integrity,
        errors: &[ErrorCode::Integrity],
        meaning: "integrity: ciphertext or a signature failed verification, or the audit \
                  trail is broken (`sesame server audit verify`)",
    },
];

/// How `sesame run` exits instead.
pub(crate) const RUN_STATUS: &str = "`sesame run` exits with its command's status (128+N if \
                                     signal N killed it; 127 if the command was not found).";

/// Examples and the exit-code table, as shown at the end of `sesame --help`.
pub(crate) fn help() -> String {
    let mut text = "\
Examples:
  sesame read op://Infra/Postgres/password
  sesame run --env-file .env -- ./server
  sesame item get Postgres --vault Infra --references

Exit codes:
"
    .to_owned();
    text.push_str(&format!("  0  {SUCCESS}\n"));
    for row in &EXIT_CODES {
        text.push_str(&format!("  {}  {}\n", row.kind as u8, row.meaning));
    }
    text.push_str("  ");
    text.push_str(RUN_STATUS);
    text
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

/// The exit kind of a core error code, from [`EXIT_CODES`].
pub(crate) fn kind_of(code: ErrorCode) -> Kind {
    EXIT_CODES
        .iter()
        .find(|row| row.errors.contains(&code))
        .map_or(Kind::Other, |row| row.kind)
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
    fn every_core_code_has_one_documented_exit_code() {
        for &code in ErrorCode::ALL {
            let rows = EXIT_CODES
                .iter()
                .filter(|row| row.errors.contains(&code))
                .count();
            assert_eq!(rows, 1, "{code} is in {rows} rows");
            let kind = kind_of(code) as u8;
            assert!(help().contains(&format!("\n  {kind}  ")), "{code}");
        }
        for (i, row) in EXIT_CODES.iter().enumerate() {
            assert_eq!(usize::from(row.kind as u8), i + 1, "in exit-code order");
        }
        assert_eq!(kind_of(ErrorCode::NotFound), Kind::NotFound);
        assert_eq!(kind_of(ErrorCode::Network) as u8, 6);
        assert_eq!(kind_of(ErrorCode::Integrity) as u8, 8);
    }

    /// The README's table is this table.
    #[test]
    fn the_readme_shows_the_same_exit_codes() {
        let readme = include_str!("../../../README.md");
        let mut expected = vec![
            "| exit code | meaning |".to_owned(),
            "|---|---|".to_owned(),
            format!("| 0 | {SUCCESS} |"),
        ];
        expected.extend(
            EXIT_CODES
                .iter()
                .map(|row| format!("| {} | {} |", row.kind as u8, row.meaning)),
        );
        let start = readme
            .lines()
            .position(|l| l.starts_with("| exit code |"))
            .unwrap_or_default();
        let shown: Vec<&str> = readme.lines().skip(start).take(expected.len()).collect();
        assert_eq!(shown, expected);
        let after: String = readme
            .lines()
            .skip(start + expected.len() + 1)
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(after, RUN_STATUS);
    }
}
