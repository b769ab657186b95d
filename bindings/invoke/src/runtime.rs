//! The one tokio runtime of the process: every binding's calls run on it, whatever the
//! number of clients or threads (a runtime per client or per call would multiply threads
//! and lose connection reuse).

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The process-wide multi-threaded runtime, built on first use.
///
/// # Errors
///
/// When the operating system refuses the runtime's threads; the message says so.
pub fn runtime() -> Result<&'static Runtime, String> {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .thread_name("sesame-runtime")
                .enable_all()
                .build()
                .map_err(|e| format!("could not start the Sesame runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}
