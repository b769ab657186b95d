//! `client.service_accounts()`: the account owner creates, lists, rotates and revokes
//! service accounts. The client makes each token, so the server never sees one.

use reqwest::Method;
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::api::{
    KeyRotationRequest, Principal, PrincipalRateLimit, RateLimitSettings,
    ServiceAccountCreateRequest, ServiceAccountRights, VaultAccessRecord, VaultGrant,
    MAX_RATE_LIMIT,
};
use crate::encoding::base64url_encode;
use crate::id::Id;
use crate::model::permissions;
use crate::token::ServiceAccountToken;
use crate::Resource;
use crate::{Error, Result};

use super::lookup;
use super::transport::Retry;
use super::{parse_id, Client, Inner};

/// Service account management, from [`Client::service_accounts`].
#[derive(Debug, Clone, Copy)]
pub struct ServiceAccounts<'a> {
    pub(super) client: &'a Client,
}

impl ServiceAccounts<'_> {
    /// Creates a service account with access to the given vaults (`(vault id,
    /// permissions)`), returning it and its token. The token is shown only here: store it.
    /// It may not create vaults; see [`create_with_rights`](Self::create_with_rights).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`], before any request, for a bad name or a grant of
    /// `NO_ACCESS` or of `READ_ITEMS` without `REVEAL_ITEM_PASSWORD` (see
    /// [`permissions::check_grantable`]).
    ///
    /// ```no_run
    /// # async fn run(owner: sesame_core::Client, vault: &str) -> sesame_core::Result<()> {
    /// use sesame_core::model::permissions::{READ_ITEMS, REVEAL_ITEM_PASSWORD};
    /// let read = READ_ITEMS | REVEAL_ITEM_PASSWORD;
    /// let (principal, token) = owner.service_accounts().create("ci-deploy", &[(vault, read)], None).await?;
    /// # drop((principal, token)); Ok(()) }
    /// ```
    pub async fn create(
        &self,
        name: &str,
        grants: &[(&str, u32)],
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(Principal, SecretString)> {
        self.create_with_rights(name, grants, expires_at, ServiceAccountRights::default())
            .await
    }

    /// [`create`](Self::create) with `rights` beyond the vault grants, e.g. the right to
    /// create vaults (off unless given).
    ///
    /// ```no_run
    /// # async fn run(owner: sesame_core::Client) -> sesame_core::Result<()> {
    /// use sesame_core::api::ServiceAccountRights;
    /// let rights = ServiceAccountRights { can_create_vaults: true };
    /// let (principal, _token) = owner.service_accounts().create_with_rights("provisioner", &[], None, rights).await?;
    /// assert!(principal.can_create_vaults);
    /// # Ok(()) }
    /// ```
    pub async fn create_with_rights(
        &self,
        name: &str,
        grants: &[(&str, u32)],
        expires_at: Option<OffsetDateTime>,
        rights: ServiceAccountRights,
    ) -> Result<(Principal, SecretString)> {
        let inner = &self.client.inner;
        if name.trim().is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid_input("name", "must be 1 to 100 characters"));
        }
        let id = Id::generate();
        let token =
            ServiceAccountToken::generate(inner.transport.base_url(), *inner.account(), id)?;
        let keys = token.keys();
        let (signing, encryption) = (keys.signing_public_key(), keys.encryption_public_key());
        let wanted = grants
            .iter()
            .map(|(vault, bits)| {
                let vault = parse_id("vault_id", vault)?;
                // Every grant is checked before the first request (wrapping fetches keys).
                permissions::check_grantable(*bits)
                    .map_err(|e| Error::invalid_input("grants", format!("vault {vault}: {e}")))?;
                Ok((vault, *bits))
            })
            .collect::<Result<Vec<_>>>()?;
        let request = ServiceAccountCreateRequest {
            id,
            name: name.to_owned(),
            signing_public_key: base64url_encode(signing),
            encryption_public_key: base64url_encode(encryption),
            certificate: inner.certify(&id, 1, &signing, &encryption),
            expires_at,
            grants: inner.wrap_grants(&id, 1, &encryption, &wanted).await?,
            can_create_vaults: rights.can_create_vaults,
        };
        let principal: Principal = inner
            .call_json(
                Method::POST,
                "/v1/principals",
                Some(&request),
                Retry::Once,
                Resource::Principal,
            )
            .await?;
        Ok((principal, token.to_secret_string()))
    }

    /// Every principal of the account.
    pub async fn list(&self) -> Result<Vec<Principal>> {
        self.client
            .inner
            .call_json(
                Method::GET,
                "/v1/principals",
                None::<&()>,
                Retry::Idempotent,
                Resource::Principal,
            )
            .await
    }

    /// The principal `name_or_id` names, by the rule secret references follow (DESIGN.md
    /// §4): the principal with that id, else the one whose name equals it ignoring case
    /// (Unicode lowercase folding). One [`list`](Self::list) call.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no principal of the account has that id or name;
    /// [`Error::Ambiguous`], listing their ids, when several names match; as
    /// [`list`](Self::list) otherwise.
    ///
    /// ```no_run
    /// # async fn run(owner: sesame_core::Client) -> sesame_core::Result<()> {
    /// let ci = owner.service_accounts().find("CI-Deploy").await?; // named "ci-deploy"
    /// owner.service_accounts().revoke(ci.id.as_str()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn find(&self, name_or_id: &str) -> Result<Principal> {
        let principals = self.list().await?;
        lookup::find(
            Resource::Principal,
            name_or_id,
            &principals,
            |p| p.id.as_str(),
            |p| p.name.as_str(),
            || format!("no service account named {name_or_id:?} or with that id"),
        )
        .cloned()
    }

    /// Sets a service account's rights (today: whether it may create vaults); they apply
    /// from its next request on. Returns the principal as it now is.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown principal; [`Error::InvalidInput`] for the owner
    /// (which always has every right) or a revoked principal; [`Error::PermissionDenied`]
    /// unless the caller is the account owner.
    ///
    /// ```no_run
    /// # async fn run(owner: sesame_core::Client, id: &str) -> sesame_core::Result<()> {
    /// use sesame_core::api::ServiceAccountRights;
    /// let rights = ServiceAccountRights { can_create_vaults: false };
    /// assert!(!owner.service_accounts().set_rights(id, rights).await?.can_create_vaults);
    /// # Ok(()) }
    /// ```
    pub async fn set_rights(
        &self,
        principal_id: &str,
        rights: ServiceAccountRights,
    ) -> Result<Principal> {
        let id = parse_id("principal_id", principal_id)?;
        self.client
            .inner
            .call_json(
                Method::PUT,
                &format!("/v1/principals/{id}/rights"),
                Some(&rights),
                Retry::Idempotent,
                Resource::Principal,
            )
            .await
    }

    /// Revokes a service account: its sessions end and its token stops working. Its
    /// grants go; the vaults it created stay, and the owner still lists and can delete
    /// them (see [`Vaults::list`](super::vaults::Vaults::list)).
    pub async fn revoke(&self, principal_id: &str) -> Result<()> {
        let id = parse_id("principal_id", principal_id)?;
        self.client
            .inner
            .call_empty(
                Method::DELETE,
                &format!("/v1/principals/{id}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Principal,
            )
            .await
    }

    /// A service account's rate limits: the budgets the owner set for it (`None`: the
    /// server default) and the ones that apply, per window.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown principal; [`Error::PermissionDenied`] unless
    /// the caller is the account owner.
    ///
    /// ```no_run
    /// # async fn run(owner: sesame_core::Client, id: &str) -> sesame_core::Result<()> {
    /// let limits = owner.service_accounts().rate_limit(id).await?;
    /// println!("{} writes per {} s", limits.effective_writes, limits.window_seconds);
    /// # Ok(()) }
    /// ```
    pub async fn rate_limit(&self, principal_id: &str) -> Result<PrincipalRateLimit> {
        let id = parse_id("principal_id", principal_id)?;
        self.client
            .inner
            .call_json(
                Method::GET,
                &format!("/v1/principals/{id}/rate-limit"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Principal,
            )
            .await
    }

    /// Sets a service account's own read and write budgets per window, replacing both
    /// (`None`: the server default; both `None` removes its own limits). They apply from
    /// its next request on.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a budget of 0 or above [`MAX_RATE_LIMIT`] (checked
    /// before any request), or when the principal is the owner or revoked;
    /// [`Error::NotFound`] for an unknown principal; [`Error::PermissionDenied`] unless
    /// the caller is the account owner.
    ///
    /// ```no_run
    /// # async fn run(owner: sesame_core::Client, id: &str) -> sesame_core::Result<()> {
    /// use sesame_core::api::RateLimitSettings;
    /// let limits = owner
    ///     .service_accounts()
    ///     .set_rate_limit(id, RateLimitSettings { reads: None, writes: Some(100) })
    ///     .await?;
    /// assert_eq!(limits.effective_writes, 100);
    /// # Ok(()) }
    /// ```
    pub async fn set_rate_limit(
        &self,
        principal_id: &str,
        settings: RateLimitSettings,
    ) -> Result<PrincipalRateLimit> {
        let id = parse_id("principal_id", principal_id)?;
        for (name, value) in [("reads", settings.reads), ("writes", settings.writes)] {
            if let Some(n) = value {
                if n == 0 || n > MAX_RATE_LIMIT {
                    return Err(Error::invalid_input(
                        name,
                        format!(
                            "a budget is 1 to {MAX_RATE_LIMIT} requests per window, got {n} \
                             (None restores the server default)"
                        ),
                    ));
                }
            }
        }
        self.client
            .inner
            .call_json(
                Method::PUT,
                &format!("/v1/principals/{id}/rate-limit"),
                Some(&settings),
                Retry::Idempotent,
                Resource::Principal,
            )
            .await
    }

    /// Gives a service account a new token (and keys) and returns it; the old token stops
    /// working. Its grants are found on the vaults this owner manages and re-wrapped to
    /// the new key; a grant on a vault the owner cannot manage is dropped.
    pub async fn rotate(&self, principal_id: &str) -> Result<SecretString> {
        let inner = &self.client.inner;
        let id = parse_id("principal_id", principal_id)?;
        inner.sync(true).await?;
        let managed: Vec<Id> = inner.read_cache(|cache| {
            cache
                .vaults
                .iter()
                .filter(|(_, v)| permissions::has(v.permissions, permissions::MANAGE_VAULT))
                .map(|(id, _)| *id)
                .collect()
        })?;
        let mut kept = Vec::new();
        for vault in managed {
            let members: Vec<VaultAccessRecord> = inner
                .call_json(
                    Method::GET,
                    &format!("/v1/vaults/{vault}/access"),
                    None::<&()>,
                    Retry::Idempotent,
                    Resource::Vault,
                )
                .await?;
            if let Some(member) = members.iter().find(|m| m.principal_id == id) {
                kept.push((vault, member.permissions));
            }
        }
        let current: Principal = inner
            .call_json(
                Method::GET,
                &format!("/v1/principals/{id}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Principal,
            )
            .await?;
        // A server that lies about the generation only makes the certificate and grants
        // fail to verify, for the server and for every client.
        let generation = current.key_generation.checked_add(1).ok_or_else(|| {
            Error::Server(format!("principal {id} reports the largest key generation"))
        })?;
        let token =
            ServiceAccountToken::generate(inner.transport.base_url(), *inner.account(), id)?;
        let keys = token.keys();
        let (signing, encryption) = (keys.signing_public_key(), keys.encryption_public_key());
        let request = KeyRotationRequest {
            signing_public_key: base64url_encode(signing),
            encryption_public_key: base64url_encode(encryption),
            certificate: inner.certify(&id, generation, &signing, &encryption),
            grants: inner
                .wrap_grants(&id, generation, &encryption, &kept)
                .await?,
        };
        let _: Principal = inner
            .call_json(
                Method::POST,
                &format!("/v1/principals/{id}/rotate"),
                Some(&request),
                Retry::Once,
                Resource::Principal,
            )
            .await?;
        Ok(token.to_secret_string())
    }
}

impl Inner {
    async fn wrap_grants(
        &self,
        principal: &Id,
        generation: u32,
        public_key: &[u8; 32],
        grants: &[(Id, u32)],
    ) -> Result<Vec<VaultGrant>> {
        let mut wrapped = Vec::with_capacity(grants.len());
        for (vault, bits) in grants {
            if *bits == 0 {
                return Err(Error::invalid_input(
                    "grants",
                    format!("vault {vault} is granted NO_ACCESS (0); leave it out instead"),
                ));
            }
            permissions::check_grantable(*bits)
                .map_err(|e| Error::invalid_input("grants", format!("vault {vault}: {e}")))?;
            let key = self.vault_key(vault).await?;
            let wrapped_key = key.wrap(public_key, vault, principal)?;
            wrapped.push(VaultGrant {
                vault_id: *vault,
                permissions: *bits,
                signature: self.sign_grant(vault, principal, generation, &wrapped_key),
                wrapped_key,
            });
        }
        Ok(wrapped)
    }
}
