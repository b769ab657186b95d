//! HTTP transport: timeouts, retries with backoff, error mapping and rate-limit headers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use crate::api::ErrorBody;
use crate::model::RateLimitState;
use crate::Resource;
use crate::{Error, ErrorCode, Result};

/// First backoff ceiling; doubles with every attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Largest backoff ceiling.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// A `Retry-After` longer than this is not waited for: the call fails with
/// [`Error::RateLimited`] and the caller decides (an hourly budget can ask for an hour).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Whether a call may be sent again after a failure that may or may not have reached
/// the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// GET, PUT with an expected version, DELETE, batch-get and sync: repeating is safe.
    Idempotent,
    /// Creates: sent once.
    Once,
}

/// A request: method, path under the base URL, JSON body and the bearer session.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<Vec<u8>>,
    pub session: Option<&'a SecretString>,
    pub retry: Retry,
    /// What a `404` is about (`vault`, `item`, `principal`), for the error.
    pub not_found: Resource,
}

/// The raw outcome of a successful call.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Server(format!(
                "the server answered {} with a body this client cannot read: {e}",
                self.status
            ))
        })
    }
}

/// The HTTP side of a client: one connection pool, counters and the rate-limit state.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    base_url: String,
    retries: u32,
    round_trips: AtomicU64,
    rate_limit: Mutex<Option<RateLimitState>>,
}

impl Transport {
    pub fn new(base_url: &str, timeout: Duration, retries: u32) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .use_rustls_tls()
            .user_agent(concat!("sesame-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Network(format!("could not set up the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            retries,
            round_trips: AtomicU64::new(0),
            rate_limit: Mutex::new(None),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    pub fn rate_limit(&self) -> Option<RateLimitState> {
        self.rate_limit.lock().map(|s| *s).unwrap_or(None)
    }

    /// Sends `call`, retrying idempotent calls on connection errors, 429 and 5xx.
    pub async fn send(&self, call: &Call<'_>) -> Result<Reply> {
        self.send_inner(call, None).await
    }

    /// [`send`](Self::send) with a new body for every attempt: a signed auth assertion is
    /// accepted once, so a retry after a lost answer must carry a fresh nonce.
    pub async fn send_fresh(
        &self,
        call: &Call<'_>,
        fresh_body: &(dyn Fn() -> Result<Vec<u8>> + Sync),
    ) -> Result<Reply> {
        self.send_inner(call, Some(fresh_body)).await
    }

    async fn send_inner(
        &self,
        call: &Call<'_>,
        fresh_body: Option<&(dyn Fn() -> Result<Vec<u8>> + Sync)>,
    ) -> Result<Reply> {
        let url = format!("{}{}", self.base_url, call.path);
        let attempts = match call.retry {
            Retry::Idempotent => self.retries + 1,
            Retry::Once => 1,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= attempts;
            let mut request = self.http.request(call.method.clone(), &url);
            if let Some(session) = call.session {
                request =
                    request.header(AUTHORIZATION, format!("Bearer {}", session.expose_secret()));
            }
            let body = match fresh_body {
                Some(fresh) => Some(fresh()?),
                None => call.body.clone(),
            };
            if let Some(body) = body {
                request = request.header(CONTENT_TYPE, "application/json").body(body);
            }
            self.round_trips.fetch_add(1, Ordering::Relaxed);
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    if last {
                        return Err(network_error(&e, &url));
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            self.record_rate_limit(&headers);
            let body = match response.bytes().await {
                Ok(bytes) => bytes.to_vec(),
                Err(e) => {
                    if last {
                        return Err(network_error(&e, &url));
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            if status.is_success() {
                return Ok(Reply { status, body });
            }
            let retry_after = parse_retry_after(&headers);
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            if retryable && !last {
                let wait = match retry_after {
                    Some(wait) if wait > MAX_RETRY_AFTER => {
                        return Err(failed(status, &headers, &body, retry_after, call.not_found))
                    }
                    Some(wait) => wait,
                    None => backoff(attempt),
                };
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(failed(status, &headers, &body, retry_after, call.not_found));
        }
    }

    /// One authenticated request whose body or answer is a byte stream (file transfers):
    /// sent once, never retried (a stream cannot be replayed), with its own `timeout`.
    /// A success returns the response with its body unread; an error answer is mapped.
    pub async fn send_stream(
        &self,
        method: Method,
        path: &str,
        session: &SecretString,
        body: Option<(reqwest::Body, u64)>,
        timeout: Duration,
        not_found: Resource,
    ) -> Result<reqwest::Response> {
        let url = format!("{}{}", self.base_url, path);
        let mut request = self
            .http
            .request(method, &url)
            .timeout(timeout)
            .header(AUTHORIZATION, format!("Bearer {}", session.expose_secret()));
        if let Some((body, length)) = body {
            request = request
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, length)
                .body(body);
        }
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|e| network_error(&e, &url))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.record_rate_limit(&headers);
        if status.is_success() {
            return Ok(response);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| network_error(&e, &url))?;
        Err(failed(
            status,
            &headers,
            &body,
            parse_retry_after(&headers),
            not_found,
        ))
    }

    fn record_rate_limit(&self, headers: &HeaderMap) {
        if let Some(state) = parse_rate_limit(headers) {
            if let Ok(mut slot) = self.rate_limit.lock() {
                *slot = Some(state);
            }
        }
    }
}

fn network_error(e: &reqwest::Error, url: &str) -> Error {
    // reqwest's Display names the URL; ours carries no secret (sessions travel in headers).
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    Error::Network(format!(
        "request to {url} {what}: {e}; check that the server is running and reachable"
    ))
}

/// Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And
/// Jitter"): a uniform wait in `0..=min(cap, base * 2^(attempt-1))`, which spreads the
/// retries of many clients instead of synchronising them.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let ceiling = backoff_ceiling(attempt);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

/// The largest wait of [`backoff`] for `attempt` (from 1).
pub(crate) fn backoff_ceiling(attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_CAP)
}

/// `Retry-After` as delay-seconds (RFC 9110 §10.2.3). The HTTP-date form is read as
/// "unknown" rather than trusting a clock we cannot check.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_delay_seconds(value)
}

pub(crate) fn parse_delay_seconds(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u64>().ok().map(Duration::from_secs)
}

fn parse_rate_limit(headers: &HeaderMap) -> Option<RateLimitState> {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    Some(RateLimitState {
        limit: number("x-ratelimit-limit")?,
        remaining: number("x-ratelimit-remaining")?,
        reset: Duration::from_secs(number("x-ratelimit-reset").unwrap_or(0)),
    })
}

/// [`map_error`], noted as coming from this answer (see [`super::http_failure`]).
fn failed(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    retry_after: Option<Duration>,
    not_found: Resource,
) -> Error {
    let error = map_error(status, body, retry_after, not_found);
    super::http_failure::record(status, headers, &error);
    error
}

/// Maps an error response to [`Error`] by its wire code; an unknown code is a server error.
pub(crate) fn map_error(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
    not_found: Resource,
) -> Error {
    let Ok(ErrorBody { code, message }) = serde_json::from_slice::<ErrorBody>(body) else {
        return match status {
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited { retry_after },
            StatusCode::UNAUTHORIZED => {
                Error::Unauthenticated(format!("the server answered {status}"))
            }
            _ => Error::Server(format!(
                "the server answered {status} without a readable error body"
            )),
        };
    };
    match ErrorCode::from_name(&code) {
        Some(ErrorCode::NotFound) => Error::NotFound {
            what: not_found,
            name: None,
            message,
        },
        Some(ErrorCode::PermissionDenied) => Error::PermissionDenied(message),
        Some(ErrorCode::Unauthenticated) | Some(ErrorCode::InvalidToken) => {
            Error::Unauthenticated(message)
        }
        Some(ErrorCode::RateLimited) => Error::RateLimited { retry_after },
        Some(ErrorCode::Conflict) => Error::Conflict(message),
        Some(ErrorCode::Integrity) => Error::Integrity(message),
        Some(ErrorCode::Network) => Error::Network(message),
        Some(ErrorCode::InvalidInput)
        | Some(ErrorCode::InvalidReference)
        | Some(ErrorCode::Ambiguous) => Error::invalid_input("request", message),
        Some(ErrorCode::Server) | None => Error::Server(format!("{code}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_then_caps_and_stays_under_its_ceiling() {
        assert_eq!(backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(backoff_ceiling(4), Duration::from_millis(800));
        assert_eq!(backoff_ceiling(10), BACKOFF_CAP);
        assert_eq!(backoff_ceiling(64), BACKOFF_CAP);
        for attempt in 1..12 {
            for _ in 0..50 {
                assert!(backoff(attempt) <= backoff_ceiling(attempt));
            }
        }
        // Jitter: 200 draws of the capped ceiling are not all the same value.
        let draws: std::collections::HashSet<_> = (0..200).map(|_| backoff(10)).collect();
        assert!(draws.len() > 10);
    }

    #[test]
    fn retry_after_accepts_only_delay_seconds() {
        assert_eq!(parse_delay_seconds("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_delay_seconds(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_delay_seconds("-1"), None);
        assert_eq!(parse_delay_seconds("1.5"), None);
        assert_eq!(parse_delay_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_delay_seconds(""), None);
        let mut headers = HeaderMap::new();
        assert_eq!(parse_retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(7)));
    }

    #[test]
    fn rate_limit_headers_are_read_when_complete() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("100"));
        assert_eq!(parse_rate_limit(&headers), None);
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("42"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("30"));
        assert_eq!(
            parse_rate_limit(&headers),
            Some(RateLimitState {
                limit: 100,
                remaining: 42,
                reset: Duration::from_secs(30)
            })
        );
    }

    #[test]
    fn error_bodies_map_by_code_and_unknown_codes_are_server_errors() {
        let body = |code: &str| format!(r#"{{"code":"{code}","message":"m"}}"#).into_bytes();
        let e = map_error(
            StatusCode::NOT_FOUND,
            &body("not_found"),
            None,
            Resource::Item,
        );
        assert!(
            matches!(e, Error::NotFound { ref what, .. } if what == "item"),
            "{e}"
        );
        let e = map_error(
            StatusCode::CONFLICT,
            &body("conflict"),
            None,
            Resource::Item,
        );
        assert_eq!(e.code(), ErrorCode::Conflict);
        let e = map_error(
            StatusCode::TOO_MANY_REQUESTS,
            &body("rate_limited"),
            Some(Duration::from_secs(9)),
            Resource::Item,
        );
        assert!(matches!(e, Error::RateLimited { retry_after: Some(d) } if d.as_secs() == 9));
        let e = map_error(
            StatusCode::IM_A_TEAPOT,
            &body("teapot"),
            None,
            Resource::Item,
        );
        assert_eq!(e.code(), ErrorCode::Server);
        assert!(e.to_string().contains("teapot"));
        let e = map_error(StatusCode::BAD_GATEWAY, b"<html>", None, Resource::Item);
        assert_eq!(e.code(), ErrorCode::Server);
        let e = map_error(
            StatusCode::FORBIDDEN,
            &body("permission_denied"),
            None,
            Resource::Vault,
        );
        assert_eq!(e.code(), ErrorCode::PermissionDenied);
    }
}
