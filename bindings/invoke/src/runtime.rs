//! The one tokio runtime of the process: every binding's calls run on it, whatever the
//! number of clients or threads (a runtime per client or per call would multiply threads
//! and lose connection reuse).
//!
//! It survives `fork()`. A forked child has none of its parent's threads, so the parent's
//! runtime would accept work and never run it. The runtime is therefore tied to the
//! process id: a child that calls [`runtime`] gets a fresh one. The parent's copy is left
//! untouched (never dropped: dropping it would try to join threads that do not exist).

use std::sync::Mutex;

use tokio::runtime::{Builder, Runtime};

/// The runtime and the process that built it. Held only long enough to copy it out, so a
/// fork cannot catch it locked except in a window of a few instructions.
static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The process-wide multi-threaded runtime, built on first use in each process.
///
/// # Errors
///
/// When the operating system refuses the runtime's threads; the message says so.
pub fn runtime() -> Result<&'static Runtime, String> {
    let pid = std::process::id();
    let mut current = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, runtime)) = *current {
        if owner == pid {
            return Ok(runtime);
        }
    }
    let runtime = Builder::new_multi_thread()
        .thread_name("sesame-runtime")
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the Sesame runtime: {e}"))?;
    // Lives as long as the process: calls in flight and clients hold on to it.
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    *current = Some((pid, runtime));
    Ok(runtime)
}
