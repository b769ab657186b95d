//! The data model: items, fields, sections, files, vaults and permissions.
//!
//! Names, fields and enum values are exactly those of the 1Password SDKs, and the JSON
//! form is camelCase like theirs, so an integration ports by changing its import. Every
//! enum has an `Unsupported` value that unknown wire values deserialize to: a newer
//! server never breaks an older client.
//!
//! `Debug` never shows field values, notes, OTP codes or file contents.

mod audit;
mod client_options;
mod item;
pub mod permissions;
mod principal;
mod responses;
#[cfg(feature = "schema")]
pub mod schema;
mod share;
mod unreadable;
mod vault;

pub use crate::password::{
    GeneratedPassword, PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType,
};
pub use crate::totp::TotpCode;
pub use audit::{AuditCheckpoint, AuditEvent, AuditHead, AuditVerification, EventsPage};
pub use client_options::ClientOptions;
pub use item::{
    AddressFieldDetails, AutofillBehavior, DocumentCreateParams, FileAttributes, FileCreateParams,
    Item, ItemCategory, ItemCreateParams, ItemField, ItemFieldDetails, ItemFieldType, ItemFile,
    ItemListFilter, ItemListFilterByStateInner, ItemListFilters, ItemOverview, ItemSection,
    ItemState, OtpFieldDetails, SshKeyAttributes, Website,
};
pub use principal::{
    Principal, PrincipalKind, PrincipalRateLimit, RateLimitSettings, RateLimitState,
    ServiceAccountRights, MAX_RATE_LIMIT,
};
pub use responses::{
    ItemsDeleteAllResponse, ItemsGetAllResponse, ItemsUpdateAllResponse, ResolveAllResponse,
    ResolvedReference,
};
pub use share::{
    AllowedRecipientType, AllowedType, InvalidRecipient, ItemShare, ItemShareAccountPolicy,
    ItemShareDuration, ItemShareFiles, ItemShareParams, SharedFile, SharedItem, ValidRecipient,
};
pub use unreadable::{UnreadableKind, UnreadableRecord};
pub use vault::{
    Vault, VaultAccess, VaultAccessorType, VaultCreateParams, VaultGetParams, VaultListParams,
    VaultOverview, VaultType, VaultUpdateParams,
};

use std::fmt;

/// Stands in for a secret in `Debug` output: says how big it was, never what it was.
pub(crate) struct Redacted(pub(crate) usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0)
    }
}

/// A [`Duration`](std::time::Duration) as whole seconds in JSON.
mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// A list that may be left out or given as `null` (a Go nil slice, a Python `None`): both
/// mean empty.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<Vec<T>> as serde::Deserialize>::deserialize(d).map(Option::unwrap_or_default)
}

/// Binary content travels as standard base64 in JSON, never as an array of numbers.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("content is not valid base64: {e}")))
    }
}
