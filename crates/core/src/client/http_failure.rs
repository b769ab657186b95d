//! Which HTTP response an error came from, for the language bindings' exceptions
//! (`status_code`, `request_id`), without threading the response through every error.
//!
//! The transport records the status and the server's `x-request-id` of each error answer
//! it maps, in a task-local slot that [`with_http_failure`] opens around a call. When the
//! call fails, its error is matched against the recorded one (by its message, which the
//! mapping produced): an error the core raised by itself, or changed on the way, gets no
//! HTTP facts rather than wrong ones.

use std::cell::RefCell;
use std::future::Future;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::{Error, Result};

/// The server's answer an error came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpFailure {
    /// The HTTP status, e.g. 404.
    pub status: u16,
    /// The server's id for the request (`x-request-id`), to quote when reporting a
    /// problem (the server logs its failures with it).
    pub request_id: Option<String>,
}

tokio::task_local! {
    static LAST: RefCell<Option<(HttpFailure, String)>>;
}

/// Runs `call` and tells which HTTP answer its error came from, if it came from one.
/// Calls the core spawns onto other tasks are not followed (their errors get `None`).
///
/// ```
/// # async fn run(client: sesame_core::Client) {
/// use sesame_core::client::with_http_failure;
/// let (result, http) = with_http_failure(client.secrets().resolve("op://a/b/c")).await;
/// if let (Err(e), Some(http)) = (&result, &http) {
///     eprintln!("{e} (HTTP {}, request {:?})", http.status, http.request_id);
/// }
/// # }
/// ```
pub async fn with_http_failure<T>(
    call: impl Future<Output = Result<T>>,
) -> (Result<T>, Option<HttpFailure>) {
    LAST.scope(RefCell::new(None), async move {
        let result = call.await;
        let failure = match &result {
            Ok(_) => None,
            Err(error) => {
                let shown = error.to_string();
                LAST.with(|last| {
                    last.borrow()
                        .as_ref()
                        .filter(|(_, message)| *message == shown)
                        .map(|(failure, _)| failure.clone())
                })
            }
        };
        (result, failure)
    })
    .await
}

/// Notes that `error` is how the transport mapped an answer with `status` and `headers`.
pub(crate) fn record(status: StatusCode, headers: &HeaderMap, error: &Error) {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128)
        .map(str::to_owned);
    let failure = HttpFailure {
        status: status.as_u16(),
        request_id,
    };
    // Outside `with_http_failure` there is no slot, and nothing to do.
    let _ = LAST.try_with(|last| *last.borrow_mut() = Some((failure, error.to_string())));
}
