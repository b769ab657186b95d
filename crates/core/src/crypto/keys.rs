//! A principal's Ed25519 signing key and X25519 encryption key, derived from its secret.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use hpke::{kem::X25519HkdfSha256, Deserializable, Kem};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{hex, KEY_LEN};
use crate::token::TokenSecret;
use crate::{Error, Result};

/// HKDF salt shared by every key derived from a token secret.
const HKDF_SALT: &[u8] = b"sesame/v1";
/// HKDF `info` of the Ed25519 signing seed.
const SIGNING_INFO: &[u8] = b"sesame/v1/ed25519-signing-key";
/// HKDF `info` of the X25519 private key.
const ENCRYPTION_INFO: &[u8] = b"sesame/v1/x25519-encryption-key";

/// The private keys of one principal (a service account or an account owner).
///
/// Derived deterministically from a [`TokenSecret`], so the token is the only thing a
/// service account has to keep; the server stores the two public keys. The private keys
/// are wiped from memory on drop and never appear in `Debug`.
///
/// ```
/// use sesame_core::crypto::{verify_signature, PrincipalKeys};
/// use sesame_core::token::TokenSecret;
///
/// let keys = PrincipalKeys::derive(&TokenSecret::generate());
/// let signature = keys.sign(b"challenge");
/// verify_signature(&keys.signing_public_key(), b"challenge", &signature)?;
/// assert!(!format!("{keys:?}").contains("SigningKey"));
/// # Ok::<(), sesame_core::Error>(())
/// ```
#[derive(Clone)]
pub struct PrincipalKeys {
    signing: SigningKey,
    encryption: x25519_dalek::StaticSecret,
    encryption_public: x25519_dalek::PublicKey,
}

impl PrincipalKeys {
    /// Derives both key pairs from `secret` with HKDF-SHA256 (see the [module docs](super)).
    pub fn derive(secret: &TokenSecret) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret.expose());
        let signing_seed = expand(&hkdf, SIGNING_INFO);
        let encryption_bytes = expand(&hkdf, ENCRYPTION_INFO);
        let signing = SigningKey::from_bytes(&signing_seed);
        let encryption = x25519_dalek::StaticSecret::from(*encryption_bytes);
        let encryption_public = x25519_dalek::PublicKey::from(&encryption);
        Self {
            signing,
            encryption,
            encryption_public,
        }
    }

    /// The Ed25519 public key (32 bytes) the server verifies signatures with.
    pub fn signing_public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The X25519 public key (32 bytes) vault keys are wrapped to.
    pub fn encryption_public_key(&self) -> [u8; 32] {
        self.encryption_public.to_bytes()
    }

    /// Signs `message` with the Ed25519 key (RFC 8032, deterministic), giving 64 bytes.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The X25519 private key in the form the `hpke` crate takes.
    pub(crate) fn hpke_private_key(&self) -> Result<<X25519HkdfSha256 as Kem>::PrivateKey> {
        let bytes = Zeroizing::new(self.encryption.to_bytes());
        <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(bytes.as_slice())
            .map_err(|_| Error::integrity("the principal's X25519 private key is malformed"))
    }
}

/// HKDF-Expand to one 32-byte key.
fn expand(hkdf: &Hkdf<Sha256>, info: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    if hkdf.expand(info, out.as_mut_slice()).is_err() {
        // HKDF-SHA256 can expand up to 255 * 32 bytes; a 32-byte output never fails.
        unreachable!("HKDF-SHA256 expand of 32 bytes cannot fail");
    }
    out
}

impl fmt::Debug for PrincipalKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrincipalKeys")
            .field("signing_public_key", &hex(&self.signing_public_key()))
            .field("encryption_public_key", &hex(&self.encryption_public_key()))
            .field("private_keys", &"[redacted]")
            .finish()
    }
}

/// Verifies an Ed25519 signature made by [`PrincipalKeys::sign`] (server side).
///
/// Uses strict verification (RFC 8032 §5.1.7 with canonical encodings and no small-order
/// keys), so a signature cannot be malleated into a second valid one.
///
/// # Errors
///
/// [`Error::InvalidInput`] when the key is not 32 bytes or not a valid point, or the
/// signature is not 64 bytes; [`Error::Unauthenticated`] when the signature does not match.
///
/// ```
/// use sesame_core::crypto::{verify_signature, PrincipalKeys};
/// use sesame_core::{token::TokenSecret, ErrorCode};
///
/// let keys = PrincipalKeys::derive(&TokenSecret::generate());
/// let signature = keys.sign(b"login");
/// assert!(verify_signature(&keys.signing_public_key(), b"login", &signature).is_ok());
/// let err = verify_signature(&keys.signing_public_key(), b"logout", &signature).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::Unauthenticated);
/// ```
pub fn verify_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<()> {
    let key_bytes: &[u8; 32] = public_key.try_into().map_err(|_| {
        Error::invalid_input(
            "public_key",
            format!(
                "an Ed25519 public key is 32 bytes, got {}",
                public_key.len()
            ),
        )
    })?;
    let key = VerifyingKey::from_bytes(key_bytes).map_err(|_| {
        Error::invalid_input(
            "public_key",
            "the 32 bytes are not a valid Ed25519 public key (not a curve point)",
        )
    })?;
    let signature = Signature::from_slice(signature).map_err(|_| {
        Error::invalid_input(
            "signature",
            format!("an Ed25519 signature is 64 bytes, got {}", signature.len()),
        )
    })?;
    key.verify_strict(message, &signature).map_err(|_| {
        Error::Unauthenticated(
            "the Ed25519 signature does not match the message and the principal's public key"
                .into(),
        )
    })
}
