//! The server's metrics, served at `GET /metrics` in the Prometheus text format (0.0.4).
//!
//! A small registry of its own: counters are atomics, the per-route series sit in one map
//! behind a mutex held for a few additions per request. Every label value is bounded: a
//! route is the route table's PATTERN (`/v1/vaults/{vault}`, never a path with its ids),
//! `unmatched` when no route matched, and a method outside the usual few is `other`. No
//! series carries an id, a token, a session or anything from a query or a body.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the request duration histogram's buckets, in seconds (`+Inf` is
/// implied).
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request no route matched.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Why a request was refused with `429`: the `kind` label of `sesame_rate_limited_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateLimitKind {
    /// A principal's read budget.
    Read,
    /// A principal's write budget.
    Write,
    /// A source address's budget of requests without a valid credential.
    Unauthenticated,
    /// Any other limit (e.g. the codes mailed for one share).
    Other,
}

impl RateLimitKind {
    const ALL: [Self; 4] = [Self::Read, Self::Write, Self::Unauthenticated, Self::Other];

    fn label(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Unauthenticated => "unauthenticated",
            Self::Other => "other",
        }
    }
}

/// The counts of one (route, method).
#[derive(Debug, Default)]
struct RouteSeries {
    /// Responses per status code.
    statuses: BTreeMap<u16, u64>,
    /// Requests per duration bucket (not cumulative; the last one is `+Inf`).
    buckets: [u64; BUCKETS.len() + 1],
    /// Sum of the durations, in seconds.
    sum: f64,
    count: u64,
}

/// The registry of one server.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    routes: Mutex<BTreeMap<(String, &'static str), RouteSeries>>,
    rate_limited: [AtomicU64; 4],
    conflicts: AtomicU64,
    audit_failures: AtomicU64,
    in_flight: AtomicI64,
}

/// Holds one request in `sesame_http_requests_in_flight` until dropped (also when the
/// request is cancelled).
#[derive(Debug)]
pub(crate) struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The method label: the usual methods by name, anything else `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    /// Counts a request as in flight until the returned guard drops.
    pub(crate) fn start_request(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Records a finished request: `route` is its matched pattern (or [`UNMATCHED`]).
    pub(crate) fn record_request(
        &self,
        route: &str,
        method: &axum::http::Method,
        status: u16,
        took: Duration,
    ) {
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = routes
            .entry((route.to_owned(), method_label(method)))
            .or_default();
        *series.statuses.entry(status).or_default() += 1;
        series.buckets[bucket] += 1;
        series.sum += seconds;
        series.count += 1;
    }

    /// Counts a request refused with `429`.
    pub(crate) fn rate_limited(&self, kind: RateLimitKind) {
        let index = RateLimitKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(RateLimitKind::ALL.len() - 1);
        self.rate_limited[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an answer whose error code is `conflict`.
    pub(crate) fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request whose audit event could not be stored.
    pub(crate) fn audit_failure(&self) {
        self.audit_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition (format 0.0.4); `db_up` is whether the database answered a
    /// ping just now.
    pub(crate) fn render(&self, db_up: bool) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        header(
            &mut out,
            "sesame_http_requests_total",
            "counter",
            "HTTP requests answered, by route pattern, method and status.",
        );
        for ((route, method), series) in routes.iter() {
            for (status, count) in &series.statuses {
                let _ = writeln!(
                    out,
                    "sesame_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        header(
            &mut out,
            "sesame_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival until its response head was ready, by route \
             pattern and method (a streamed body may take longer).",
        );
        for ((route, method), series) in routes.iter() {
            let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(series.buckets.iter()) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "sesame_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                series.count
            );
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_sum{{{labels}}} {}",
                series.sum
            );
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_count{{{labels}}} {}",
                series.count
            );
        }
        drop(routes);
        header(
            &mut out,
            "sesame_http_requests_in_flight",
            "gauge",
            "HTTP requests being handled right now.",
        );
        let _ = writeln!(
            out,
            "sesame_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "sesame_rate_limited_total",
            "counter",
            "Requests refused with 429, by limit: a principal's read or write budget, a \
             source address's budget of requests without a valid credential \
             (unauthenticated), or another limit (other: e.g. the codes mailed for one share).",
        );
        for (kind, count) in RateLimitKind::ALL.iter().zip(self.rate_limited.iter()) {
            let _ = writeln!(
                out,
                "sesame_rate_limited_total{{kind=\"{}\"}} {}",
                kind.label(),
                count.load(Ordering::Relaxed)
            );
        }
        counter(
            &mut out,
            "sesame_conflicts_total",
            "Responses whose error code is conflict (409: a stale version, an id in use).",
            self.conflicts.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sesame_audit_failures_total",
            "Requests none of whose audit events could be stored: the event recording a \
             failed request (4xx or 5xx) could not be appended. A request whose own event \
             cannot be stored fails closed (5xx), so an audit trail that refuses appends \
             counts every request here.",
            self.audit_failures.load(Ordering::Relaxed),
        );
        header(
            &mut out,
            "sesame_db_up",
            "gauge",
            "Whether the database answered a ping during this scrape (1) or not (0).",
        );
        let _ = writeln!(out, "sesame_db_up {}", u8::from(db_up));
        header(
            &mut out,
            "sesame_build_info",
            "gauge",
            "The server's version, as a label; always 1.",
        );
        let _ = writeln!(
            out,
            "sesame_build_info{{version=\"{}\"}} 1",
            escape(env!("CARGO_PKG_VERSION"))
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value as the text format quotes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        let get = axum::http::Method::GET;
        metrics.record_request("/healthz", &get, 200, Duration::from_micros(100));
        metrics.record_request("/healthz", &get, 200, Duration::from_millis(30));
        metrics.record_request(
            UNMATCHED,
            &axum::http::Method::from_bytes(b"BREW").unwrap(),
            404,
            Duration::from_secs(20),
        );
        metrics.rate_limited(RateLimitKind::Write);
        metrics.conflict();
        let text = metrics.render(true);
        assert!(text.contains(
            "sesame_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "sesame_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",le=\"0.0005\"} 1\n"
        ));
        assert!(text.contains(
            "sesame_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",le=\"0.05\"} 2\n"
        ));
        assert!(text.contains(
            "sesame_http_request_duration_seconds_bucket{route=\"unmatched\",method=\"other\",le=\"10\"} 0\n"
        ));
        assert!(text.contains(
            "sesame_http_request_duration_seconds_bucket{route=\"unmatched\",method=\"other\",le=\"+Inf\"} 1\n"
        ));
        assert!(text.contains("sesame_rate_limited_total{kind=\"write\"} 1\n"));
        assert!(text.contains("sesame_rate_limited_total{kind=\"read\"} 0\n"));
        assert!(text.contains("sesame_conflicts_total 1\n"));
        assert!(text.contains("sesame_db_up 1\n"));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
