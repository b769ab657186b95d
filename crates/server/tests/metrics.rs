//! `GET /metrics`: requests counted per route PATTERN, method and status, their durations,
//! refusals by rate limit, conflicts and audit failures, in the Prometheus text format;
//! never an id, a token or a session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{b64, send, start_with, Session, TestServer};
use reqwest::Method;
use serde_json::json;
use sesame_core::id::Id;

const ITEM: &str = "/v1/vaults/{vault}/items/{item}";

/// The body of `GET /metrics`, checked to be the text format.
async fn scrape(server: &TestServer) -> String {
    let response = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    for line in text.lines() {
        assert!(
            line.starts_with("# HELP sesame_")
                || line.starts_with("# TYPE sesame_")
                || line.starts_with("sesame_"),
            "{line}"
        );
    }
    text
}

/// The value of the sample `series` (name and labels exactly), or `None`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(|value| value.parse().unwrap())
    })
}

fn requests(text: &str, route: &str, method: &str, status: u16) -> f64 {
    let series = format!(
        "sesame_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
    );
    sample(text, &series).unwrap_or(0.0)
}

fn put_body(expected: u64) -> serde_json::Value {
    json!({
        "expectedVersion": expected,
        "state": "active",
        "overview": b64(b"overview"),
        "details": b64(b"details"),
    })
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_outcome() {
    let server = start_with(|c| {
        c.rate_limit_reads = 2;
        c.rate_limit_unauthenticated = 4;
    })
    .await;
    let owner = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let created = owner.create_item(&vault, b"ov", b"de").await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let item = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/vaults/{vault}/items/{item}");
    let missing = Id::generate();

    // Reads: one OK, one 404, then the budget of 2 is used up.
    assert_eq!(owner.get(&path).await.status, 200);
    let gone = owner
        .get(&format!("/v1/vaults/{vault}/items/{missing}"))
        .await;
    assert_eq!(gone.status, 404, "{:?}", gone.body);
    let mut read_refusals = 0;
    while read_refusals == 0 {
        // A new hourly window may let one more through; the next is refused again.
        let reply = owner.get(&path).await;
        assert!(
            [200, 429].contains(&reply.status.as_u16()),
            "{:?}",
            reply.body
        );
        if reply.status == 429 {
            read_refusals += 1;
        }
    }
    let reads = 2 + read_refusals;

    // Writes: an update, then a stale one.
    assert_eq!(owner.put(&path, put_body(1)).await.status, 200);
    let stale = owner.put(&path, put_body(1)).await;
    assert_eq!((stale.status.as_u16(), stale.code()), (409, "conflict"));

    // Without a session: 401s until the source's budget of 4 (the sign-in was one) runs out.
    let me = server.url("/v1/principals/me");
    let (mut unauthenticated, mut source_refusals) = (0, 0);
    while source_refusals == 0 {
        let reply = send(&server.http, Method::GET, &me, None, None).await;
        match reply.status.as_u16() {
            401 => unauthenticated += 1,
            429 => source_refusals += 1,
            other => panic!("{other}: {:?}", reply.body),
        }
        assert!(unauthenticated < 20, "never refused");
    }

    // No route: the ids of the path go nowhere.
    let unmatched = send(
        &server.http,
        Method::GET,
        &server.url(&format!("/nope/{missing}?token=x")),
        None,
        None,
    )
    .await;
    assert_eq!(unmatched.status, 404);
    assert_eq!(
        send(
            &server.http,
            Method::GET,
            &server.url("/healthz"),
            None,
            None
        )
        .await
        .status,
        200
    );

    let text = scrape(&server).await;
    assert_eq!(requests(&text, "/v1/auth", "POST", 200), 1.0, "{text}");
    assert_eq!(requests(&text, "/v1/vaults", "POST", 200), 1.0, "{text}");
    assert_eq!(
        requests(&text, "/v1/vaults/{vault}/items", "POST", 200),
        1.0,
        "{text}"
    );
    assert_eq!(requests(&text, ITEM, "GET", 200), 1.0, "{text}");
    assert_eq!(requests(&text, ITEM, "GET", 404), 1.0, "{text}");
    assert_eq!(
        requests(&text, ITEM, "GET", 429),
        f64::from(read_refusals),
        "{text}"
    );
    assert_eq!(requests(&text, ITEM, "PUT", 200), 1.0, "{text}");
    assert_eq!(requests(&text, ITEM, "PUT", 409), 1.0, "{text}");
    assert_eq!(
        requests(&text, "/v1/principals/me", "GET", 401),
        f64::from(unauthenticated),
        "{text}"
    );
    assert_eq!(requests(&text, "/v1/principals/me", "GET", 429), 1.0);
    assert_eq!(requests(&text, "unmatched", "GET", 404), 1.0, "{text}");
    assert_eq!(requests(&text, "/healthz", "GET", 200), 1.0, "{text}");
    // The scrape counts once it is answered.
    assert_eq!(requests(&text, "/metrics", "GET", 200), 0.0, "{text}");
    assert_eq!(sample(&text, "sesame_http_requests_in_flight"), Some(1.0));

    assert_eq!(
        sample(&text, "sesame_rate_limited_total{kind=\"read\"}"),
        Some(f64::from(read_refusals))
    );
    assert_eq!(
        sample(&text, "sesame_rate_limited_total{kind=\"write\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "sesame_rate_limited_total{kind=\"unauthenticated\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "sesame_rate_limited_total{kind=\"other\"}"),
        Some(0.0)
    );
    assert_eq!(sample(&text, "sesame_conflicts_total"), Some(1.0));
    assert_eq!(sample(&text, "sesame_audit_failures_total"), Some(0.0));
    assert_eq!(sample(&text, "sesame_db_up"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            &format!(
                "sesame_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0)
    );
    for (name, kind) in [
        ("sesame_http_requests_total", "counter"),
        ("sesame_http_request_duration_seconds", "histogram"),
        ("sesame_rate_limited_total", "counter"),
        ("sesame_conflicts_total", "counter"),
        ("sesame_audit_failures_total", "counter"),
        ("sesame_db_up", "gauge"),
        ("sesame_build_info", "gauge"),
    ] {
        assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{name}");
        assert!(text.contains(&format!("# HELP {name} ")), "{name}");
    }

    // The item GETs' histogram: 15 cumulative buckets from 0.5 ms to 10 s and +Inf.
    let labels = format!("route=\"{ITEM}\",method=\"GET\"");
    let bounds = [
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
        "2.5", "5", "10", "+Inf",
    ];
    let mut last = 0.0;
    for bound in bounds {
        let count = sample(
            &text,
            &format!("sesame_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}}"),
        )
        .unwrap_or_else(|| panic!("no bucket le={bound}: {text}"));
        assert!(count >= last, "buckets are cumulative: {text}");
        last = count;
    }
    assert_eq!(last, f64::from(reads));
    assert_eq!(
        sample(
            &text,
            &format!("sesame_http_request_duration_seconds_count{{{labels}}}")
        ),
        Some(f64::from(reads))
    );
    let sum = sample(
        &text,
        &format!("sesame_http_request_duration_seconds_sum{{{labels}}}"),
    )
    .unwrap();
    assert!(sum > 0.0 && sum < 30.0, "{sum}");

    // Nothing that identifies or authenticates anyone.
    for secret in [
        vault.to_string(),
        item.clone(),
        missing.to_string(),
        owner.session.clone(),
        owner.principal.to_string(),
        server.account.to_string(),
        // Any token at all.
        sesame_core::token::TOKEN_PREFIX.to_owned(),
        "token=x".to_owned(),
    ] {
        assert!(!text.contains(&secret), "{secret} in /metrics");
    }

    let again = scrape(&server).await;
    assert_eq!(requests(&again, "/metrics", "GET", 200), 1.0, "{again}");
    server.shutdown().await;
}

/// A request whose audit event cannot be stored fails closed and is counted.
#[tokio::test]
async fn an_audit_trail_that_refuses_appends_is_counted() {
    let server = start_with(|_| {}).await;
    let owner: Session = server.owner().await;
    let (vault, _) = owner.create_vault(&server.owner).await;
    let path = format!("/v1/vaults/{vault}");
    assert_eq!(owner.get(&path).await.status, 200);
    let db = server.database().await;
    let (off, on) = if server.on_postgres() {
        (
            "ALTER TABLE audit_events ADD CONSTRAINT audit_off CHECK (false) NOT VALID",
            "ALTER TABLE audit_events DROP CONSTRAINT audit_off",
        )
    } else {
        (
            "CREATE TRIGGER audit_off BEFORE INSERT ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit disk full'); END",
            "DROP TRIGGER audit_off",
        )
    };
    sqlx::query(off).execute(&db).await.unwrap();
    let failed = owner.get(&path).await;
    assert_eq!(failed.status, 500, "{:?}", failed.body);
    let text = scrape(&server).await;
    assert_eq!(
        sample(&text, "sesame_audit_failures_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests(&text, "/v1/vaults/{vault}", "GET", 500),
        1.0,
        "{text}"
    );
    sqlx::query(on).execute(&db).await.unwrap();
    assert_eq!(owner.get(&path).await.status, 200);
    let text = scrape(&server).await;
    assert_eq!(
        sample(&text, "sesame_audit_failures_total"),
        Some(1.0),
        "{text}"
    );
    db.close().await;
    server.shutdown().await;
}
