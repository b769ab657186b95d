//! Share links: a random secret in the link's fragment, from which the browser derives
//! the key of the shared snapshot and a proof that it holds the link.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::envelope::{NONCE_LEN, TAG_LEN};
use super::KEY_LEN;
use crate::id::Id;
use crate::{Error, Result};

/// What a share ciphertext holds; bound into its AAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SharePart {
    /// The item snapshot (title, fields, sections, notes, websites, tags).
    Item,
    /// The item's files with their content.
    Files,
}

impl SharePart {
    fn label(self) -> &'static str {
        match self {
            Self::Item => "item",
            Self::Files => "files",
        }
    }
}

/// The 32-byte secret of one share link. It lives only in the link's fragment (which
/// browsers never send to a server) and in the creator's memory while it builds the link.
/// `Debug` is redacted; the bytes are wiped on drop.
///
/// ```
/// use sesame_core::crypto::{ShareSecret, SharePart};
/// use sesame_core::id::Id;
/// let (secret, share) = (ShareSecret::generate(), Id::generate());
/// let sealed = secret.seal(&share, SharePart::Item, b"{}").unwrap();
/// let again = ShareSecret::from_fragment(&secret.fragment()).unwrap();
/// assert_eq!(&again.open(&share, SharePart::Item, &sealed).unwrap()[..], b"{}");
/// assert!(again.open(&Id::generate(), SharePart::Item, &sealed).is_err());
/// ```
pub struct ShareSecret(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for ShareSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShareSecret([redacted])")
    }
}

impl ShareSecret {
    /// A fresh secret from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// The secret of a link's fragment (the text after `#`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when it is not 32 bytes of unpadded base64url.
    pub fn from_fragment(fragment: &str) -> Result<Self> {
        let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(fragment.as_bytes()).map_err(|_| {
            Error::invalid_input(
                "share link",
                "the part after # is not unpadded base64url; copy the whole link",
            )
        })?);
        let array: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            Error::invalid_input(
                "share link",
                format!(
                    "the part after # holds {} bytes instead of {KEY_LEN}; copy the whole link",
                    bytes.len()
                ),
            )
        })?;
        Ok(Self(Zeroizing::new(array)))
    }

    /// The link's fragment: the secret as unpadded base64url (43 characters).
    pub fn fragment(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0.as_ref()))
    }

    /// `HKDF-SHA256(ikm = secret, salt = "", info = "sesame/v1/share/" || what || "/" || share)`.
    fn derive(&self, what: &str, share: &Id) -> Zeroizing<[u8; KEY_LEN]> {
        let info = format!("sesame/v1/share/{what}/{share}");
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        // 32 bytes is far below HKDF-SHA256's limit of 8160, so expand cannot fail.
        let _ =
            Hkdf::<Sha256>::new(Some(&[]), self.0.as_ref()).expand(info.as_bytes(), out.as_mut());
        out
    }

    /// The token that proves to the server that the caller holds the link: the server
    /// hands out the ciphertext (and counts a view) only for it.
    pub fn access_token(&self, share: &Id) -> Zeroizing<[u8; KEY_LEN]> {
        self.derive("access", share)
    }

    /// What the server stores to check an access token: its SHA-256.
    pub fn access_hash(&self, share: &Id) -> [u8; 32] {
        access_hash(self.access_token(share).as_ref())
    }

    /// Seals `plaintext` as `nonce (12) || AES-256-GCM ciphertext and tag`, with
    /// `aad = "sesame/v1/share/" || part || "/" || share`.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] only if AES-GCM refuses the input (over 64 GiB).
    pub fn seal(&self, share: &Id, part: SharePart, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key = self.derive("key", share);
        let cipher = Aes256Gcm::new_from_slice(key.as_ref())
            .map_err(|_| Error::integrity("share key has the wrong length"))?;
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = aad(share, part);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| Error::integrity("the share snapshot could not be encrypted"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) sealed for the same share and part.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] when the ciphertext was altered, truncated, or belongs to
    /// another share or part, or the secret is not this share's.
    pub fn open(&self, share: &Id, part: SharePart, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::integrity(format!(
                "the share's {} ciphertext is {} bytes, shorter than a nonce and tag",
                part.label(),
                sealed.len()
            )));
        }
        let key = self.derive("key", share);
        let cipher = Aes256Gcm::new_from_slice(key.as_ref())
            .map_err(|_| Error::integrity("share key has the wrong length"))?;
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let aad = aad(share, part);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::integrity(format!(
                    "the share's {} did not decrypt: the link or the stored data was altered",
                    part.label()
                ))
            })
    }
}

fn aad(share: &Id, part: SharePart) -> String {
    format!("sesame/v1/share/{}/{share}", part.label())
}

/// SHA-256 of an access token, as the server stores and compares it.
pub fn access_hash(access_token: &[u8]) -> [u8; 32] {
    Sha256::digest(access_token).into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parts_and_shares_do_not_mix() {
        let secret = ShareSecret::generate();
        let share = Id::generate();
        let sealed = secret.seal(&share, SharePart::Item, b"hello").unwrap();
        assert!(secret.open(&share, SharePart::Files, &sealed).is_err());
        assert!(ShareSecret::generate()
            .open(&share, SharePart::Item, &sealed)
            .is_err());
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN + 1] ^= 1;
        assert!(secret.open(&share, SharePart::Item, &flipped).is_err());
        assert!(secret.open(&share, SharePart::Item, &sealed[..20]).is_err());
        assert_ne!(
            secret.access_token(&share).as_ref(),
            secret.derive("key", &share).as_ref()
        );
    }

    #[test]
    fn fragments_are_checked_and_debug_is_redacted() {
        let secret = ShareSecret::generate();
        assert_eq!(secret.fragment().len(), 43);
        assert!(!format!("{secret:?}").contains(secret.fragment().as_str()));
        let err = ShareSecret::from_fragment("abc").unwrap_err();
        assert!(err.to_string().contains("2 bytes instead of 32"), "{err}");
        assert!(ShareSecret::from_fragment("not base64!").is_err());
    }

    /// A known answer, so the browser page (and other languages) can check themselves.
    #[test]
    fn known_answer() {
        let secret = ShareSecret(Zeroizing::new([7u8; 32]));
        let share: Id = "abcdefghijklmnopqrstuvwxyz".parse().unwrap();
        assert_eq!(
            super::super::hex(secret.access_token(&share).as_ref()),
            hkdf_reference(
                &[7u8; 32],
                b"sesame/v1/share/access/abcdefghijklmnopqrstuvwxyz"
            )
        );
    }

    fn hkdf_reference(ikm: &[u8], info: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        // RFC 5869 by hand: PRK = HMAC(salt = 32 zero bytes, ikm); T1 = HMAC(PRK, info || 1).
        let mut extract = <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap();
        extract.update(ikm);
        let prk = extract.finalize().into_bytes();
        let mut expand = <Hmac<Sha256> as Mac>::new_from_slice(&prk).unwrap();
        expand.update(info);
        expand.update(&[1]);
        super::super::hex(&expand.finalize().into_bytes())
    }
}
