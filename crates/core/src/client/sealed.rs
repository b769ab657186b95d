//! The plaintext JSON the client seals under a vault key (see the module docs of
//! [`crate::client`] for the formats) and the conversions to the model types.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::api::Ciphertext;
use crate::crypto::{EnvelopeContext, VaultKey};
use crate::id::Id;
use crate::model::{
    FileAttributes, ItemCategory, ItemField, ItemFile, ItemSection, ItemState, Website,
};
use crate::{Error, Result};

/// A vault's sealed name and description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VaultAttributes {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// An item's sealed overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OverviewPlain {
    pub title: String,
    pub category: ItemCategory,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub websites: Vec<Website>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Sealed too, so a server cannot un-archive an item behind the client's back.
    pub state: ItemState,
}

/// An item's sealed details. `Debug` is left out on purpose: it holds secrets.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailsPlain {
    #[serde(default)]
    pub fields: Vec<ItemField>,
    #[serde(default)]
    pub sections: Vec<ItemSection>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub files: Vec<ItemFile>,
    #[serde(default)]
    pub document: Option<FileAttributes>,
    /// The key of every file in `files` and `document`, sealed with
    /// [`EnvelopeContext::file_key`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_keys: Vec<SealedFileKey>,
}

/// One file's key, sealed under the vault key for (account, vault, item, file).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SealedFileKey {
    pub file_id: String,
    pub key: Ciphertext,
}

impl DetailsPlain {
    /// Every file the details reference: attachments, then the document.
    pub(crate) fn file_attributes(&self) -> impl Iterator<Item = &FileAttributes> {
        self.files
            .iter()
            .map(|f| &f.attributes)
            .chain(self.document.iter())
    }

    /// The ids of [`file_attributes`](Self::file_attributes), as the server needs them.
    pub(crate) fn file_ids(&self) -> Result<Vec<Id>> {
        self.file_attributes()
            .map(|f| {
                f.id.parse().map_err(|_| {
                    Error::invalid_input(
                        "item.files",
                        format!(
                            "file {:?} has id {:?}, which is not a Sesame file id; attach \
                             files with items().files().attach",
                            f.name, f.id
                        ),
                    )
                })
            })
            .collect()
    }

    /// The sealed key of file `id`, if the details hold it.
    pub(crate) fn file_key(&self, id: &str) -> Option<&SealedFileKey> {
        self.file_keys.iter().find(|k| k.file_id == id)
    }
}

/// Seals `value` as JSON under `key` in `context`; the JSON is wiped after use.
pub(crate) fn seal<T: Serialize>(
    key: &VaultKey,
    context: &EnvelopeContext,
    value: &T,
) -> Result<Ciphertext> {
    let json =
        Zeroizing::new(serde_json::to_vec(value).map_err(|e| {
            Error::invalid_input("item", format!("could not be encoded as JSON: {e}"))
        })?);
    key.seal(context, &json).map(Ciphertext)
}

/// Opens an envelope and reads its JSON.
pub(crate) fn open<T: DeserializeOwned>(
    key: &VaultKey,
    context: &EnvelopeContext,
    sealed: &Ciphertext,
    what: &str,
) -> Result<T> {
    let plaintext = key.open(context, &sealed.0)?;
    serde_json::from_slice(&plaintext).map_err(|e| {
        // serde's message names the JSON position and expected type, never the content.
        Error::integrity(format!(
            "the {what} decrypted but is not valid Sesame JSON ({e}); it was written by an \
             incompatible client"
        ))
    })
}

pub(crate) fn vault_attributes_context(account: &Id, vault: &Id, version: u64) -> EnvelopeContext {
    EnvelopeContext::vault_attributes(*account, *vault, version)
}

pub(crate) fn overview_context(
    account: &Id,
    vault: &Id,
    item: &Id,
    version: u32,
) -> EnvelopeContext {
    EnvelopeContext::item_overview(*account, *vault, *item, u64::from(version))
}

pub(crate) fn details_context(
    account: &Id,
    vault: &Id,
    item: &Id,
    version: u32,
) -> EnvelopeContext {
    EnvelopeContext::item_details(*account, *vault, *item, u64::from(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_overview_round_trips_and_binds_its_version() {
        let (account, vault, item) = (Id::generate(), Id::generate(), Id::generate());
        let key = VaultKey::generate();
        let overview = OverviewPlain {
            title: "Postgres".into(),
            category: ItemCategory::Database,
            tags: vec!["prod".into()],
            websites: vec![],
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            state: ItemState::Active,
        };
        let sealed = seal(
            &key,
            &overview_context(&account, &vault, &item, 3),
            &overview,
        )
        .unwrap();
        let back: OverviewPlain = open(
            &key,
            &overview_context(&account, &vault, &item, 3),
            &sealed,
            "item overview",
        )
        .unwrap();
        assert_eq!(back, overview);
        let replayed = open::<OverviewPlain>(
            &key,
            &overview_context(&account, &vault, &item, 4),
            &sealed,
            "item overview",
        );
        assert_eq!(replayed.unwrap_err().code(), crate::ErrorCode::Integrity);
        let json = serde_json::to_value(&overview).unwrap();
        assert!(json.get("createdAt").is_some() && json.get("updatedAt").is_some());
    }
}
