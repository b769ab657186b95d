//! Issue 9, points 5, 6, 9 and 10 against a real server and its database (SQLite, or
//! PostgreSQL with `SESAME_TEST_POSTGRES`): the server's own files, requests without a
//! valid credential, `HEAD`, and a full disk.
//! (Points 7 and 8, which need the server in its own process, are in the CLI's tests.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use common::{auth_request, b64, now, send, start_with};
use reqwest::Method;
use sesame_core::id::Id;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn upload(session: &common::Session, path: &str, body: Vec<u8>) -> (u16, String) {
    let response = session
        .http
        .put(format!("{}{path}", session.base))
        .bearer_auth(&session.session)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Point 5: 0700 data dir, 0600 files, the session key out of the database (and moved
/// out of an old database), and `start` refusing a data dir others can reach. On
/// PostgreSQL the data dir holds no database files (their modes and bytes are not
/// checked); everything else is.
#[tokio::test]
async fn server_files_are_private_and_the_session_key_is_not_in_the_database() {
    let mut server = start_with(|c| c.data_dir = c.data_dir.join("data")).await;
    let sqlite = !server.on_postgres();
    let data = server.config.data_dir.clone();
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let (item, file) = (Id::generate(), Id::generate());
    let (status, text) = upload(
        &owner,
        &format!("/v1/vaults/{vault}/items/{item}/files/{file}"),
        vec![7; 1000],
    )
    .await;
    assert_eq!(status, 204, "{text}");

    assert_eq!(mode(&data), 0o700, "data dir");
    let key_path = data.join("session.key");
    let database_files: &[&str] = if sqlite {
        &["sesame.db", "sesame.db-wal", "sesame.db-shm"]
    } else {
        assert!(
            !data.join("sesame.db").exists(),
            "a SQLite file beside PostgreSQL"
        );
        &[]
    };
    for name in database_files.iter().chain(&["session.key"]) {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    for blob in files_under(&data.join("blobs")) {
        assert_eq!(mode(&blob), 0o600, "{}", blob.display());
    }
    let key = std::fs::read(&key_path).unwrap();
    assert_eq!(key.len(), 32);
    let db = server.database().await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT session_secret FROM account")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(stored.is_empty(), "the session key is in the database");
    for name in database_files.iter().take(2) {
        let bytes = std::fs::read(data.join(name)).unwrap();
        assert!(!contains(&bytes, &key), "the session key is in {name}");
    }
    if !sqlite {
        let (hex, b64) = (common::hex(&key), b64(&key));
        for row in server.postgres_rows().await {
            assert!(
                !row.contains(&hex) && !row.contains(&b64),
                "the session key is in {row}"
            );
        }
    }

    // A database made before the key file: the key moves out at the next start, and
    // sessions issued under it stay valid.
    sqlx::query("UPDATE account SET session_secret = $1")
        .bind(&key)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let config = server.config.clone();
    let base_http = owner.http.clone();
    let old_session = owner.session.clone();
    // Stopped, but its temporary directory kept.
    server.server.take().unwrap().shutdown().await.unwrap();
    std::fs::remove_file(&key_path).unwrap();
    let again = sesame_server::spawn(config.clone()).await.unwrap();
    assert_eq!(std::fs::read(&key_path).unwrap(), key);
    assert_eq!(mode(&key_path), 0o600);
    let reply = send(
        &base_http,
        Method::GET,
        &format!("{}/v1/vaults", again.url()),
        Some(&old_session),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let db = server.database().await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT session_secret FROM account")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(stored.is_empty(), "the old key stayed in the database");
    db.close().await;
    again.shutdown().await.unwrap();

    // A data dir the group can read: refused, with the command that fixes it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    let err = sesame_server::spawn(config.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("chmod 700 {}", data.display())) && err.contains("750"),
        "{err}"
    );
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    sesame_server::spawn(config)
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    server.shutdown().await;
}

/// The failed and refused counts of the aggregate `auth.failures` events, and how many
/// events record an unauthenticated outcome at all.
async fn failure_events(db: &sqlx::AnyPool) -> (Vec<(String, u64, u64)>, usize) {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, integration_name, integration_version FROM audit_events \
         WHERE outcome = 'unauthenticated' ORDER BY seq",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let total = rows.len();
    let aggregates = rows
        .into_iter()
        .filter(|(action, _, _)| action == "auth.failures")
        .map(|(_, source, counts)| {
            let words: Vec<&str> = counts.split_whitespace().collect();
            (source, words[0].parse().unwrap(), words[2].parse().unwrap())
        })
        .collect();
    (aggregates, total)
}

/// Point 6: requests without a valid credential are limited per source before any work
/// (`429` + `Retry-After`), and failures reach the audit trail as one event per
/// source-minute, at most 65 events a minute however many sources there are.
#[tokio::test]
async fn credential_less_requests_are_limited_per_source_and_audited_in_aggregate() {
    // One minute window: do not start right before it turns.
    if now() % 60 > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - now() % 60)).await;
    }
    let mut server = start_with(|c| c.rate_limit_unauthenticated = 6).await;
    let owner = server.owner().await; // 1 of the 6
    let vaults = server.url("/v1/vaults");
    for i in 0..5 {
        let reply = send(
            &server.http,
            Method::GET,
            &vaults,
            Some("v1.forged.mac"),
            None,
        )
        .await;
        assert_eq!(reply.status, 401, "bad session {i}: {:?}", reply.body);
    }
    let refused = send(
        &server.http,
        Method::GET,
        &vaults,
        Some("v1.forged.mac"),
        None,
    )
    .await;
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        refused.message().contains("this address"),
        "{}",
        refused.message()
    );
    // A sign-in from the same address is refused too, before its signature is checked…
    let auth = send(
        &server.http,
        Method::POST,
        &server.url("/v1/auth"),
        None,
        Some(serde_json::to_value(auth_request(&server.owner, now())).unwrap()),
    )
    .await;
    assert_eq!(auth.status, 429, "{:?}", auth.body);
    // …while a valid session is not limited by it.
    assert_eq!(owner.get("/v1/vaults").await.status, 200);

    // 100 other sources (127.0.0.0/8 is all loopback), one failure each.
    for host in 2..102u8 {
        let http = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, host]))
            .build()
            .unwrap();
        let reply = send(&http, Method::GET, &vaults, None, None).await;
        assert_eq!(reply.status, 401, "{:?}", reply.body);
    }

    let db = server.database().await;
    let (_, before_flush) = failure_events(&db).await;
    assert_eq!(before_flush, 0, "a failure was written on its own");
    db.close().await;
    server.server.take().unwrap().shutdown().await.unwrap();
    let db = server.database().await;
    let (aggregates, total) = failure_events(&db).await;
    db.close().await;
    assert_eq!(total, aggregates.len(), "only aggregate events");
    assert!(aggregates.len() <= 65, "{} events", aggregates.len());
    let local: Vec<_> = aggregates
        .iter()
        .filter(|(source, _, _)| source == "source 127.0.0.1")
        .collect();
    assert_eq!(local.len(), 1, "{aggregates:?}");
    assert_eq!((local[0].1, local[0].2), (5, 2), "{aggregates:?}");
    let others: u64 = aggregates
        .iter()
        .filter(|(source, _, _)| source != "source 127.0.0.1")
        .map(|(_, failed, _)| failed)
        .sum();
    assert_eq!(others, 100, "{aggregates:?}");
    assert!(aggregates
        .iter()
        .any(|(source, _, _)| source == "other sources"));
    server.shutdown().await;
}

/// Point 9: `HEAD` of an item is the read it answers: audited as `item.get` and charged
/// to the read budget, never recorded as a delete.
#[tokio::test]
async fn head_is_audited_and_charged_as_the_get_it_answers() {
    let server = start_with(|c| {
        c.rate_limit_reads = 50;
        c.rate_limit_writes = 40;
    })
    .await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let created = owner.create_item(&vault, b"overview", b"details").await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let item = created.body["id"].as_str().unwrap().to_owned();
    let response = owner
        .http
        .head(server.url(&format!("/v1/vaults/{vault}/items/{item}")))
        .bearer_auth(&owner.session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-ratelimit-limit"],
        "50",
        "charged as a read"
    );
    let db = server.database().await;
    let (action, item_id): (String, Option<String>) =
        sqlx::query_as("SELECT action, item_id FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        (action.as_str(), item_id.as_deref()),
        ("item.get", Some(item.as_str()))
    );
    let deletes: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'item.delete'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(deletes, 0);
    // The item is still there.
    assert_eq!(
        owner
            .get(&format!("/v1/vaults/{vault}/items/{item}"))
            .await
            .status,
        200
    );
}

/// A small tmpfs mounted on a fresh directory, unmounted on drop.
struct SmallDisk {
    _parent: tempfile::TempDir,
    path: PathBuf,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Result<Self, String> {
        let parent = tempfile::tempdir().unwrap();
        let path = parent.path().join("data");
        std::fs::create_dir(&path).unwrap();
        let output = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m,mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        Ok(Self {
            _parent: parent,
            path,
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Fills the disk under `dir` with a file, until the disk says it is full.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write as _;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let small = vec![0u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
    path
}

/// Point 10: a full data disk answers `507` with what happened and what to do, for
/// records and for file uploads, loses nothing stored, and works again once there is
/// space. Needs to mount a tmpfs (root); skipped, loudly, where that is not allowed. On
/// PostgreSQL the records are not on the data disk: only file uploads are checked.
#[tokio::test]
async fn a_full_disk_answers_507_and_recovers_without_losing_anything() {
    let disk = match SmallDisk::mount(8) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("SKIPPED a_full_disk_answers_507…: cannot mount a tmpfs ({why})");
            return;
        }
    };
    let data = disk.path.clone();
    let mut server = start_with(|c| c.data_dir = data.clone()).await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let mut stored = Vec::new();
    for n in 0..3 {
        let reply = owner
            .create_item(&vault, format!("kept {n}").as_bytes(), b"details")
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        stored.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    let filler = fill(&data);

    // Records: SQLite may still have room in pages it holds, so write until it has none.
    let attempts = if server.on_postgres() {
        eprintln!("a_full_disk_answers_507…: records are in PostgreSQL, not on the full data disk; checking file uploads only");
        0
    } else {
        400
    };
    let mut full = None;
    for n in 0..attempts {
        let overview: Vec<u8> = (0..16 * 1024).map(|i| ((i * 7 + n) % 251) as u8).collect();
        let reply = owner.create_item(&vault, &overview, b"details").await;
        match reply.status.as_u16() {
            200 => stored.push(reply.body["id"].as_str().unwrap().to_owned()),
            507 => {
                full = Some(reply);
                break;
            }
            other => panic!("a write on a full disk answered {other}: {:?}", reply.body),
        }
    }
    if !server.on_postgres() {
        let full = full.expect("no 507 after 400 writes on a full disk");
        assert!(
            full.message().contains("disk is full") && full.message().contains("free space"),
            "{}",
            full.message()
        );
    }
    let file_path = |file: &Id| format!("/v1/vaults/{vault}/items/{}/files/{file}", Id::generate());
    let (status, text) = upload(&owner, &file_path(&Id::generate()), vec![9; 256 * 1024]).await;
    assert_eq!(status, 507, "{text}");
    assert!(text.contains("disk is full"), "{text}");

    // Space returns: writes work again, and everything acknowledged is still there.
    std::fs::remove_file(filler).unwrap();
    let reply = owner.create_item(&vault, b"after", b"details").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let (status, text) = upload(&owner, &file_path(&Id::generate()), vec![9; 256 * 1024]).await;
    assert_eq!(status, 204, "{text}");
    for id in &stored {
        let reply = owner.get(&format!("/v1/vaults/{vault}/items/{id}")).await;
        assert_eq!(reply.status, 200, "item {id}: {:?}", reply.body);
    }
    let first = owner
        .get(&format!("/v1/vaults/{vault}/items/{}", stored[0]))
        .await;
    assert_eq!(first.body["overview"], b64(b"kept 0"));
    server.server.take().unwrap().shutdown().await.unwrap();
    // The configuration an operator would verify with: the data dir (and database URL).
    let config = sesame_server::ServerConfig {
        data_dir: data.clone(),
        database_url: server.config.database_url.clone(),
        ..sesame_server::ServerConfig::default()
    };
    let report = sesame_server::verify_audit(&config).await.unwrap();
    assert!(report.intact() && report.events > 0, "{report:?}");
    server.shutdown().await;
}
