//! Where log lines go: stderr, through a bounded queue and a thread of its own, so that a
//! log destination that is full (`/dev/full`), closed, or a pipe nobody reads never
//! blocks or fails what is being logged (a request, a shutdown). Lines that do not fit
//! in the queue, or that stderr refuses, are dropped.
//!
//! Lines are for people (`text`, the default) or one JSON object each (`json`, for log
//! pipelines: `sesame server start --log-format json`).

use std::io::Write as _;
use std::sync::mpsc::{sync_channel, SyncSender};

/// Log lines waiting for stderr at most; beyond, new lines are dropped.
const QUEUE_LINES: usize = 1024;

/// A `MakeWriter` for `tracing_subscriber` that never blocks and never fails.
#[derive(Clone)]
pub(crate) struct LossyStderr(SyncSender<Vec<u8>>);

impl LossyStderr {
    /// Starts the writer thread; when it cannot start, logging writes nothing.
    pub(crate) fn start() -> Self {
        let (sender, receiver) = sync_channel::<Vec<u8>>(QUEUE_LINES);
        // Detached: it may block forever on a pipe nobody reads, and the process must
        // still exit when it is done.
        let _ = std::thread::Builder::new()
            .name("sesame-log".into())
            .spawn(move || {
                let mut stderr = std::io::stderr();
                for line in receiver {
                    let _ = stderr.write_all(&line);
                }
            });
        Self(sender)
    }
}

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.try_send(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LossyStderr {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// For people: time, level, target, message and fields.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the
    /// event's fields at the top level; inside a request, `span` holds its `request_id`.
    Json,
}

/// Installs the global subscriber: lines of `format` on [`LossyStderr`], filtered by
/// `SESAME_LOG` (default `info`).
pub(crate) fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SESAME_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(LossyStderr::start())
        .with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            // A request's own lines carry `"span": {"name": "request", "request_id": …}`.
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
