//! Checks of the owner's principal certificates and of grant signatures. Clients never
//! rely on them (they verify every key themselves); the server checks so that a buggy or
//! hostile client cannot store a grant that no honest client could use.

use sesame_core::api::Principal;
use sesame_core::crypto::{
    grant_message, principal_certificate_message, verify_signature, WrappedVaultKey,
};
use sesame_core::id::Id;

use crate::error::ApiError;
use crate::wire;

/// The stored signing key of a principal (`internal` if the store holds a bad one).
fn signing_key(principal: &Principal) -> Result<[u8; 32], ApiError> {
    wire::decode("the stored signing key", &principal.signing_public_key)
        .map_err(ApiError::internal)
}

/// Checks the owner's certificate of a principal's keys at `key_generation`.
pub(crate) fn check_certificate(
    account: &Id,
    owner: &Principal,
    principal: &Id,
    key_generation: u32,
    signing_public_key: &str,
    encryption_public_key: &str,
    certificate: &str,
) -> Result<(), ApiError> {
    let message = principal_certificate_message(
        account,
        principal,
        key_generation,
        &wire::decode("signingPublicKey", signing_public_key)?,
        &wire::decode("encryptionPublicKey", encryption_public_key)?,
    );
    let signature = wire::decode::<64>("certificate", certificate)?;
    verify_signature(&signing_key(owner)?, &message, &signature).map_err(|_| {
        ApiError::invalid(format!(
            "certificate is not the account owner's signature of principal {principal}'s keys \
             at key generation {key_generation}; sign the principal certificate message with \
             the owner key"
        ))
    })
}

/// Checks `granter`'s signature of wrapping a vault key to `grantee` at
/// `grantee_generation`; `what` names the field in errors.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_grant(
    what: &str,
    account: &Id,
    vault: &Id,
    grantee: &Id,
    grantee_generation: u32,
    granter: &Principal,
    wrapped: &WrappedVaultKey,
    signature: &str,
) -> Result<(), ApiError> {
    let message = grant_message(
        account,
        vault,
        grantee,
        grantee_generation,
        &granter.id,
        wrapped,
    );
    let signature = wire::decode::<64>(what, signature)?;
    verify_signature(&signing_key(granter)?, &message, &signature).map_err(|_| {
        ApiError::invalid(format!(
            "{what} is not the caller's signature of the key of vault {vault} wrapped to \
             principal {grantee} at key generation {grantee_generation}; sign the grant \
             message with the caller's key"
        ))
    })
}
