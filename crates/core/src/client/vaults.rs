//! `client.vaults()`: list, read, create, update, delete and share vaults.

use reqwest::Method;
use time::OffsetDateTime;

use crate::api::{
    AccessGrantRequest, AccountVaultRecord, PrincipalKind, VaultAccessRecord, VaultCreateRequest,
    VaultRecord, VaultUpdateRequest,
};
use crate::crypto::VaultKey;
use crate::id::Id;
use crate::model::{
    Vault, VaultAccess, VaultAccessorType, VaultCreateParams, VaultGetParams, VaultOverview,
    VaultType, VaultUpdateParams,
};
use crate::Resource;
use crate::{Error, Result};

use super::lookup;
use super::sealed::{self, VaultAttributes};
use super::transport::Retry;
use super::{parse_id, Client};

/// Vault management, from [`Client::vaults`].
#[derive(Debug, Clone, Copy)]
pub struct Vaults<'a> {
    pub(super) client: &'a Client,
}

fn vault_from_record(record: &VaultRecord, attributes: VaultAttributes) -> Vault {
    Vault {
        id: record.id.to_string(),
        title: attributes.title,
        description: attributes.description,
        vault_type: VaultType::UserCreated,
        active_item_count: record.active_item_count,
        content_version: record.content_version,
        attribute_version: record.attribute_version,
        access: None,
    }
}

/// A vault the owner is listed but has no key for: it can say only who made it.
fn unreadable_overview(record: &AccountVaultRecord) -> VaultOverview {
    let reason = match record.created_by {
        Some(creator) => {
            format!("no key for this vault: it was created by {creator} and not shared with you")
        }
        None => "no key for this vault: its creator is not recorded and it is not shared with \
                 you"
        .to_owned(),
    };
    VaultOverview {
        id: record.id.to_string(),
        title: String::new(),
        description: String::new(),
        vault_type: VaultType::UserCreated,
        active_item_count: record.active_item_count,
        content_version: 0,
        attribute_version: 0,
        created_at: record.created_at,
        updated_at: record.updated_at,
        unreadable: Some(reason),
    }
}

fn access_from_record(record: VaultAccessRecord) -> VaultAccess {
    VaultAccess {
        vault_uuid: record.vault_id.to_string(),
        accessor_type: VaultAccessorType::User,
        accessor_uuid: record.principal_id.to_string(),
        permissions: record.permissions,
    }
}

impl Vaults<'_> {
    /// Every vault this principal can see, sorted by title: one sync round trip. A vault
    /// whose key or attributes cannot be opened is left out and reported by
    /// [`Client::unreadable_records`].
    ///
    /// The account owner sees every vault of the account (one more round trip): a vault
    /// it has no key for (made by a service account and not shared with it) is listed
    /// with an empty title and [`VaultOverview::unreadable`] saying so, so that it can be
    /// deleted.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// for vault in client.vaults().list().await? {
    ///     println!("{} {}", vault.id, vault.title);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<VaultOverview>> {
        let inner = &self.client.inner;
        inner.sync(false).await?;
        let mut vaults = inner.read_cache(|cache| {
            cache
                .vaults
                .iter()
                .filter_map(|(id, v)| v.overview(id).ok())
                .collect::<Vec<_>>()
        })?;
        if self
            .client
            .principal()
            .is_some_and(|p| p.kind == PrincipalKind::Owner)
        {
            let all: Vec<AccountVaultRecord> = inner
                .call_json(
                    Method::GET,
                    "/v1/account/vaults",
                    None::<&()>,
                    Retry::Idempotent,
                    Resource::Vault,
                )
                .await?;
            for record in all.into_iter().filter(|r| !r.member) {
                if !vaults.iter().any(|v| v.id == record.id.as_str()) {
                    vaults.push(unreadable_overview(&record));
                }
            }
        }
        vaults.sort_by(|a, b| {
            a.title
                .to_lowercase()
                .cmp(&b.title.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        Ok(vaults)
    }

    /// The vault `name_or_id` names, by the rule secret references follow (DESIGN.md §4):
    /// the vault with that id, else the one vault whose title equals it ignoring case
    /// (Unicode lowercase folding). One [`list`](Self::list) call.
    ///
    /// A vault this client cannot open is found by its id only, so that it can still be
    /// left or deleted: a vault of the account the owner has no key for (as
    /// [`list`](Self::list) shows it), or one listed by
    /// [`Client::unreadable_records`](crate::Client::unreadable_records). Its
    /// [`VaultOverview::unreadable`] says why and its title is empty; for a vault whose
    /// key cannot be used the client knows nothing else, so its counts are zero and its
    /// dates the Unix epoch.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no visible vault has that id or title;
    /// [`Error::Ambiguous`], listing their ids, when several titles match.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// let infra = client.vaults().find("infra").await?; // the vault titled "Infra"
    /// let same = client.vaults().find(&infra.id).await?;
    /// assert_eq!(infra.id, same.id);
    /// # Ok(()) }
    /// ```
    pub async fn find(&self, name_or_id: &str) -> Result<VaultOverview> {
        let vaults = self.list().await?;
        if let Some(vault) = vaults.iter().find(|v| v.id == name_or_id) {
            return Ok(vault.clone());
        }
        if let Some(vault) = self.unopened(name_or_id)? {
            return Ok(vault);
        }
        // A vault listed without its title matches by id only.
        let titled = vaults.iter().filter(|v| v.unreadable.is_none());
        lookup::find(
            Resource::Vault,
            name_or_id,
            titled,
            |v| v.id.as_str(),
            |v| v.title.as_str(),
            || format!("no vault named {name_or_id:?} or with that id is visible"),
        )
        .cloned()
    }

    /// The overview of the vault with id `id` when it is visible but this client could
    /// not open its key or its attributes (and so [`list`](Self::list) leaves it out).
    fn unopened(&self, id: &str) -> Result<Option<VaultOverview>> {
        let Ok(vault) = id.parse::<Id>() else {
            return Ok(None);
        };
        self.client.inner.read_cache(|cache| {
            if let Some(cached) = cache.vaults.get(&vault) {
                return cached.attributes.as_ref().err().map(|why| VaultOverview {
                    id: vault.to_string(),
                    title: String::new(),
                    description: String::new(),
                    vault_type: VaultType::UserCreated,
                    active_item_count: cached.active_item_count,
                    content_version: cached.content_version,
                    attribute_version: cached.attribute_version,
                    created_at: cached.created_at,
                    updated_at: cached.updated_at,
                    unreadable: Some(format!("its name and description cannot be opened: {why}")),
                });
            }
            cache.unusable.get(&vault).map(|why| VaultOverview {
                id: vault.to_string(),
                title: String::new(),
                description: String::new(),
                vault_type: VaultType::UserCreated,
                active_item_count: 0,
                content_version: 0,
                attribute_version: 0,
                created_at: OffsetDateTime::UNIX_EPOCH,
                updated_at: OffsetDateTime::UNIX_EPOCH,
                unreadable: Some(format!("its key cannot be used: {why}")),
            })
        })
    }

    /// One vault's overview; [`Error::Integrity`] naming the vault when its key or
    /// attributes cannot be opened.
    pub async fn get_overview(&self, vault_id: &str) -> Result<VaultOverview> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        inner.sync(false).await?;
        inner.read_cache(|cache| cache.usable_vault(&vault)?.overview(&vault))?
    }

    /// One vault, with its access list when `params.accessors` is set (needs
    /// `MANAGE_VAULT`).
    pub async fn get(&self, vault_id: &str, params: VaultGetParams) -> Result<Vault> {
        let inner = &self.client.inner;
        let overview = self.get_overview(vault_id).await?;
        let mut vault = Vault {
            id: overview.id,
            title: overview.title,
            description: overview.description,
            vault_type: overview.vault_type,
            active_item_count: overview.active_item_count,
            content_version: overview.content_version,
            attribute_version: overview.attribute_version,
            access: None,
        };
        if params.accessors == Some(true) {
            let records: Vec<VaultAccessRecord> = inner
                .call_json(
                    Method::GET,
                    &format!("/v1/vaults/{}/access", vault.id),
                    None::<&()>,
                    Retry::Idempotent,
                    Resource::Vault,
                )
                .await?;
            vault.access = Some(records.into_iter().map(access_from_record).collect());
        }
        Ok(vault)
    }

    /// Creates a vault; the client makes its id and key, and the creator gets every
    /// permission.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// use sesame_core::model::VaultCreateParams;
    /// let vault = client.vaults().create(VaultCreateParams::new("Infra")).await?;
    /// assert_eq!(vault.title, "Infra");
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, params: VaultCreateParams) -> Result<Vault> {
        let inner = &self.client.inner;
        if params.title.trim().is_empty() {
            return Err(Error::invalid_input(
                "title",
                "a vault needs a non-empty title",
            ));
        }
        let id = Id::generate();
        let key = VaultKey::generate();
        let attributes = VaultAttributes {
            title: params.title,
            description: params.description.unwrap_or_default(),
        };
        let public = inner.keys.encryption_public_key();
        let wrapped_key = key.wrap(&public, &id, inner.principal_id())?;
        let signature = inner.sign_grant(
            &id,
            inner.principal_id(),
            inner.key_generation()?,
            &wrapped_key,
        );
        let request = VaultCreateRequest {
            id,
            attributes: sealed::seal(
                &key,
                &sealed::vault_attributes_context(inner.account(), &id, 1),
                &attributes,
            )?,
            wrapped_key,
            signature,
        };
        let record: VaultRecord = inner
            .call_json(
                Method::POST,
                "/v1/vaults",
                Some(&request),
                Retry::Once,
                Resource::Vault,
            )
            .await?;
        Ok(vault_from_record(&record, attributes))
    }

    /// Changes a vault's title or description (needs `MANAGE_VAULT`); a concurrent change
    /// is an [`Error::Conflict`]. Giving both replaces attributes that cannot be opened.
    pub async fn update(&self, vault_id: &str, params: VaultUpdateParams) -> Result<Vault> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        let key = inner.vault_key(&vault).await?;
        let current: VaultRecord = inner
            .call_json(
                Method::GET,
                &format!("/v1/vaults/{vault}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Vault,
            )
            .await?;
        let mut attributes: VaultAttributes = match (&params.title, &params.description) {
            // Nothing of the old attributes survives, so they need not be readable.
            (Some(_), Some(_)) => VaultAttributes::default(),
            _ => sealed::open(
                &key,
                &sealed::vault_attributes_context(
                    inner.account(),
                    &vault,
                    current.attribute_version,
                ),
                &current.attributes,
                "vault attributes",
            )?,
        };
        if let Some(title) = params.title {
            if title.trim().is_empty() {
                return Err(Error::invalid_input(
                    "title",
                    "a vault needs a non-empty title",
                ));
            }
            attributes.title = title;
        }
        if let Some(description) = params.description {
            attributes.description = description;
        }
        let next = current.attribute_version + 1;
        let request = VaultUpdateRequest {
            expected_attribute_version: current.attribute_version,
            attributes: sealed::seal(
                &key,
                &sealed::vault_attributes_context(inner.account(), &vault, next),
                &attributes,
            )?,
        };
        let record: VaultRecord = inner
            .call_json(
                Method::PUT,
                &format!("/v1/vaults/{vault}"),
                Some(&request),
                Retry::Idempotent,
                Resource::Vault,
            )
            .await?;
        Ok(vault_from_record(&record, attributes))
    }

    /// Deletes a vault and everything in it (needs `MANAGE_VAULT`; the account owner may
    /// delete every vault of the account, including one it has no key for).
    pub async fn delete(&self, vault_id: &str) -> Result<()> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        inner
            .call_empty(
                Method::DELETE,
                &format!("/v1/vaults/{vault}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Vault,
            )
            .await?;
        self.forget(&vault)
    }

    /// Shares a vault with a principal: fetches its public keys, checks the account
    /// owner's certificate of them, wraps the vault key to it, signs the grant and grants
    /// `permissions` (needs `MANAGE_VAULT`).
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] (and nothing is granted) when the principal's keys are not
    /// certified by the account owner: the server may be substituting them.
    /// [`Error::InvalidInput`], before any request, for `NO_ACCESS` or a combination
    /// Sesame cannot honour (see [`permissions::check_grantable`](crate::model::permissions::check_grantable):
    /// `READ_ITEMS` needs `REVEAL_ITEM_PASSWORD`). [`Error::PermissionDenied`] when the
    /// caller would lower the account owner's grant.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, vault: &str, principal: &str) -> sesame_core::Result<()> {
    /// use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD};
    /// client.vaults().grant(vault, principal, READ_ITEMS | REVEAL_ITEM_PASSWORD).await?;
    /// # Ok(()) }
    /// ```
    pub async fn grant(
        &self,
        vault_id: &str,
        principal_id: &str,
        permissions: u32,
    ) -> Result<VaultAccess> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        let principal = parse_id("principal_id", principal_id)?;
        check_permissions(permissions)?;
        let key = inner.vault_key(&vault).await?;
        let member = inner.fetch_verified(&principal).await?;
        let wrapped = key.wrap(&member.encryption, &vault, &principal)?;
        let signature = inner.sign_grant(&vault, &principal, member.key_generation, &wrapped);
        self.put_access(&vault, &principal, permissions, Some((wrapped, signature)))
            .await
    }

    /// Changes the permissions of an existing member (needs `MANAGE_VAULT`).
    pub async fn update_permissions(
        &self,
        vault_id: &str,
        principal_id: &str,
        permissions: u32,
    ) -> Result<VaultAccess> {
        let vault = parse_id("vault_id", vault_id)?;
        let principal = parse_id("principal_id", principal_id)?;
        check_permissions(permissions)?;
        self.put_access(&vault, &principal, permissions, None).await
    }

    /// Removes a principal from a vault (needs `MANAGE_VAULT`).
    pub async fn revoke(&self, vault_id: &str, principal_id: &str) -> Result<()> {
        let vault = parse_id("vault_id", vault_id)?;
        let principal = parse_id("principal_id", principal_id)?;
        self.client
            .inner
            .call_empty(
                Method::DELETE,
                &format!("/v1/vaults/{vault}/access/{principal}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Vault,
            )
            .await
    }

    /// Removes this principal's own grant of a vault; no permission is needed. This is
    /// how to get rid of a vault whose key cannot be used (see
    /// [`Client::unreadable_records`](crate::Client::unreadable_records)); nothing of the
    /// vault is deleted for its other members.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, vault: &str) -> sesame_core::Result<()> {
    /// client.vaults().leave(vault).await?;
    /// # Ok(()) }
    /// ```
    pub async fn leave(&self, vault_id: &str) -> Result<()> {
        let vault = parse_id("vault_id", vault_id)?;
        let me = self.client.inner.principal_id().to_string();
        self.revoke(vault_id, &me).await?;
        self.forget(&vault)
    }

    /// Drops a vault this principal no longer has from the cache, usable or not.
    fn forget(&self, vault: &Id) -> Result<()> {
        self.client.inner.write_cache(|cache| {
            cache.vaults.remove(vault);
            cache.unusable.remove(vault);
        })
    }

    async fn put_access(
        &self,
        vault: &Id,
        principal: &Id,
        permissions: u32,
        wrapped_key: Option<(crate::crypto::WrappedVaultKey, String)>,
    ) -> Result<VaultAccess> {
        let (wrapped_key, signature) = wrapped_key.unzip();
        let record: VaultAccessRecord = self
            .client
            .inner
            .call_json(
                Method::PUT,
                &format!("/v1/vaults/{vault}/access/{principal}"),
                Some(&AccessGrantRequest {
                    permissions,
                    wrapped_key,
                    signature,
                }),
                Retry::Idempotent,
                Resource::Vault,
            )
            .await?;
        Ok(access_from_record(record))
    }
}

fn check_permissions(permissions: u32) -> Result<()> {
    if permissions == 0 {
        return Err(Error::invalid_input(
            "permissions",
            "is NO_ACCESS (0); to remove a member use revoke",
        ));
    }
    crate::model::permissions::check_grantable(permissions)
        .map_err(|e| Error::invalid_input("permissions", e))
}
