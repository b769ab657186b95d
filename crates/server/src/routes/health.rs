//! Health, readiness, metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::AppState;
use crate::error::ApiError;
use crate::store::Store;

/// `GET /healthz`: the process is up.
pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
pub(super) async fn readyz<S: Store>(State(app): State<AppState<S>>) -> Response {
    match app.store.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(_) => ApiError::internal("the database does not answer")
            .with_status(StatusCode::SERVICE_UNAVAILABLE.as_u16())
            .into_response(),
    }
}

/// `GET /metrics`: the Prometheus text exposition (see [`crate::metrics`]). Public like
/// `/healthz`: it holds counts per route pattern, never an id or a secret.
pub(super) async fn metrics<S: Store>(State(app): State<AppState<S>>) -> Response {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), app.store.ping());
    let db_up = matches!(ping.await, Ok(Ok(())));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(db_up),
    )
        .into_response()
}

/// `GET /v1/openapi.json`.
pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], super::OPENAPI).into_response()
}
