//! File blobs: a streamed upload written to a temporary file and renamed into place once
//! complete, a streamed download, and the collector that deletes blobs no item version
//! references. See the "Files" section of [`sesame_core::api`] for the protocol.

use std::io;
use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use sesame_core::crypto::ciphertext_len;
use sesame_core::id::Id;
use sesame_core::model::permissions::{self, CREATE_ITEMS, READ_ITEMS, UPDATE_ITEMS};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{no_content, require, App, AppState, Caller};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::store::{BlobKey, BlobState, Store};

/// Bytes read from disk per frame of a download.
const DOWNLOAD_FRAME: usize = 64 * 1024;

/// Where a blob lives: `<data-dir>/blobs/<vault>/<item>/<file>`.
pub(crate) fn blob_path(config: &ServerConfig, key: &BlobKey) -> PathBuf {
    config
        .blob_dir()
        .join(key.vault.as_str())
        .join(key.item.as_str())
        .join(key.file.as_str())
}

fn io_error(what: &str, e: &io::Error) -> ApiError {
    if crate::error::is_storage_full(e) {
        tracing::error!(error = %e, "{what}: the data disk is full");
        return ApiError::storage_full();
    }
    ApiError::internal(format_args!("{what}: {e}"))
}

fn key_of(caller: &Caller) -> Result<BlobKey, ApiError> {
    Ok(BlobKey {
        vault: caller.vault()?,
        item: caller.item()?,
        file: caller.file()?,
    })
}

/// The declared body length: required, because the size limit is enforced from it before
/// a byte of the body is read.
fn content_length(headers: &HeaderMap) -> Result<u64, ApiError> {
    let value = headers.get(CONTENT_LENGTH).ok_or_else(|| {
        ApiError::invalid(
            "a file upload needs a Content-Length header (the encrypted size); chunked \
             uploads are not accepted",
        )
        .with_status(411)
    })?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::invalid("the Content-Length header is not a number"))
}

/// `PUT /v1/vaults/{vault}/items/{item}/files/{file}` (`CREATE_ITEMS` or `UPDATE_ITEMS`).
pub(super) async fn upload<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = key_of(&caller)?;
    let granted = require(&app, &caller, &key.vault, 0).await?;
    if !permissions::has(granted, CREATE_ITEMS) && !permissions::has(granted, UPDATE_ITEMS) {
        return Err(ApiError::forbidden(format!(
            "uploading a file needs CREATE_ITEMS or UPDATE_ITEMS on vault {}",
            key.vault
        )));
    }
    let length = content_length(&headers)?;
    let max = app.config.max_file_bytes;
    if length > ciphertext_len(max) {
        return Err(ApiError::invalid(format!(
            "the file is too large: its encrypted size is {length} bytes and this server \
             accepts files of at most {max} bytes ({} bytes encrypted); upload a smaller file \
             or raise max_file_bytes in the server configuration",
            ciphertext_len(max)
        ))
        .with_status(413));
    }
    if length < ciphertext_len(0) {
        return Err(ApiError::invalid(format!(
            "{length} bytes is shorter than any encrypted file ({} bytes for an empty one)",
            ciphertext_len(0)
        )));
    }
    if let Some(existing) = app.store.blob(&key.file).await? {
        if existing.key != key || existing.state != BlobState::Uploaded {
            return Err(ApiError::conflict(format!(
                "file id {} is already in use; upload the file under a new id",
                key.file
            )));
        }
    }
    let tmp_dir = app.config.blob_dir().join("tmp");
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(|e| io_error("cannot create the blob directory", &e))?;
    let tmp = TempFile(tmp_dir.join(format!("{}.{}.part", key.file, Id::generate())));
    receive(&tmp.0, body, length).await?;
    let path = blob_path(&app.config, &key);
    install(&tmp.0, &path).await?;
    app.store.add_blob(&key, length, &caller.event()).await?;
    collect_garbage(&app).await;
    Ok(no_content())
}

/// A temporary upload file, deleted when dropped: on an error, and also when the
/// connection closes and the request is cancelled mid-body. After the rename into place
/// the path no longer exists and the deletion does nothing.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes exactly `length` body bytes to `path` and syncs them; any other outcome is an
/// error and the caller deletes the file.
async fn receive(path: &Path, body: Body, length: u64) -> Result<(), ApiError> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // Blobs are ciphertext, but still only the server's to read (point 5).
    #[cfg(unix)]
    options.mode(0o600);
    let mut out = options
        .open(path)
        .await
        .map_err(|e| io_error("cannot create a temporary blob file", &e))?;
    let mut frames = body.into_data_stream();
    let mut received = 0u64;
    while let Some(frame) = frames.next().await {
        let frame = frame.map_err(|e| {
            ApiError::invalid(format!(
                "the upload broke off after {received} of {length} bytes ({e}); nothing was \
                 stored, upload the file again"
            ))
        })?;
        received += frame.len() as u64;
        if received > length {
            return Err(ApiError::invalid(format!(
                "the body is longer than its Content-Length of {length} bytes; nothing was \
                 stored"
            )));
        }
        out.write_all(&frame)
            .await
            .map_err(|e| io_error("cannot write a blob", &e))?;
    }
    if received != length {
        return Err(ApiError::invalid(format!(
            "the upload ended after {received} of {length} bytes; nothing was stored, upload \
             the file again"
        )));
    }
    out.flush()
        .await
        .map_err(|e| io_error("cannot write a blob", &e))?;
    out.sync_all()
        .await
        .map_err(|e| io_error("cannot sync a blob to disk", &e))
}

/// Renames a complete temporary file into place and syncs the directory, so the blob is
/// durable before the store records it.
async fn install(tmp: &Path, path: &Path) -> Result<(), ApiError> {
    let dir = path
        .parent()
        .ok_or_else(|| ApiError::internal("a blob path without a directory"))?
        .to_owned();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| io_error("cannot create the blob directory", &e))?;
    tokio::fs::rename(tmp, path)
        .await
        .map_err(|e| io_error("cannot move a blob into place", &e))?;
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all()))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| io_error("cannot sync the blob directory", &e))
}

/// `GET /v1/vaults/{vault}/items/{item}/files/{file}` (`READ_ITEMS`).
pub(super) async fn download<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let key = key_of(&caller)?;
    require(&app, &caller, &key.vault, READ_ITEMS).await?;
    let missing = || {
        ApiError::not_found(format!(
            "file {} is not attached to item {} in vault {}",
            key.file, key.item, key.vault
        ))
    };
    app.store
        .blob(&key.file)
        .await?
        .filter(|b| b.key == key && b.state == BlobState::Attached)
        .ok_or_else(missing)?;
    let file = match tokio::fs::File::open(blob_path(&app.config, &key)).await {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ApiError::new(
                sesame_core::ErrorCode::Server,
                format!("the content of file {} is missing on the server", key.file),
            ))
        }
        Err(e) => return Err(io_error("cannot open a blob", &e)),
    };
    let length = file
        .metadata()
        .await
        .map_err(|e| io_error("cannot read a blob", &e))?
        .len();
    app.store.append_event(&caller.event()).await?;
    // One frame in flight at a time: memory stays at one frame whatever the file size.
    let frames = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; DOWNLOAD_FRAME];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, io::Error>(Bytes::from(buffer)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Body::from_stream(frames).into_response();
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Deletes the blobs that are detached, or uploaded and unreferenced for longer than the
/// grace period. Failures are logged: a blob left behind is retried on the next run.
pub(crate) async fn collect_garbage<S: Store>(app: &App<S>) {
    let grace = i64::try_from(app.config.upload_grace_seconds).unwrap_or(i64::MAX);
    let cutoff = time::OffsetDateTime::now_utc()
        .checked_sub(time::Duration::seconds(grace))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let keys = match app.store.blob_garbage(cutoff).await {
        Ok(keys) => keys,
        Err(err) => {
            tracing::error!(%err, "could not list blobs to collect");
            return;
        }
    };
    for key in keys {
        match app.store.forget_blob(&key).await {
            Ok(true) => {
                let path = blob_path(&app.config, &key);
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => {
                        // Only succeeds once the item's last blob is gone.
                        if let Some(dir) = path.parent() {
                            let _ = tokio::fs::remove_dir(dir).await;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(err) => {
                        tracing::error!(%err, file = %key.file, "could not delete a blob file");
                    }
                }
            }
            Ok(false) => {}
            Err(err) => tracing::error!(%err, file = %key.file, "could not forget a blob"),
        }
    }
}

/// Deletes files under the blob directory that the database does not know, once they
/// are older than the upload grace period: what a crash left between forgetting a blob's
/// row and deleting its file, and temporary files of uploads a crash interrupted. Young
/// files are left alone, since an upload renames its file into place just before it
/// records it. Runs once when the server starts.
pub(crate) async fn sweep_orphans<S: Store>(app: &App<S>) {
    let grace = std::time::Duration::from_secs(app.config.upload_grace_seconds);
    let old = |meta: &std::fs::Metadata| {
        meta.modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > grace)
    };
    let root = app.config.blob_dir();
    let mut swept = 0u64;
    let mut dirs = vec![(root.clone(), 0usize)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
            continue;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let path = entry.path();
            let Ok(meta) = entry.metadata().await else {
                continue;
            };
            if meta.is_dir() {
                dirs.push((path, depth + 1));
                continue;
            }
            // Blobs are exactly three levels down (vault/item/file); anything else that
            // is old (tmp/*.part included) belongs to nothing.
            let known = match (depth, path.file_name().and_then(|n| n.to_str())) {
                (2, Some(name)) => match name.parse::<Id>() {
                    Ok(file) => match app.store.blob(&file).await {
                        Ok(record) => record.is_some(),
                        Err(err) => {
                            tracing::error!(%err, "could not check a blob file; sweep stopped");
                            return;
                        }
                    },
                    Err(_) => false,
                },
                _ => false,
            };
            if !known && old(&meta) && tokio::fs::remove_file(&path).await.is_ok() {
                swept += 1;
                if let Some(parent) = path.parent().filter(|p| *p != root) {
                    let _ = tokio::fs::remove_dir(parent).await;
                }
            }
        }
    }
    if swept > 0 {
        tracing::info!(swept, "deleted orphaned blob files");
    }
}
