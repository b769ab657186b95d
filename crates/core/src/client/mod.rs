//! The networked client: authenticate with a service account token, then resolve secret
//! references and manage items, vaults and service accounts on a Sesame server.
//!
//! The shape mirrors the 1Password SDKs: [`Client::authenticate`], then
//! [`client.secrets()`](Client::secrets), [`client.items()`](Client::items),
//! [`client.vaults()`](Client::vaults) and
//! [`client.service_accounts()`](Client::service_accounts). The server only stores and
//! serves ciphertext; every name, title and value below is sealed and opened here.
//!
//! ```no_run
//! use sesame_core::{Client, ClientConfig};
//! # async fn run() -> sesame_core::Result<()> {
//! let token = std::env::var("SESAME_SERVICE_ACCOUNT_TOKEN").unwrap_or_default();
//! let client = Client::authenticate(token, ClientConfig::new("my-app", "1.0.0")).await?;
//! let password = client.secrets().resolve("op://Infra/Postgres/password").await?;
//! # drop(password); Ok(()) }
//! ```
//!
//! # Sealed formats
//!
//! Each part is UTF-8 JSON (camelCase keys) sealed with [`VaultKey::seal`](crate::crypto::VaultKey::seal) in the
//! [`EnvelopeContext`](crate::crypto::EnvelopeContext) named below, whose AAD binds account, vault, item, part and version:
//!
//! | part | JSON | context |
//! |---|---|---|
//! | vault attributes | `{"title", "description"}` | `vault_attributes(account, vault, attributeVersion)` |
//! | item overview | `{"title", "category", "tags", "websites", "createdAt", "updatedAt", "state"}` | `item_overview(account, vault, item, version)` |
//! | item details | `{"fields", "sections", "notes", "files", "document", "fileKeys"}` | `item_details(account, vault, item, version)` |
//! | file key (in `fileKeys`: `{"fileId", "key"}`, `key` base64url) | the file's 32-byte key | `file_key(account, vault, item, file)` |
//!
//! Values are shaped as the [`model`](crate::model) types serialize them (`fields` is a
//! list of [`ItemField`](crate::model::ItemField), `category` an
//! [`ItemCategory`](crate::model::ItemCategory) name, timestamps RFC 3339). The overview
//! also seals the item `state`, and the client rejects a record whose plaintext `state`
//! differs from the sealed one, so a server cannot un-archive an item unnoticed.
//!
//! A file's content is not in the details: it is a separate blob encrypted with the
//! file's key as a chunked stream (see [`crate::crypto`], "File streams", and the "Files"
//! section of [`crate::api`]); the details hold its name, size, id and sealed key.
//!
//! # Cache and sync
//!
//! The client keeps, per vault it can see: the unwrapped vault key, the decrypted
//! attributes, every item's decrypted overview and its still-sealed details (opened only
//! to answer a call). `POST /v1/sync` with one cursor per vault brings all of it up to
//! date in one round trip, which carries no ciphertext when nothing changed. A warm
//! [`resolve`](Secrets::resolve) is that one round trip; with
//! [`ClientConfig::cache_ttl`] set and the last sync younger than it, none. A vault the
//! principal lost access to is dropped from the cache.
//!
//! # Trust
//!
//! The client never takes a key on the server's word (see [`crate::crypto`], "Who may be
//! trusted"). At authentication it checks the owner key against the token's account id;
//! before wrapping a vault key to a principal it checks the owner's certificate of that
//! principal's keys; before using a vault key it checks the grant signature of whoever
//! wrapped it. Each failure is an [`Error::Integrity`], and the key is not used.
//!
//! # Transport
//!
//! Every call has a timeout ([`ClientConfig::timeout`]). Idempotent calls (GET, PUT with an
//! expected version, DELETE, batch-get and sync) are retried up to
//! [`ClientConfig::retries`] times on connection errors, `429` (after `Retry-After`, if it
//! is at most 10 s; a longer wait is returned as [`Error::RateLimited`]) and `5xx`, with
//! exponential backoff and full jitter. An expired session is renewed transparently.

mod audit;
mod cache;
mod files;
mod http_failure;
mod items;
mod lookup;
mod resolve;
mod sealed;
mod secrets;
mod service_accounts;
mod shares;
mod transport;
mod trust;
mod vaults;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{self, AuthRequest, AuthResponse};
use crate::crypto::PrincipalKeys;
use crate::encoding::base64url_encode;
use crate::model::{EventsPage, Principal, RateLimitState};
use crate::token::ServiceAccountToken;
use crate::Resource;
use crate::{Error, Result};

pub use files::{Files, OutputFile};
pub use http_failure::{with_http_failure, HttpFailure};
pub use items::Items;
pub use secrets::{ResolvedKind, Secrets};
pub use service_accounts::ServiceAccounts;
pub use shares::{open_share_link, open_share_link_with_code, request_share_code, Shares};
pub use vaults::Vaults;

use cache::Cache;
use transport::{Call, Reply, Retry, Transport};

pub use crate::api::{MAX_INTEGRATION_NAME_LEN, MAX_INTEGRATION_VERSION_LEN};
/// A session is renewed this long (or a tenth of its lifetime, if less) before the server
/// says it ends, so that a call never races its expiry.
const SESSION_MARGIN: Duration = Duration::from_secs(30);

/// How a [`Client`] identifies itself and talks to the server.
///
/// ```
/// use std::time::Duration;
/// use sesame_core::ClientConfig;
/// let config = ClientConfig {
///     cache_ttl: Some(Duration::from_secs(5)),
///     ..ClientConfig::new("deploy-bot", "2.1.0")
/// };
/// assert_eq!(config.timeout, Duration::from_secs(30));
/// assert_eq!(config.retries, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The name of the program using Sesame, recorded in the audit trail: 1 to
    /// [`MAX_INTEGRATION_NAME_LEN`] characters, ASCII letters, digits, spaces, `-`, `_` and
    /// `.`, starting with a letter or digit.
    pub integration_name: String,
    /// Its version: 1 to [`MAX_INTEGRATION_VERSION_LEN`] characters, ASCII letters,
    /// digits, `.`, `-`, `_` and `+`.
    pub integration_version: String,
    /// The server to use instead of the one in the token, e.g. `http://127.0.0.1:8787`.
    pub server_url: Option<String>,
    /// The limit on every HTTP call, connection included (default 30 s).
    pub timeout: Duration,
    /// How often an idempotent call is retried after a transient failure (default 3).
    pub retries: u32,
    /// Opt-in: skip the sync round trip while the last sync is younger than this, trading
    /// freshness for latency. `None` (the default) syncs on every read.
    pub cache_ttl: Option<Duration>,
}

impl ClientConfig {
    /// The defaults for an integration with this name and version.
    pub fn new(
        integration_name: impl Into<String>,
        integration_version: impl Into<String>,
    ) -> Self {
        Self {
            integration_name: integration_name.into(),
            integration_version: integration_version.into(),
            server_url: None,
            timeout: Duration::from_secs(30),
            retries: 3,
            cache_ttl: None,
        }
    }

    /// Checks the integration name and version, as the 1Password SDK does before it
    /// connects.
    ///
    /// ```
    /// use sesame_core::ClientConfig;
    /// assert!(ClientConfig::new("My App", "v1.0.0").validate().is_ok());
    /// let err = ClientConfig::new("", "1.0").validate().unwrap_err();
    /// assert!(err.to_string().contains("integration_name"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        crate::api::validate_integration(&self.integration_name, &self.integration_version)?;
        if self.timeout.is_zero() {
            return Err(Error::invalid_input("timeout", "must be longer than zero"));
        }
        Ok(())
    }
}

/// An authenticated connection to a Sesame server.
///
/// Cheap to clone (an [`Arc`] inside); clones share the session, cache and counters, and
/// every method may be called from many tasks at once. `Debug` never shows the token or
/// the session.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    token: ServiceAccountToken,
    keys: PrincipalKeys,
    transport: Transport,
    /// A tokio mutex: it is held across the authentication call, so that concurrent
    /// callers finding the session expired authenticate once.
    session: tokio::sync::Mutex<Option<Session>>,
    principal: std::sync::RwLock<Option<Principal>>,
    /// The server's largest accepted file in plaintext bytes, from authentication
    /// (`u64::MAX` when the server does not say).
    max_file_size: std::sync::atomic::AtomicU64,
    cache: std::sync::RwLock<Cache>,
    /// The owner key and the principals verified against it.
    trust: std::sync::RwLock<trust::Trust>,
    /// Syncs run one at a time, so their results apply in order.
    sync_lock: tokio::sync::Mutex<()>,
    /// How many syncs have started, and the number of the last one that completed: a
    /// caller who finds that a sync which started after it arrived has completed shares
    /// that sync's result instead of making its own (see `Inner::sync`).
    syncs_started: std::sync::atomic::AtomicU64,
    last_sync_done: std::sync::atomic::AtomicU64,
}

struct Session {
    bearer: SecretString,
    renew_at: Instant,
    generation: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server_url", &self.inner.transport.base_url())
            .field("principal", &self.inner.token.principal_id())
            .field("config", &self.inner.config)
            .field("token", &"[redacted]")
            .field("session", &"[redacted]")
            .finish()
    }
}

impl Client {
    /// Parses `token` (failing before any network call when it is malformed), checks
    /// `config` and authenticates in one round trip.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`] for a malformed token, [`Error::InvalidInput`] for a bad
    /// integration name or version, [`Error::Unauthenticated`] when the server rejects the
    /// token, [`Error::Network`] when it cannot be reached.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use sesame_core::{Client, ClientConfig, ErrorCode};
    /// let err = Client::authenticate("not-a-token", ClientConfig::new("app", "1.0")).await.unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidToken);
    /// # });
    /// ```
    pub async fn authenticate(
        token: impl Into<SecretString>,
        config: ClientConfig,
    ) -> Result<Self> {
        let token: SecretString = token.into();
        let token = ServiceAccountToken::parse(token.expose_secret().trim())?;
        config.validate()?;
        let base_url = config
            .server_url
            .clone()
            .unwrap_or_else(|| token.server_url().to_owned());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::invalid_input(
                "server_url",
                format!("{base_url:?} is not an http:// or https:// URL"),
            ));
        }
        let transport = Transport::new(&base_url, config.timeout, config.retries)?;
        let client = Self {
            inner: Arc::new(Inner {
                keys: token.keys(),
                token,
                config,
                transport,
                session: tokio::sync::Mutex::new(None),
                principal: std::sync::RwLock::new(None),
                max_file_size: std::sync::atomic::AtomicU64::new(u64::MAX),
                cache: std::sync::RwLock::new(Cache::default()),
                trust: std::sync::RwLock::new(trust::Trust::default()),
                sync_lock: tokio::sync::Mutex::new(()),
                syncs_started: std::sync::atomic::AtomicU64::new(0),
                last_sync_done: std::sync::atomic::AtomicU64::new(0),
            }),
        };
        client.inner.session(None).await?;
        Ok(client)
    }

    /// Resolves secret references.
    pub fn secrets(&self) -> Secrets<'_> {
        Secrets { client: self }
    }

    /// Creates, reads, updates, archives and deletes items.
    pub fn items(&self) -> Items<'_> {
        Items { client: self }
    }

    /// Lists, creates, updates and shares vaults.
    pub fn vaults(&self) -> Vaults<'_> {
        Vaults { client: self }
    }

    /// Creates, lists, rotates and revokes service accounts (the account owner only).
    pub fn service_accounts(&self) -> ServiceAccounts<'_> {
        ServiceAccounts { client: self }
    }

    /// The principal this client acts as, as the server described it at authentication.
    pub fn principal(&self) -> Option<Principal> {
        self.inner.principal.read().ok().and_then(|p| p.clone())
    }

    /// The account this client's token belongs to (the owner key's fingerprint).
    pub fn account_id(&self) -> &crate::id::Id {
        self.inner.account()
    }

    /// The records the last sync brought that this client cannot open: vaults whose grant
    /// or attributes do not verify, items whose overview does not decrypt. Each one fails
    /// only the calls that need it (with an [`Error::Integrity`] naming it) and is left
    /// out of listings; everything else keeps working. A record leaves the list once it
    /// is fixed, deleted or no longer visible; the client never deletes anything itself.
    /// Listing, resolving and most other calls sync first; this call does not.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// client.vaults().list().await?;
    /// for record in client.unreadable_records() {
    ///     eprintln!("vault {} item {:?}: {}", record.vault_id, record.item_id, record.message);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn unreadable_records(&self) -> Vec<crate::model::UnreadableRecord> {
        self.inner
            .read_cache(cache::Cache::unreadable_records)
            .unwrap_or_default()
    }

    /// The server URL in use.
    pub fn server_url(&self) -> &str {
        self.inner.transport.base_url()
    }

    /// The largest file, in bytes, the server accepts (from authentication), if it said.
    pub fn max_file_size(&self) -> Option<u64> {
        match self
            .inner
            .max_file_size
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            u64::MAX => None,
            size => Some(size),
        }
    }

    /// The rate-limit budget the server last reported, if it has.
    pub fn rate_limit(&self) -> Option<RateLimitState> {
        self.inner.transport.rate_limit()
    }

    /// How many HTTP requests this client (and its clones) have sent, retries and
    /// authentications included: a debug counter for tests and benchmarks.
    pub fn round_trips(&self) -> u64 {
        self.inner.transport.round_trips()
    }

    /// A page of the audit trail: up to `limit` events after sequence number `after`
    /// (0 for the start). The account owner only; others get `PermissionDenied`.
    pub async fn events(&self, after: u64, limit: u32) -> Result<EventsPage> {
        let path = format!("/v1/events?after={after}&limit={limit}");
        self.inner
            .call_json(
                Method::GET,
                &path,
                None::<&()>,
                Retry::Idempotent,
                Resource::Events,
            )
            .await
    }

    /// One authenticated `GET /healthz` round trip: a baseline for benchmarks and a
    /// liveness check.
    pub async fn ping(&self) -> Result<()> {
        self.inner
            .call(
                Method::GET,
                "/healthz",
                None,
                Retry::Idempotent,
                Resource::Endpoint,
            )
            .await
            .map(|_| ())
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Inner {
    fn account(&self) -> &crate::id::Id {
        self.token.account_id()
    }

    /// The current session, authenticating when there is none, it is about to expire, or
    /// it is the one (`stale`) the server just rejected.
    async fn session(&self, stale: Option<u64>) -> Result<(SecretString, u64)> {
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.as_ref() {
            let rejected = stale == Some(session.generation);
            if !rejected && Instant::now() < session.renew_at {
                return Ok((session.bearer.clone(), session.generation));
            }
        }
        let generation = slot.as_ref().map_or(0, |s| s.generation + 1);
        let response = self.authenticate_once().await?;
        if response.principal.id != *self.principal_id() {
            return Err(Error::integrity(format!(
                "the server authenticated principal {} for a token of principal {}",
                response.principal.id,
                self.principal_id()
            )));
        }
        self.anchor_owner(&response)?;
        let lifetime =
            Duration::from_secs(response.expires_at.saturating_sub(response.server_time));
        let renew_at = Instant::now() + lifetime.saturating_sub(SESSION_MARGIN.min(lifetime / 10));
        if let Ok(mut principal) = self.principal.write() {
            *principal = Some(response.principal.clone());
        }
        self.max_file_size.store(
            response.max_file_size.unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        let bearer = SecretString::from(response.session);
        *slot = Some(Session {
            bearer: bearer.clone(),
            renew_at,
            generation,
        });
        Ok((bearer, generation))
    }

    async fn authenticate_once(&self) -> Result<AuthResponse> {
        let call = Call {
            method: Method::POST,
            path: "/v1/auth",
            body: None,
            session: None,
            // The server accepts each assertion once, so every attempt signs a new one
            // (fresh nonce and timestamp): a retry after a lost answer is not a replay.
            retry: Retry::Idempotent,
            not_found: Resource::Principal,
        };
        self.transport
            .send_fresh(&call, &|| to_json(&self.auth_request()))
            .await?
            .json()
    }

    /// A signed assertion with a fresh random nonce and the current time.
    fn auth_request(&self) -> AuthRequest {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let nonce = base64url_encode(nonce);
        let timestamp = unix_now();
        let (name, version) = (
            self.config.integration_name.as_str(),
            self.config.integration_version.as_str(),
        );
        let message = api::auth_message(
            self.account(),
            self.token.principal_id(),
            timestamp,
            &nonce,
            name,
            version,
        );
        AuthRequest {
            account_id: *self.account(),
            principal_id: *self.token.principal_id(),
            timestamp,
            nonce,
            integration_name: name.to_owned(),
            integration_version: version.to_owned(),
            signature: base64url_encode(self.keys.sign(&message)),
        }
    }

    /// An authenticated call; a `401` renews the session once and repeats the call.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        retry: Retry,
        not_found: Resource,
    ) -> Result<Reply> {
        let (bearer, generation) = self.session(None).await?;
        // A call that may change what the server holds (anything but a read or the sync
        // itself) makes the cache stale, even when it failed (it may have happened): the
        // next read syncs, so a client always reads its own writes, `cache_ttl` or not.
        let writes = method != Method::GET && path != cache::SYNC_PATH;
        let mut call = Call {
            method,
            path,
            body,
            session: Some(&bearer),
            retry,
            not_found,
        };
        let result = match self.transport.send(&call).await {
            Err(Error::Unauthenticated(_)) => {
                let (renewed, _) = self.session(Some(generation)).await?;
                call.session = Some(&renewed);
                self.transport.send(&call).await
            }
            other => other,
        };
        if writes {
            let _ = self.write_cache(|cache| cache.last_sync = None);
        }
        result
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        retry: Retry,
        not_found: Resource,
    ) -> Result<T> {
        let body = body.map(to_json).transpose()?;
        self.call(method, path, body, retry, not_found)
            .await?
            .json()
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        retry: Retry,
        not_found: Resource,
    ) -> Result<()> {
        let body = body.map(to_json).transpose()?;
        self.call(method, path, body, retry, not_found)
            .await
            .map(|_| ())
    }

    fn principal_id(&self) -> &crate::id::Id {
        self.token.principal_id()
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| Error::invalid_input("request", format!("could not be encoded as JSON: {e}")))
}

/// Parses an id argument, naming it in the error.
fn parse_id(what: &str, value: &str) -> Result<crate::id::Id> {
    value.parse().map_err(|_| {
        Error::invalid_input(
            what,
            format!(
                "{value:?} is not a Sesame id (26 characters a-z and 0-9); pass the id, not \
                 the name"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_names_follow_the_rules() {
        let ok = |n: &str, v: &str| ClientConfig::new(n, v).validate();
        assert!(ok("1Password SDK", "v1.0.0").is_ok());
        assert!(ok("deploy_bot.prod-2", "2.1.0+build.7").is_ok());
        let err = ok("", "1.0").unwrap_err();
        assert!(
            err.to_string().contains("integration_name") && err.to_string().contains("required")
        );
        let err = ok("app", "").unwrap_err();
        assert!(err.to_string().contains("integration_version"));
        let err = ok(&"a".repeat(41), "1").unwrap_err();
        assert!(err.to_string().contains("41 characters"), "{err}");
        assert!(ok(&"a".repeat(40), "1").is_ok());
        let err = ok("app\n", "1").unwrap_err();
        assert!(err.to_string().contains("character 4"), "{err}");
        assert!(ok("app/evil", "1").is_err());
        assert!(ok("ünïcode", "1").is_err());
        assert!(ok(" app", "1").is_err());
        assert!(ok("app", "1 0").is_err());
        assert!(ok("app", &"1".repeat(21)).is_err());
        let mut config = ClientConfig::new("app", "1");
        config.timeout = Duration::ZERO;
        assert!(config.validate().is_err());
    }

    #[test]
    fn ids_are_checked_with_a_hint() {
        let err = parse_id("vault_id", "Infra").unwrap_err();
        assert!(err.to_string().contains("not the name"), "{err}");
        assert!(parse_id("vault_id", &"a".repeat(26)).is_ok());
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Client>();
    }
}
