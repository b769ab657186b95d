//! Vaults and their members.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use sesame_core::api::{
    AccessGrantRequest, AccountVaultRecord, PrincipalKind, VaultAccessRecord, VaultCreateRequest,
    VaultRecord, VaultUpdateRequest,
};
use sesame_core::model::permissions::{self, MANAGE_VAULT};

use super::{no_content, require, ApiJson, AppState, Caller};
use crate::error::ApiError;
use crate::store::Store;
use crate::trust::check_grant;

/// Every permission bit: what a vault's creator gets.
fn every_permission() -> u32 {
    permissions::ALL.iter().fold(0, |all, (_, bit)| all | bit)
}

/// `POST /v1/vaults`.
pub(super) async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<VaultCreateRequest>,
) -> Result<Json<VaultRecord>, ApiError> {
    if !caller.principal.can_create_vaults {
        return Err(ApiError::forbidden(format!(
            "principal {} may not create vaults: creating vaults is a right the account owner \
             gives a service account (`sesame service-account rights NAME \
             --can-create-vaults true`)",
            caller.id()
        )));
    }
    if request.attributes.0.is_empty() {
        return Err(ApiError::invalid(
            "attributes is empty: seal the vault name and description with the vault key",
        ));
    }
    check_grant(
        "signature",
        &app.account,
        &request.id,
        caller.id(),
        caller.principal.key_generation,
        &caller.principal,
        &request.wrapped_key,
        &request.signature,
    )?;
    let mut event = caller.event();
    event.vault_id = Some(request.id);
    let record = app
        .store
        .create_vault(caller.id(), &request, every_permission(), &event)
        .await?;
    Ok(Json(record))
}

/// `GET /v1/vaults`: only vaults the caller has a grant on.
pub(super) async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Vec<VaultRecord>>, ApiError> {
    let vaults = app.store.vaults(caller.id()).await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(vaults))
}

/// `GET /v1/account/vaults` (owner): every vault of the account, including those the
/// owner has no grant on, so that none is hidden from it.
pub(super) async fn list_all<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Vec<AccountVaultRecord>>, ApiError> {
    caller.require_owner("list every vault of the account")?;
    let vaults = app.store.account_vaults(caller.id()).await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(vaults))
}

/// `GET /v1/vaults/{vault}`.
pub(super) async fn get<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<VaultRecord>, ApiError> {
    let vault = caller.vault()?;
    let record = app
        .store
        .vault(&vault, caller.id())
        .await?
        .ok_or_else(|| ApiError::vault_not_found(&vault))?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(record))
}

/// `PUT /v1/vaults/{vault}` (`MANAGE_VAULT`).
pub(super) async fn update<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<VaultUpdateRequest>,
) -> Result<Json<VaultRecord>, ApiError> {
    let vault = caller.vault()?;
    require(&app, &caller, &vault, MANAGE_VAULT).await?;
    if request.attributes.0.is_empty() {
        return Err(ApiError::invalid("attributes is empty"));
    }
    let record = app
        .store
        .update_vault(
            &vault,
            caller.id(),
            request.expected_attribute_version,
            &request.attributes,
            &caller.change(MANAGE_VAULT),
        )
        .await?;
    Ok(Json(record))
}

/// `DELETE /v1/vaults/{vault}` (`MANAGE_VAULT`, or the owner: it may delete every vault
/// of the account, even one it has no grant on).
pub(super) async fn delete<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let vault = caller.vault()?;
    let event = if caller.principal.kind == PrincipalKind::Owner {
        caller.event()
    } else {
        require(&app, &caller, &vault, MANAGE_VAULT).await?;
        caller.change(MANAGE_VAULT)
    };
    app.store.delete_vault(&vault, &event).await?;
    super::files::collect_garbage(&app).await;
    Ok(no_content())
}

/// `GET /v1/vaults/{vault}/access` (`MANAGE_VAULT`).
pub(super) async fn access_list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Vec<VaultAccessRecord>>, ApiError> {
    let vault = caller.vault()?;
    require(&app, &caller, &vault, MANAGE_VAULT).await?;
    let members = app.store.vault_members(&vault).await?;
    app.store.append_event(&caller.event()).await?;
    Ok(Json(members))
}

/// `PUT /v1/vaults/{vault}/access/{principal}` (`MANAGE_VAULT`).
pub(super) async fn access_grant<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(request): ApiJson<AccessGrantRequest>,
) -> Result<Json<VaultAccessRecord>, ApiError> {
    let vault = caller.vault()?;
    let principal = caller.subject()?;
    require(&app, &caller, &vault, MANAGE_VAULT).await?;
    if request.permissions == 0 {
        return Err(ApiError::invalid(
            "permissions is 0: to remove access, DELETE the grant instead",
        ));
    }
    permissions::check_grantable(request.permissions).map_err(ApiError::invalid)?;
    let signed = match (&request.wrapped_key, &request.signature) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "signature without wrappedKey: a signature signs a wrapped key",
            ))
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "wrappedKey needs signature: the caller's signature of the grant message",
            ))
        }
        (Some(wrapped), Some(signature)) => {
            let grantee =
                app.store.principal(&principal).await?.ok_or_else(|| {
                    ApiError::not_found(format!("principal {principal} not found"))
                })?;
            check_grant(
                "signature",
                &app.account,
                &vault,
                &principal,
                grantee.key_generation,
                &caller.principal,
                wrapped,
                signature,
            )?;
            Some((wrapped, signature.as_str()))
        }
    };
    let record = app
        .store
        .grant(
            &vault,
            &principal,
            request.permissions,
            caller.id(),
            signed,
            &caller.change(MANAGE_VAULT),
        )
        .await?;
    Ok(Json(record))
}

/// `DELETE /v1/vaults/{vault}/access/{principal}` (`MANAGE_VAULT`, or none to remove
/// one's own grant: leaving a vault).
pub(super) async fn access_revoke<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let vault = caller.vault()?;
    let principal = caller.subject()?;
    // Point 1: anyone can leave a vault, so a grant it cannot use (or did not want) is
    // never stuck on it; but the last member leaving would strand the vault.
    let leaving = principal == *caller.id();
    let required = if leaving { 0 } else { MANAGE_VAULT };
    require(&app, &caller, &vault, required).await?;
    if leaving && app.store.vault_members(&vault).await?.len() <= 1 {
        return Err(ApiError::conflict(format!(
            "this principal is the last member of vault {vault}: leaving would leave the vault \
             to no one; delete the vault instead"
        )));
    }
    // The owner's kind never changes, so checking it outside the transaction is safe.
    if !leaving && caller.principal.kind != PrincipalKind::Owner {
        let target = app.store.principal(&principal).await?;
        if target.is_some_and(|p| p.kind == PrincipalKind::Owner) {
            return Err(ApiError::forbidden(format!(
                "principal {principal} is the account owner: a vault manager cannot remove its \
                 grant on vault {vault}; only the owner can leave a vault"
            )));
        }
    }
    app.store
        .revoke_grant(&vault, &principal, &caller.change(required))
        .await?;
    Ok(no_content())
}
