//! # sesame-server
//!
//! The Sesame server: an HTTP JSON API (the contract is [`sesame_core::api`]) over a store
//! of ciphertext. It enforces access (per-vault permission bits), keeps a hash-chained
//! audit trail and rate-limits each principal; it never sees a plaintext name, title,
//! field or note.
//!
//! | module | what it does |
//! |---|---|
//! | [`config`] | [`ServerConfig`]: listen address, data directory, TLS, limits, the SMTP server that mails share recipients their codes |
//! | [`store`] | the [`store::Store`] trait and its SQLite backend |
//! | [`audit`] | the audit hash chain and [`audit::verify`] |
//! | [`error`] | [`ApiError`] (request failures) and [`ServerError`] |
//!
//! ```no_run
//! # async fn run() -> Result<(), sesame_server::ServerError> {
//! let config = sesame_server::ServerConfig::default();
//! let init = sesame_server::init(&config, "http://127.0.0.1:8787").await?;
//! let server = sesame_server::spawn(config).await?;
//! println!("listening on {}", server.url());
//! server.shutdown().await?;
//! # drop(init);
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use sesame_core::api::PrincipalKind;
use sesame_core::crypto::{account_id_for, principal_certificate_message, PrincipalKeys};
use sesame_core::encoding::base64url_encode;
use sesame_core::id::Id;
use sesame_core::token::{ServiceAccountToken, TokenSecret};
use zeroize::Zeroizing;

mod access_cache;
pub mod audit;
mod auth;
mod clock;
pub mod config;
mod data_dir;
pub mod error;
mod listener;
mod mail;
mod metrics;
mod rate_limit;
mod routes;
pub mod store;
mod trust;
mod wire;

pub use clock::Clock;
pub use config::{Database, ServerConfig};
pub use error::{ApiError, ServerError};
pub use routes::{routes, OPENAPI};

use store::sqlite::SqliteStore;
use store::{EventRecord, NewPrincipal, Store};

/// The integration name the server records for its own actions.
const SERVER_INTEGRATION: &str = "sesame-server";

/// What [`init`] created.
#[derive(Debug)]
pub struct InitOutcome {
    /// The new account.
    pub account_id: Id,
    /// The owner's credential. Secret: store it, never log it (`Debug` is redacted).
    pub owner_token: ServiceAccountToken,
}

/// Opens the configured store as `$store` (a [`SqliteStore`] or a
/// [`PgStore`](store::postgres::PgStore)) and evaluates `$body` with it: the code after
/// is generic over [`Store`], and this is the one place that picks the backend.
/// `$migrate`: whether PostgreSQL pending migrations are applied (SQLite always applies
/// them: an embedded database has no separate schema owner).
macro_rules! with_store {
    ($config:expr, $migrate:expr, |$store:ident| $body:expr) => {
        match $config.database()? {
            Database::Sqlite(path) => {
                let $store = SqliteStore::open(&path).await?;
                $body
            }
            Database::Postgres { url, .. } => {
                let $store = store::postgres::connect(url.expose(), $migrate).await?;
                $body
            }
        }
    };
}

/// Runs `job` on the configured store and closes it.
macro_rules! with_store_closed {
    ($config:expr, $migrate:expr, |$store:ident| $job:expr) => {
        with_store!($config, $migrate, |$store| {
            let result = $job;
            $store.close().await;
            result
        })
    };
}

/// Creates the schema, the account, its session secret and the owner principal, whose
/// token (keys derived from it, server URL `server_url`) is returned and stored nowhere.
///
/// # Errors
///
/// [`ServerError::AlreadyInitialized`] when the database already has an account; other
/// variants when the configuration or database is unusable.
pub async fn init(config: &ServerConfig, server_url: &str) -> Result<InitOutcome, ServerError> {
    if config.data_dir.exists() {
        data_dir::check_private_dir(&config.data_dir)?;
    }
    with_store_closed!(config, true, |store| init_store(&store, config, server_url)
        .await)
}

async fn init_store<S: Store>(
    store: &S,
    config: &ServerConfig,
    server_url: &str,
) -> Result<InitOutcome, ServerError> {
    let path = config.database()?.to_string();
    if store.account().await?.is_some() {
        return Err(ServerError::AlreadyInitialized(path));
    }
    // The account id is the owner key's fingerprint: every token carries it, so every
    // client can check the owner key the server serves without trusting the server.
    let secret = TokenSecret::generate();
    let keys = PrincipalKeys::derive(&secret);
    let account_id = account_id_for(&keys.signing_public_key());
    let owner_id = Id::generate();
    let owner_token = ServiceAccountToken::from_parts(server_url, account_id, owner_id, secret)
        .map_err(|e| ServerError::Config(format!("server URL: {e}")))?;
    // Self-signed, so that the owner's encryption key is bound to the anchored signing key.
    let certificate = principal_certificate_message(
        &account_id,
        &owner_id,
        1,
        &keys.signing_public_key(),
        &keys.encryption_public_key(),
    );
    let owner = NewPrincipal {
        id: owner_id,
        name: "owner".to_owned(),
        kind: PrincipalKind::Owner,
        signing_public_key: base64url_encode(keys.signing_public_key()),
        encryption_public_key: base64url_encode(keys.encryption_public_key()),
        expires_at: None,
        certificate: base64url_encode(keys.sign(&certificate)),
        can_create_vaults: true,
    };
    let mut secret = Zeroizing::new(vec![0u8; data_dir::SESSION_KEY_LEN]);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    // The key goes to its own file, never into the database (point 5).
    data_dir::create_private_dir(&config.data_dir)?;
    let key_path = data_dir::session_key_path(&config.data_dir);
    data_dir::write_session_key(&key_path, &secret)?;
    let event = EventRecord {
        principal_id: Some(owner_id),
        action: "account.init".to_owned(),
        vault_id: None,
        item_id: None,
        outcome: "ok".to_owned(),
        integration_name: SERVER_INTEGRATION.to_owned(),
        integration_version: env!("CARGO_PKG_VERSION").to_owned(),
        requires: 0,
    };
    match store.initialize(&account_id, &[], &owner, &event).await {
        Ok(()) => Ok(InitOutcome {
            account_id,
            owner_token,
        }),
        Err(e) if e.code() == sesame_core::ErrorCode::Conflict => {
            Err(ServerError::AlreadyInitialized(path))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&key_path);
            Err(e.into())
        }
    }
}

/// Whether the configured database already has an account (creating the database if
/// needed).
///
/// # Errors
///
/// [`ServerError::Config`] for an unusable database URL, [`ServerError::Database`] when the
/// database cannot be reached, opened or migrated.
pub async fn is_initialized(config: &ServerConfig) -> Result<bool, ServerError> {
    let account = with_store_closed!(config, true, |store| store.account().await);
    Ok(account?.is_some())
}

/// Applies pending migrations; returns how many migrations the schema has.
///
/// # Errors
///
/// [`ServerError::Config`] for an unusable database URL, [`ServerError::Database`] when the
/// database cannot be reached, opened or migrated.
pub async fn migrate(config: &ServerConfig) -> Result<usize, ServerError> {
    with_store_closed!(config, true, |store| ());
    Ok(match config.database()? {
        Database::Sqlite(_) => store::sqlite::MIGRATOR.iter().count(),
        Database::Postgres { .. } => store::postgres::MIGRATOR.iter().count(),
    })
}

/// Walks the audit trail of the configured database; see [`audit::verify`].
///
/// # Errors
///
/// As [`migrate`], or when the trail cannot be read.
pub async fn verify_audit(config: &ServerConfig) -> Result<audit::ChainReport, ServerError> {
    with_store_closed!(config, false, |store| audit::verify(&store).await)
}

/// Writes an online, consistent copy of the configured SQLite database to the new file
/// `to` (mode `0600`) while a server may keep serving from it; see
/// [`SqliteStore::backup`]. The copy holds neither the session key file nor the file
/// blobs of the data directory (`session.key`, `blobs/`): back those up with it.
///
/// # Errors
///
/// [`ServerError::Config`] for a PostgreSQL database (back it up with PostgreSQL's own
/// tools) or an unusable URL, [`ServerError::Io`] when `to` exists or cannot be created,
/// [`ServerError::Database`] when the copy fails.
pub async fn backup(config: &ServerConfig, to: &std::path::Path) -> Result<(), ServerError> {
    let path = match config.database()? {
        Database::Sqlite(path) => path,
        Database::Postgres { .. } => {
            return Err(ServerError::Config(
                "`sesame server backup` copies a SQLite database; back up PostgreSQL with its \
                 own tools: `pg_dump --format=custom` for a logical backup, or \
                 `pg_basebackup` with WAL archiving for point-in-time recovery"
                    .into(),
            ))
        }
    };
    if !path.is_file() {
        return Err(ServerError::Config(format!(
            "there is no database at {} to back up",
            path.display()
        )));
    }
    let store = SqliteStore::open(&path).await?;
    let result = store.backup(to).await;
    store.close().await;
    result
}

/// The session key from its file; a key still in the database (made before the key file
/// existed) is moved to the file first, then blanked in the database.
async fn session_key<S: Store>(
    config: &ServerConfig,
    store: &S,
    in_database: Zeroizing<Vec<u8>>,
) -> Result<Zeroizing<Vec<u8>>, ServerError> {
    let path = data_dir::session_key_path(&config.data_dir);
    let in_file = data_dir::read_session_key(&path)?;
    let key = match (in_file, in_database.is_empty()) {
        (Some(key), true) => return Ok(key),
        (Some(key), false) => {
            if key.as_slice() != in_database.as_slice() {
                return Err(ServerError::Config(format!(
                    "the session key file {} and the key still in the database differ; \
                     restore the data directory and the database from the same backup",
                    path.display()
                )));
            }
            key
        }
        (None, false) => {
            data_dir::write_session_key(&path, &in_database)?;
            tracing::info!(path = %path.display(), "moved the session key out of the database");
            in_database
        }
        (None, true) => {
            return Err(ServerError::Config(format!(
                "the session key file {} is missing: without it no session or share code can \
                 be checked. Restore it from a backup of the data directory (it is kept \
                 apart from the database on purpose)",
                path.display()
            )))
        }
    };
    store.clear_session_secret().await?;
    Ok(key)
}

/// A server running in the background; stop it with [`shutdown`](Self::shutdown).
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Flushes what is still in memory to the store and closes it, once the server
    /// stopped.
    finish: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// The address the socket is bound to (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Stops accepting connections, lets requests in flight finish (up to 10 seconds) and
    /// closes the database.
    ///
    /// # Errors
    ///
    /// [`ServerError::Io`] when the server task failed.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.handle.graceful_shutdown(Some(Duration::from_secs(10)));
        self.wait().await
    }

    /// Waits until the server stops (after [`shutdown`](Self::shutdown) elsewhere, or a
    /// failure).
    ///
    /// # Errors
    ///
    /// [`ServerError::Io`] when the server task failed.
    pub async fn wait(self) -> Result<(), ServerError> {
        let result = self.task.await;
        self.finish.await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(ServerError::Io {
                what: "the server failed".into(),
                source,
            }),
            Err(join) => Err(ServerError::Io {
                what: "the server task ended abnormally".into(),
                source: std::io::Error::other(join.to_string()),
            }),
        }
    }

    /// A handle that can stop the server from another task.
    pub fn handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.handle.clone())
    }
}

/// Stops a [`RunningServer`] from anywhere (e.g. a signal handler).
#[derive(Debug, Clone)]
pub struct ShutdownHandle(axum_server::Handle);

impl ShutdownHandle {
    /// Starts a graceful shutdown (requests in flight get up to 10 seconds).
    pub fn shutdown(&self) {
        self.0.graceful_shutdown(Some(Duration::from_secs(10)));
    }
}

/// Validates the configuration, opens the initialized database, binds the socket and
/// serves in the background. The returned server is already accepting connections.
///
/// # Errors
///
/// [`ServerError::Config`] for an invalid configuration or unreadable TLS files,
/// [`ServerError::NotInitialized`] before `init`, [`ServerError::Io`] when the address
/// cannot be bound.
pub async fn spawn(config: ServerConfig) -> Result<RunningServer, ServerError> {
    spawn_with_clock(config, Clock::default()).await
}

/// [`spawn`] with a [`Clock`] the caller can move forward (share expiry), for tests.
///
/// # Errors
///
/// As [`spawn`].
pub async fn spawn_with_clock(
    config: ServerConfig,
    clock: Clock,
) -> Result<RunningServer, ServerError> {
    config.validate()?;
    if config.data_dir.exists() {
        data_dir::check_private_dir(&config.data_dir)?;
    }
    // Starting never changes a PostgreSQL schema: `sesame server migrate` does, with a
    // role that may (the serving role may lack DDL rights).
    with_store!(config, false, |store| serve(store, config, clock).await)
}

async fn serve<S: Store + Clone>(
    store: S,
    config: ServerConfig,
    clock: Clock,
) -> Result<RunningServer, ServerError> {
    let Some(account) = store.account().await? else {
        store.close().await;
        return Err(ServerError::NotInitialized(config.database()?.to_string()));
    };
    let session_secret = match session_key(&config, &store, account.session_secret).await {
        Ok(key) => key,
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            // reqwest (ring) and axum-server (aws-lc-rs) both link a rustls provider, so
            // rustls cannot pick one itself; an already installed default is fine too.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            Some(
                axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                    .await
                    .map_err(|e| {
                        ServerError::Config(format!(
                            "cannot load TLS certificate {} and key {}: {e}",
                            cert.display(),
                            key.display()
                        ))
                    })?,
            )
        }
        _ => None,
    };
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Io {
            what: format!("cannot listen on {}", config.listen),
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServerError::Io {
            what: "cannot configure the socket".into(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Io {
        what: "cannot read the bound address".into(),
        source,
    })?;
    let limiter = rate_limit::RateLimiter::new(
        config.rate_limit_reads,
        config.rate_limit_writes,
        config.rate_limit_window_seconds,
    );
    // Loaded once: the limiter keeps its copy current, so requests never query them.
    limiter.load(store.rate_limits().await?);
    let mailer = match config.smtp_config().map(|smtp| mail::Mailer::new(&smtp)) {
        None => None,
        Some(Ok(mailer)) => Some(Arc::new(mailer)),
        Some(Err(e)) => {
            store.close().await;
            return Err(e);
        }
    };
    let code_key = match routes::CodeKey::derive(&session_secret) {
        Ok(key) => key,
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    let failures = Arc::new(rate_limit::AuthFailures::default());
    let app = Arc::new(routes::App {
        store: store.clone(),
        account: account.id,
        sessions: auth::SessionKey::new(session_secret),
        mailer,
        code_key,
        limiter,
        sources: rate_limit::SourceLimiter::new(config.rate_limit_unauthenticated),
        failures: failures.clone(),
        metrics: metrics::Metrics::default(),
        access: access_cache::AccessCache::default(),
        config,
        clock,
    });
    // Background work, stopped when the server stops (before the store closes).
    let flusher = app.clone();
    let counter = app.clone();
    let sweeper = app.clone();
    let background = [
        tokio::spawn(async move {
            // Finished minutes of failed authentications go to the audit trail soon after
            // they end; the rest at shutdown.
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                flusher
                    .failures
                    .flush(&flusher.store, auth::unix_now(), false)
                    .await;
            }
        }),
        tokio::spawn(async move { rate_limit::sync(&counter.limiter, &counter.store).await }),
        tokio::spawn(async move { routes::sweep_orphans(&sweeper).await }),
    ];
    let smtp_on = app.mailer.is_some();
    let guard = listener::ConnectionGuard::new(
        listener::connection_cap(app.config.max_connections),
        Duration::from_secs(app.config.idle_timeout_seconds),
    );
    let header_read_timeout = Duration::from_secs(app.config.header_read_timeout_seconds);
    let service = routes::router(app).into_make_service_with_connect_info::<SocketAddr>();
    let tls_on = tls.is_some();
    let handle = axum_server::Handle::new();
    let task = match tls {
        Some(tls_config) => {
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls_config)
                .handshake_timeout(header_read_timeout)
                .acceptor(guard);
            let mut server = axum_server::from_tcp(listener)
                .acceptor(acceptor)
                .handle(handle.clone());
            server
                .http_builder()
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            tokio::spawn(async move { server.serve(service).await })
        }
        None => {
            let mut server = axum_server::from_tcp(listener)
                .acceptor(guard)
                .handle(handle.clone());
            server
                .http_builder()
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            tokio::spawn(async move { server.serve(service).await })
        }
    };
    tracing::info!(%addr, tls = tls_on, smtp = smtp_on, "listening");
    Ok(RunningServer {
        addr,
        tls: tls_on,
        handle,
        task,
        finish: Box::pin(async move {
            for task in background {
                task.abort();
            }
            failures.flush(&store, auth::unix_now(), true).await;
            store.close().await;
        }),
    })
}
