//! Where log lines go: stderr, through a bounded queue and a thread of its own, so that a
//! log destination that is full (`/dev/full`), closed, or a pipe nobody reads never
//! blocks or fails what is being logged (a request, a shutdown). Lines that do not fit
//! in the queue, or that stderr refuses, are dropped.

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
