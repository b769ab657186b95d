//! Vaults: encrypted containers of items, each with its own key and access list.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What kind of vault it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "unsupported")))]
pub enum VaultType {
    /// A person's private vault.
    Personal,
    /// The vault every member of the account can see.
    Everyone,
    /// A vault used to hand items over.
    Transfer,
    /// A vault created by a person or a service account.
    #[default]
    UserCreated,
    /// A vault type this version does not know.
    #[serde(other)]
    Unsupported,
}

/// Who a [`VaultAccess`] grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "unsupported")))]
pub enum VaultAccessorType {
    /// A single principal (a person or a service account).
    User,
    /// A group of principals.
    Group,
    /// An accessor type this version does not know.
    #[serde(other)]
    Unsupported,
}

/// One principal's or group's permissions on a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultAccess {
    /// The vault.
    pub vault_uuid: String,
    /// Whether the accessor is a principal or a group.
    pub accessor_type: VaultAccessorType,
    /// The principal's or group's id.
    pub accessor_uuid: String,
    /// The granted permissions: an OR of [`permissions`](super::permissions) flags.
    pub permissions: u32,
}

/// A vault's metadata, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultOverview {
    /// The vault's id.
    pub id: String,
    /// Its name.
    pub title: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Its kind.
    pub vault_type: VaultType,
    /// How many active items it holds.
    pub active_item_count: u32,
    /// Incremented by every change to its items; clients sync with `since=`.
    pub content_version: u64,
    /// Incremented by every change to its name or description.
    pub attribute_version: u64,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub updated_at: OffsetDateTime,
    /// Set when this client cannot read the vault, saying why (its `title` and
    /// `description` are then empty). The account owner is shown every vault of the
    /// account, including those made by a service account and not shared with it:
    /// it can delete them, not read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// A vault with, on request, its access list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Vault {
    /// The vault's id.
    pub id: String,
    /// Its name.
    pub title: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Its kind.
    pub vault_type: VaultType,
    /// How many active items it holds.
    pub active_item_count: u32,
    /// Incremented by every change to its items.
    pub content_version: u64,
    /// Incremented by every change to its name or description.
    pub attribute_version: u64,
    /// Who may do what, when requested with [`VaultGetParams::accessors`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Vec<VaultAccess>>,
}

/// What to create a vault from.
///
/// ```
/// use sesame_core::model::VaultCreateParams;
/// let params = VaultCreateParams { description: Some("CI secrets".into()), ..VaultCreateParams::new("Infra") };
/// assert_eq!(serde_json::to_string(&params)?, r#"{"title":"Infra","description":"CI secrets"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultCreateParams {
    /// The vault's name.
    pub title: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether account administrators get access too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_admins_access: Option<bool>,
}

impl VaultCreateParams {
    /// Parameters for a vault with this name and nothing else.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            description: None,
            allow_admins_access: None,
        }
    }
}

/// Changes to a vault's name or description; `None` leaves a value as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VaultUpdateParams {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Options of a vault `get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VaultGetParams {
    /// Include the vault's access list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessors: Option<bool>,
}

/// Options of a vault `list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultListParams {
    /// Decrypt descriptions as well as names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrypt_details: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vault_json_uses_1password_names() {
        let vault = Vault {
            id: "v".repeat(26),
            title: "Infra".into(),
            description: String::new(),
            vault_type: VaultType::UserCreated,
            active_item_count: 2,
            content_version: 7,
            attribute_version: 1,
            access: Some(vec![VaultAccess {
                vault_uuid: "v".repeat(26),
                accessor_type: VaultAccessorType::User,
                accessor_uuid: "p".repeat(26),
                permissions: 32,
            }]),
        };
        let value = serde_json::to_value(&vault).unwrap();
        assert_eq!(value["vaultType"], "userCreated");
        assert_eq!(value["activeItemCount"], 2);
        assert_eq!(value["contentVersion"], 7);
        assert_eq!(value["access"][0]["accessorType"], "user");
        assert_eq!(value["access"][0]["vaultUuid"], "v".repeat(26));
        assert_eq!(serde_json::from_value::<Vault>(value).unwrap(), vault);
    }

    #[test]
    fn unknown_vault_enums_are_unsupported() {
        assert_eq!(
            serde_json::from_value::<VaultType>(json!("shared")).unwrap(),
            VaultType::Unsupported
        );
        assert_eq!(
            serde_json::from_value::<VaultAccessorType>(json!("robot")).unwrap(),
            VaultAccessorType::Unsupported
        );
    }

    #[test]
    fn overview_timestamps_are_rfc3339() {
        let overview: VaultOverview = serde_json::from_value(json!({
            "id": "v", "title": "t", "vaultType": "personal", "activeItemCount": 0,
            "contentVersion": 0, "attributeVersion": 0,
            "createdAt": "2026-11-25T12:00:00Z", "updatedAt": "2026-11-25T12:30:00.5+01:00"
        }))
        .unwrap();
        assert_eq!(overview.created_at.unix_timestamp(), 1_795_608_000);
        assert_eq!(overview.description, "");
        let bad = serde_json::from_value::<VaultOverview>(json!({
            "id": "v", "title": "t", "vaultType": "personal", "activeItemCount": 0,
            "contentVersion": 0, "attributeVersion": 0,
            "createdAt": "yesterday", "updatedAt": "2026-11-25T12:30:00Z"
        }));
        assert!(bad.is_err());
    }
}
