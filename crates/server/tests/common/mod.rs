//! A real server on 127.0.0.1:0 over a temporary SQLite database, and helpers that drive
//! it over HTTP with real tokens and signatures.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

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
use tempfile::TempDir;

pub mod smtp_sink;

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
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
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

    /// A second connection to the running server's database, to inspect or tamper with it.
    pub async fn database(&self) -> sqlx::SqlitePool {
        let path = self.config.database_path().unwrap();
        sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    }

    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
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
