//! The trust anchor (account id = owner key fingerprint), principal certificates and
//! grant signatures: the byte strings that are signed and hashed.

use sha2::{Digest, Sha256};

use super::WrappedVaultKey;
use crate::id::{Id, ID_LEN};

/// Domain label of the account id hash.
const ACCOUNT_LABEL: &[u8] = b"sesame/v1/account";
/// Domain label of a principal certificate.
const PRINCIPAL_LABEL: &[u8] = b"sesame/v1/principal";
/// Domain label of a grant signature.
const GRANT_LABEL: &[u8] = b"sesame/v1/grant";
/// Domain label of a signed audit checkpoint.
const AUDIT_CHECKPOINT_LABEL: &[u8] = b"sesame/v1/audit-checkpoint";

/// The account id of the account whose owner has this Ed25519 public key: the first 26
/// characters of the lowercase, unpadded RFC 4648 base32 of
/// `SHA-256("sesame/v1/account" || owner_signing_public_key)` (130 bits).
///
/// Every token carries its account id, so anyone holding a token can check the owner's
/// key the server serves without trusting the server.
///
/// ```
/// use sesame_core::crypto::{account_id_for, PrincipalKeys};
/// use sesame_core::token::TokenSecret;
///
/// let owner = PrincipalKeys::derive(&TokenSecret::generate());
/// let account = account_id_for(&owner.signing_public_key());
/// assert_eq!(account, account_id_for(&owner.signing_public_key()));
/// assert_ne!(account, account_id_for(&[9; 32]));
/// ```
pub fn account_id_for(owner_signing_public_key: &[u8; 32]) -> Id {
    let digest = Sha256::new()
        .chain_update(ACCOUNT_LABEL)
        .chain_update(owner_signing_public_key)
        .finalize();
    // The first 26 base32 digits (5 bits each, most significant bit first, as RFC 4648).
    let bit = |i: usize| (digest[i / 8] >> (7 - i % 8)) & 1;
    let digits: [u8; ID_LEN] =
        std::array::from_fn(|n| (0..5).fold(0, |digit, k| (digit << 1) | bit(5 * n + k)));
    Id::from_base32_digits(digits)
}

/// The bytes the account owner signs to certify a principal's public keys:
/// `"sesame/v1/principal" || account || principal || key_generation (u32 BE)
/// || signing public key (32) || encryption public key (32)` (19 + 26 + 26 + 4 + 32 + 32
/// = 139 bytes).
///
/// ```
/// use sesame_core::{crypto::principal_certificate_message, id::Id};
/// let id: Id = "abcdefghijklmnopqrstuvwxyz".parse()?;
/// let message = principal_certificate_message(&id, &id, 1, &[1; 32], &[2; 32]);
/// assert_eq!(message.len(), 139);
/// assert!(message.starts_with(b"sesame/v1/principal"));
/// # Ok::<(), sesame_core::Error>(())
/// ```
pub fn principal_certificate_message(
    account: &Id,
    principal: &Id,
    key_generation: u32,
    signing_public_key: &[u8; 32],
    encryption_public_key: &[u8; 32],
) -> Vec<u8> {
    let mut message = Vec::with_capacity(PRINCIPAL_LABEL.len() + 2 * ID_LEN + 4 + 64);
    message.extend_from_slice(PRINCIPAL_LABEL);
    message.extend_from_slice(account.as_str().as_bytes());
    message.extend_from_slice(principal.as_str().as_bytes());
    message.extend_from_slice(&key_generation.to_be_bytes());
    message.extend_from_slice(signing_public_key);
    message.extend_from_slice(encryption_public_key);
    message
}

/// The bytes the granter signs when it wraps a vault key to a grantee:
/// `"sesame/v1/grant" || account || vault || grantee || grantee key_generation (u32 BE)
/// || granter || encapsulated key (32) || HPKE ciphertext` (15 + 26 + 26 + 26 + 4 + 26 +
/// 32 + 48 = 203 bytes for a well-formed wrapped key).
///
/// ```
/// use sesame_core::crypto::{grant_message, WrappedVaultKey};
/// use sesame_core::id::Id;
/// let id: Id = "abcdefghijklmnopqrstuvwxyz".parse()?;
/// let wrapped = WrappedVaultKey { encapsulated_key: [3; 32], ciphertext: vec![4; 48] };
/// let message = grant_message(&id, &id, &id, 1, &id, &wrapped);
/// assert_eq!(message.len(), 203);
/// # Ok::<(), sesame_core::Error>(())
/// ```
pub fn grant_message(
    account: &Id,
    vault: &Id,
    grantee: &Id,
    grantee_key_generation: u32,
    granter: &Id,
    wrapped: &WrappedVaultKey,
) -> Vec<u8> {
    let mut message =
        Vec::with_capacity(GRANT_LABEL.len() + 4 * ID_LEN + 4 + 32 + wrapped.ciphertext.len());
    message.extend_from_slice(GRANT_LABEL);
    message.extend_from_slice(account.as_str().as_bytes());
    message.extend_from_slice(vault.as_str().as_bytes());
    message.extend_from_slice(grantee.as_str().as_bytes());
    message.extend_from_slice(&grantee_key_generation.to_be_bytes());
    message.extend_from_slice(granter.as_str().as_bytes());
    message.extend_from_slice(&wrapped.encapsulated_key);
    message.extend_from_slice(&wrapped.ciphertext);
    message
}

/// The bytes the account owner signs to vouch for the audit trail up to an event:
/// `"sesame/v1/audit-checkpoint" || account || seq (u64 BE) || head hash (32)` (26 + 26 +
/// 8 + 32 = 92 bytes), where the head hash is the 32 bytes of the `hash` of event `seq`
/// (its 64 hex digits decoded).
///
/// ```
/// use sesame_core::{crypto::audit_checkpoint_message, id::Id};
/// let id: Id = "abcdefghijklmnopqrstuvwxyz".parse()?;
/// let message = audit_checkpoint_message(&id, 7, &[1; 32]);
/// assert_eq!(message.len(), 92);
/// assert!(message.starts_with(b"sesame/v1/audit-checkpoint"));
/// # Ok::<(), sesame_core::Error>(())
/// ```
pub fn audit_checkpoint_message(account: &Id, seq: u64, head_hash: &[u8; 32]) -> Vec<u8> {
    let mut message = Vec::with_capacity(AUDIT_CHECKPOINT_LABEL.len() + ID_LEN + 8 + 32);
    message.extend_from_slice(AUDIT_CHECKPOINT_LABEL);
    message.extend_from_slice(account.as_str().as_bytes());
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(head_hash);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> [Id; 4] {
        ["a", "b", "c", "d"].map(|c| c.repeat(26).parse().unwrap())
    }

    #[test]
    fn account_id_is_a_valid_prefix_of_the_hash() {
        let id = account_id_for(&[0; 32]);
        assert!(Id::is_valid(id.as_str()));
        assert!(id
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));
        let digest = Sha256::digest([ACCOUNT_LABEL, &[0; 32]].concat());
        let full = data_encoding::BASE32_NOPAD.encode(&digest).to_lowercase();
        assert_eq!(id.as_str(), &full[..26]);
        assert_ne!(account_id_for(&[1; 32]), id);
    }

    #[test]
    fn certificate_message_binds_every_field() {
        let [a, b, _, _] = ids();
        let base = principal_certificate_message(&a, &b, 1, &[1; 32], &[2; 32]);
        assert_eq!(base.len(), 139);
        for other in [
            principal_certificate_message(&b, &a, 1, &[1; 32], &[2; 32]),
            principal_certificate_message(&a, &b, 2, &[1; 32], &[2; 32]),
            principal_certificate_message(&a, &b, 1, &[2; 32], &[1; 32]),
            principal_certificate_message(&a, &b, 1, &[1; 32], &[3; 32]),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn audit_checkpoint_message_binds_every_field() {
        let [a, b, _, _] = ids();
        let base = audit_checkpoint_message(&a, 7, &[1; 32]);
        assert_eq!(base.len(), 92);
        for other in [
            audit_checkpoint_message(&b, 7, &[1; 32]),
            audit_checkpoint_message(&a, 8, &[1; 32]),
            audit_checkpoint_message(&a, 7, &[2; 32]),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn grant_message_binds_every_field() {
        let [a, b, c, d] = ids();
        let w = WrappedVaultKey {
            encapsulated_key: [5; 32],
            ciphertext: vec![6; 48],
        };
        let mut w2 = w.clone();
        w2.ciphertext[47] ^= 1;
        let mut w3 = w.clone();
        w3.encapsulated_key[0] ^= 1;
        let base = grant_message(&a, &b, &c, 1, &d, &w);
        assert_eq!(base.len(), 203);
        for other in [
            grant_message(&b, &b, &c, 1, &d, &w),
            grant_message(&a, &a, &c, 1, &d, &w),
            grant_message(&a, &b, &d, 1, &d, &w),
            grant_message(&a, &b, &c, 2, &d, &w),
            grant_message(&a, &b, &c, 1, &c, &w),
            grant_message(&a, &b, &c, 1, &d, &w2),
            grant_message(&a, &b, &c, 1, &d, &w3),
        ] {
            assert_ne!(base, other);
        }
    }
}
