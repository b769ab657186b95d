//! The call table: every public SDK call, once. Names, parameter names and shapes follow
//! the 1Password SDKs' own invocations (`SecretsResolve` with `secret_reference`, …) so
//! the generated wrappers read like theirs; calls 1Password lacks follow the same scheme.
//!
//! Adding a call here adds it to every language at the next `cargo xtask codegen`; the
//! scenario coverage test fails until a scenario under `tests/scenarios/` exercises it.

use std::io::Write;
use std::time::Duration;

use sesame_core::client::{open_share_link, Secrets};
use sesame_core::model::{
    AuditVerification, DocumentCreateParams, EventsPage, FileAttributes, FileCreateParams,
    GeneratedPassword, Item, ItemCreateParams, ItemListFilters, ItemOverview, ItemShare,
    ItemShareAccountPolicy, ItemShareParams, ItemsDeleteAllResponse, ItemsGetAllResponse,
    ItemsUpdateAllResponse, PasswordRecipe, RateLimitState, ResolveAllResponse, SharedItem,
    TotpCode, UnreadableRecord, ValidRecipient, Vault, VaultAccess, VaultCreateParams,
    VaultGetParams, VaultListParams, VaultOverview, VaultUpdateParams,
};
use sesame_core::totp::Totp;
use sesame_core::Error;

use crate::{at_destination, finish, Bytes, Call, Context, Needs, Output, Param, Reply};

/// How long opening a share link may take when the caller does not say.
const SHARE_OPEN_TIMEOUT: Duration = Duration::from_secs(30);

fn ids(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}

calls! {
    /// The secret a reference (`op://vault/item/[section/]field`) points to.
    SecretsResolve: "secrets" . "resolve" (secret_reference: String) -> String,
        needs: Client,
        |c, p| c.client()?.secrets().resolve(&p.secret_reference).await;

    /// The bytes a reference points to: a file's content whether or not it is text, or a
    /// field's value as UTF-8 (raw bytes beside the reply).
    SecretsResolveBytes: "secrets" . "resolve_bytes" (secret_reference: String) -> Bytes,
        needs: Client,
        |c, p| {
            let bytes = c.client()?.secrets().resolve_bytes(&p.secret_reference).await?;
            match c.sink() {
                Some(mut sink) => {
                    sink.write_all(&bytes).map_err(|e| Error::invalid_input("destination", format!("could not write the content: {e}")))?;
                    finish(sink)
                }
                None => Ok(Bytes(bytes)),
            }
        };

    /// Many references at once, each with its own result.
    SecretsResolveAll: "secrets" . "resolve_all" (secret_references: Vec<String>) -> ResolveAllResponse,
        needs: Client,
        |c, p| c.client()?.secrets().resolve_all(&p.secret_references).await;

    /// Checks a reference's syntax, offline.
    ValidateSecretReference: "secrets" . "validate_secret_reference" (secret_reference: String) -> (),
        needs: Offline,
        |_c, p| Secrets::validate_secret_reference(&p.secret_reference);

    /// A password from a recipe, offline.
    GeneratePassword: "secrets" . "generate_password" (recipe: PasswordRecipe) -> GeneratedPassword,
        needs: Offline,
        |_c, p| Secrets::generate_password(&p.recipe);

    /// The current one-time password of an `otpauth://` URI or a base32 secret, offline.
    GenerateTotpCode: "secrets" . "generate_totp_code" (totp: String) -> TotpCode,
        needs: Offline,
        |_c, p| Totp::parse(&p.totp).and_then(|t| t.now());

    /// Creates an item.
    ItemsCreate: "items" . "create" (params: ItemCreateParams) -> Item,
        needs: Client,
        |c, p| c.client()?.items().create(p.params).await;

    /// Creates up to 50 items in one vault, each with its own result.
    ItemsCreateAll: "items" . "create_all" (vault_id: String, params: Vec<ItemCreateParams>) -> ItemsUpdateAllResponse,
        needs: Client,
        |c, p| c.client()?.items().create_all(&p.vault_id, p.params).await;

    /// An item with all its fields.
    ItemsGet: "items" . "get" (vault_id: String, item_id: String) -> Item,
        needs: Client,
        |c, p| c.client()?.items().get(&p.vault_id, &p.item_id).await;

    /// Up to 50 items of one vault, each with its own result.
    ItemsGetAll: "items" . "get_all" (vault_id: String, item_ids: Vec<String>) -> ItemsGetAllResponse,
        needs: Client,
        |c, p| c.client()?.items().get_all(&p.vault_id, &ids(&p.item_ids)).await;

    /// Replaces an item with this version of it (a stale version is a conflict).
    ItemsPut: "items" . "put" (item: Item) -> Item,
        needs: Client,
        |c, p| c.client()?.items().put(&p.item).await;

    /// Deletes an item.
    ItemsDelete: "items" . "delete" (vault_id: String, item_id: String) -> (),
        needs: Client,
        |c, p| c.client()?.items().delete(&p.vault_id, &p.item_id).await;

    /// Deletes up to 50 items of one vault, each with its own result.
    ItemsDeleteAll: "items" . "delete_all" (vault_id: String, item_ids: Vec<String>) -> ItemsDeleteAllResponse,
        needs: Client,
        |c, p| c.client()?.items().delete_all(&p.vault_id, &ids(&p.item_ids)).await;

    /// Archives an item: still listed on request, never resolved.
    ItemsArchive: "items" . "archive" (vault_id: String, item_id: String) -> (),
        needs: Client,
        |c, p| c.client()?.items().archive(&p.vault_id, &p.item_id).await;

    /// The overviews of a vault's items (active ones unless the filters say otherwise).
    ItemsList: "items" . "list" (vault_id: String, #[serde(default)] filters: ItemListFilters) -> Vec<ItemOverview>,
        needs: Client,
        |c, p| c.client()?.items().list(&p.vault_id, &p.filters).await;

    /// Attaches a file (its content as raw bytes beside the request) to an item.
    ItemsFilesAttach: "items.files" . "attach" (item: Item, file_params: FileCreateParams) -> Item,
        needs: Client,
        |c, p| {
            let file = p.file_params;
            let (size, reader) = c.upload(file.content);
            let files = c.client()?.items().files();
            files.attach_reader(&p.item, &file.name, &file.section_id, &file.field_id, size, reader).await
        };

    /// A file's content, as raw bytes beside the reply.
    ItemsFilesRead: "items.files" . "read" (vault_id: String, item_id: String, attr: FileAttributes) -> Bytes,
        needs: Client,
        |c, p| {
            let files = c.client()?.items().files();
            match c.sink() {
                Some(sink) => finish(
                    files
                        .read_to_writer(&p.vault_id, &p.item_id, &p.attr, sink)
                        .await
                        .map_err(at_destination)?,
                ),
                None => files.read(&p.vault_id, &p.item_id, &p.attr).await.map(Bytes),
            }
        };

    /// Removes a file from an item.
    ItemsFilesDelete: "items.files" . "delete" (item: Item, section_id: String, field_id: String) -> Item,
        needs: Client,
        |c, p| c.client()?.items().files().delete(&p.item, &p.section_id, &p.field_id).await;

    /// Replaces a Document item's document (its content as raw bytes beside the request).
    ItemsFilesReplaceDocument: "items.files" . "replace_document" (item: Item, doc_params: DocumentCreateParams) -> Item,
        needs: Client,
        |c, p| {
            let document = p.doc_params;
            let (size, reader) = c.upload(document.content);
            let files = c.client()?.items().files();
            files.replace_document_reader(&p.item, &document.name, size, reader).await
        };

    /// The share policy that applies to an item.
    ItemsSharesGetAccountPolicy: "items.shares" . "get_account_policy" (vault_id: String, item_id: String) -> ItemShareAccountPolicy,
        needs: Client,
        |c, p| c.client()?.items().shares().get_account_policy(&p.vault_id, &p.item_id).await;

    /// Checks recipients (addresses or domains) against a policy.
    ItemsSharesValidateRecipients: "items.shares" . "validate_recipients" (policy: ItemShareAccountPolicy, recipients: Vec<String>) -> Vec<ValidRecipient>,
        needs: Client,
        |c, p| c.client()?.items().shares().validate_recipients(&p.policy, &p.recipients);

    /// Creates a share link of an item; returns the link.
    ItemsSharesCreate: "items.shares" . "create" (item: Item, policy: ItemShareAccountPolicy, params: ItemShareParams) -> String,
        needs: Client,
        |c, p| c.client()?.items().shares().create(&p.item, &p.policy, p.params).await;

    /// The share links this principal created, newest first.
    ItemsSharesList: "items.shares" . "list" () -> Vec<ItemShare>,
        needs: Client,
        |c, _p| c.client()?.items().shares().list().await;

    /// Revokes a share link: it stops working at once.
    ItemsSharesRevoke: "items.shares" . "revoke" (share_id: String) -> (),
        needs: Client,
        |c, p| c.client()?.items().shares().revoke(&p.share_id).await;

    /// Sets the account's share policy (the owner only).
    ItemsSharesSetAccountPolicy: "items.shares" . "set_account_policy" (policy: ItemShareAccountPolicy) -> ItemShareAccountPolicy,
        needs: Client,
        |c, p| c.client()?.items().shares().set_account_policy(&p.policy).await;

    /// Opens a share link as its recipient would (no account needed).
    SharesOpen: "shares" . "open" (link: String) -> SharedItem,
        needs: Anonymous,
        |_c, p| open_share_link(&p.link, SHARE_OPEN_TIMEOUT).await;

    /// The vaults this principal can see.
    VaultsList: "vaults" . "list" (#[serde(default)] params: Option<VaultListParams>) -> Vec<VaultOverview>,
        needs: Client,
        // The 1Password SDKs' `decrypt_details` is accepted; Sesame's overviews always
        // carry their decrypted title and description.
        |c, _p| c.client()?.vaults().list().await;

    /// One vault's overview.
    VaultsGetOverview: "vaults" . "get_overview" (vault_id: String) -> VaultOverview,
        needs: Client,
        |c, p| c.client()?.vaults().get_overview(&p.vault_id).await;

    /// One vault, with its access list when asked for.
    VaultsGet: "vaults" . "get" (vault_id: String, #[serde(default)] vault_params: VaultGetParams) -> Vault,
        needs: Client,
        |c, p| c.client()?.vaults().get(&p.vault_id, p.vault_params).await;

    /// Creates a vault.
    VaultsCreate: "vaults" . "create" (params: VaultCreateParams) -> Vault,
        needs: Client,
        |c, p| c.client()?.vaults().create(p.params).await;

    /// Changes a vault's title or description.
    VaultsUpdate: "vaults" . "update" (vault_id: String, params: VaultUpdateParams) -> Vault,
        needs: Client,
        |c, p| c.client()?.vaults().update(&p.vault_id, p.params).await;

    /// Deletes a vault and everything in it.
    VaultsDelete: "vaults" . "delete" (vault_id: String) -> (),
        needs: Client,
        |c, p| c.client()?.vaults().delete(&p.vault_id).await;

    /// Gives a principal access to a vault, with permission bits.
    VaultsGrantPermissions: "vaults" . "grant_permissions" (vault_id: String, principal_id: String, permissions: u32) -> VaultAccess,
        needs: Client,
        |c, p| c.client()?.vaults().grant(&p.vault_id, &p.principal_id, p.permissions).await;

    /// Changes a principal's permission bits on a vault.
    VaultsUpdatePermissions: "vaults" . "update_permissions" (vault_id: String, principal_id: String, permissions: u32) -> VaultAccess,
        needs: Client,
        |c, p| c.client()?.vaults().update_permissions(&p.vault_id, &p.principal_id, p.permissions).await;

    /// Removes a principal's access to a vault.
    VaultsRevokePermissions: "vaults" . "revoke_permissions" (vault_id: String, principal_id: String) -> (),
        needs: Client,
        |c, p| c.client()?.vaults().revoke(&p.vault_id, &p.principal_id).await;

    /// Gives up this principal's own access to a vault.
    VaultsLeave: "vaults" . "leave" (vault_id: String) -> (),
        needs: Client,
        |c, p| c.client()?.vaults().leave(&p.vault_id).await;

    /// The rate-limit budget the server last reported (no round trip).
    ClientRateLimit: "client" . "rate_limit" () -> Option<RateLimitState>,
        needs: Client,
        |c, _p| Ok::<_, Error>(c.client()?.rate_limit());

    /// Records the last sync could not open (each fails only the calls that need it).
    ClientUnreadableRecords: "client" . "unreadable_records" () -> Vec<UnreadableRecord>,
        needs: Client,
        |c, _p| Ok::<_, Error>(c.client()?.unreadable_records());

    /// A page of the audit trail (the account owner only).
    EventsList: "events" . "list" (limit: u32, #[serde(default)] after: u64) -> EventsPage,
        needs: Client,
        |c, p| c.client()?.events(p.after, p.limit).await;

    /// Checks the whole audit trail against the owner's signed checkpoints.
    EventsVerify: "events" . "verify" () -> AuditVerification,
        needs: Client,
        |c, _p| c.client()?.verify_events(None).await;
}
