//! Operating a real `sesame server` process: JSON logs with one access line per request
//! and no secret, a graceful shutdown that lets a request in flight finish, and an online
//! backup that a second server serves from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sesame_core::encoding::base64url_encode;
use sesame_core::id::Id;
use sesame_core::model::{
    ItemCategory, ItemCreateParams, ItemField, ItemFieldType, ItemListFilters, VaultCreateParams,
};
use sesame_core::token::ServiceAccountToken;
use sesame_core::{Client, ClientConfig};

const SESAME: &str = env!("CARGO_BIN_EXE_sesame");

/// `sesame ARGS` kept away from the user's configuration and from `SESAME_…` settings of
/// the environment the tests run in.
fn sesame(dir: &Path) -> Command {
    let mut command = Command::new(SESAME);
    command
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("HOME", dir.join("home"))
        .env("SESAME_LOG", "info")
        .env_remove("SESAME_LOG_FORMAT")
        .env_remove("SESAME_CONFIG")
        .env_remove("SESAME_DATA_DIR")
        .env_remove("SESAME_DATABASE_URL")
        .env_remove("SESAME_LISTEN");
    command
}

/// A temporary directory with an initialized data directory `data` in it; returns the
/// directory, the data directory and the owner token.
fn initialized() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let init = sesame(dir.path())
        .args([
            "server",
            "init",
            "--url",
            "http://127.0.0.1:1",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let token = std::fs::read_to_string(data.join("owner.credential"))
        .unwrap()
        .trim()
        .to_owned();
    (dir, data, token)
}

/// A `sesame server start` process and its log (stderr), collected until it exits.
struct Running {
    child: Child,
    url: String,
    log: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    /// Starts `sesame server start --listen 127.0.0.1:0 EXTRA…` from `dir`.
    fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = sesame(dir);
        command
            .args(["server", "start", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line was {line:?}"))
            .to_owned();
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Self {
            child,
            url,
            log: Some(log),
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.url.strip_prefix("http://").unwrap().parse().unwrap()
    }

    fn sigterm(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }

    /// Waits (at most `limit`) for the process to exit after a signal, asserts it exited
    /// 0, and returns its log.
    fn exits_0_within(mut self, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = self.log.take().unwrap().join().unwrap();
                assert!(status.success(), "exit status {status:?}; log:\n{log}");
                return log;
            }
            assert!(
                start.elapsed() < limit,
                "the server did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server with SIGTERM; returns its log.
    fn stop(self) -> String {
        self.sigterm();
        self.exits_0_within(Duration::from_secs(15))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.log.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn client_config(url: &str) -> ClientConfig {
    ClientConfig {
        server_url: Some(url.to_owned()),
        timeout: Duration::from_secs(10),
        ..ClientConfig::new("sesame-tests", "1.0.0")
    }
}

async fn client(url: &str, token: &str) -> Client {
    Client::authenticate(token.to_owned(), client_config(url))
        .await
        .unwrap()
}

/// `POST /v1/auth` by hand, signed with `token`; returns the session and the request id.
async fn session(http: &reqwest::Client, url: &str, token: &str) -> (String, String) {
    let token = ServiceAccountToken::parse(token).unwrap();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // 16 bytes that are never used twice: a fresh id's first 16 characters.
    let nonce = base64url_encode(&Id::generate().as_str().as_bytes()[..16]);
    let message = sesame_core::api::auth_message(
        token.account_id(),
        token.principal_id(),
        timestamp,
        &nonce,
        "sesame-tests",
        "1.0.0",
    );
    let request = sesame_core::api::AuthRequest {
        account_id: *token.account_id(),
        principal_id: *token.principal_id(),
        timestamp,
        nonce,
        integration_name: "sesame-tests".into(),
        integration_version: "1.0.0".into(),
        signature: base64url_encode(token.keys().sign(&message)),
    };
    let reply = http
        .post(format!("{url}/v1/auth"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = reply.json().await.unwrap();
    (body["session"].as_str().unwrap().to_owned(), id)
}

/// `GET path` with the session; returns the status and the `x-request-id`.
async fn get(http: &reqwest::Client, url: &str, path: &str, session: &str) -> (u16, String) {
    let reply = http
        .get(format!("{url}{path}"))
        .bearer_auth(session)
        .send()
        .await
        .unwrap();
    let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
    (reply.status().as_u16(), id)
}

/// `sesame server start --log-format json`: every log line is one JSON object; every
/// request has one access line with the id its answer carried, its route PATTERN, status,
/// duration and principal; no token, session, path id or query value is logged.
#[test]
fn json_logs_have_one_access_line_per_request_and_no_secret() {
    let (dir, data, token) = initialized();
    let data_arg = data.to_str().unwrap();
    let server = Running::start(
        dir.path(),
        &["--data-dir", data_arg, "--log-format", "json"],
        &[],
    );
    let owner = *ServiceAccountToken::parse(&token).unwrap().principal_id();
    let missing = Id::generate();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (session, signed_in, me, events, absent, anonymous) = runtime.block_on(async {
        let http = reqwest::Client::new();
        let (session, signed_in) = session(&http, &server.url, &token).await;
        let me = get(&http, &server.url, "/v1/principals/me", &session).await;
        assert_eq!(me.0, 200);
        let events = get(&http, &server.url, "/v1/events?after=0&limit=7", &session).await;
        assert_eq!(events.0, 200);
        let absent = get(
            &http,
            &server.url,
            &format!("/v1/vaults/{missing}"),
            &session,
        )
        .await;
        assert_eq!(absent.0, 404);
        let anonymous = get(&http, &server.url, "/v1/principals/me", "not-a-session").await;
        assert_eq!(anonymous.0, 401);
        (session, signed_in, me, events, absent, anonymous)
    });
    let log = server.stop();

    let lines: Vec<Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line}\nlog:\n{log}"))
        })
        .collect();
    assert!(lines.iter().all(Value::is_object), "{log}");
    assert!(lines.iter().any(|l| l["message"] == "listening"), "{log}");
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "sesame_server::access")
        .collect();
    let line_of = |request_id: &str| {
        let found: Vec<&&Value> = access
            .iter()
            .filter(|l| l["request_id"] == request_id)
            .collect();
        assert_eq!(found.len(), 1, "one access line for {request_id}:\n{log}");
        *found[0]
    };
    let line = line_of(&me.1);
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["message"], "request", "{line}");
    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["route"], "/v1/principals/me", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0, "{line}");
    assert_eq!(line["principal"], owner.as_str(), "{line}");
    assert!(line["timestamp"].is_string(), "{line}");
    assert_eq!(line_of(&events.1)["route"], "/v1/events", "{log}");
    let line = line_of(&absent.1);
    assert_eq!(
        (&line["route"], &line["status"]),
        (&Value::from("/v1/vaults/{vault}"), &Value::from(404)),
        "{line}"
    );
    let line = line_of(&anonymous.1);
    assert_eq!(line["status"], 401, "{line}");
    assert!(line.get("principal").is_none(), "{line}");
    let line = line_of(&signed_in);
    assert_eq!(
        (&line["route"], &line["status"]),
        (&Value::from("/v1/auth"), &Value::from(200))
    );
    // Sign-in, me, events, the 404 and the 401: five requests, five access lines.
    assert_eq!(access.len(), 5, "{log}");
    // What a handler logs carries its request's id.
    let authenticated = lines
        .iter()
        .find(|l| l["message"] == "authenticated")
        .unwrap_or_else(|| panic!("no sign-in line:\n{log}"));
    assert_eq!(
        authenticated["span"]["request_id"],
        signed_in.as_str(),
        "{authenticated}"
    );

    for secret in [
        token.as_str(),
        session.as_str(),
        "not-a-session",
        "Bearer",
        missing.as_str(),
        "limit=7",
        "after=0",
    ] {
        assert!(!log.contains(secret), "{secret:?} is in the log:\n{log}");
    }
    drop(dir);
}

/// SIGTERM while an upload is still streaming: the server stops taking connections, lets
/// the upload finish (answered 204), then exits 0.
#[test]
fn sigterm_lets_a_request_in_flight_finish_then_exits_0() {
    let (dir, data, token) = initialized();
    let server = Running::start(dir.path(), &["--data-dir", data.to_str().unwrap()], &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (session, vault) = runtime.block_on(async {
        let owner = client(&server.url, &token).await;
        let vault = owner
            .vaults()
            .create(VaultCreateParams::new("Files"))
            .await
            .unwrap();
        let (session, _) = session(&reqwest::Client::new(), &server.url, &token).await;
        (session, vault.id)
    });
    let length = sesame_core::crypto::ciphertext_len(256 * 1024);
    let body = vec![0x5a_u8; usize::try_from(length).unwrap()];
    let (item, file) = (Id::generate(), Id::generate());
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "PUT /v1/vaults/{vault}/items/{item}/files/{file} HTTP/1.1\r\nHost: sesame\r\n\
         Authorization: Bearer {session}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).unwrap();
    stream.flush().unwrap();
    // The handler is reading the body now.
    std::thread::sleep(Duration::from_millis(500));
    server.sigterm();
    // New connections are refused soon, while the process keeps the upload going.
    let refused = Instant::now();
    while std::net::TcpStream::connect_timeout(&server.addr(), Duration::from_secs(1)).is_ok() {
        assert!(
            refused.elapsed() < Duration::from_secs(5),
            "still accepting connections after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    stream.write_all(&body[half..]).unwrap();
    stream.flush().unwrap();
    let mut head = String::new();
    BufReader::new(&stream).read_line(&mut head).unwrap();
    assert!(head.starts_with("HTTP/1.1 204"), "{head:?}");
    server.exits_0_within(Duration::from_secs(15));

    // The upload was recorded, with its audit event.
    let verify = sesame(dir.path())
        .args(["server", "audit", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("audit trail intact"),
        "{verify:?}"
    );
    let blob = data
        .join("blobs")
        .join(&vault)
        .join(item.as_str())
        .join(file.as_str());
    assert_eq!(std::fs::metadata(blob).unwrap().len(), length);
}

fn login(vault: &str, title: &str, password: &str) -> ItemCreateParams {
    ItemCreateParams {
        fields: Some(vec![ItemField::new(
            "password",
            "password",
            ItemFieldType::Concealed,
            password,
        )]),
        ..ItemCreateParams::new(ItemCategory::Login, vault, title)
    }
}

/// `sesame server backup` while the server serves and a client writes: the copy is
/// private, has an intact audit chain, and a second server on it (with the same session
/// key) serves every item written before the backup.
#[test]
fn backup_copies_the_live_database_for_a_second_server() {
    let (dir, data, token) = initialized();
    let data_arg = data.to_str().unwrap().to_owned();
    // The log format from the environment, too.
    let server = Running::start(
        dir.path(),
        &["--data-dir", &data_arg],
        &[("SESAME_LOG_FORMAT", "json")],
    );
    let backup = dir.path().join("backup.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (vault, before, written_during) = runtime.block_on(async {
        let owner = client(&server.url, &token).await;
        let vault = owner
            .vaults()
            .create(VaultCreateParams::new("Infra"))
            .await
            .unwrap()
            .id;
        let mut before = Vec::new();
        for n in 0..5 {
            let password = format!("before-{n}");
            let item = owner
                .items()
                .create(login(&vault, &format!("Login {n}"), &password))
                .await
                .unwrap();
            before.push((item.id, password));
        }
        // A client keeps writing while the backup runs.
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (owner, vault, stop) = (owner.clone(), vault.clone(), stop.clone());
            tokio::spawn(async move {
                let mut written = 0_u32;
                while !stop.load(Ordering::SeqCst) {
                    owner
                        .items()
                        .create(login(&vault, &format!("During {written}"), "during"))
                        .await
                        .unwrap();
                    written += 1;
                }
                written
            })
        };
        while !writer.is_finished()
            && owner
                .items()
                .list(&vault, &ItemListFilters::default())
                .await
                .unwrap()
                .len()
                < 6
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut command = sesame(dir.path());
        command
            .args(["server", "backup", "--data-dir", &data_arg, "--to"])
            .arg(&backup);
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("session.key"), "{stdout}");
        assert!(stdout.contains("blobs"), "{stdout}");
        stop.store(true, Ordering::SeqCst);
        let written = writer.await.unwrap();
        (vault, before, written)
    });
    assert!(written_during > 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let log = server.stop();
    assert!(
        log.lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{log}"
    );

    // An existing target is refused, and so is a PostgreSQL database.
    let again = sesame(dir.path())
        .args(["server", "backup", "--data-dir", &data_arg, "--to"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{again:?}"
    );
    let pg_target = dir.path().join("pg.dump");
    let postgres = sesame(dir.path())
        .args([
            "server",
            "backup",
            "--database-url",
            "postgres://sesame@127.0.0.1/sesame",
            "--to",
        ])
        .arg(&pg_target)
        .output()
        .unwrap();
    assert!(!postgres.status.success());
    let stderr = String::from_utf8_lossy(&postgres.stderr);
    assert!(
        stderr.contains("pg_dump") && stderr.contains("pg_basebackup"),
        "{stderr}"
    );
    assert!(!pg_target.exists());

    let backup_url = format!("sqlite://{}", backup.display());
    let verify = sesame(dir.path())
        .args(["server", "audit", "verify", "--database-url", &backup_url])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("audit trail intact"),
        "{verify:?}"
    );

    // A second server: a fresh data directory with the same session key, on the copy.
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&restored, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::copy(data.join("session.key"), restored.join("session.key")).unwrap();
    let second = Running::start(
        dir.path(),
        &[
            "--data-dir",
            restored.to_str().unwrap(),
            "--database-url",
            &backup_url,
        ],
        &[],
    );
    runtime.block_on(async {
        let owner = client(&second.url, &token).await;
        for (id, password) in &before {
            let item = owner.items().get(&vault, id).await.unwrap();
            let field = item.fields.iter().find(|f| f.id == "password").unwrap();
            assert_eq!(&field.value, password);
        }
        let listed = owner
            .items()
            .list(&vault, &ItemListFilters::default())
            .await
            .unwrap();
        assert!(listed.len() > before.len(), "{}", listed.len());
    });
    second.stop();
}
