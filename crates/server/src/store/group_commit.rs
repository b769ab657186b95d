//! Group commit of audit events: concurrent requests' events share one durable commit.
//!
//! Every read appends its audit event, and a durable commit costs an `fsync` (SQLite with
//! `synchronous=FULL`, PostgreSQL with `synchronous_commit=on`); one commit per event
//! capped the whole server at one read per `fsync`. Here one task owns the appending:
//! while a commit is on its way to disk, newly arriving events queue up, and the next
//! commit takes all of them. Nothing waits for a batch to fill, so a lone request pays
//! one commit as before, and each caller still returns only once its own event is on
//! disk. A failed commit fails every request of its group: none of their events was
//! stored (fail closed).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{EventRecord, StoreResult};
use crate::error::ApiError;

/// The most events one commit takes: bounds a transaction's size and the latency a
/// request can add to the others of its group.
const MAX_GROUP: usize = 512;

type Waiter = oneshot::Sender<StoreResult<()>>;

/// Waits until a committed group is durable.
pub(crate) type Durable = Pin<Box<dyn Future<Output = StoreResult<()>> + Send>>;

/// Writes a group of events in one transaction (all or none) and returns what to wait
/// for before the group is durable: the next group's transaction runs while this one
/// goes to disk (a backend whose commit is durable when it returns gives a ready future).
pub(crate) type CommitGroup = Arc<
    dyn Fn(Vec<EventRecord>) -> Pin<Box<dyn Future<Output = StoreResult<Durable>> + Send>>
        + Send
        + Sync,
>;

/// The queue of events waiting for the next group commit; cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<(EventRecord, Waiter)>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// Starts the committing task on the current runtime; it ends when every clone of
    /// the returned queue is dropped.
    pub(crate) fn start(commit: CommitGroup) -> Self {
        let (queue, mut pending) = mpsc::unbounded_channel::<(EventRecord, Waiter)>();
        tokio::spawn(async move {
            let mut group = Vec::new();
            while pending.recv_many(&mut group, MAX_GROUP).await > 0 {
                let (events, waiters): (Vec<_>, Vec<_>) = group.drain(..).unzip();
                let answer = |result: StoreResult<()>| {
                    for waiter in waiters {
                        // A caller that went away (its request was cancelled) needs no
                        // answer.
                        let _ = waiter.send(result.clone());
                    }
                };
                match commit(events).await {
                    Ok(durable) => {
                        tokio::spawn(async move { answer(durable.await) });
                    }
                    Err(e) => answer(Err(e)),
                }
            }
        });
        Self { queue }
    }

    /// Appends `event` with the next group and waits until that group is committed.
    pub(crate) async fn append(&self, event: EventRecord) -> StoreResult<()> {
        let (done, result) = oneshot::channel();
        self.queue
            .send((event, done))
            .map_err(|_| ApiError::internal("the audit trail is closed (server shutting down)"))?;
        result.await.map_err(|_| {
            ApiError::internal("the audit trail's committer stopped before the event was stored")
        })?
    }
}
