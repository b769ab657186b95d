//! A real server on 127.0.0.1:0 over a temporary database, and helpers that drive it over
//! HTTP with real tokens and signatures.
//!
//! The database is a SQLite file in the server's temporary data directory, or, when
//! `SESAME_TEST_POSTGRES` holds a PostgreSQL admin URL
//! (`postgres://postgres@127.0.0.1:54329/postgres`, see `make server-test-pg`), a fresh
//! PostgreSQL database per server, dropped with it. Tests reach the database through
//! [`TestServer::database`], an [`sqlx::AnyPool`] on either: their SQL uses `$1`-style
//! placeholders (which SQLite accepts too) and decodes integers as `i64`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sesame_core::api::{self, AuthRequest};
use sesame_core::crypto::{
    grant_message, principal_certificate_message, EnvelopeContext, VaultKey,
};
use sesame_core::id::Id;
use sesame_core::token::ServiceAccountToken;
use sesame_server::{RunningServer, ServerConfig};
use sqlx::Connection as _;
use tempfile::TempDir;

pub mod smtp_sink;

/// The environment variable holding the PostgreSQL admin URL that selects that backend.
pub const POSTGRES_ENV: &str = "SESAME_TEST_POSTGRES";

/// The PostgreSQL admin URL when the suite runs on PostgreSQL.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Whether the suite runs on PostgreSQL (`SESAME_TEST_POSTGRES` is set) rather than SQLite.
pub fn on_postgres() -> bool {
    postgres_admin_url().is_some()
}

/// A database of its own on the PostgreSQL cluster, for one [`TestServer`]; dropped with
/// it ([`PgDatabase::drop_database`], or best-effort on `Drop`).
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
    dropped: bool,
}

impl PgDatabase {
    /// Creates `sesame_t_<random>` through the admin URL.
    pub async fn create(admin_url: &str) -> Self {
        use rand::Rng as _;
        let mut rng = rand::rngs::OsRng;
        let suffix: String = (0..16)
            .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
            .collect();
        let name = format!("sesame_t_{suffix}");
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin_url}: cannot connect: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        admin.close().await.unwrap();
        let mut url = url::Url::parse(admin_url)
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin_url}: not a URL: {e}"));
        url.set_path(&format!("/{name}"));
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
            dropped: false,
        }
    }

    /// Drops the database, closing whatever connections still use it.
    pub async fn drop_database(&mut self) {
        if !self.dropped {
            self.dropped = true;
            if let Err(e) = drop_pg_database(&self.admin_url, &self.name).await {
                eprintln!("could not drop test database {}: {e}", self.name);
            }
        }
    }
}

async fn drop_pg_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await
}

impl Drop for PgDatabase {
    /// Best effort, from a thread of its own (no `await` in `drop`): a test that panicked
    /// or never called [`TestServer::shutdown`] leaves no database behind either.
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        self.dropped = true;
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(drop_pg_database(&admin_url, &name)).err()
        });
        if let Ok(Some(e)) = dropper.join() {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

pub struct TestServer {
    pub dir: TempDir,
    pub server: Option<RunningServer>,
    pub base: String,
    pub owner: ServiceAccountToken,
    pub account: Id,
    pub http: reqwest::Client,
    pub config: ServerConfig,
    /// The server's clock (share expiry); tests move it forward.
    pub clock: sesame_server::Clock,
    /// The server's PostgreSQL database (`None` on SQLite).
    pub postgres: Option<PgDatabase>,
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    // The server refuses a data directory other users can reach.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut config = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..ServerConfig::default()
    };
    let postgres = match postgres_admin_url() {
        Some(admin_url) => Some(PgDatabase::create(&admin_url).await),
        None => None,
    };
    config.database_url = postgres.as_ref().map(|db| db.url.clone().into());
    configure(&mut config);
    let init = sesame_server::init(&config, "http://127.0.0.1:8787")
        .await
        .unwrap();
    let clock = sesame_server::Clock::default();
    let server = sesame_server::spawn_with_clock(config.clone(), clock.clone())
        .await
        .unwrap();
    TestServer {
        base: server.url(),
        server: Some(server),
        dir,
        owner: init.owner_token,
        account: init.account_id,
        http: reqwest::Client::new(),
        config,
        clock,
        postgres,
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn b64(bytes: &[u8]) -> String {
    sesame_core::encoding::base64url_encode(bytes)
}

/// A correctly signed auth request for `token` at `timestamp`.
pub fn auth_request(token: &ServiceAccountToken, timestamp: u64) -> AuthRequest {
    let nonce = b64(&rand_bytes::<16>());
    let (name, version) = ("sesame-tests", "1.0.0");
    let message = api::auth_message(
        token.account_id(),
        token.principal_id(),
        timestamp,
        &nonce,
        name,
        version,
    );
    AuthRequest {
        account_id: *token.account_id(),
        principal_id: *token.principal_id(),
        timestamp,
        nonce,
        integration_name: name.into(),
        integration_version: version.into(),
        signature: b64(&token.keys().sign(&message)),
    }
}

pub fn rand_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A client holding one session.
#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub http: reqwest::Client,
    pub session: String,
    pub principal: Id,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

pub async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = http.request(method, url);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self, token: &ServiceAccountToken) -> Session {
        let reply = send(
            &self.http,
            Method::POST,
            &self.url("/v1/auth"),
            None,
            Some(serde_json::to_value(auth_request(token, now())).unwrap()),
        )
        .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        Session {
            base: self.base.clone(),
            http: self.http.clone(),
            session: reply.body["session"].as_str().unwrap().to_owned(),
            principal: *token.principal_id(),
        }
    }

    pub async fn owner(&self) -> Session {
        self.login(&self.owner).await
    }

    /// A new service account with `grants` (vault, key, permissions), made by `owner`.
    pub async fn service_account(
        &self,
        owner: &Session,
        grants: &[(&Id, &VaultKey, u32)],
    ) -> (ServiceAccountToken, Session) {
        let token =
            ServiceAccountToken::generate(&self.base, self.account, Id::generate()).unwrap();
        let reply = owner
            .post(
                "/v1/principals",
                create_principal_body(&self.owner, &token, "ci", grants),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let session = self.login(&token).await;
        (token, session)
    }

    /// Whether this server stores into PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A second connection to the server's database (SQLite file or PostgreSQL database),
    /// to inspect or tamper with it; also after the server stopped. SQL run on it must
    /// suit both: `$1` placeholders, integers decoded as `i64`, bytes as `Vec<u8>`.
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.postgres {
            Some(db) => db.url.clone(),
            None => format!(
                "sqlite://{}",
                self.config.database_path().unwrap().display()
            ),
        };
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    /// PostgreSQL only: every row of every table of the server's database as text (bytes
    /// as `\x` and hex digits), the counterpart of searching the SQLite files' bytes for
    /// something that must be stored nowhere.
    pub async fn postgres_rows(&self) -> Vec<String> {
        assert!(self.on_postgres(), "postgres_rows on SQLite");
        let db = self.database().await;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert!(tables.iter().any(|t| t == "audit_events"), "{tables:?}");
        let mut rows = Vec::new();
        for table in tables {
            let text: Vec<String> =
                sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" AS t"))
                    .fetch_all(&db)
                    .await
                    .unwrap();
            rows.extend(text.into_iter().map(|row| format!("{table}: {row}")));
        }
        db.close().await;
        rows
    }

    /// Stops the server (if it still runs) and drops its PostgreSQL database.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        if let Some(db) = &mut self.postgres {
            db.drop_database().await;
        }
    }
}

/// The owner's certificate (base64url) of `token`'s keys at `generation`.
pub fn certificate(
    owner: &ServiceAccountToken,
    token: &ServiceAccountToken,
    generation: u32,
) -> String {
    let keys = token.keys();
    let message = principal_certificate_message(
        owner.account_id(),
        token.principal_id(),
        generation,
        &keys.signing_public_key(),
        &keys.encryption_public_key(),
    );
    b64(&owner.keys().sign(&message))
}

/// `key` wrapped to `grantee` (at `generation`) and `granter`'s signature of the grant:
/// `(wrappedKey JSON, signature)`.
pub fn signed_wrap(
    granter: &ServiceAccountToken,
    key: &VaultKey,
    vault: &Id,
    grantee: &ServiceAccountToken,
    generation: u32,
) -> (Value, String) {
    let wrapped = key
        .wrap(
            &grantee.keys().encryption_public_key(),
            vault,
            grantee.principal_id(),
        )
        .unwrap();
    let message = grant_message(
        granter.account_id(),
        vault,
        grantee.principal_id(),
        generation,
        granter.principal_id(),
        &wrapped,
    );
    (
        serde_json::to_value(&wrapped).unwrap(),
        b64(&granter.keys().sign(&message)),
    )
}

/// The body of `POST /v1/principals` for `token`, certified by `owner`, whose grants the
/// owner wraps and signs.
pub fn create_principal_body(
    owner: &ServiceAccountToken,
    token: &ServiceAccountToken,
    name: &str,
    grants: &[(&Id, &VaultKey, u32)],
) -> Value {
    let keys = token.keys();
    json!({
        "id": token.principal_id(),
        "name": name,
        "signingPublicKey": b64(&keys.signing_public_key()),
        "encryptionPublicKey": b64(&keys.encryption_public_key()),
        "certificate": certificate(owner, token, 1),
        "grants": grants.iter().map(|(vault, key, permissions)| {
            let (wrapped, signature) = signed_wrap(owner, key, vault, token, 1);
            json!({
                "vaultId": vault,
                "permissions": permissions,
                "wrappedKey": wrapped,
                "signature": signature,
            })
        }).collect::<Vec<_>>(),
    })
}

impl Session {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        send(
            &self.http,
            method,
            &format!("{}{path}", self.base),
            Some(&self.session),
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a vault owned by this session's principal, whose encryption key is `keys`.
    pub async fn create_vault(&self, token: &ServiceAccountToken) -> (Id, VaultKey) {
        let vault = Id::generate();
        let key = VaultKey::generate();
        let attributes = key
            .seal(
                &EnvelopeContext::vault_attributes(*token.account_id(), vault, 1),
                br#"{"name":"Infra"}"#,
            )
            .unwrap();
        let (wrapped, signature) = signed_wrap(token, &key, &vault, token, 1);
        let reply = self
            .post(
                "/v1/vaults",
                json!({
                    "id": vault,
                    "attributes": b64(&attributes),
                    "wrappedKey": wrapped,
                    "signature": signature,
                }),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        (vault, key)
    }

    /// Creates an item with opaque overview/details bytes.
    pub async fn create_item(&self, vault: &Id, overview: &[u8], details: &[u8]) -> Reply {
        self.post(
            &format!("/v1/vaults/{vault}/items"),
            json!({
                "id": Id::generate(),
                "state": "active",
                "overview": b64(overview),
                "details": b64(details),
            }),
        )
        .await
    }
}
