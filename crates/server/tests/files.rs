//! File blobs over real HTTP and a real data directory: streamed upload, the size limit
//! before the body, interrupted uploads, attach and detach through item writes, and
//! blobs freed from disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{b64, start, start_with, Session, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use sesame_core::crypto::ciphertext_len;
use sesame_core::id::Id;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn file_path(vault: &Id, item: &Id, file: &Id) -> String {
    format!("/v1/vaults/{vault}/items/{item}/files/{file}")
}

fn blob_on_disk(server: &TestServer, vault: &Id, item: &Id, file: &Id) -> PathBuf {
    server
        .dir
        .path()
        .join("blobs")
        .join(vault.as_str())
        .join(item.as_str())
        .join(file.as_str())
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

async fn upload(session: &Session, path: &str, body: Vec<u8>) -> (StatusCode, String) {
    let response = session
        .http
        .put(format!("{}{path}", session.base))
        .bearer_auth(&session.session)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn download(session: &Session, path: &str) -> (StatusCode, Vec<u8>) {
    let response = session
        .http
        .get(format!("{}{path}", session.base))
        .bearer_auth(&session.session)
        .send()
        .await
        .unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

fn item_body(id: &Id, files: &[Id]) -> serde_json::Value {
    json!({"id": id, "state": "active", "overview": b64(b"ov"), "details": b64(b"de"), "files": files})
}

fn put_body(expected: u32, files: &[Id]) -> serde_json::Value {
    json!({"expectedVersion": expected, "state": "active", "overview": b64(b"ov2"), "details": b64(b"de2"), "files": files})
}

/// Sends raw HTTP/1.1 request `head` and then `body`, then closes the write side; returns
/// whatever the server answered (empty if it only closed the connection).
async fn raw_request(server: &TestServer, head: String, body: &[u8]) -> String {
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn upload_attach_download_detach_and_free() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let item = Id::generate();
    let file = Id::generate();
    // Larger than the JSON body limit (4 MiB): uploads are streamed, not buffered.
    let content: Vec<u8> = (0..5 * 1024 * 1024 + 7).map(|i| (i % 251) as u8).collect();
    let (status, text) = upload(&owner, &file_path(&vault, &item, &file), content.clone()).await;
    assert_eq!(status, 204, "{text}");
    let on_disk = blob_on_disk(&server, &vault, &item, &file);
    assert_eq!(std::fs::read(&on_disk).unwrap(), content);
    // Not attached yet: not downloadable.
    let (status, _) = download(&owner, &file_path(&vault, &item, &file)).await;
    assert_eq!(status, 404);

    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&item, &[file]),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let (status, bytes) = download(&owner, &file_path(&vault, &item, &file)).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, content);

    // An attached file id cannot be uploaded again.
    let (status, text) = upload(&owner, &file_path(&vault, &item, &file), vec![0; 64]).await;
    assert_eq!(status, 409, "{text}");
    assert_eq!(std::fs::read(&on_disk).unwrap(), content);

    // A version without the file detaches it and frees the blob.
    let item_path = format!("/v1/vaults/{vault}/items/{item}");
    let put = owner.put(&item_path, put_body(1, &[])).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert!(!on_disk.exists(), "a detached blob stays on disk");
    let (status, _) = download(&owner, &file_path(&vault, &item, &file)).await;
    assert_eq!(status, 404);
    // And it cannot be re-attached.
    let put = owner.put(&item_path, put_body(2, &[file])).await;
    assert_eq!(put.status, 400, "{:?}", put.body);
    server.shutdown().await;
}

#[tokio::test]
async fn an_item_write_referencing_a_missing_or_foreign_blob_changes_nothing() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let item = Id::generate();
    let missing = Id::generate();
    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&item, &[missing]),
        )
        .await;
    assert_eq!(created.status, 400, "{:?}", created.body);
    assert!(
        created.message().contains("not uploaded completely"),
        "{}",
        created.message()
    );
    let got = owner.get(&format!("/v1/vaults/{vault}/items/{item}")).await;
    assert_eq!(got.status, 404, "a refused create must not create the item");

    // A blob uploaded for another item cannot be referenced.
    let other = Id::generate();
    let file = Id::generate();
    let (status, _) = upload(&owner, &file_path(&vault, &other, &file), vec![1; 64]).await;
    assert_eq!(status, 204);
    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&item, &[file]),
        )
        .await;
    assert_eq!(created.status, 400, "{:?}", created.body);

    // A put referencing a missing blob leaves the item at its version.
    let created = owner
        .post(&format!("/v1/vaults/{vault}/items"), item_body(&item, &[]))
        .await;
    assert_eq!(created.status, 200);
    let put = owner
        .put(
            &format!("/v1/vaults/{vault}/items/{item}"),
            put_body(1, &[missing]),
        )
        .await;
    assert_eq!(put.status, 400);
    let got = owner.get(&format!("/v1/vaults/{vault}/items/{item}")).await;
    assert_eq!(got.body["version"], 1);
    server.shutdown().await;
}

#[tokio::test]
async fn the_size_limit_answers_413_before_the_body_is_read() {
    let server = start_with(|c| c.max_file_bytes = 1000).await;
    let owner = server.owner().await;
    let auth = server
        .http
        .post(server.url("/v1/auth"))
        .json(&common::auth_request(&server.owner, common::now()))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(auth["maxFileSize"], 1000);
    let (vault, _) = owner.create_vault(&server.owner).await;
    let (item, file) = (Id::generate(), Id::generate());
    // Headers announcing 10 GiB and not one byte of body: the answer comes anyway.
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        file_path(&vault, &item, &file),
        owner.session,
        10u64 << 30
    );
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("the server answers before the body arrives")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("at most 1000 bytes"), "{answer}");

    // Exactly the limit is accepted.
    let ok = vec![7u8; usize::try_from(ciphertext_len(1000)).unwrap()];
    let (status, text) = upload(&owner, &file_path(&vault, &item, &file), ok).await;
    assert_eq!(status, 204, "{text}");
    let one_more = vec![7u8; usize::try_from(ciphertext_len(1001)).unwrap()];
    let (status, text) = upload(&owner, &file_path(&vault, &item, &Id::generate()), one_more).await;
    assert_eq!(status, 413, "{text}");

    // No Content-Length (a chunked body): 411.
    let chunked = owner
        .http
        .put(server.url(&file_path(&vault, &item, &Id::generate())))
        .bearer_auth(&owner.session)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            vec![Ok::<_, std::io::Error>(vec![1u8; 100])],
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), 411);
    server.shutdown().await;
}

#[tokio::test]
async fn an_interrupted_upload_leaves_nothing() {
    let server = start().await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let (item, file) = (Id::generate(), Id::generate());
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100000\r\n\r\n",
        file_path(&vault, &item, &file),
        owner.session
    );
    raw_request(&server, head, &[9u8; 50_000]).await;
    // The handler notices the broken body and removes its temporary file.
    let blobs = server.dir.path().join("blobs");
    let mut leftovers = files_under(&blobs);
    for _ in 0..50 {
        if leftovers.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        leftovers = files_under(&blobs);
    }
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&item, &[file]),
        )
        .await;
    assert_eq!(created.status, 400, "{:?}", created.body);
    server.shutdown().await;
}

#[tokio::test]
async fn deleting_an_item_or_vault_frees_its_blobs_and_stale_uploads_are_collected() {
    let server = start_with(|c| c.upload_grace_seconds = 1).await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let (item, file) = (Id::generate(), Id::generate());
    assert_eq!(
        upload(&owner, &file_path(&vault, &item, &file), vec![1; 100])
            .await
            .0,
        204
    );
    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&item, &[file]),
        )
        .await;
    assert_eq!(created.status, 200);
    let on_disk = blob_on_disk(&server, &vault, &item, &file);
    assert!(on_disk.exists());
    let deleted = owner
        .delete(&format!("/v1/vaults/{vault}/items/{item}"))
        .await;
    assert_eq!(deleted.status, 204);
    assert!(!on_disk.exists());

    // An upload no item references is collected after the grace period.
    let (orphan_item, orphan) = (Id::generate(), Id::generate());
    assert_eq!(
        upload(
            &owner,
            &file_path(&vault, &orphan_item, &orphan),
            vec![1; 100]
        )
        .await
        .0,
        204
    );
    let orphan_path = blob_on_disk(&server, &vault, &orphan_item, &orphan);
    assert!(orphan_path.exists());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (kept_item, kept) = (Id::generate(), Id::generate());
    let kept_path = blob_on_disk(&server, &vault, &kept_item, &kept);
    assert_eq!(
        upload(&owner, &file_path(&vault, &kept_item, &kept), vec![1; 100])
            .await
            .0,
        204
    );
    assert!(!orphan_path.exists(), "a stale upload was not collected");
    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&kept_item, &[kept]),
        )
        .await;
    assert_eq!(created.status, 200);

    // Deleting the vault frees the blobs of its items.
    let deleted = owner.delete(&format!("/v1/vaults/{vault}")).await;
    assert_eq!(deleted.status, 204);
    assert!(!kept_path.exists());
    server.shutdown().await;
}

#[tokio::test]
async fn reading_needs_read_items_and_uploading_needs_a_write_permission() {
    use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD};
    let server = start().await;
    let owner = server.owner().await;
    let (vault, key) = owner.create_vault(&server.owner).await;
    let (item, file) = (Id::generate(), Id::generate());
    assert_eq!(
        upload(&owner, &file_path(&vault, &item, &file), vec![1; 100])
            .await
            .0,
        204
    );
    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&item, &[file]),
        )
        .await;
    assert_eq!(created.status, 200);
    let (_, reader) = server
        .service_account(
            &owner,
            &[(&vault, &key, (READ_ITEMS | REVEAL_ITEM_PASSWORD))],
        )
        .await;
    let (status, bytes) = download(&reader, &file_path(&vault, &item, &file)).await;
    assert_eq!((status.as_u16(), bytes.len()), (200, 100));
    let (status, _) = upload(
        &reader,
        &file_path(&vault, &item, &Id::generate()),
        vec![1; 100],
    )
    .await;
    assert_eq!(status, 403);
    server.shutdown().await;
}

#[tokio::test]
async fn files_a_crash_left_behind_are_swept_when_the_server_starts() {
    let mut server = start_with(|c| c.upload_grace_seconds = 60).await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let (item, file) = (Id::generate(), Id::generate());
    let path = file_path(&vault, &item, &file);
    assert_eq!(upload(&owner, &path, vec![7; 100]).await.0, 204);
    let created = owner
        .post(
            &format!("/v1/vaults/{vault}/items"),
            item_body(&item, &[file]),
        )
        .await;
    assert_eq!(created.status, 200);
    let attached = blob_on_disk(&server, &vault, &item, &file);

    // What a crash leaves: a blob file whose row is gone, and a half-written upload.
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    let orphan = blob_on_disk(&server, &vault, &Id::generate(), &Id::generate());
    let part = server.dir.path().join("blobs/tmp/interrupted.part");
    let young = blob_on_disk(&server, &vault, &Id::generate(), &Id::generate());
    for (path, old) in [(&orphan, true), (&part, true), (&young, false)] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(path).unwrap();
        if old {
            file.set_modified(hour_ago).unwrap();
        }
    }
    // Old enough too, but recorded in the database: it stays.
    std::fs::File::options()
        .write(true)
        .open(&attached)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();

    server.server.take().unwrap().shutdown().await.unwrap();
    server.server = Some(sesame_server::spawn(server.config.clone()).await.unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while (orphan.exists() || part.exists()) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!orphan.exists(), "an unrecorded old blob is swept");
    assert!(
        !orphan.parent().unwrap().exists(),
        "with its empty directory"
    );
    assert!(!part.exists(), "an old interrupted upload is swept");
    assert!(
        young.exists(),
        "a young file may be an upload about to be recorded"
    );
    assert!(attached.exists(), "a recorded blob is never swept");
    server.shutdown().await;
}
