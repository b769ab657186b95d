//! Several replicas of the server on one PostgreSQL database and one data directory:
//! what one replica writes the other reads at once, a revocation or a rate-limit change
//! made through one holds on the other, concurrent writes through both conflict cleanly,
//! and neither a replica killed mid-burst nor a database restart loses an acknowledged
//! write or breaks the audit chain.
//!
//! Every test runs real `sesame server start` processes sharing `--data-dir` (session key,
//! blobs) and `--database-url` (a database of its own on the cluster, dropped at the end).
//! The cluster's admin URL comes from `SESAME_TEST_POSTGRES` (`make server-test-pg` sets
//! one up); without it each test says so and passes. The database-restart test also
//! needs `SESAME_TEST_POSTGRES_DIR`, the cluster directory given to `scripts/pg.sh`.
//! It restarts the whole cluster: the other tests of this file wait while it runs, but
//! anything else using the same cluster at that moment (another suite) is cut off too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use sesame_core::api::{self, AuthRequest};
use sesame_core::encoding::base64url_encode;
use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD};
use sesame_core::model::{Item, ItemListFilters, VaultCreateParams};
use sesame_core::token::{ServiceAccountToken, TOKEN_PREFIX};
use sesame_core::{Client, ClientConfig, ErrorCode};
use sqlx::Connection as _;

const POSTGRES_ENV: &str = "SESAME_TEST_POSTGRES";
const POSTGRES_DIR_ENV: &str = "SESAME_TEST_POSTGRES_DIR";

/// Flags for tests that make many requests: no budget gets in their way.
const UNLIMITED: &[&str] = &[
    "--rate-limit-unauthenticated",
    "1000000",
    "--rate-limit-reads",
    "1000000",
    "--rate-limit-writes",
    "1000000",
];

// ---------------------------------------------------------------------------------------
// The deployment: one database, one data directory, any number of replicas.
// ---------------------------------------------------------------------------------------

/// A database of its own on the test cluster; dropped (with whatever still connects to
/// it) when this is.
struct Database {
    admin_url: String,
    name: String,
    url: String,
}

impl Database {
    async fn create(admin_url: &str) -> Self {
        let name = format!("r_{}", sesame_core::id::Id::generate());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin_url}: cannot connect: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        admin.close().await.unwrap();
        let mut url = reqwest::Url::parse(admin_url)
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin_url}: not a URL: {e}"));
        url.set_path(&format!("/{name}"));
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for Database {
    /// From a thread of its own (no `await` in `drop`), so that a test that panicked
    /// leaves no database behind either.
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropper = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map_err(|e| e.to_string())?;
                admin.close().await.map_err(|e| e.to_string())
            })
        });
        if let Ok(Err(e)) = dropper.join() {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// Restarting the database cuts off every test on the cluster: the test that does it
/// holds this exclusively, every other test shares it.
static CLUSTER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// A test's hold on the cluster.
#[allow(dead_code)] // Held for its drop.
enum ClusterUse {
    Shared(tokio::sync::RwLockReadGuard<'static, ()>),
    Exclusive(tokio::sync::RwLockWriteGuard<'static, ()>),
}

/// An initialized account on its own database and data directory. Replicas started
/// from it share both.
struct Deployment {
    dir: tempfile::TempDir,
    database: Database,
    owner_token: SecretString,
    /// Last, so that it is released after the database is dropped.
    _cluster: ClusterUse,
}

impl Deployment {
    /// A new deployment, or `None` (after saying why) when no PostgreSQL cluster is
    /// configured.
    async fn new(test: &str) -> Option<Self> {
        Self::create(test, false).await
    }

    /// [`new`](Self::new), for a test that restarts the cluster: it waits until no
    /// other test of this file uses the cluster, and keeps them waiting until it ends.
    async fn exclusive(test: &str) -> Option<Self> {
        Self::create(test, true).await
    }

    async fn create(test: &str, exclusive: bool) -> Option<Self> {
        let Some(admin_url) = std::env::var(POSTGRES_ENV)
            .ok()
            .filter(|url| !url.trim().is_empty())
        else {
            println!(
                "{test}: skipped: needs PostgreSQL; set {POSTGRES_ENV} to an admin URL \
                 (`make server-test-pg` sets one up)"
            );
            return None;
        };
        let cluster = if exclusive {
            ClusterUse::Exclusive(CLUSTER.write().await)
        } else {
            ClusterUse::Shared(CLUSTER.read().await)
        };
        let database = Database::create(&admin_url).await;
        let dir = tempfile::tempdir().unwrap();
        // The server refuses a data directory other users can reach.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let output = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["server", "init", "--data-dir"])
            .arg(dir.path())
            .args(["--database-url", &database.url])
            // Port 0 is not a URL a token may carry; clients get each replica's own URL.
            .args(["--url", "http://127.0.0.1:1"])
            // Keep `init` from saving the credential in the real config directory.
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .output()
            .expect("run sesame server init");
        assert!(
            output.status.success(),
            "sesame server init failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let credential = std::fs::read_to_string(dir.path().join("owner.credential")).unwrap();
        let owner_token = credential
            .split_whitespace()
            .find(|w| w.starts_with(TOKEN_PREFIX))
            .expect("a token in owner.credential")
            .to_owned();
        Some(Self {
            dir,
            database,
            owner_token: SecretString::from(owner_token),
            _cluster: cluster,
        })
    }

    fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts a replica on 127.0.0.1:0 with extra `sesame server start` flags.
    fn start(&self, name: &'static str, flags: &[&str]) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["server", "start", "--data-dir"])
            .arg(self.data_dir())
            .args(["--database-url", &self.database.url])
            .args(["--listen", "127.0.0.1:0"])
            .args(flags)
            // `SESAME_TEST_REPLICA_LOG=info` shows every request with its duration.
            .env(
                "SESAME_LOG",
                std::env::var("SESAME_TEST_REPLICA_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sesame server");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!("replica {name}: unexpected first line {line:?} (see its stderr above)");
        };
        let url = url.to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Replica { name, child, url }
    }

    /// The owner's client, talking to `replica`.
    async fn owner(&self, replica: &Replica) -> Client {
        connect(replica, &self.owner_token, 3).await
    }

    /// `sesame server audit verify` on the shared database: whether it succeeded, and
    /// its output.
    fn audit_verify(&self) -> (bool, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["server", "audit", "verify", "--data-dir"])
            .arg(self.data_dir())
            .args(["--database-url", &self.database.url])
            .env("SESAME_LOG", "warn")
            .output()
            .expect("run sesame server audit verify");
        (
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    }

    /// Asserts that the audit chain of the shared database is intact.
    fn assert_audit_intact(&self) {
        let (ok, report) = self.audit_verify();
        assert!(
            ok && report.contains("audit trail intact"),
            "audit verify: {report}"
        );
    }
}

/// A running `sesame server start`; SIGKILLed on drop.
struct Replica {
    name: &'static str,
    child: Child,
    url: String,
}

impl Replica {
    /// SIGKILL (`Child::kill`): no graceful shutdown, no flush of anything.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client for `token` talking to `replica`, retrying idempotent calls `retries` times.
async fn connect(replica: &Replica, token: &SecretString, retries: u32) -> Client {
    let config = ClientConfig {
        server_url: Some(replica.url.clone()),
        timeout: Duration::from_secs(10),
        retries,
        ..ClientConfig::new("sesame-tests", "1.0.0")
    };
    Client::authenticate(token.expose_secret(), config)
        .await
        .unwrap_or_else(|e| panic!("authenticate through replica {}: {e}", replica.name))
}

// ---------------------------------------------------------------------------------------
// Raw HTTP, where a test needs exact status codes and headers.
// ---------------------------------------------------------------------------------------

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.parse().ok()
    }
}

async fn send(
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
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
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

/// A correctly signed `POST /v1/auth` body for `token`.
fn auth_request(token: &SecretString) -> AuthRequest {
    let token = ServiceAccountToken::parse(token.expose_secret().trim()).unwrap();
    // 16 bytes, 80 of their bits random: plenty for a nonce used once.
    let nonce = base64url_encode(&sesame_core::id::Id::generate().as_str().as_bytes()[..16]);
    let timestamp = unix_now();
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
        signature: base64url_encode(token.keys().sign(&message)),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `POST /v1/auth` through `replica`.
async fn try_login(replica: &Replica, token: &SecretString) -> Reply {
    send(
        &reqwest::Client::new(),
        Method::POST,
        &format!("{}/v1/auth", replica.url),
        None,
        Some(serde_json::to_value(auth_request(token)).unwrap()),
    )
    .await
}

/// One session; every replica accepts it (they share the session key).
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    bearer: String,
}

impl Session {
    async fn login(replica: &Replica, token: &SecretString) -> Self {
        let reply = try_login(replica, token).await;
        assert_eq!(reply.status, 200, "login: {}", reply.body);
        Self {
            http: reqwest::Client::new(),
            bearer: reply.body["session"].as_str().unwrap().to_owned(),
        }
    }

    async fn send(&self, base: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        send(
            &self.http,
            method,
            &format!("{base}{path}"),
            Some(&self.bearer),
            body,
        )
        .await
    }

    async fn get(&self, replica: &Replica, path: &str) -> Reply {
        self.send(&replica.url, Method::GET, path, None).await
    }

    async fn put(&self, replica: &Replica, path: &str, body: Value) -> Reply {
        self.send(&replica.url, Method::PUT, path, Some(body)).await
    }
}

// ---------------------------------------------------------------------------------------
// Load: writers that record every acknowledged write, and the check that all are there.
// ---------------------------------------------------------------------------------------

fn password_of(item: &Item) -> String {
    item.fields
        .iter()
        .find(|f| f.id == "password")
        .map(|f| f.value.clone())
        .unwrap_or_default()
}

/// An item a writer created, as acknowledged.
#[derive(Debug, Clone)]
struct Written {
    id: String,
    title: String,
    /// The version and password the server last acknowledged.
    acked: (u32, String),
    /// A change that was sent but not acknowledged: it may or may not have happened.
    unknown: Option<(u32, String)>,
}

/// When acknowledgements and failures happened, by replica, while the load runs.
#[derive(Default)]
struct Timeline {
    acks: Mutex<Vec<(Instant, &'static str)>>,
    reads: Mutex<Vec<(Instant, &'static str)>>,
    failures: Mutex<Vec<(Instant, &'static str, ErrorCode, String)>>,
}

impl Timeline {
    fn ack(&self, replica: &'static str) {
        self.acks.lock().unwrap().push((Instant::now(), replica));
    }

    fn read(&self, replica: &'static str) {
        self.reads.lock().unwrap().push((Instant::now(), replica));
    }

    fn fail(&self, replica: &'static str, error: &sesame_core::Error) {
        self.failures.lock().unwrap().push((
            Instant::now(),
            replica,
            error.code(),
            error.to_string(),
        ));
    }

    fn count(list: &Mutex<Vec<(Instant, &'static str)>>, replica: &str, after: Instant) -> usize {
        list.lock()
            .unwrap()
            .iter()
            .filter(|(at, r)| *r == replica && *at > after)
            .count()
    }

    fn acks_after(&self, replica: &str, after: Instant) -> usize {
        Self::count(&self.acks, replica, after)
    }

    fn reads_after(&self, replica: &str, after: Instant) -> usize {
        Self::count(&self.reads, replica, after)
    }

    /// How many calls failed, by replica and error code, with one message of each.
    fn failures_summary(&self) -> String {
        let failures = self.failures.lock().unwrap();
        let mut kinds = BTreeMap::<String, (usize, &str)>::new();
        for (_, replica, code, message) in failures.iter() {
            kinds
                .entry(format!("{replica} {code}"))
                .or_insert((0, message))
                .0 += 1;
        }
        format!("{} failed calls: {kinds:#?}", failures.len())
    }
}

/// Creates items through `client` as fast as it can until `stop`, updating each once
/// right after creating it; returns every item whose creation was acknowledged.
async fn writer(
    client: Client,
    replica: &'static str,
    vault: String,
    number: usize,
    stop: Arc<AtomicBool>,
    timeline: Arc<Timeline>,
) -> Vec<Written> {
    let mut written = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let title = format!("w{number}-{n}");
        let first = format!("{title}-v1");
        let item = match client
            .items()
            .create(support::login(&vault, &title, &first))
            .await
        {
            Ok(item) => item,
            Err(e) => {
                timeline.fail(replica, &e);
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        timeline.ack(replica);
        assert_eq!(item.version, 1, "a new item is at version 1");
        let second = format!("{title}-v2");
        let mut entry = Written {
            id: item.id.clone(),
            title,
            acked: (1, first),
            unknown: Some((2, second.clone())),
        };
        let mut changed = item;
        for field in &mut changed.fields {
            if field.id == "password" {
                field.value.clone_from(&second);
            }
        }
        match client.items().put(&changed).await {
            Ok(updated) => {
                timeline.ack(replica);
                assert_eq!(updated.version, 2);
                entry.acked = (2, second);
                entry.unknown = None;
            }
            Err(e) => timeline.fail(replica, &e),
        }
        written.push(entry);
    }
    written
}

/// Lists the vault through `client` until `stop`.
async fn reader(
    client: Client,
    replica: &'static str,
    vault: String,
    stop: Arc<AtomicBool>,
    timeline: Arc<Timeline>,
) {
    while !stop.load(Ordering::Relaxed) {
        match client
            .items()
            .list(&vault, &ItemListFilters::default())
            .await
        {
            Ok(_) => timeline.read(replica),
            Err(e) => {
                timeline.fail(replica, &e);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Through `replica`: every item of `vault` is whole (overview and details stored, both
/// decrypt), and every acknowledged write is there with its acknowledged version (or, if
/// a later change's outcome was unknown, with that change). Returns how many items the
/// vault holds.
async fn check_every_write(
    deployment: &Deployment,
    replica: &Replica,
    vault: &str,
    written: &[Written],
) -> usize {
    let owner = deployment.owner(replica).await;
    let session = Session::login(replica, &deployment.owner_token).await;
    // What the server stores, undecrypted: no record without both parts.
    let raw = session
        .get(
            replica,
            &format!("/v1/vaults/{vault}/items?since=0&details=true"),
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let mut stored = BTreeMap::new();
    for record in raw.body["items"].as_array().unwrap() {
        let id = record["id"].as_str().unwrap().to_owned();
        for part in ["overview", "details"] {
            assert!(
                record[part].as_str().is_some_and(|c| !c.is_empty()),
                "item {id} has no {part}: {record}"
            );
        }
        stored.insert(id, record["version"].as_u64().unwrap());
    }
    // What the client makes of it: every item listed, none unreadable.
    let listed: BTreeSet<String> = owner
        .items()
        .list(vault, &ItemListFilters::default())
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert!(
        owner.unreadable_records().is_empty(),
        "unreadable records: {:?}",
        owner.unreadable_records()
    );
    assert_eq!(
        listed,
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        "the client lists exactly the stored items"
    );
    let mut found = BTreeMap::new();
    for (id, version) in &stored {
        let item = owner
            .items()
            .get(vault, id)
            .await
            .unwrap_or_else(|e| panic!("item {id} does not read back: {e}"));
        assert_eq!(u64::from(item.version), *version, "item {id}");
        found.insert(id.clone(), item);
    }
    for w in written {
        let item = found
            .get(&w.id)
            .unwrap_or_else(|| panic!("acknowledged item {} ({}) is missing", w.id, w.title));
        assert_eq!(item.title, w.title);
        let state = (item.version, password_of(item));
        assert!(
            state == w.acked || w.unknown.as_ref() == Some(&state),
            "item {} ({}): found version {} with {:?}; acknowledged {:?}, unknown outcome {:?}",
            w.id,
            w.title,
            state.0,
            state.1,
            w.acked,
            w.unknown
        );
    }
    stored.len()
}

/// Polls `condition` every 20 ms until it holds or `limit` passes; how long it took.
async fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn write_through_one_read_through_the_other() {
    let Some(deployment) = Deployment::new("write_through_one_read_through_the_other").await else {
        return;
    };
    let a = deployment.start("A", UNLIMITED);
    let b = deployment.start("B", UNLIMITED);
    let owner_a = deployment.owner(&a).await;
    let owner_b = deployment.owner(&b).await;

    let vault = owner_a
        .vaults()
        .create(VaultCreateParams::new("Infra"))
        .await
        .unwrap();
    // B sees the vault at once, and syncs it while it is empty: its later listings are
    // deltas from here.
    let vaults = owner_b.vaults().list().await.unwrap();
    assert!(
        vaults
            .iter()
            .any(|v| v.id == vault.id && v.title == "Infra"),
        "B does not list the vault A created"
    );
    assert!(owner_b
        .items()
        .list(&vault.id, &ItemListFilters::default())
        .await
        .unwrap()
        .is_empty());
    let since = owner_b
        .vaults()
        .get_overview(&vault.id)
        .await
        .unwrap()
        .content_version;

    let created = owner_a
        .items()
        .create(support::postgres(&vault.id))
        .await
        .unwrap();

    // Through B, immediately: the item, decrypted, as A wrote it.
    let read = owner_b.items().get(&vault.id, &created.id).await.unwrap();
    assert_eq!(read.version, 1);
    assert_eq!(read.title, "Postgres");
    assert_eq!(read.notes, "pg notes");
    assert_eq!(read.tags, created.tags);
    let fields = |item: &Item| {
        item.fields
            .iter()
            .map(|f| (f.id.clone(), f.title.clone(), f.value.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&read), fields(&created));
    assert_eq!(password_of(&read), "pg-top");
    // B's client brings its cache up to date with a delta sync.
    let listed = owner_b
        .items()
        .list(&vault.id, &ItemListFilters::default())
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|o| (o.id.as_str(), o.title.as_str()))
            .collect::<Vec<_>>(),
        [(created.id.as_str(), "Postgres")]
    );
    // And the changes B serves since the empty vault's content version are that item.
    let session = Session::login(&a, &deployment.owner_token).await;
    let changes = session
        .get(&b, &format!("/v1/vaults/{}/items?since={since}", vault.id))
        .await;
    assert_eq!(changes.status, 200, "{}", changes.body);
    let items = changes.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", changes.body);
    assert_eq!(items[0]["id"], created.id.as_str());
    assert_eq!(items[0]["version"], 1);
    assert!(changes.body["contentVersion"].as_u64().unwrap() > since);

    // Updated through B, read through A: the new version.
    let mut changed = read;
    for field in &mut changed.fields {
        if field.id == "password" {
            field.value = "rotated-through-b".into();
        }
    }
    let updated = owner_b.items().put(&changed).await.unwrap();
    assert_eq!(updated.version, 2);
    let read_a = owner_a.items().get(&vault.id, &created.id).await.unwrap();
    assert_eq!(read_a.version, 2);
    assert_eq!(password_of(&read_a), "rotated-through-b");
    assert_eq!(read_a.notes, "pg notes");
    let overview = owner_a
        .items()
        .list(&vault.id, &ItemListFilters::default())
        .await
        .unwrap();
    assert_eq!(overview.len(), 1);
    deployment.assert_audit_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoke_through_one_refused_by_the_other() {
    let Some(deployment) = Deployment::new("revoke_through_one_refused_by_the_other").await else {
        return;
    };
    let a = deployment.start("A", UNLIMITED);
    let b = deployment.start("B", UNLIMITED);
    let owner_a = deployment.owner(&a).await;
    let vault = owner_a
        .vaults()
        .create(VaultCreateParams::new("Infra"))
        .await
        .unwrap();
    let item = owner_a
        .items()
        .create(support::login(&vault.id, "db", "s3cret"))
        .await
        .unwrap();
    let (principal, sa_token) = owner_a
        .service_accounts()
        .create(
            "reader",
            &[(&vault.id, READ_ITEMS | REVEAL_ITEM_PASSWORD)],
            None,
        )
        .await
        .unwrap();

    // The service account reads through B: with the client (decrypting) and raw.
    let sa_client = connect(&b, &sa_token, 3).await;
    let read = sa_client.items().get(&vault.id, &item.id).await.unwrap();
    assert_eq!(password_of(&read), "s3cret");
    let sa = Session::login(&b, &sa_token).await;
    let path = format!("/v1/vaults/{}/items/{}", vault.id, item.id);
    let reply = sa.get(&b, &path).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    owner_a
        .service_accounts()
        .revoke(principal.id.as_str())
        .await
        .unwrap();
    // The session it holds is refused through B within the documented bound
    // (docs/scale-out.md: a replica keeps what it read of a principal for 0.5 s), plus
    // scheduling slack.
    let bound = Duration::from_millis(750);
    let revoked = Instant::now();
    let mut served = 0;
    let reply = loop {
        let reply = sa.get(&b, &path).await;
        if reply.status != 200 {
            break reply;
        }
        served += 1;
        assert!(
            revoked.elapsed() <= bound,
            "B still serves the revoked service account {:?} later ({served} requests)",
            revoked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let took = revoked.elapsed();
    println!(
        "revocation: B refused the revoked service account after {took:?}, having served it \
         {served} more requests"
    );
    assert_eq!(
        (reply.status, reply.code()),
        (401, "unauthenticated"),
        "{}",
        reply.body
    );
    assert!(took <= bound, "refused only after {took:?}");
    // So is the client (which tries a new session first), and a new sign-in through B.
    let err = sa_client
        .items()
        .get(&vault.id, &item.id)
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthenticated, "{err}");
    let reply = try_login(&b, &sa_token).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    deployment.assert_audit_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicting_writes_across_replicas_exactly_one_wins() {
    const ROUNDS: u64 = 20;
    let Some(deployment) =
        Deployment::new("conflicting_writes_across_replicas_exactly_one_wins").await
    else {
        return;
    };
    let a = deployment.start("A", UNLIMITED);
    let b = deployment.start("B", UNLIMITED);
    let owner = deployment.owner(&a).await;
    let vault = owner
        .vaults()
        .create(VaultCreateParams::new("Infra"))
        .await
        .unwrap();
    let item = owner
        .items()
        .create(support::login(&vault.id, "db", "s3cret"))
        .await
        .unwrap();
    let session = Session::login(&a, &deployment.owner_token).await;
    let path = format!("/v1/vaults/{}/items/{}", vault.id, item.id);
    let initial = session.get(&a, &path).await.body["version"]
        .as_u64()
        .unwrap();

    for round in 0..ROUNDS {
        // Read the current version (alternately through either replica).
        let current = session
            .get(if round % 2 == 0 { &a } else { &b }, &path)
            .await;
        assert_eq!(current.status, 200, "{}", current.body);
        let version = current.body["version"].as_u64().unwrap();
        assert_eq!(version, initial + round);
        assert!(current.body["details"].is_string(), "{}", current.body);
        // The server cannot check ciphertext: the stored parts make a valid body.
        let body = json!({
            "expectedVersion": version,
            "state": current.body["state"],
            "overview": current.body["overview"],
            "details": current.body["details"],
        });
        let put = |base: String| {
            let (session, path, body) = (session.clone(), path.clone(), body.clone());
            tokio::spawn(async move { session.send(&base, Method::PUT, &path, Some(body)).await })
        };
        let (through_a, through_b) = (put(a.url.clone()), put(b.url.clone()));
        let (through_a, through_b) = (through_a.await.unwrap(), through_b.await.unwrap());
        let (won, lost) = match (through_a.status, through_b.status) {
            (200, 409) => (through_a, through_b),
            (409, 200) => (through_b, through_a),
            other => panic!(
                "round {round}: expected one 200 and one 409, got {other:?} (codes {:?} / {:?}, \
                 versions {} / {})",
                through_a.code(),
                through_b.code(),
                through_a.body["version"],
                through_b.body["version"]
            ),
        };
        assert_eq!(lost.code(), "conflict", "round {round}: {}", lost.body);
        assert_eq!(won.body["version"].as_u64(), Some(version + 1));
    }
    let last = session.get(&b, &path).await;
    assert_eq!(last.body["version"].as_u64(), Some(initial + ROUNDS));
    deployment.assert_audit_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn replica_killed_mid_burst_loses_no_acknowledged_write() {
    let Some(deployment) =
        Deployment::new("replica_killed_mid_burst_loses_no_acknowledged_write").await
    else {
        return;
    };
    let mut a = deployment.start("A", UNLIMITED);
    let b = deployment.start("B", UNLIMITED);
    let owner = deployment.owner(&a).await;
    let vault = owner
        .vaults()
        .create(VaultCreateParams::new("Infra"))
        .await
        .unwrap()
        .id;

    let stop = Arc::new(AtomicBool::new(false));
    let timeline = Arc::new(Timeline::default());
    let mut writers = Vec::new();
    // Six writers through A, two through B, each with a client of its own.
    for number in 0..8 {
        let replica = if number < 6 { &a } else { &b };
        let client = deployment.owner(replica).await;
        writers.push(tokio::spawn(writer(
            client,
            replica.name,
            vault.clone(),
            number,
            stop.clone(),
            timeline.clone(),
        )));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill();
    let killed = Instant::now();
    tokio::time::sleep_until((start + Duration::from_secs(3)).into()).await;
    stop.store(true, Ordering::Relaxed);
    let mut written = Vec::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }

    let acks_a = timeline.acks_after("A", start);
    assert!(acks_a > 0, "A acknowledged nothing before it was killed");
    assert_eq!(timeline.acks_after("A", killed), 0);
    assert!(
        timeline.acks_after("B", killed) > 0,
        "B stopped acknowledging when A died: {}",
        timeline.failures_summary()
    );
    let stored = check_every_write(&deployment, &b, &vault, &written).await;
    println!(
        "{} items acknowledged ({acks_a} writes through A before SIGKILL, {} through B), \
         {stored} stored; {}",
        written.len(),
        timeline.acks_after("B", start),
        timeline.failures_summary()
    );
    deployment.assert_audit_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn database_restart_under_load() {
    let Some(deployment) = Deployment::exclusive("database_restart_under_load").await else {
        return;
    };
    let Some(cluster_dir) = std::env::var_os(POSTGRES_DIR_ENV).filter(|d| !d.is_empty()) else {
        println!(
            "database_restart_under_load: skipped: needs {POSTGRES_DIR_ENV}, the cluster \
             directory given to scripts/pg.sh, to restart the database"
        );
        return;
    };
    let a = deployment.start("A", UNLIMITED);
    let b = deployment.start("B", UNLIMITED);
    let owner = deployment.owner(&a).await;
    let vault = owner
        .vaults()
        .create(VaultCreateParams::new("Infra"))
        .await
        .unwrap()
        .id;

    let stop = Arc::new(AtomicBool::new(false));
    let timeline = Arc::new(Timeline::default());
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for number in 0..4 {
        let replica = if number % 2 == 0 { &a } else { &b };
        // Generous retries: idempotent calls ride out the restart.
        let client = connect(replica, &deployment.owner_token, 8).await;
        writers.push(tokio::spawn(writer(
            client,
            replica.name,
            vault.clone(),
            number,
            stop.clone(),
            timeline.clone(),
        )));
    }
    for replica in [&a, &b] {
        let client = connect(replica, &deployment.owner_token, 8).await;
        readers.push(tokio::spawn(reader(
            client,
            replica.name,
            vault.clone(),
            stop.clone(),
            timeline.clone(),
        )));
    }
    let start = Instant::now();
    let loaded = wait_for(Duration::from_secs(10), || {
        ["A", "B"]
            .iter()
            .all(|r| timeline.acks_after(r, start) >= 10 && timeline.reads_after(r, start) >= 10)
    })
    .await;
    assert!(
        loaded.is_some(),
        "the load never got going: {}",
        timeline.failures_summary()
    );

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg.sh");
    let restart = tokio::task::spawn_blocking(move || {
        Command::new(script)
            .arg("restart")
            .arg(cluster_dir)
            .output()
            .expect("run scripts/pg.sh restart")
    })
    .await
    .unwrap();
    assert!(
        restart.status.success(),
        "pg.sh restart: {}",
        String::from_utf8_lossy(&restart.stderr)
    );
    let restarted = Instant::now();
    // Both replicas serve reads and writes again, without being restarted themselves.
    let recovered = wait_for(Duration::from_secs(30), || {
        ["A", "B"].iter().all(|r| {
            timeline.acks_after(r, restarted) > 0 && timeline.reads_after(r, restarted) > 0
        })
    })
    .await;
    assert!(
        recovered.is_some(),
        "the replicas did not serve again within 30 s of the database restart: {}",
        timeline.failures_summary()
    );
    // Some more load after the recovery.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut written = Vec::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }
    for r in readers {
        r.await.unwrap();
    }
    let stored = check_every_write(&deployment, &a, &vault, &written).await;
    println!(
        "recovered {:?} after the restart; {} items acknowledged, {stored} stored; {}",
        recovered.unwrap(),
        written.len(),
        timeline.failures_summary()
    );
    deployment.assert_audit_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limits_count_across_replicas() {
    const BUDGET: u64 = 40;
    let Some(deployment) = Deployment::new("rate_limits_count_across_replicas").await else {
        return;
    };
    let flags = [
        "--rate-limit-reads",
        "40",
        "--rate-limit-unauthenticated",
        "1000000",
    ];
    let a = deployment.start("A", &flags);
    let b = deployment.start("B", &flags);
    // Windows are fixed (hourly by default): keep the test inside one.
    let into_window = unix_now() % 3600;
    if into_window > 3600 - 30 {
        tokio::time::sleep(Duration::from_secs(3600 - into_window + 1)).await;
    }
    let owner = deployment.owner(&a).await;
    let (principal, sa_token) = owner
        .service_accounts()
        .create("counted", &[], None)
        .await
        .unwrap();
    let sa = Session::login(&a, &sa_token).await;

    let mut admitted_a = 0;
    for _ in 0..25 {
        let reply = sa.get(&a, "/v1/principals/me").await;
        assert_eq!(
            reply.status,
            200,
            "read {} through A: {}",
            admitted_a + 1,
            reply.body
        );
        admitted_a += 1;
    }
    // The replicas share their counts every 250 ms. Not polled: every poll would be one
    // more read of the budget under test.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut admitted_b = 0;
    let refusal = loop {
        let reply = sa.get(&b, "/v1/principals/me").await;
        match reply.status {
            200 => admitted_b += 1,
            429 => break reply,
            other => panic!("read through B: {other} {}", reply.body),
        }
        assert!(admitted_b <= BUDGET, "B admitted a whole budget on its own");
    };
    assert_eq!(refusal.code(), "rate_limited", "{}", refusal.body);
    assert_eq!(refusal.header("x-ratelimit-limit"), Some(BUDGET));
    assert_eq!(refusal.header("x-ratelimit-remaining"), Some(0));
    let total = admitted_a + admitted_b;
    assert!(
        total <= BUDGET + 5,
        "{admitted_a} reads through A and {admitted_b} through B: {total} > {BUDGET} + 5"
    );
    assert!(
        admitted_b <= 20,
        "B admitted {admitted_b} reads after A had admitted {admitted_a} of {BUDGET}"
    );
    println!(
        "rate limits: {admitted_a} reads admitted through A, then {admitted_b} through B \
         (budget {BUDGET})"
    );
    assert!(
        total >= BUDGET - 5,
        "only {total} of {BUDGET} reads admitted ({admitted_a} through A, {admitted_b} \
         through B): counted twice?"
    );

    // The owner raises the service account's own budget through A; B applies it.
    let owner_session = Session::login(&a, &deployment.owner_token).await;
    let limit_path = format!("/v1/principals/{}/rate-limit", principal.id);
    set_reads(&owner_session, &a, &limit_path, 1000).await;
    let (took, reply) = applied_by(&sa, &b, 1000).await;
    assert!(
        took <= Duration::from_secs(1),
        "B applied the raise after {took:?}"
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let described = owner_session.get(&b, &limit_path).await;
    assert_eq!(described.status, 200, "{}", described.body);
    assert_eq!(described.body["reads"].as_u64(), Some(1000));
    assert_eq!(described.body["effectiveReads"].as_u64(), Some(1000));

    // And a cut, the direction that matters: B refuses within a second.
    set_reads(&owner_session, &a, &limit_path, 5).await;
    let (took, reply) = applied_by(&sa, &b, 5).await;
    assert!(
        took <= Duration::from_secs(1),
        "B applied the cut after {took:?}"
    );
    assert_eq!(
        (reply.status, reply.code()),
        (429, "rate_limited"),
        "{}",
        reply.body
    );
}

/// The owner sets a service account's own read budget (`PUT …/rate-limit`) through
/// `replica`.
async fn set_reads(owner: &Session, replica: &Replica, path: &str, reads: u64) {
    let reply = owner
        .put(replica, path, json!({ "reads": reads, "writes": null }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["effectiveReads"].as_u64(), Some(reads));
}

/// How long until `replica` answers `session` with a read budget of `limit` (its
/// `x-ratelimit-limit`), and that answer.
async fn applied_by(session: &Session, replica: &Replica, limit: u64) -> (Duration, Reply) {
    let since = Instant::now();
    loop {
        let reply = session.get(replica, "/v1/principals/me").await;
        if reply.header("x-ratelimit-limit") == Some(limit) {
            return (since.elapsed(), reply);
        }
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "replica {} still answers with x-ratelimit-limit {:?}, not {limit}, 5 s later",
            replica.name,
            reply.header("x-ratelimit-limit")
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
