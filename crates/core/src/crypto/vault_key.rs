//! Vault keys and their HPKE wrapping to each member principal.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hpke::{
    aead::AesGcm256, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, Kem, OpModeR, OpModeS,
    Serializable,
};
use rand::rngs::OsRng;
use rand::RngCore;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{PrincipalKeys, KEY_LEN};
use crate::id::{Id, ID_LEN};
use crate::{Error, Result};

/// Domain label at the start of the HPKE `info`.
const INFO_LABEL: &[u8] = b"sesame/v1/vault-key";
/// Length of the HPKE ciphertext of a vault key: the key plus the AES-GCM tag.
const WRAPPED_LEN: usize = KEY_LEN + 16;

/// The random 256-bit key of one vault; every envelope in the vault is sealed under it.
///
/// Wiped from memory on drop; `Debug` prints no key material.
///
/// ```
/// use sesame_core::crypto::{PrincipalKeys, VaultKey};
/// use sesame_core::{id::Id, token::TokenSecret};
///
/// let member = PrincipalKeys::derive(&TokenSecret::generate());
/// let (vault, principal) = (Id::generate(), Id::generate());
/// let key = VaultKey::generate();
/// let wrapped = key.wrap(&member.encryption_public_key(), &vault, &principal)?;
/// let unwrapped = VaultKey::unwrap(&wrapped, &member, &vault, &principal)?;
/// assert!(VaultKey::unwrap(&wrapped, &member, &vault, &Id::generate()).is_err());
/// assert_eq!(format!("{unwrapped:?}"), "VaultKey([redacted])");
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VaultKey([u8; KEY_LEN]);

impl VaultKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = Self([0; KEY_LEN]);
        OsRng.fill_bytes(&mut key.0);
        key
    }

    #[cfg(feature = "kat")]
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Wraps this key to the member whose X25519 public key is `recipient_public_key`, for
    /// `vault` and the member's `principal` id (both bound into the HPKE `info`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the public key is a low-order point (the key exchange
    /// would give an all-zero secret); a real member's key never is.
    pub fn wrap(
        &self,
        recipient_public_key: &[u8; 32],
        vault: &Id,
        principal: &Id,
    ) -> Result<WrappedVaultKey> {
        self.wrap_with_rng(recipient_public_key, vault, principal, &mut OsRng)
    }

    /// [`wrap`](Self::wrap) with a chosen RNG, for known-answer vectors only.
    pub(crate) fn wrap_with_rng<R: CryptoRng + RngCore>(
        &self,
        recipient_public_key: &[u8; 32],
        vault: &Id,
        principal: &Id,
        rng: &mut R,
    ) -> Result<WrappedVaultKey> {
        let recipient = <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(recipient_public_key)
            .map_err(|_| invalid_recipient())?;
        let (encapsulated, ciphertext) =
            hpke::single_shot_seal::<AesGcm256, HkdfSha256, X25519HkdfSha256, _>(
                &OpModeS::Base,
                &recipient,
                &wrap_info(vault, principal),
                &self.0,
                &[],
                rng,
            )
            .map_err(|_| invalid_recipient())?;
        let mut encapsulated_key = [0u8; 32];
        encapsulated_key.copy_from_slice(&encapsulated.to_bytes());
        Ok(WrappedVaultKey {
            encapsulated_key,
            ciphertext,
        })
    }

    /// Unwraps a vault key wrapped to `keys` for `vault` and `principal`.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] when the wrapped key was made for another principal key, vault
    /// or principal id, or was altered.
    pub fn unwrap(
        wrapped: &WrappedVaultKey,
        keys: &PrincipalKeys,
        vault: &Id,
        principal: &Id,
    ) -> Result<VaultKey> {
        let failed = || {
            Error::integrity(format!(
                "the wrapped key of vault {vault} for principal {principal} failed to decrypt: \
                 it was wrapped to a different key, vault or principal, or was altered; \
                 ask a vault manager to share the vault with this principal again"
            ))
        };
        if wrapped.ciphertext.len() != WRAPPED_LEN {
            return Err(Error::integrity(format!(
                "the wrapped key of vault {vault} has a {}-byte ciphertext, expected {WRAPPED_LEN}",
                wrapped.ciphertext.len()
            )));
        }
        let encapsulated =
            <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&wrapped.encapsulated_key)
                .map_err(|_| failed())?;
        let plaintext = Zeroizing::new(
            hpke::single_shot_open::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
                &OpModeR::Base,
                &keys.hpke_private_key()?,
                &encapsulated,
                &wrap_info(vault, principal),
                &wrapped.ciphertext,
                &[],
            )
            .map_err(|_| failed())?,
        );
        let mut key = Self([0; KEY_LEN]);
        key.0.copy_from_slice(&plaintext);
        Ok(key)
    }
}

fn invalid_recipient() -> Error {
    Error::invalid_input(
        "recipient_public_key",
        "is not a usable X25519 public key (low-order point); use the member's registered key",
    )
}

/// The HPKE `info`: `"sesame/v1/vault-key" || vault_id || principal_id`.
pub(crate) fn wrap_info(vault: &Id, principal: &Id) -> Vec<u8> {
    let mut info = Vec::with_capacity(INFO_LABEL.len() + 2 * ID_LEN);
    info.extend_from_slice(INFO_LABEL);
    info.extend_from_slice(vault.as_str().as_bytes());
    info.extend_from_slice(principal.as_str().as_bytes());
    info
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey([redacted])")
    }
}

/// A vault key wrapped to one member with HPKE: safe to store on and send through the server.
///
/// Serializes as `{"encapsulatedKey": "<base64url>", "ciphertext": "<base64url>"}`
/// (unpadded base64url).
///
/// ```
/// use sesame_core::crypto::{PrincipalKeys, VaultKey, WrappedVaultKey};
/// use sesame_core::{id::Id, token::TokenSecret};
///
/// let member = PrincipalKeys::derive(&TokenSecret::generate());
/// let (vault, principal) = (Id::generate(), Id::generate());
/// let wrapped = VaultKey::generate().wrap(&member.encryption_public_key(), &vault, &principal)?;
/// let json = serde_json::to_string(&wrapped).unwrap();
/// assert_eq!(serde_json::from_str::<WrappedVaultKey>(&json).unwrap(), wrapped);
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireWrappedVaultKey", into = "WireWrappedVaultKey")]
pub struct WrappedVaultKey {
    /// The HPKE encapsulated key (the sender's ephemeral X25519 public key).
    pub encapsulated_key: [u8; 32],
    /// The AES-256-GCM ciphertext of the vault key, tag included (48 bytes).
    pub ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireWrappedVaultKey {
    encapsulated_key: String,
    ciphertext: String,
}

impl From<WrappedVaultKey> for WireWrappedVaultKey {
    fn from(wrapped: WrappedVaultKey) -> Self {
        Self {
            encapsulated_key: URL_SAFE_NO_PAD.encode(wrapped.encapsulated_key),
            ciphertext: URL_SAFE_NO_PAD.encode(&wrapped.ciphertext),
        }
    }
}

impl TryFrom<WireWrappedVaultKey> for WrappedVaultKey {
    type Error = Error;

    fn try_from(wire: WireWrappedVaultKey) -> Result<Self> {
        let decode = |field: &str, value: &str| {
            URL_SAFE_NO_PAD.decode(value).map_err(|err| {
                Error::invalid_input(
                    format!("wrappedVaultKey.{field}"),
                    format!("is not unpadded base64url: {err}"),
                )
            })
        };
        let encapsulated = decode("encapsulatedKey", &wire.encapsulated_key)?;
        let encapsulated_key = encapsulated.as_slice().try_into().map_err(|_| {
            Error::invalid_input(
                "wrappedVaultKey.encapsulatedKey",
                format!("must be 32 bytes, got {}", encapsulated.len()),
            )
        })?;
        Ok(Self {
            encapsulated_key,
            ciphertext: decode("ciphertext", &wire.ciphertext)?,
        })
    }
}
