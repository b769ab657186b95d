//! The connection guard: a cap on open connections and an idle timeout, so that clients
//! that open connections and send nothing (or a few bytes, slowly) cannot starve the
//! server of sockets or of file descriptors.
//!
//! Every accepted TCP stream is wrapped in a [`Tracked`] stream that notes when bytes last
//! moved. A connection with no traffic for the idle timeout is closed. When a new
//! connection would go over the cap, the connection that has been quiet the longest is
//! closed to make room: a new client is always served, and what a flood of idle
//! connections costs is one eviction each. (The header-read timeout is hyper's: see
//! [`crate::spawn`].)

use std::collections::HashMap;
use std::future::{Future as _, Ready};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// File descriptors kept free of connections: the database, its pools, blobs, the log.
const RESERVED_FILES: usize = 64;

/// `max_connections`, lowered to what the process's open-file limit allows: past that,
/// `accept` fails and no new client is served at all, while under the cap the quietest
/// connection makes room.
pub(crate) fn connection_cap(max_connections: usize) -> usize {
    match open_file_limit() {
        Some(limit) if limit.saturating_sub(RESERVED_FILES) < max_connections => {
            let cap = limit.saturating_sub(RESERVED_FILES).max(1);
            tracing::warn!(
                max_connections,
                open_file_limit = limit,
                cap,
                "max_connections is above what the open-file limit allows; using the lower cap \
                 (raise `ulimit -n` to allow more)"
            );
            cap
        }
        _ => max_connections,
    }
}

/// The soft limit on open files, where the platform tells it without `unsafe`.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One open connection, as the registry sees it.
#[derive(Debug)]
struct Slot {
    /// Milliseconds since the registry's epoch when bytes last moved.
    last: AtomicU64,
    evicted: AtomicBool,
    waker: AtomicWaker,
}

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    open: HashMap<u64, Arc<Slot>>,
}

/// The open connections and their limits; cloned into every connection task.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionGuard {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    registry: Mutex<Registry>,
    max: usize,
    idle: Duration,
    epoch: Instant,
}

impl ConnectionGuard {
    pub(crate) fn new(max_connections: usize, idle_timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Shared {
                registry: Mutex::new(Registry::default()),
                max: max_connections.max(1),
                idle: idle_timeout,
                epoch: Instant::now(),
            }),
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // The registry is a map of counters; a panic elsewhere leaves it usable.
        self.inner
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.inner.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Registers a new connection, evicting the quietest one when at the cap.
    fn track<T>(&self, io: T) -> Tracked<T> {
        let slot = Arc::new(Slot {
            last: AtomicU64::new(self.now_ms()),
            evicted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        let id = {
            let mut registry = self.registry();
            while registry.open.len() >= self.inner.max {
                let Some((&quietest, _)) = registry
                    .open
                    .iter()
                    .min_by_key(|(_, slot)| slot.last.load(Ordering::Relaxed))
                else {
                    break;
                };
                if let Some(evicted) = registry.open.remove(&quietest) {
                    evicted.evicted.store(true, Ordering::Relaxed);
                    evicted.waker.wake();
                }
                tracing::debug!(
                    max = self.inner.max,
                    "connection cap reached: closed the quietest connection"
                );
            }
            let id = registry.next;
            registry.next += 1;
            registry.open.insert(id, slot.clone());
            id
        };
        Tracked {
            io,
            guard: self.clone(),
            id,
            slot,
            idle: Box::pin(tokio::time::sleep(self.inner.idle)),
        }
    }
}

impl<S> axum_server::accept::Accept<TcpStream, S> for ConnectionGuard {
    type Stream = Tracked<TcpStream>;
    type Service = S;
    type Future = Ready<io::Result<(Self::Stream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        // Answers are written whole; waiting to coalesce them (Nagle) only adds latency.
        let _ = stream.set_nodelay(true);
        std::future::ready(Ok((self.track(stream), service)))
    }
}

/// A stream that the guard can close: it reads as ended once evicted or idle too long.
#[derive(Debug)]
pub(crate) struct Tracked<T> {
    io: T,
    guard: ConnectionGuard,
    id: u64,
    slot: Arc<Slot>,
    idle: Pin<Box<tokio::time::Sleep>>,
}

impl<T> Tracked<T> {
    /// Records traffic. The idle timer is not moved here (that would be a timer-wheel
    /// update per read and write): when it fires, [`closed`](Self::closed) re-arms it from
    /// the last traffic instead.
    fn touch(&mut self) {
        self.slot.last.store(self.guard.now_ms(), Ordering::Relaxed);
    }

    /// Whether the connection must end now: evicted, or no traffic for the idle timeout.
    fn closed(&mut self, cx: &mut Context<'_>) -> bool {
        self.slot.waker.register(cx.waker());
        if self.slot.evicted.load(Ordering::Relaxed) {
            return true;
        }
        while self.idle.as_mut().poll(cx).is_ready() {
            let quiet = self
                .guard
                .now_ms()
                .saturating_sub(self.slot.last.load(Ordering::Relaxed));
            let idle = u64::try_from(self.guard.inner.idle.as_millis()).unwrap_or(u64::MAX);
            if quiet >= idle {
                return true;
            }
            // Traffic since the timer was set: wait for the rest of the timeout from it
            // (polled again by the loop, which registers the waker).
            let deadline = tokio::time::Instant::now() + Duration::from_millis(idle - quiet);
            self.idle.as_mut().reset(deadline);
        }
        false
    }
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        self.guard.registry().open.remove(&self.id);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.slot.evicted.load(Ordering::Relaxed) {
            // Reads as the end of the stream: hyper closes the connection.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.touch();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.closed(cx) => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.slot.evicted.load(Ordering::Relaxed) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        match Pin::new(&mut this.io).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.touch();
                }
                Poll::Ready(Ok(n))
            }
            // A client that stopped reading its response.
            Poll::Pending if this.closed(cx) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
