//! `GET /v1/events`: the audit trail, for the owner.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use sesame_core::api::EventsPage;

use super::{ApiQuery, AppState, Caller};
use crate::error::ApiError;
use crate::store::Store;

/// Most events in one page.
const MAX_LIMIT: u32 = 1000;

/// The query of `GET /v1/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsQuery {
    #[serde(default)]
    after: u64,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    100
}

/// `GET /v1/events?after=N&limit=M` (owner). The page is read before this request's own
/// event is appended, so a page never contains the request that fetched it.
pub(super) async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    caller.require_owner("read the audit trail")?;
    if query.limit == 0 || query.limit > MAX_LIMIT {
        return Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {}",
            query.limit
        )));
    }
    let events = app.store.events(query.after, query.limit).await?;
    app.store.append_event(&caller.event()).await?;
    let next_cursor = if events.len() == query.limit as usize {
        events.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(EventsPage {
        events,
        next_cursor,
    }))
}
