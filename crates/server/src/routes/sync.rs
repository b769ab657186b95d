//! `POST /v1/sync`: every visible vault brought up to date in one round trip.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use sesame_core::api::{SyncRequest, SyncResponse};
use sesame_core::model::permissions::{self, READ_ITEMS};

use super::{ApiJson, AppState, Caller};
use crate::error::ApiError;
use crate::store::Store;

/// `POST /v1/sync`: vault records that are new or changed for the client, and item
/// changes past each cursor; both empty when nothing changed.
pub(super) async fn sync<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<SyncRequest>,
) -> Result<Json<SyncResponse>, ApiError> {
    let cursors: HashMap<_, _> = request.cursors.iter().map(|c| (c.vault_id, c)).collect();
    let mut response = SyncResponse {
        visible: Vec::new(),
        vaults: Vec::new(),
        changes: Vec::new(),
    };
    for vault in app.store.vaults(caller.id()).await? {
        response.visible.push(vault.id);
        let cursor = cursors.get(&vault.id);
        let since = cursor.map_or(0, |c| c.content_version);
        let changed = cursor.is_none_or(|c| {
            c.attribute_version != vault.attribute_version || c.permissions != vault.permissions
        });
        if permissions::has(vault.permissions, READ_ITEMS) && vault.content_version > since {
            response.changes.push(
                app.store
                    .changes_since(&vault.id, since, request.details)
                    .await?,
            );
        }
        if changed {
            response.vaults.push(vault);
        }
    }
    app.store.append_event(&caller.event()).await?;
    Ok(Json(response))
}
