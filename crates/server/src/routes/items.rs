//! Items: create, get, batch get, list with delta sync, put (compare-and-set), delete.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use sesame_core::api::{
    ErrorBody, ItemBatchGetRequest, ItemBatchGetResponse, ItemChanges, ItemCreateRequest,
    ItemRecord, ItemResult, ItemUpdateRequest, MAX_BATCH,
};
use sesame_core::model::permissions::{
    self, ARCHIVE_ITEMS, CREATE_ITEMS, DELETE_ITEMS, READ_ITEMS, UPDATE_ITEMS,
};
use sesame_core::model::ItemState;
use sesame_core::ErrorCode;

use super::files::collect_garbage;
use super::{no_content, require, ApiJson, ApiQuery, AppState, Caller};
use crate::error::ApiError;
use crate::store::Store;

fn check_state(state: ItemState) -> Result<(), ApiError> {
    match state {
        ItemState::Active | ItemState::Archived => Ok(()),
        _ => Err(ApiError::invalid(
            "state must be \"active\" or \"archived\"",
        )),
    }
}

/// `POST /v1/vaults/{vault}/items` (`CREATE_ITEMS`).
pub(super) async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<ItemCreateRequest>,
) -> Result<Json<ItemRecord>, ApiError> {
    let vault = caller.vault()?;
    require(&app, &caller, &vault, CREATE_ITEMS).await?;
    check_state(request.state)?;
    if request.overview.0.is_empty() {
        return Err(ApiError::invalid(
            "overview is empty: seal it with the vault key",
        ));
    }
    let mut event = caller.change(CREATE_ITEMS);
    event.item_id = Some(request.id);
    let record = app.store.create_item(&vault, &request, &event).await?;
    collect_garbage(&app).await;
    Ok(Json(record))
}

/// The query of `GET /v1/vaults/{vault}/items`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    #[serde(default)]
    since: u64,
    #[serde(default)]
    details: bool,
}

/// `GET /v1/vaults/{vault}/items?since=N&details=B` (`READ_ITEMS`).
pub(super) async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ItemChanges>, ApiError> {
    let vault = caller.vault()?;
    require(&app, &caller, &vault, READ_ITEMS).await?;
    let changes = app
        .store
        .changes_since(&vault, query.since, query.details)
        .await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(changes))
}

/// `POST /v1/vaults/{vault}/items/batch-get` (`READ_ITEMS`).
pub(super) async fn batch_get<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<ItemBatchGetRequest>,
) -> Result<Json<ItemBatchGetResponse>, ApiError> {
    let vault = caller.vault()?;
    require(&app, &caller, &vault, READ_ITEMS).await?;
    if request.ids.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "ids has {} entries; a batch takes at most {MAX_BATCH}",
            request.ids.len()
        )));
    }
    let found = app.store.items(&vault, &request.ids).await?;
    app.store.append_event(&caller.event()).await?;
    let items = request
        .ids
        .iter()
        .zip(found)
        .map(|(id, item)| match item {
            Some(item) => ItemResult {
                id: *id,
                item: Some(item),
                error: None,
            },
            None => ItemResult {
                id: *id,
                item: None,
                error: Some(ErrorBody {
                    code: ErrorCode::NotFound.as_str().to_owned(),
                    message: format!("item {id} not found in vault {vault}"),
                }),
            },
        })
        .collect();
    Ok(Json(ItemBatchGetResponse { items }))
}

/// `GET /v1/vaults/{vault}/items/{item}` (`READ_ITEMS`).
pub(super) async fn get<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<ItemRecord>, ApiError> {
    let vault = caller.vault()?;
    let item = caller.item()?;
    require(&app, &caller, &vault, READ_ITEMS).await?;
    let record =
        app.store.item(&vault, &item).await?.ok_or_else(|| {
            ApiError::not_found(format!("item {item} not found in vault {vault}"))
        })?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(record))
}

/// `PUT /v1/vaults/{vault}/items/{item}` (`UPDATE_ITEMS`; `ARCHIVE_ITEMS` to change state).
pub(super) async fn put<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<ItemUpdateRequest>,
) -> Result<Json<ItemRecord>, ApiError> {
    let vault = caller.vault()?;
    let item = caller.item()?;
    let granted = require(&app, &caller, &vault, UPDATE_ITEMS).await?;
    check_state(request.state)?;
    if request.overview.0.is_empty() {
        return Err(ApiError::invalid(
            "overview is empty: seal it with the vault key",
        ));
    }
    let record = app
        .store
        .put_item(
            &vault,
            &item,
            &request,
            permissions::has(granted, ARCHIVE_ITEMS),
            &caller.change(UPDATE_ITEMS),
        )
        .await?;
    collect_garbage(&app).await;
    Ok(Json(record))
}

/// `DELETE /v1/vaults/{vault}/items/{item}` (`DELETE_ITEMS`): leaves a tombstone.
pub(super) async fn delete<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let vault = caller.vault()?;
    let item = caller.item()?;
    require(&app, &caller, &vault, DELETE_ITEMS).await?;
    app.store
        .delete_item(&vault, &item, &caller.change(DELETE_ITEMS))
        .await?;
    collect_garbage(&app).await;
    Ok(no_content())
}
