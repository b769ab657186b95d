//! The OpenAPI document describes every route the router serves, and is served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;

#[test]
fn every_route_is_in_the_openapi_document() {
    let doc: Value = serde_json::from_str(sesame_server::OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = sesame_server::routes();
    assert!(routes.len() >= 26, "{routes:?}");
    for (method, path) in &routes {
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is served but missing from openapi.json"
        );
        assert!(operation["operationId"].is_string(), "{method} {path}");
    }
    // And nothing documented is not served.
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, routes.len());
    // Every schema reference resolves.
    let text = sesame_server::OPENAPI;
    for reference in text.split("\"#/components/").skip(1) {
        let target = &reference[..reference.find('"').unwrap()];
        let mut node = &doc["components"];
        for part in target.split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "dangling $ref {target}");
    }
}

#[tokio::test]
async fn the_document_and_health_endpoints_are_served() {
    let server = common::start().await;
    let doc = reqwest::get(server.url("/v1/openapi.json")).await.unwrap();
    assert_eq!(doc.status(), 200);
    assert_eq!(doc.headers()["content-type"], "application/json");
    let body: Value = doc.json().await.unwrap();
    assert!(body["paths"]["/v1/sync"].is_object());
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    server.shutdown().await;
}

/// One way of calling a route that provokes a status every route may answer.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// No `Authorization` header: `401` on an authenticated route.
    NoCredential,
    /// A bearer that is not a session: `401`.
    BadCredential,
    /// As the owner, with `{}` for a body: a missing field (`400`) or an id that does not
    /// exist (`404`), …
    Owner,
    /// As a service account with no grant: `403` or `404`.
    Stranger,
    /// A body that is not JSON: `400`.
    MalformedJson,
    /// JSON sent as `text/plain`: `415`.
    WrongContentType,
    /// A body over the server's limit: `413`.
    Oversize,
    /// After the caller's read and write budgets are spent: `429`.
    OverBudget,
}

/// The path with each `{param}` replaced by a fresh id (so every id is one that does not
/// exist, and nothing the test made is touched).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.starts_with('{') {
                sesame_core::id::Id::generate().to_string()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Point 15: every status a route answers to the probes above is documented for that
/// path and method, and a method the document does not list for a path is `405`. The
/// probes run against a real server; a status a new route or a new defence adds (for
/// example `429` before authentication, `507` on a full disk) must be documented too.
#[tokio::test]
async fn every_status_a_route_answers_is_documented() {
    const LIMIT: usize = 4096;
    let doc: Value = serde_json::from_str(sesame_server::OPENAPI).unwrap();
    let server = common::start_with(|c| {
        c.max_body_bytes = LIMIT;
        // Enough for the probes before the budget one; the budget probe spends the rest.
        c.rate_limit_reads = 200;
        c.rate_limit_writes = 200;
    })
    .await;
    let owner = server.owner().await;
    let (_, stranger) = server.service_account(&owner, &[]).await;
    let http = reqwest::Client::new();
    let mut undocumented = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let probes = [
        Probe::NoCredential,
        Probe::BadCredential,
        Probe::Owner,
        Probe::Stranger,
        Probe::MalformedJson,
        Probe::WrongContentType,
        Probe::Oversize,
        Probe::OverBudget,
    ];
    for probe in probes {
        if let Probe::OverBudget = probe {
            // Spend both budgets of both principals (the owner's and the stranger's).
            for session in [&owner, &stranger] {
                loop {
                    let read = common::send(
                        &http,
                        reqwest::Method::GET,
                        &server.url("/v1/principals/me"),
                        Some(&session.session),
                        None,
                    )
                    .await;
                    if read.status == 429 {
                        break;
                    }
                }
                loop {
                    let write = common::send(
                        &http,
                        reqwest::Method::POST,
                        &server.url("/v1/vaults"),
                        Some(&session.session),
                        Some(serde_json::json!({})),
                    )
                    .await;
                    if write.status == 429 {
                        break;
                    }
                }
            }
        }
        for (method, path) in sesame_server::routes() {
            let operation = &doc["paths"][path][method.to_lowercase()];
            let takes_body = operation["requestBody"].is_object();
            let bearer = match probe {
                Probe::NoCredential => None,
                Probe::BadCredential => Some("not-a-session".to_owned()),
                Probe::Stranger => Some(stranger.session.clone()),
                _ => Some(owner.session.clone()),
            };
            let (content_type, body): (&str, Vec<u8>) = match probe {
                Probe::MalformedJson => ("application/json", b"{\"name\": ".to_vec()),
                Probe::WrongContentType => ("text/plain", b"{}".to_vec()),
                Probe::Oversize => {
                    let mut big = b"{\"padding\": \"".to_vec();
                    big.resize(LIMIT + 64, b'a');
                    big.extend_from_slice(b"\"}");
                    ("application/json", big)
                }
                _ => ("application/json", b"{}".to_vec()),
            };
            let needs_body = matches!(
                probe,
                Probe::MalformedJson | Probe::WrongContentType | Probe::Oversize
            );
            if needs_body && !takes_body {
                continue;
            }
            let mut request = http.request(
                method.parse::<reqwest::Method>().unwrap(),
                server.url(&concrete(path)),
            );
            if let Some(bearer) = bearer {
                request = request.bearer_auth(bearer);
            }
            if takes_body {
                request = request.header("content-type", content_type).body(body);
            }
            let status = match request.send().await {
                Ok(response) => response.status().as_u16(),
                // A server may close the connection on an oversize body before reading it.
                Err(e) if matches!(probe, Probe::Oversize) && !e.is_timeout() => continue,
                Err(e) => panic!("{method} {path} ({probe:?}): {e}"),
            };
            seen.insert(status);
            if !operation["responses"][status.to_string()].is_object() {
                undocumented.push(format!("{method} {path} answered {status} to {probe:?}"));
            }
        }
    }
    // The probes provoke what they are for (so a probe that stopped working is noticed).
    for status in [200, 400, 401, 403, 404, 413, 415, 429] {
        assert!(
            seen.contains(&status),
            "no route answered {status}: {seen:?}"
        );
    }
    assert!(
        undocumented.is_empty(),
        "statuses missing from openapi.json:\n{}",
        undocumented.join("\n")
    );

    // A method the document does not list for a path is refused with 405.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if item.get(method.to_lowercase()).is_some() {
                continue;
            }
            let response = http
                .request(method.parse().unwrap(), server.url(&concrete(path)))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
        }
    }
    server.shutdown().await;
}
