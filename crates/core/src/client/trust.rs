//! Keys the client trusts without trusting the server: the owner key anchored by the
//! account id, principals certified by the owner, and grants signed by either.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;

use crate::api::{AuthResponse, Principal, PrincipalKind, VaultRecord};
use crate::crypto::{
    account_id_for, grant_message, principal_certificate_message, verify_signature, WrappedVaultKey,
};
use crate::encoding::base64url_encode;
use crate::id::Id;
use crate::Resource;
use crate::{Error, Result};

use super::transport::Retry;
use super::Inner;

/// Public keys whose owner certificate (or account anchor) this client has verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VerifiedKeys {
    pub key_generation: u32,
    pub signing: [u8; 32],
    pub encryption: [u8; 32],
}

/// The owner's verified keys and every principal verified so far (by id; an entry is
/// replaced when the server shows a newer key generation).
#[derive(Debug, Default)]
pub(crate) struct Trust {
    owner: Option<(Id, VerifiedKeys)>,
    principals: HashMap<Id, VerifiedKeys>,
}

fn key32(principal: &Id, what: &str, value: &str) -> Result<[u8; 32]> {
    URL_SAFE_NO_PAD
        .decode(value)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            Error::integrity(format!(
                "the server sent a {what} for principal {principal} that is not 32 bytes of \
                 base64url; refusing to trust its keys"
            ))
        })
}

fn signature64(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value).ok().filter(|b| b.len() == 64)
}

/// Checks `principal`'s certificate against the owner's signing key.
fn verify_certificate(
    account: &Id,
    owner_signing: &[u8; 32],
    principal: &Principal,
) -> Result<VerifiedKeys> {
    let id = &principal.id;
    let signing = key32(id, "signing public key", &principal.signing_public_key)?;
    let encryption = key32(
        id,
        "encryption public key",
        &principal.encryption_public_key,
    )?;
    let message =
        principal_certificate_message(account, id, principal.key_generation, &signing, &encryption);
    let valid = principal
        .certificate
        .as_deref()
        .and_then(signature64)
        .is_some_and(|sig| verify_signature(owner_signing, &message, &sig).is_ok());
    if !valid {
        return Err(Error::integrity(format!(
            "the public keys the server sent for principal {id} (key generation {}) are not \
             certified by the account owner: the certificate is missing or does not verify. \
             The server may be substituting keys; refusing to trust them",
            principal.key_generation
        )));
    }
    Ok(VerifiedKeys {
        key_generation: principal.key_generation,
        signing,
        encryption,
    })
}

impl Inner {
    /// Checks the owner keys of an authentication answer against the token's account id
    /// and the owner's self-signed certificate, and remembers them.
    pub(crate) fn anchor_owner(&self, response: &AuthResponse) -> Result<()> {
        let owner = &response.owner;
        let account = self.account();
        let signing = key32(&owner.id, "signing public key", &owner.signing_public_key)?;
        if owner.kind != PrincipalKind::Owner || account_id_for(&signing) != *account {
            return Err(Error::integrity(format!(
                "the server named principal {} as the owner of account {account}, but its \
                 signing key does not hash to the account id: the server is not serving this \
                 account's real owner key. Check the server URL; do not use this server",
                owner.id
            )));
        }
        let keys = verify_certificate(account, &signing, owner)?;
        if response.principal.id == owner.id
            && (keys.signing != self.keys.signing_public_key()
                || keys.encryption != self.keys.encryption_public_key())
        {
            return Err(Error::integrity(
                "the server's owner keys are not the keys of this owner token; do not use this \
                 server",
            ));
        }
        self.write_trust(|trust| trust.owner = Some((owner.id, keys)))
    }

    fn write_trust<T>(&self, f: impl FnOnce(&mut Trust) -> T) -> Result<T> {
        let mut trust = self
            .trust
            .write()
            .map_err(|_| Error::Server("the client key cache is unusable after a panic".into()))?;
        Ok(f(&mut trust))
    }

    fn read_trust<T>(&self, f: impl FnOnce(&Trust) -> T) -> Result<T> {
        let trust = self
            .trust
            .read()
            .map_err(|_| Error::Server("the client key cache is unusable after a panic".into()))?;
        Ok(f(&trust))
    }

    fn owner_keys(&self) -> Result<(Id, VerifiedKeys)> {
        self.read_trust(|t| t.owner)?.ok_or_else(|| {
            Error::integrity("the account owner's keys are not known; authenticate again")
        })
    }

    /// Verifies a principal the server described against the owner key and caches it.
    pub(crate) fn verify_principal(&self, principal: &Principal) -> Result<VerifiedKeys> {
        let (owner_id, owner) = self.owner_keys()?;
        if principal.id == owner_id {
            // The owner's keys were anchored at authentication; any other owner keys are
            // a substitution.
            let same = key32(
                &principal.id,
                "encryption public key",
                &principal.encryption_public_key,
            )? == owner.encryption
                && key32(
                    &principal.id,
                    "signing public key",
                    &principal.signing_public_key,
                )? == owner.signing;
            return if same {
                Ok(owner)
            } else {
                Err(Error::integrity(format!(
                    "the server sent keys for the account owner {owner_id} that differ from \
                     the anchored owner keys; refusing to trust them"
                )))
            };
        }
        let cached = self.read_trust(|t| t.principals.get(&principal.id).copied())?;
        if let Some(keys) = cached {
            if keys.key_generation == principal.key_generation
                && base64url_encode(keys.signing) == principal.signing_public_key
                && base64url_encode(keys.encryption) == principal.encryption_public_key
            {
                return Ok(keys);
            }
        }
        let keys = verify_certificate(self.account(), &owner.signing, principal)?;
        self.write_trust(|t| t.principals.insert(principal.id, keys))?;
        Ok(keys)
    }

    /// A principal's current keys from the server, verified against the owner key.
    pub(crate) async fn fetch_verified(&self, id: &Id) -> Result<VerifiedKeys> {
        let principal: Principal = self
            .call_json(
                Method::GET,
                &format!("/v1/principals/{id}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Principal,
            )
            .await?;
        if principal.id != *id {
            return Err(Error::integrity(format!(
                "asked for principal {id}, the server answered with principal {}",
                principal.id
            )));
        }
        self.verify_principal(&principal)
    }

    /// Makes sure the keys of every granter of `records` are known and current, so that
    /// [`verify_grant`](Self::verify_grant) can run without network calls: a grant that
    /// does not verify with what is cached (an unknown granter, or one whose keys were
    /// rotated since) has its granter fetched and verified against the owner key again.
    ///
    /// A granter that cannot be trusted (uncertified keys, unknown, not visible) makes
    /// only its vaults unusable: the answer maps each such vault to why.
    pub(crate) async fn learn_granters(
        &self,
        records: &[VaultRecord],
    ) -> Result<HashMap<Id, String>> {
        let (owner_id, _) = self.owner_keys()?;
        let mut fetched: HashMap<Id, Option<String>> = HashMap::new();
        let mut untrusted = HashMap::new();
        for record in records {
            let Some(granter) = record.granted_by else {
                continue;
            };
            if granter == owner_id
                || granter == *self.principal_id()
                || self.verify_grant(record).is_ok()
            {
                continue;
            }
            let failure = match fetched.entry(granter) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => {
                    let failure = match self.fetch_verified(&granter).await {
                        Ok(_) => None,
                        Err(
                            Error::Integrity(message)
                            | Error::PermissionDenied(message)
                            | Error::NotFound { message, .. },
                        ) => Some(message),
                        Err(other) => return Err(other),
                    };
                    slot.insert(failure)
                }
            };
            if let Some(message) = failure {
                untrusted.insert(
                    record.id,
                    format!(
                        "its key is signed by principal {granter}, which this client cannot \
                         trust ({message})"
                    ),
                );
            }
        }
        Ok(untrusted)
    }

    /// The signing key of a granter this client trusts.
    fn granter_key(&self, granter: &Id) -> Result<Option<[u8; 32]>> {
        if granter == self.principal_id() {
            return Ok(Some(self.keys.signing_public_key()));
        }
        let (owner_id, owner) = self.owner_keys()?;
        if *granter == owner_id {
            return Ok(Some(owner.signing));
        }
        self.read_trust(|t| t.principals.get(granter).map(|k| k.signing))
    }

    /// Checks that the vault key in `record` was wrapped to this principal by a principal
    /// it trusts. Must pass before the key is unwrapped.
    pub(crate) fn verify_grant(&self, record: &VaultRecord) -> Result<()> {
        let vault = &record.id;
        let unsigned = || {
            Error::integrity(format!(
                "the key of vault {vault} was not wrapped to this principal by anyone it trusts: \
                 the grant's signature is missing, from an uncertified principal, or does not \
                 verify"
            ))
        };
        let (Some(granter), Some(signature)) = (
            record.granted_by,
            record.grant_signature.as_deref().and_then(signature64),
        ) else {
            return Err(unsigned());
        };
        let Some(key) = self.granter_key(&granter)? else {
            return Err(unsigned());
        };
        let message = grant_message(
            self.account(),
            vault,
            self.principal_id(),
            self.key_generation()?,
            &granter,
            &record.wrapped_key,
        );
        verify_signature(&key, &message, &signature).map_err(|_| unsigned())
    }

    /// This principal's key generation, as the server reported it at authentication.
    pub(crate) fn key_generation(&self) -> Result<u32> {
        self.principal
            .read()
            .ok()
            .and_then(|p| p.as_ref().map(|p| p.key_generation))
            .ok_or_else(|| Error::Server("the client has no session; authenticate again".into()))
    }

    /// This principal's signature, base64url, of wrapping `wrapped` of `vault` to `grantee`
    /// at `grantee_generation`.
    pub(crate) fn sign_grant(
        &self,
        vault: &Id,
        grantee: &Id,
        grantee_generation: u32,
        wrapped: &WrappedVaultKey,
    ) -> String {
        let message = grant_message(
            self.account(),
            vault,
            grantee,
            grantee_generation,
            self.principal_id(),
            wrapped,
        );
        base64url_encode(self.keys.sign(&message))
    }

    /// The owner's certificate, base64url, of a principal's keys (only an owner's is
    /// accepted).
    pub(crate) fn certify(
        &self,
        principal: &Id,
        key_generation: u32,
        signing: &[u8; 32],
        encryption: &[u8; 32],
    ) -> String {
        let message = principal_certificate_message(
            self.account(),
            principal,
            key_generation,
            signing,
            encryption,
        );
        base64url_encode(self.keys.sign(&message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::PrincipalKeys;
    use crate::token::TokenSecret;

    fn principal(keys: &PrincipalKeys, generation: u32, certificate: Option<String>) -> Principal {
        Principal {
            id: "b".repeat(26).parse().unwrap(),
            name: "ci".into(),
            kind: PrincipalKind::ServiceAccount,
            signing_public_key: base64url_encode(keys.signing_public_key()),
            encryption_public_key: base64url_encode(keys.encryption_public_key()),
            key_generation: generation,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            expires_at: None,
            revoked_at: None,
            certificate,
            can_create_vaults: false,
        }
    }

    #[test]
    fn certificates_verify_only_for_the_certified_keys_and_generation() {
        let owner = PrincipalKeys::derive(&TokenSecret::generate());
        let member = PrincipalKeys::derive(&TokenSecret::generate());
        let account = account_id_for(&owner.signing_public_key());
        let id: Id = "b".repeat(26).parse().unwrap();
        let sign = |by: &PrincipalKeys, generation: u32| {
            base64url_encode(by.sign(&principal_certificate_message(
                &account,
                &id,
                generation,
                &member.signing_public_key(),
                &member.encryption_public_key(),
            )))
        };
        let owner_key = owner.signing_public_key();
        let good = principal(&member, 3, Some(sign(&owner, 3)));
        let keys = verify_certificate(&account, &owner_key, &good).unwrap();
        assert_eq!(keys.encryption, member.encryption_public_key());
        assert_eq!(keys.key_generation, 3);
        for bad in [
            principal(&member, 3, None),
            principal(&member, 4, Some(sign(&owner, 3))),
            principal(&member, 3, Some(sign(&member, 3))),
            principal(&owner, 3, Some(sign(&owner, 3))),
            principal(&member, 3, Some("AAAA".into())),
        ] {
            let err = verify_certificate(&account, &owner_key, &bad).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::Integrity);
            assert!(err.to_string().contains(id.as_str()), "{err}");
        }
        let other_account = account_id_for(&[7; 32]);
        assert!(verify_certificate(&other_account, &owner_key, &good).is_err());
    }
}
