//! Group commit for SQLite: many commits, one `fsync`.
//!
//! With `synchronous=FULL`, SQLite syncs the write-ahead log inside every commit, so the
//! single writer could commit about one transaction per `fsync`. Instead the writer runs
//! with `synchronous=NORMAL` (a commit appends its frames to the WAL without syncing) and
//! every writer, once its commit returned, calls [`WalSync::sync`] before it answers. One
//! `fdatasync` of the WAL then makes every commit that returned before it started
//! durable, however many there were: while one sync runs, the commits that finish queue
//! behind it and share the next one.
//!
//! The guarantee is FULL's: no write is acknowledged before its WAL frames are on disk.
//! (With NORMAL, SQLite itself syncs the WAL before each checkpoint copies frames into
//! the database and the database after, so frames a checkpoint recycles are durable in
//! the database first.) The difference is visibility: another request may read a
//! committed change a few milliseconds before it is durable, as with PostgreSQL's
//! asynchronous commit; the writer's own client never hears of it before.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{ApiError, ServerError};
use crate::store::StoreResult;

/// Syncs the WAL of one database for every commit that asks.
#[derive(Debug, Clone)]
pub(super) struct WalSync {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    wal: Arc<File>,
    /// Commits that asked for a sync so far (each got the next ticket).
    tickets: AtomicU64,
    /// Every ticket up to this one is durable.
    synced: AtomicU64,
    /// One sync at a time; waiters behind it share the next.
    syncing: tokio::sync::Mutex<()>,
}

impl WalSync {
    /// Opens the WAL of the database at `path` (the writer has opened the database in
    /// WAL mode, so the file exists and keeps its inode while the database is open).
    pub(super) fn open(path: &Path) -> Result<Self, ServerError> {
        let mut name = path.as_os_str().to_owned();
        name.push("-wal");
        let wal = File::options()
            .read(true)
            .write(true)
            .open(&name)
            .map_err(|source| ServerError::Io {
                what: format!(
                    "cannot open the write-ahead log {}",
                    Path::new(&name).display()
                ),
                source,
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                wal: Arc::new(wal),
                tickets: AtomicU64::new(0),
                synced: AtomicU64::new(0),
                syncing: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Returns once every commit that returned before this call is on disk. Call it
    /// after each write transaction commits, before answering.
    pub(super) async fn sync(&self) -> StoreResult<()> {
        let inner = &self.inner;
        // Taken after the caller's commit returned: any sync that starts from here on
        // covers it.
        let ticket = inner.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = inner.syncing.lock().await;
        if inner.synced.load(Ordering::SeqCst) >= ticket {
            // A sync that started after our commit finished while we waited.
            return Ok(());
        }
        // Every ticket handed out so far belongs to a commit that already returned.
        let covered = inner.tickets.load(Ordering::SeqCst);
        let wal = inner.wal.clone();
        tokio::task::spawn_blocking(move || wal.sync_data())
            .await
            .map_err(|e| ApiError::internal(format_args!("the WAL sync task failed: {e}")))?
            .map_err(|e| {
                // The commit is in the WAL but may not be on disk: fail the request
                // rather than acknowledge a write that may not survive a crash.
                tracing::error!(error = %e, "cannot sync the write-ahead log");
                ApiError::internal(format_args!("cannot make the write durable: {e}"))
            })?;
        inner.synced.store(covered, Ordering::SeqCst);
        Ok(())
    }
}
