//! `sesame server …`: init, start, migrate, backup, audit verify.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use secrecy::ExposeSecret as _;
use sesame_server::ServerConfig;

/// The server subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ServerCommand {
    /// Create the account and its owner credential (once per database).
    #[command(
        after_help = "Example:\n  sesame server init --data-dir ./data --url https://sesame.example.com\n\n\
        The owner credential goes to DATA_DIR/owner.credential and, for this user's sesame\n\
        commands, to $XDG_CONFIG_HOME/sesame/credential (both mode 0600; never overwritten)."
    )]
    Init {
        #[command(flatten)]
        storage: StorageArgs,
        /// The URL clients reach the server at; it goes into the owner credential.
        #[arg(long, env = "SESAME_URL", default_value = "http://127.0.0.1:8787")]
        url: String,
        /// Where to write the owner credential (default: DATA_DIR/owner.credential).
        /// Created with mode 0600; an existing file is never overwritten.
        #[arg(long)]
        credential_file: Option<PathBuf>,
    },
    /// Serve the API until SIGTERM or SIGINT.
    #[command(after_help = "Examples:\n  sesame server start --data-dir ./data\n  \
        sesame server start --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem")]
    Start {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        serve: Box<ServeArgs>,
    },
    /// Apply pending database migrations. `start` applies them itself on SQLite; on
    /// PostgreSQL it only checks that the schema is current, so that the serving role
    /// needs no right to change the schema: run this with a role that has it.
    #[command(
        after_help = "Examples:\n  sesame server migrate --data-dir ./data\n  \
        SESAME_DATABASE_URL=postgres://sesame_admin@db.internal/sesame sesame server migrate"
    )]
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Copy the live SQLite database to a new file, consistently, while the server keeps
    /// serving.
    #[command(
        after_help = "Example:\n  sesame server backup --data-dir ./data --to /backups/sesame-$(date +%F).db\n\n\
        The copy (mode 0600) holds the database only: back up DATA_DIR/session.key and\n\
        DATA_DIR/blobs/ with it. Restore by pointing --database-url sqlite://FILE (or\n\
        DATA_DIR/sesame.db) at the copy beside the same session.key and blobs/.\n\
        PostgreSQL: use pg_dump --format=custom, or pg_basebackup with WAL archiving."
    )]
    Backup {
        #[command(flatten)]
        storage: StorageArgs,
        /// The backup file to create; refused if it exists.
        #[arg(long)]
        to: PathBuf,
    },
    /// Audit trail tools.
    #[command(after_help = "Example:\n  sesame server audit verify --data-dir ./data")]
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `sesame server audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the hash chain of the whole audit trail, its persisted head and the newest
    /// checkpoint the owner signed.
    #[command(after_help = "Example:\n  sesame server audit verify --data-dir ./data")]
    Verify {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// Where the configuration and the data are.
#[derive(Debug, Args)]
pub(crate) struct StorageArgs {
    /// A TOML configuration file (keys as in ServerConfig: listen, data_dir, …); flags
    /// and environment variables override it.
    #[arg(long, env = "SESAME_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the database and the owner credential [default: sesame-data].
    #[arg(long, env = "SESAME_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH, or postgres://USER:PASSWORD@HOST:PORT/DATABASE
    /// (password and port optional) for PostgreSQL, which any number of replicas may
    /// share (they also share DATA_DIR: the session key and file blobs)
    /// [default: DATA_DIR/sesame.db]. Prefer the
    /// environment variable for a URL with a password: other users of this machine can
    /// read a process's flags.
    #[arg(long, env = "SESAME_DATABASE_URL", hide_env_values = true)]
    database_url: Option<sesame_server::config::SecretText>,
}

/// How to serve.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8787].
    #[arg(long, env = "SESAME_LISTEN")]
    listen: Option<SocketAddr>,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, env = "SESAME_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "SESAME_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long, env = "SESAME_INSECURE")]
    insecure: bool,
    /// Read requests per principal per window [default: 100000].
    #[arg(long, env = "SESAME_RATE_LIMIT_READS", value_parser = crate::limits::number(1, sesame_core::api::MAX_RATE_LIMIT))]
    rate_limit_reads: Option<u64>,
    /// Write requests per principal per window [default: 10000].
    #[arg(long, env = "SESAME_RATE_LIMIT_WRITES", value_parser = crate::limits::number(1, sesame_core::api::MAX_RATE_LIMIT))]
    rate_limit_writes: Option<u64>,
    /// Session lifetime in seconds, 1 to 604800 (7 days) [default: 3600].
    #[arg(long, env = "SESAME_SESSION_TTL", value_parser = crate::limits::number(1_u64, 604_800))]
    session_ttl: Option<u64>,
    /// Requests without a valid credential (sign-ins, share links, bad sessions) per
    /// source address (IPv6: per /64) per minute [default: 600].
    #[arg(long, env = "SESAME_RATE_LIMIT_UNAUTHENTICATED", value_parser = crate::limits::number(1, sesame_core::api::MAX_RATE_LIMIT))]
    rate_limit_unauthenticated: Option<u64>,
    /// Seconds a client has to send a request's line and headers; also ends keep-alive
    /// connections that send no next request, 1 to 3600 [default: 10].
    #[arg(long, env = "SESAME_HEADER_READ_TIMEOUT", value_parser = crate::limits::number(1_u64, 3_600))]
    header_read_timeout: Option<u64>,
    /// Seconds a connection may pass with no bytes moving before it is closed, 1 to 86400 [default: 60].
    #[arg(long, env = "SESAME_IDLE_TIMEOUT", value_parser = crate::limits::number(1_u64, 86_400))]
    idle_timeout: Option<u64>,
    /// Open connections at most; over it, the quietest connection is closed to make room
    /// 1 to 1000000 [default: 1024]. Keep it below the open-file limit (ulimit -n).
    #[arg(long, env = "SESAME_MAX_CONNECTIONS", value_parser = crate::limits::number(1_u32, 1_000_000))]
    max_connections: Option<u32>,
    /// SMTP server that mails share recipients their one-time codes: smtps://HOST (TLS,
    /// port 465 by default), smtp+starttls://HOST (port 587 by default), or
    /// smtp://127.0.0.1:PORT (plain, loopback only).
    /// Without it, shares cannot be restricted to recipients.
    #[arg(long, env = "SESAME_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<sesame_server::config::SmtpUrl>,
    /// Sender of the code mails, e.g. "Sesame <sesame@example.com>".
    #[arg(long, env = "SESAME_SMTP_FROM")]
    smtp_from: Option<String>,
    /// SMTP user name (when not in --smtp-url).
    #[arg(long, env = "SESAME_SMTP_USERNAME")]
    smtp_username: Option<String>,
    /// SMTP password (when not in --smtp-url). Prefer the environment variable or the
    /// config file: other users of this machine can read a process's flags.
    #[arg(long, env = "SESAME_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<sesame_server::config::SecretText>,
    /// The URL people reach this server at, named in the code mails.
    #[arg(long, env = "SESAME_PUBLIC_URL")]
    public_url: Option<String>,
    /// Log lines for people (text) or one JSON object per line (json).
    #[arg(long, env = "SESAME_LOG_FORMAT", value_enum, default_value_t)]
    log_format: crate::logging::LogFormat,
}

impl ServerCommand {
    /// The log format the command asks for (only `start` has a choice).
    pub(crate) fn log_format(&self) -> crate::logging::LogFormat {
        match self {
            Self::Start { serve, .. } => serve.log_format,
            _ => crate::logging::LogFormat::default(),
        }
    }
}

impl StorageArgs {
    fn config(&self) -> Result<ServerConfig, String> {
        let mut config = match &self.config {
            Some(path) => ServerConfig::from_toml_file(path).map_err(|e| e.to_string())?,
            None => ServerConfig::default(),
        };
        if let Some(dir) = &self.data_dir {
            config.data_dir.clone_from(dir);
        }
        if let Some(url) = &self.database_url {
            config.database_url = Some(url.clone());
        }
        Ok(config)
    }
}

impl ServeArgs {
    fn apply(&self, config: &mut ServerConfig) {
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if self.tls_cert.is_some() {
            config.tls_cert.clone_from(&self.tls_cert);
        }
        if self.tls_key.is_some() {
            config.tls_key.clone_from(&self.tls_key);
        }
        config.insecure |= self.insecure;
        if let Some(n) = self.rate_limit_reads {
            config.rate_limit_reads = n;
        }
        if let Some(n) = self.rate_limit_writes {
            config.rate_limit_writes = n;
        }
        if let Some(n) = self.session_ttl {
            config.session_ttl_seconds = n;
        }
        if let Some(n) = self.rate_limit_unauthenticated {
            config.rate_limit_unauthenticated = n;
        }
        if let Some(n) = self.header_read_timeout {
            config.header_read_timeout_seconds = n;
        }
        if let Some(n) = self.idle_timeout {
            config.idle_timeout_seconds = n;
        }
        if let Some(n) = self.max_connections {
            config.max_connections = n as usize;
        }
        if self.smtp_url.is_some() {
            config.smtp_url.clone_from(&self.smtp_url);
        }
        if self.smtp_from.is_some() {
            config.smtp_from.clone_from(&self.smtp_from);
        }
        if self.smtp_username.is_some() {
            config.smtp_username.clone_from(&self.smtp_username);
        }
        if self.smtp_password.is_some() {
            config.smtp_password.clone_from(&self.smtp_password);
        }
        if self.public_url.is_some() {
            config.public_url.clone_from(&self.public_url);
        }
    }
}

pub(crate) async fn run(command: ServerCommand) -> Result<ExitCode, String> {
    match command {
        ServerCommand::Init {
            storage,
            url,
            credential_file,
        } => init(&storage.config()?, &url, credential_file).await,
        ServerCommand::Start { storage, serve } => {
            let mut config = storage.config()?;
            serve.apply(&mut config);
            start(config).await
        }
        ServerCommand::Migrate { storage } => {
            let config = storage.config()?;
            let count = sesame_server::migrate(&config)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "database {} is up to date ({count} migrations)",
                config.database().map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        ServerCommand::Backup { storage, to } => {
            let config = storage.config()?;
            sesame_server::backup(&config, &to)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "backed up the database to {} (mode 0600). Keep it with copies of {} and {}: \
                 the session key and the file blobs are not in the database",
                to.display(),
                config.data_dir.join("session.key").display(),
                config.blob_dir().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ServerCommand::Audit {
            command: AuditCommand::Verify { storage },
        } => {
            let report = sesame_server::verify_audit(&storage.config()?)
                .await
                .map_err(|e| e.to_string())?;
            match report.first_broken {
                None => {
                    let signed = report.signed_through.map_or_else(
                        || "no checkpoint signed by the owner yet".to_owned(),
                        |seq| format!("the owner's newest checkpoint is at event {seq}"),
                    );
                    println!(
                        "audit trail intact: {} events, matching the persisted head; {signed}. \
                         (This checks the database against itself; the owner's `sesame events` \
                         checks it against the owner's signatures.)",
                        report.events
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, why)) => {
                    println!(
                        "audit trail BROKEN at event {seq}: {why} ({} events before it are intact)",
                        report.events
                    );
                    Ok(ExitCode::from(crate::exit::Kind::Integrity as u8))
                }
            }
        }
    }
}

async fn init(
    config: &ServerConfig,
    url: &str,
    credential_file: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let path = credential_file.unwrap_or_else(|| config.data_dir.join("owner.credential"));
    if sesame_server::is_initialized(config)
        .await
        .map_err(|e| e.to_string())?
    {
        return Err(sesame_server::ServerError::AlreadyInitialized(
            config.database().map_err(|e| e.to_string())?.to_string(),
        )
        .to_string());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    // Claim the file before creating the account, so a credential is never lost to an
    // unwritable path and an existing one is never overwritten.
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists; refusing to overwrite a credential. Move it away or pass \
                 --credential-file",
                path.display()
            )
        } else {
            format!("cannot create {}: {e}", path.display())
        }
    })?;
    let outcome = match sesame_server::init(config, url).await {
        Ok(outcome) => outcome,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(e.to_string());
        }
    };
    let token = outcome.owner_token.to_secret_string();
    file.write_all(token.expose_secret().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| {
            format!(
                "cannot write the owner credential to {}: {e}",
                path.display()
            )
        })?;
    // So that `sesame` on this machine works without further setup.
    let saved = crate::credential::save(&token);
    let data_dir = config.data_dir.display();
    println!("Initialized account {}.", outcome.account_id);
    println!(
        "The owner credential is in {} (mode 0600). It grants full control of the account:",
        path.display()
    );
    println!("keep it secret, never commit it, and back it up somewhere safe.");
    match saved {
        Ok(saved) => println!(
            "It is also saved to {} (mode 0600), where sesame commands find it.",
            saved.display()
        ),
        Err(why) => println!(
            "It was not saved to the config directory ({why}); pass --token-file {}.",
            path.display()
        ),
    }
    println!();
    println!("Start the server:   sesame server start --data-dir {data_dir}");
    println!(
        "Use the credential: export SESAME_SERVICE_ACCOUNT_TOKEN=\"$(cat {})\"",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn start(config: ServerConfig) -> Result<ExitCode, String> {
    let server = sesame_server::spawn(config)
        .await
        .map_err(|e| e.to_string())?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {}", server.url())
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    let handle = server.handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        handle.shutdown();
    });
    server.wait().await.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
