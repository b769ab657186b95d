//! AES-256-GCM envelopes for vault attributes, item parts and file keys.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use super::VaultKey;
use crate::id::{Id, ID_LEN};
use crate::{Error, Result};

/// Domain label at the start of every envelope AAD.
const AAD_LABEL: &[u8] = b"sesame/v1/envelope";
/// The first byte of every envelope: its format version.
const FORMAT_VERSION: u8 = 0x01;
/// AES-GCM nonce length.
pub(crate) const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub(crate) const TAG_LEN: usize = 16;
/// Stands in for an absent item or file id in the AAD (ids never contain a zero byte).
const ABSENT_ID: [u8; ID_LEN] = [0; ID_LEN];

/// What an envelope holds; bound into its AAD so one part cannot pass for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// A vault's name and description.
    VaultAttributes,
    /// An item's overview: title, category, tags, websites, state.
    ItemOverview,
    /// An item's details: fields, sections, notes, file metadata.
    ItemDetails,
    /// The random key of one file of an item.
    FileKey,
}

impl Part {
    /// The byte that stands for this part in the AAD.
    pub const fn as_byte(self) -> u8 {
        match self {
            Self::VaultAttributes => 0x01,
            Self::ItemOverview => 0x02,
            Self::ItemDetails => 0x03,
            Self::FileKey => 0x04,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::VaultAttributes => "vault attributes",
            Self::ItemOverview => "item overview",
            Self::ItemDetails => "item details",
            Self::FileKey => "file key",
        }
    }
}

/// Where an envelope belongs: account, vault, item, file, part and version.
///
/// Everything here is authenticated (as AAD) but not encrypted, so a server that moves an
/// envelope to another account, vault, item, file, part or version makes [`VaultKey::open`]
/// fail. Build one with the constructor for the part.
///
/// ```
/// use sesame_core::crypto::{EnvelopeContext, Part};
/// use sesame_core::id::Id;
///
/// let (account, vault, item) = (Id::generate(), Id::generate(), Id::generate());
/// let context = EnvelopeContext::item_details(account, vault, item, 7);
/// assert_eq!(context.part(), Part::ItemDetails);
/// assert_eq!(context.aad().len(), 131);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvelopeContext {
    account: Id,
    vault: Id,
    item: Option<Id>,
    file: Option<Id>,
    part: Part,
    version: u64,
}

impl EnvelopeContext {
    /// The context of a vault's attributes at `version`.
    pub fn vault_attributes(account: Id, vault: Id, version: u64) -> Self {
        Self {
            account,
            vault,
            item: None,
            file: None,
            part: Part::VaultAttributes,
            version,
        }
    }

    /// The context of an item's overview at item `version`.
    pub fn item_overview(account: Id, vault: Id, item: Id, version: u64) -> Self {
        Self {
            account,
            vault,
            item: Some(item),
            file: None,
            part: Part::ItemOverview,
            version,
        }
    }

    /// The context of an item's details at item `version`.
    pub fn item_details(account: Id, vault: Id, item: Id, version: u64) -> Self {
        Self {
            account,
            vault,
            item: Some(item),
            file: None,
            part: Part::ItemDetails,
            version,
        }
    }

    /// The context of the key of `file` attached to `item`.
    ///
    /// A file's content never changes under its id (new content gets a new id and key), so
    /// the version is always 0.
    pub fn file_key(account: Id, vault: Id, item: Id, file: Id) -> Self {
        Self {
            account,
            vault,
            item: Some(item),
            file: Some(file),
            part: Part::FileKey,
            version: 0,
        }
    }

    /// The part this context is for.
    pub fn part(&self) -> Part {
        self.part
    }

    /// The AAD bytes (see the [module docs](super) for the layout).
    pub fn aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(AAD_LABEL.len() + 4 * ID_LEN + 1 + 8);
        aad.extend_from_slice(AAD_LABEL);
        aad.extend_from_slice(self.account.as_str().as_bytes());
        aad.extend_from_slice(self.vault.as_str().as_bytes());
        for id in [&self.item, &self.file] {
            match id {
                Some(id) => aad.extend_from_slice(id.as_str().as_bytes()),
                None => aad.extend_from_slice(&ABSENT_ID),
            }
        }
        aad.push(self.part.as_byte());
        aad.extend_from_slice(&self.version.to_be_bytes());
        aad
    }

    /// Names the envelope in error messages (ids only; they are not secret).
    fn describe(&self) -> String {
        let mut text = format!("{} of vault {}", self.part.describe(), self.vault);
        if let Some(item) = &self.item {
            text.push_str(&format!(", item {item}"));
        }
        if let Some(file) = &self.file {
            text.push_str(&format!(", file {file}"));
        }
        if self.part != Part::FileKey {
            text.push_str(&format!(", version {}", self.version));
        }
        text
    }
}

impl VaultKey {
    /// Seals `plaintext` for `context` under this vault key with a fresh random nonce.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the plaintext exceeds the AES-GCM limit (64 GiB).
    ///
    /// ```
    /// use sesame_core::crypto::{EnvelopeContext, VaultKey};
    /// use sesame_core::id::Id;
    ///
    /// let key = VaultKey::generate();
    /// let (account, vault, item) = (Id::generate(), Id::generate(), Id::generate());
    /// let context = EnvelopeContext::item_overview(account, vault, item, 1);
    /// let envelope = key.seal(&context, br#"{"title":"Postgres"}"#)?;
    /// assert_eq!(&key.open(&context, &envelope)?[..], br#"{"title":"Postgres"}"#);
    ///
    /// let next_version = EnvelopeContext::item_overview(account, vault, item, 2);
    /// assert!(key.open(&next_version, &envelope).is_err());
    /// # Ok::<(), sesame_core::Error>(())
    /// ```
    pub fn seal(&self, context: &EnvelopeContext, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        self.seal_with_nonce(context, plaintext, &nonce)
    }

    /// [`seal`](Self::seal) with a chosen nonce, for known-answer vectors only: reusing a
    /// nonce under one key destroys AES-GCM's security.
    pub(crate) fn seal_with_nonce(
        &self,
        context: &EnvelopeContext,
        plaintext: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<Vec<u8>> {
        let cipher = Aes256Gcm::new(self.as_bytes().into());
        let aad = context.aad();
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                Error::invalid_input(
                    "plaintext",
                    format!("{} bytes is too large for one envelope", plaintext.len()),
                )
            })?;
        let mut envelope = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        envelope.push(FORMAT_VERSION);
        envelope.extend_from_slice(nonce);
        envelope.extend_from_slice(&ciphertext);
        Ok(envelope)
    }

    /// Opens an envelope made by [`seal`](Self::seal) for the same `context`.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] when the envelope is malformed, was altered, was sealed for a
    /// different context, or under a different key.
    pub fn open(&self, context: &EnvelopeContext, envelope: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let Some((&version, rest)) = envelope.split_first() else {
            return Err(Error::integrity(format!(
                "the envelope of the {} is empty",
                context.describe()
            )));
        };
        if version != FORMAT_VERSION {
            return Err(Error::integrity(format!(
                "the envelope of the {} has format version {version}, this client reads \
                 version {FORMAT_VERSION}; upgrade the client if the data is newer",
                context.describe()
            )));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::integrity(format!(
                "the envelope of the {} is {} bytes, shorter than the minimum {}: it was truncated",
                context.describe(),
                envelope.len(),
                1 + NONCE_LEN + TAG_LEN
            )));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(self.as_bytes().into());
        let aad = context.aad();
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::integrity(format!(
                    "the envelope of the {} failed authentication: it was altered, belongs to \
                     another account, vault, item, file, part or version, or the vault key is wrong",
                    context.describe()
                ))
            })
    }
}
