//! Server configuration: where to listen, where the data lives, TLS, rate limits, sessions,
//! and the SMTP server that mails share recipients their one-time codes.
//!
//! The command line fills a [`ServerConfig`] from flags, `SESAME_…` environment variables
//! and an optional TOML file (the file's keys are the field names below).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::ServerError;
use crate::mail::{MailSettings, SmtpConfig};

pub use crate::mail::SmtpUrl;

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Everything the server needs to run.
///
/// ```
/// let config = sesame_server::ServerConfig::default();
/// assert_eq!(config.listen.to_string(), "127.0.0.1:8787");
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the SQLite database (`sesame.db`), the session key file and file
    /// blobs. Replicas of one PostgreSQL deployment share it (a shared volume): the session
    /// key must be the same everywhere, and a file uploaded through one replica is read
    /// through another.
    pub data_dir: PathBuf,
    /// Database URL; overrides `data_dir` for the database: `sqlite://PATH` or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`. `Debug` hides it (it may hold a
    /// password).
    pub database_url: Option<SecretText>,
    /// PEM certificate chain for TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address.
    pub insecure: bool,
    /// Read requests each principal may make per window.
    pub rate_limit_reads: u64,
    /// Write requests each principal may make per window.
    pub rate_limit_writes: u64,
    /// Length of a rate-limit window, in seconds (fixed windows).
    pub rate_limit_window_seconds: u64,
    /// How long a session lasts, in seconds.
    pub session_ttl_seconds: u64,
    /// Largest request body, in bytes (JSON requests; file uploads have their own limit).
    pub max_body_bytes: usize,
    /// Largest file, in plaintext bytes (default 1 GiB). An upload whose `Content-Length`
    /// exceeds its encrypted size is refused with `413` before the body is read.
    pub max_file_bytes: u64,
    /// How long an uploaded file may wait for an item version to reference it before the
    /// collector deletes it, in seconds (default 1 hour).
    pub upload_grace_seconds: u64,
    /// The SMTP server that mails share recipients their one-time codes:
    /// `smtps://host[:465]` (implicit TLS), `smtp+starttls://host[:587]` (STARTTLS
    /// required), or `smtp://host:port` (plain, loopback hosts only: a local relay).
    /// Credentials may be in the URL (`smtps://user:password@host`, percent-encoded) or in
    /// `smtp_username`/`smtp_password`. Without it, shares cannot be restricted to
    /// recipients. `Debug` hides the URL's password.
    pub smtp_url: Option<SmtpUrl>,
    /// The sender of the code mails, e.g. `Sesame <sesame@example.com>` (required with
    /// `smtp_url`).
    pub smtp_from: Option<String>,
    /// The SMTP user name, when not in `smtp_url`.
    pub smtp_username: Option<String>,
    /// The SMTP password, when not in `smtp_url`. `Debug` hides it.
    pub smtp_password: Option<SecretText>,
    /// The URL people reach this server at (e.g. `https://sesame.example.com`), named in
    /// the code mails so a recipient knows which server asked; optional.
    pub public_url: Option<String>,
    /// Requests without a valid credential (`POST /v1/auth`, share links, and requests
    /// whose session is missing or bad) each source address may make per minute
    /// (default 600; IPv6 sources count per /64). Over it: `429` before any other work.
    pub rate_limit_unauthenticated: u64,
    /// Seconds a client has to send a request's line and headers, counted from when the
    /// connection is ready for a request (so it also ends keep-alive connections that
    /// send no next request); default 10.
    pub header_read_timeout_seconds: u64,
    /// Seconds a connection may pass with no bytes moving either way (a stalled upload, a
    /// client that stopped reading) before it is closed; default 60.
    pub idle_timeout_seconds: u64,
    /// Open connections at most (default 1024). A new connection over the cap closes the
    /// connection that has been quiet the longest, so new clients are still served. Keep
    /// it well below the process's open-file limit (`ulimit -n`).
    pub max_connections: usize,
}

/// Where a server keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// One SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL database, which any number of replicas may share.
    Postgres {
        /// The connection URL (`Debug` hides it: it may hold a password).
        url: SecretText,
        /// The database and its server, for messages (no credentials).
        name: String,
    },
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres { name, .. } => f.write_str(name),
        }
    }
}

/// A text that is a secret (a password): `Debug` shows `[redacted]`, the memory is wiped
/// on drop.
///
/// ```
/// let secret: sesame_server::config::SecretText = "hunter2".parse().unwrap();
/// assert_eq!(format!("{secret:?}"), "[redacted]");
/// assert_eq!(secret.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub struct SecretText(zeroize::Zeroizing<String>);

impl SecretText {
    /// The secret itself; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(zeroize::Zeroizing::new(text))
    }
}

impl std::str::FromStr for SecretText {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(zeroize::Zeroizing::new(text.to_owned())))
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            data_dir: PathBuf::from("sesame-data"),
            database_url: None,
            tls_cert: None,
            tls_key: None,
            insecure: false,
            rate_limit_reads: 100_000,
            rate_limit_writes: 10_000,
            rate_limit_window_seconds: 3600,
            session_ttl_seconds: 3600,
            max_body_bytes: 4 * 1024 * 1024,
            max_file_bytes: 1 << 30,
            upload_grace_seconds: 3600,
            smtp_url: None,
            smtp_from: None,
            smtp_username: None,
            smtp_password: None,
            public_url: None,
            rate_limit_unauthenticated: 600,
            header_read_timeout_seconds: 10,
            idle_timeout_seconds: 60,
            max_connections: 1024,
        }
    }
}

impl ServerConfig {
    /// A configuration read from a TOML file; missing keys take their defaults.
    ///
    /// # Errors
    ///
    /// [`ServerError::Config`] when the file cannot be read or has unknown or mistyped keys.
    pub fn from_toml_file(path: &Path) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ServerError::Config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        toml::from_str(&text)
            .map_err(|e| ServerError::Config(format!("config file {}: {e}", path.display())))
    }

    /// Checks the settings that can be checked without touching the network or disk.
    ///
    /// # Errors
    ///
    /// [`ServerError::Config`]: a non-loopback address without TLS and without `insecure`,
    /// only one of `tls_cert`/`tls_key`, a zero budget, TTL or body limit, SMTP settings
    /// that cannot work (see [`smtp_url`](Self::smtp_url)).
    pub fn validate(&self) -> Result<(), ServerError> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ServerError::Config(
                "TLS needs both --tls-cert and --tls-key (only one was given)".into(),
            ));
        }
        if !self.listen.ip().is_loopback() && !self.tls() && !self.insecure {
            return Err(ServerError::Config(format!(
                "refusing to listen on the non-loopback address {} without TLS: give \
                 --tls-cert and --tls-key, or --insecure if a proxy in front terminates TLS",
                self.listen
            )));
        }
        for (name, value) in [
            ("rate_limit_reads", self.rate_limit_reads),
            ("rate_limit_writes", self.rate_limit_writes),
            ("rate_limit_window_seconds", self.rate_limit_window_seconds),
            ("session_ttl_seconds", self.session_ttl_seconds),
            ("upload_grace_seconds", self.upload_grace_seconds),
            (
                "rate_limit_unauthenticated",
                self.rate_limit_unauthenticated,
            ),
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            ("idle_timeout_seconds", self.idle_timeout_seconds),
            ("max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ServerError::Config(format!("{name} must be at least 1")));
            }
        }
        if self.max_body_bytes < 1024 {
            return Err(ServerError::Config(
                "max_body_bytes must be at least 1024".into(),
            ));
        }
        if let Some(smtp) = self.smtp_config() {
            MailSettings::check(&smtp)?;
        } else if self.smtp_from.is_some()
            || self.smtp_username.is_some()
            || self.smtp_password.is_some()
        {
            return Err(ServerError::Config(
                "smtp_from, smtp_username and smtp_password need smtp_url (the SMTP server \
                 to send through)"
                    .into(),
            ));
        }
        self.database().map(|_| ())
    }

    /// Whether an SMTP server is configured, so shares may be restricted to recipients.
    pub fn smtp(&self) -> bool {
        self.smtp_url.is_some()
    }

    /// The SMTP settings as given, for the mailer to check; `None` without `smtp_url`.
    pub(crate) fn smtp_config(&self) -> Option<SmtpConfig<'_>> {
        Some(SmtpConfig {
            url: self.smtp_url.as_ref()?,
            from: self.smtp_from.as_deref(),
            username: self.smtp_username.as_deref(),
            password: self.smtp_password.as_ref().map(SecretText::expose),
            public_url: self.public_url.as_deref(),
        })
    }

    /// Whether TLS is configured.
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }

    /// The directory of file blobs: `<data-dir>/blobs`.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    /// The database this configuration uses.
    ///
    /// # Errors
    ///
    /// [`ServerError::Config`] for a database URL this version cannot use.
    pub fn database(&self) -> Result<Database, ServerError> {
        let Some(url) = &self.database_url else {
            return Ok(Database::Sqlite(self.data_dir.join("sesame.db")));
        };
        let url = url.expose();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(ServerError::Config(
                    "the database URL has no path: use sqlite://PATH/TO/sesame.db".into(),
                ));
            }
            Ok(Database::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let parsed = url::Url::parse(url).map_err(|e| {
                ServerError::Config(format!(
                    "the PostgreSQL database URL does not parse ({e}); use \
                     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
                ))
            })?;
            let database = parsed.path().trim_start_matches('/');
            if parsed.host_str().is_none_or(str::is_empty) || database.is_empty() {
                return Err(ServerError::Config(
                    "the PostgreSQL database URL needs a host and a database name: \
                     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
                        .into(),
                ));
            }
            Ok(Database::Postgres {
                url: url.to_owned().into(),
                name: format!(
                    "PostgreSQL database {database} on {}:{}",
                    parsed.host_str().unwrap_or_default(),
                    parsed.port().unwrap_or(5432)
                ),
            })
        } else {
            Err(ServerError::Config(
                "the database URL must start with sqlite:// (e.g. \
                 sqlite:///var/lib/sesame/sesame.db) or postgres:// (e.g. \
                 postgres://sesame@db.internal/sesame)"
                    .into(),
            ))
        }
    }

    /// The SQLite database file this configuration uses.
    ///
    /// # Errors
    ///
    /// [`ServerError::Config`] for an unusable URL or a PostgreSQL database.
    pub fn database_path(&self) -> Result<PathBuf, ServerError> {
        match self.database()? {
            Database::Sqlite(path) => Ok(path),
            other @ Database::Postgres { .. } => {
                Err(ServerError::Config(format!("{other} is not a SQLite file")))
            }
        }
    }

    /// The rate-limit window.
    pub fn rate_limit_window(&self) -> Duration {
        Duration::from_secs(self.rate_limit_window_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_needs_tls_or_insecure() {
        let mut config = ServerConfig {
            listen: "0.0.0.0:8787".parse().unwrap(),
            ..ServerConfig::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("without TLS"), "{err}");
        config.insecure = true;
        assert!(config.validate().is_ok());
        config.insecure = false;
        config.tls_cert = Some("cert.pem".into());
        assert!(config.validate().is_err());
        config.tls_key = Some("key.pem".into());
        assert!(config.validate().is_ok());
    }

    #[test]
    fn database_urls() {
        let mut config = ServerConfig {
            data_dir: "/d".into(),
            ..ServerConfig::default()
        };
        assert_eq!(
            config.database().unwrap(),
            Database::Sqlite(PathBuf::from("/d/sesame.db"))
        );
        config.database_url = Some("sqlite:///x/y.db".to_owned().into());
        assert_eq!(
            config.database().unwrap(),
            Database::Sqlite(PathBuf::from("/x/y.db"))
        );
        config.database_url = Some("postgres://u:hunter2@db.internal/sesame".to_owned().into());
        let database = config.database().unwrap();
        assert_eq!(
            database.to_string(),
            "PostgreSQL database sesame on db.internal:5432"
        );
        assert!(!format!("{config:?} {database:?}").contains("hunter2"));
        config.database_url = Some("postgres://db.internal".to_owned().into());
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("needs a host and a database name"), "{err}");
        config.database_url = Some("mysql://db/x".to_owned().into());
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("postgres://"), "{err}");
    }

    #[test]
    fn toml_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nrate_limit_reads = 5\n").unwrap();
        let config = ServerConfig::from_toml_file(&path).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.rate_limit_reads, 5);
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        assert!(ServerConfig::from_toml_file(&path).is_err());
    }

    #[test]
    fn smtp_settings_come_from_toml_and_stay_out_of_debug() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "smtp_url = \"smtps://mailer:url-secret@mail.example.com\"\n\
             smtp_from = \"Sesame <sesame@example.com>\"\n\
             public_url = \"https://sesame.example.com\"\n",
        )
        .unwrap();
        let config = ServerConfig::from_toml_file(&path).unwrap();
        assert!(config.smtp() && config.validate().is_ok());
        assert!(ServerConfig::default().smtp_config().is_none());
        assert_eq!(
            config.smtp_url.as_ref().unwrap().expose(),
            "smtps://mailer:url-secret@mail.example.com"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("url-secret"), "{debug}");
        assert!(debug.contains("mail.example.com"), "{debug}");
        std::fs::write(
            &path,
            "smtp_url = \"smtp+starttls://mail.example.com\"\nsmtp_from = \"s@example.com\"\n\
             smtp_username = \"mailer\"\nsmtp_password = \"file-secret\"\n",
        )
        .unwrap();
        let config = ServerConfig::from_toml_file(&path).unwrap();
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("file-secret"));
        let without_url = ServerConfig {
            smtp_url: None,
            ..config
        };
        let err = without_url.validate().unwrap_err().to_string();
        assert!(err.contains("need smtp_url"), "{err}");
    }
}
