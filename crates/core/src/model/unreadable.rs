//! Records the client received but cannot open, reported instead of failing every call.

use serde::{Deserialize, Serialize};

/// What part of a record could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "unsupported")))]
pub enum UnreadableKind {
    /// The vault's grant to this principal: the signature is missing, from a principal
    /// this client does not trust, or does not verify, or the wrapped key does not
    /// unwrap. The whole vault is unusable.
    VaultKey,
    /// The vault's sealed name and description. Its items stay usable by vault id.
    VaultAttributes,
    /// An item's sealed overview (title, category, tags, state). The item is left out of
    /// listings and references.
    ItemOverview,
    /// A kind this version does not know.
    #[serde(other)]
    Unsupported,
}

/// One record the client could not open at its last sync: which vault (and item), what
/// was wrong, and nothing of its content. It leaves the list once the record is fixed,
/// deleted or no longer visible; the client never deletes anything by itself.
///
/// ```
/// use sesame_core::model::{UnreadableKind, UnreadableRecord};
/// let record = UnreadableRecord {
///     vault_id: "a".repeat(26),
///     item_id: None,
///     kind: UnreadableKind::VaultKey,
///     message: "the grant's signature does not verify".into(),
/// };
/// let json = serde_json::to_value(&record).unwrap();
/// assert_eq!(json["vaultId"], "a".repeat(26));
/// assert_eq!(json["kind"], "vaultKey");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnreadableRecord {
    /// The vault the record belongs to.
    pub vault_id: String,
    /// The item, for an item record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// What could not be opened.
    pub kind: UnreadableKind,
    /// Why, as precisely as the client knows (never any content).
    pub message: String,
}
