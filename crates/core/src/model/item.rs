//! Items: what a vault holds (logins, API credentials, SSH keys, documents, …).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{base64_bytes, Redacted};

/// The kind of an item, which decides its built-in fields and how apps show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "Unsupported")))]
pub enum ItemCategory {
    /// A username and password for a website or app.
    Login,
    /// Free-form notes.
    SecureNote,
    /// A payment card.
    CreditCard,
    /// A cryptocurrency wallet.
    CryptoWallet,
    /// A person's identity details.
    Identity,
    /// A password on its own.
    Password,
    /// A file stored as an item.
    Document,
    /// An API key or credential.
    ApiCredentials,
    /// A bank account.
    BankAccount,
    /// Database connection details.
    Database,
    /// A driver's licence.
    DriverLicense,
    /// An email account.
    Email,
    /// A medical record.
    MedicalRecord,
    /// A membership card.
    Membership,
    /// An outdoor (hunting, fishing) licence.
    OutdoorLicense,
    /// A passport.
    Passport,
    /// A rewards programme.
    Rewards,
    /// A router's credentials.
    Router,
    /// A server's credentials.
    Server,
    /// An SSH key.
    SshKey,
    /// A social security number.
    SocialSecurityNumber,
    /// A software licence.
    SoftwareLicense,
    /// A person.
    Person,
    /// A category this version does not know.
    #[serde(other)]
    Unsupported,
}

impl ItemCategory {
    /// Every category this version knows (all but `Unsupported`), in the 1Password SDK's
    /// order. Their names are their JSON form: `serde_json::to_value(category)`.
    pub const ALL: [ItemCategory; 23] = [
        Self::Login,
        Self::SecureNote,
        Self::CreditCard,
        Self::CryptoWallet,
        Self::Identity,
        Self::Password,
        Self::Document,
        Self::ApiCredentials,
        Self::BankAccount,
        Self::Database,
        Self::DriverLicense,
        Self::Email,
        Self::MedicalRecord,
        Self::Membership,
        Self::OutdoorLicense,
        Self::Passport,
        Self::Rewards,
        Self::Router,
        Self::Server,
        Self::SshKey,
        Self::SocialSecurityNumber,
        Self::SoftwareLicense,
        Self::Person,
    ];
}

/// The type of a field, which decides how its value is shown and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "Unsupported")))]
pub enum ItemFieldType {
    /// Plain text.
    Text,
    /// A secret value, hidden until revealed.
    Concealed,
    /// A payment card's brand.
    CreditCardType,
    /// A payment card's number.
    CreditCardNumber,
    /// A phone number.
    Phone,
    /// A URL.
    Url,
    /// A one-time password secret (`otpauth://` URI or base32 secret).
    Totp,
    /// An email address.
    Email,
    /// A reference to another item, by id.
    Reference,
    /// An SSH private key.
    SshKey,
    /// One value of a fixed list.
    Menu,
    /// A month and year, `YYYYMM`.
    MonthYear,
    /// A postal address.
    Address,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A field type this version does not know.
    #[serde(other)]
    Unsupported,
}

/// Attributes of a one-time password field.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OtpFieldDetails {
    /// The current code, if it could be computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub code: Option<String>,
    /// Why the code could not be computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl fmt::Debug for OtpFieldDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpFieldDetails")
            .field("code", &self.code.as_ref().map(|c| Redacted(c.len())))
            .field("error_message", &self.error_message)
            .finish()
    }
}

/// Public attributes of an SSH key field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SshKeyAttributes {
    /// The public key in OpenSSH format.
    pub public_key: String,
    /// The key's SHA-256 fingerprint.
    pub fingerprint: String,
    /// The key type, e.g. `ed25519` or `rsa-4096`.
    pub key_type: String,
}

/// The parts of an address field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AddressFieldDetails {
    /// Street and number.
    pub street: String,
    /// City.
    pub city: String,
    /// Country.
    pub country: String,
    /// Postal code.
    pub zip: String,
    /// State or region.
    pub state: String,
}

/// Attributes specific to a field's type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "content")]
#[non_exhaustive]
pub enum ItemFieldDetails {
    /// A one-time password's current code.
    Otp(OtpFieldDetails),
    /// An SSH key's public attributes.
    SshKey(Option<SshKeyAttributes>),
    /// An address's parts.
    Address(Option<AddressFieldDetails>),
    /// Details of a kind this version does not know.
    Unsupported,
}

// Written by hand because serde's `#[serde(other)]` rejects an unknown tag that still
// carries content, and unknown details from a newer server must never be an error.
impl<'de> Deserialize<'de> for ItemFieldDetails {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Tagged {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            content: serde_json::Value,
        }
        let Tagged { kind, content } = Tagged::deserialize(deserializer)?;
        let parsed = match kind.as_str() {
            "Otp" => serde_json::from_value(content).map(Self::Otp),
            "SshKey" => serde_json::from_value(content).map(Self::SshKey),
            "Address" => serde_json::from_value(content).map(Self::Address),
            _ => Ok(Self::Unsupported),
        };
        parsed.map_err(|e| serde::de::Error::custom(format!("invalid {kind} field details: {e}")))
    }
}

/// Described by hand to match the hand-written `Deserialize`: written as one of the known
/// variants or `{"type": "Unsupported"}`; read with any other `type` (and any `content`)
/// as `Unsupported`, and with the `content` of `SshKey` and `Address` optional.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for ItemFieldDetails {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ItemFieldDetails".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::ItemFieldDetails").into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let reads = generator.contract().is_deserialize();
        let variant = |name: &str, description: &str, content: Option<(schemars::Schema, bool)>| {
            let mut properties = serde_json::Map::new();
            properties.insert(
                "type".into(),
                serde_json::json!({"type": "string", "const": name}),
            );
            let mut required = vec!["type"];
            if let Some((schema, content_required)) = content {
                properties.insert("content".into(), schema.to_value());
                if content_required {
                    required.push("content");
                }
            }
            serde_json::json!({
                "type": "object",
                "description": description,
                "properties": properties,
                "required": required,
            })
        };
        let mut variants = vec![
            variant(
                "Otp",
                "A one-time password's current code.",
                Some((generator.subschema_for::<OtpFieldDetails>(), true)),
            ),
            variant(
                "SshKey",
                "An SSH key's public attributes.",
                Some((
                    generator.subschema_for::<Option<SshKeyAttributes>>(),
                    !reads,
                )),
            ),
            variant(
                "Address",
                "An address's parts.",
                Some((
                    generator.subschema_for::<Option<AddressFieldDetails>>(),
                    !reads,
                )),
            ),
        ];
        variants.push(if reads {
            serde_json::json!({
                "type": "object",
                "description": "Details of a kind this version does not know (any other `type`, \
                    with any `content`): read as `Unsupported`.",
                "properties": {
                    "type": {"type": "string", "not": {"enum": ["Otp", "SshKey", "Address"]}}
                },
                "required": ["type"],
            })
        } else {
            variant(
                "Unsupported",
                "Details of a kind this version does not know (written without content).",
                None,
            )
        });
        schemars::json_schema!({
            "description": "Attributes specific to a field's type: `{\"type\": kind, \"content\": attributes}`.",
            "oneOf": variants,
        })
    }
}

/// A field of an item.
///
/// `Debug` shows the field's id, title and type, never its value.
///
/// ```
/// use sesame_core::model::{ItemField, ItemFieldType};
/// let field = ItemField::new("password", "password", ItemFieldType::Concealed, "hunter2");
/// assert!(!format!("{field:?}").contains("hunter2"));
/// assert_eq!(serde_json::to_value(&field)?["fieldType"], "Concealed");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemField {
    /// The field's id, unique within the item.
    pub id: String,
    /// The field's title.
    pub title: String,
    /// The section holding the field; built-in fields have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_id: Option<String>,
    /// The field's type.
    pub field_type: ItemFieldType,
    /// The value as a string.
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub value: String,
    /// Type-specific attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ItemFieldDetails>,
}

impl ItemField {
    /// A field outside any section and without details.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        field_type: ItemFieldType,
        value: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            section_id: None,
            field_type,
            value: value.into(),
            details: None,
        }
    }
}

impl fmt::Debug for ItemField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemField")
            .field("id", &self.id)
            .field("title", &self.title)
            .field("section_id", &self.section_id)
            .field("field_type", &self.field_type)
            .field("value", &Redacted(self.value.len()))
            .field("details", &self.details)
            .finish()
    }
}

/// A titled group of fields within an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemSection {
    /// The section's id, unique within the item.
    pub id: String,
    /// The section's title.
    pub title: String,
}

/// When a browser extension may fill an item in on a website.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "Unsupported")))]
pub enum AutofillBehavior {
    /// On any page of the website's domain and its subdomains.
    #[default]
    AnywhereOnWebsite,
    /// Only on the exact host.
    ExactDomain,
    /// Never.
    Never,
    /// A behaviour this version does not know.
    #[serde(other)]
    Unsupported,
}

/// A website an item belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Website {
    /// The URL.
    pub url: String,
    /// A label, e.g. `website` or `sign-in address`.
    pub label: String,
    /// When it may be filled in.
    pub autofill_behavior: AutofillBehavior,
}

/// Metadata of a stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FileAttributes {
    /// The file's name.
    pub name: String,
    /// The file's id.
    pub id: String,
    /// Its size in bytes (of the plaintext).
    pub size: u64,
}

/// A file attached to an item, in a section, as a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemFile {
    /// The file's metadata.
    pub attributes: FileAttributes,
    /// The section it is shown in.
    pub section_id: String,
    /// The field it is shown as.
    pub field_id: String,
}

/// Whether an item is in use or archived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
#[cfg_attr(feature = "schema", schemars(extend("x-unknown-as" = "unsupported")))]
pub enum ItemState {
    /// In use.
    #[default]
    Active,
    /// Archived: listed only on request and never resolved by references.
    Archived,
    /// A state this version does not know.
    #[serde(other)]
    Unsupported,
}

/// An item with everything it holds.
///
/// `Debug` redacts field values and notes.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// The item's id.
    pub id: String,
    /// The item's title.
    pub title: String,
    /// The item's category.
    pub category: ItemCategory,
    /// The id of the vault holding it.
    pub vault_id: String,
    /// Its fields.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub fields: Vec<ItemField>,
    /// Its sections.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub sections: Vec<ItemSection>,
    /// Free-form notes.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub notes: String,
    /// Its tags.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub tags: Vec<String>,
    /// Websites it belongs to.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub websites: Vec<Website>,
    /// Its version, incremented by every change; writes must name the version they edit.
    pub version: u32,
    /// Attached files.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub files: Vec<ItemFile>,
    /// The document, for items of the Document category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<FileAttributes>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub updated_at: OffsetDateTime,
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("id", &self.id)
            .field("title", &self.title)
            .field("category", &self.category)
            .field("vault_id", &self.vault_id)
            .field("fields", &self.fields)
            .field("sections", &self.sections)
            .field("notes", &Redacted(self.notes.len()))
            .field("tags", &self.tags)
            .field("websites", &self.websites)
            .field("version", &self.version)
            .field("files", &self.files)
            .field("document", &self.document)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A file to attach when creating an item or with `files().attach`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FileCreateParams {
    /// The file's name.
    pub name: String,
    /// Its bytes (base64 in JSON; absent when a binding passes them as raw bytes beside
    /// the JSON).
    #[serde(with = "base64_bytes", default)]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Base64Bytes"))]
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub content: Vec<u8>,
    /// The section to show it in.
    pub section_id: String,
    /// The field to show it as.
    pub field_id: String,
}

impl fmt::Debug for FileCreateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCreateParams")
            .field("name", &self.name)
            .field("content", &Redacted(self.content.len()))
            .field("section_id", &self.section_id)
            .field("field_id", &self.field_id)
            .finish()
    }
}

/// The document of a Document item.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DocumentCreateParams {
    /// The file's name.
    pub name: String,
    /// Its bytes (base64 in JSON; absent when a binding passes them as raw bytes beside
    /// the JSON).
    #[serde(with = "base64_bytes", default)]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Base64Bytes"))]
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub content: Vec<u8>,
}

impl fmt::Debug for DocumentCreateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentCreateParams")
            .field("name", &self.name)
            .field("content", &Redacted(self.content.len()))
            .finish()
    }
}

/// What to create an item from.
///
/// ```
/// use sesame_core::model::{ItemCategory, ItemCreateParams, ItemField, ItemFieldType};
/// let params = ItemCreateParams {
///     fields: Some(vec![ItemField::new("password", "password", ItemFieldType::Concealed, "s3cret")]),
///     tags: Some(vec!["prod".into()]),
///     ..ItemCreateParams::new(ItemCategory::Login, "abcdefghijklmnopqrstuvwxyz", "Postgres")
/// };
/// let json = serde_json::to_value(&params)?;
/// assert_eq!(json["vaultId"], "abcdefghijklmnopqrstuvwxyz");
/// assert!(json.get("notes").is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemCreateParams {
    /// The item's category.
    pub category: ItemCategory,
    /// The vault to create it in.
    pub vault_id: String,
    /// The item's title.
    pub title: String,
    /// Its fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<ItemField>>,
    /// Its sections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<ItemSection>>,
    /// Free-form notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub notes: Option<String>,
    /// Its tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Websites it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websites: Option<Vec<Website>>,
    /// Files to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileCreateParams>>,
    /// The document, for the Document category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentCreateParams>,
}

impl ItemCreateParams {
    /// Parameters with the three required values and nothing else.
    pub fn new(
        category: ItemCategory,
        vault_id: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        Self {
            category,
            vault_id: vault_id.into(),
            title: title.into(),
            fields: None,
            sections: None,
            notes: None,
            tags: None,
            websites: None,
            files: None,
            document: None,
        }
    }
}

impl fmt::Debug for ItemCreateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemCreateParams")
            .field("category", &self.category)
            .field("vault_id", &self.vault_id)
            .field("title", &self.title)
            .field("fields", &self.fields)
            .field("sections", &self.sections)
            .field("notes", &self.notes.as_ref().map(|n| Redacted(n.len())))
            .field("tags", &self.tags)
            .field("websites", &self.websites)
            .field("files", &self.files)
            .field("document", &self.document)
            .finish()
    }
}

/// An item's metadata, as listed: no field values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemOverview {
    /// The item's id.
    pub id: String,
    /// The item's title.
    pub title: String,
    /// The item's category.
    pub category: ItemCategory,
    /// The id of the vault holding it.
    pub vault_id: String,
    /// Websites it belongs to.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub websites: Vec<Website>,
    /// Its tags.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub tags: Vec<String>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub updated_at: OffsetDateTime,
    /// Active or archived.
    pub state: ItemState,
}

/// Which items a listing returns.
///
/// ```
/// use sesame_core::model::{ItemListFilter, ItemListFilterByStateInner};
/// let filter = ItemListFilter::ByState(ItemListFilterByStateInner { active: true, archived: false });
/// assert_eq!(
///     serde_json::to_string(&filter)?,
///     r#"{"type":"ByState","content":{"active":true,"archived":false}}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", content = "content")]
#[non_exhaustive]
pub enum ItemListFilter {
    /// Items in the chosen states.
    ByState(ItemListFilterByStateInner),
}

/// The states an [`ItemListFilter::ByState`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemListFilterByStateInner {
    /// Keep active items.
    pub active: bool,
    /// Keep archived items.
    pub archived: bool,
}

/// Which items [`Items::list`](crate::client::Items::list) returns. Every filter but the state runs in the client:
/// the server cannot read tags, categories or titles.
///
/// ```
/// use sesame_core::model::ItemListFilters;
/// use sesame_core::model::ItemCategory;
/// let filters = ItemListFilters {
///     category: Some(ItemCategory::Login),
///     title_contains: Some("github".into()),
///     ..ItemListFilters::default()
/// };
/// assert!(filters.state.is_none()); // active items only
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct ItemListFilters {
    /// The 1Password state filter; `None` keeps active items only.
    pub state: Option<ItemListFilter>,
    /// Keep items with this tag (case-insensitive).
    pub tag: Option<String>,
    /// Keep items of this category.
    pub category: Option<ItemCategory>,
    /// Keep items whose title contains this text (case-insensitive).
    pub title_contains: Option<String>,
}

impl ItemListFilters {
    pub(crate) fn keeps(&self, item: &ItemOverview) -> bool {
        let state_ok = match &self.state {
            Some(ItemListFilter::ByState(by)) => match item.state {
                ItemState::Active => by.active,
                ItemState::Archived => by.archived,
                _ => false,
            },
            _ => item.state == ItemState::Active,
        };
        state_ok
            && self.tag.as_ref().is_none_or(|tag| {
                item.tags
                    .iter()
                    .any(|t| t.to_lowercase() == tag.to_lowercase())
            })
            && self.category.is_none_or(|c| c == item.category)
            && self
                .title_contains
                .as_ref()
                .is_none_or(|text| item.title.to_lowercase().contains(&text.to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_item() -> Item {
        let mut totp = ItemField::new(
            "otp",
            "one-time password",
            ItemFieldType::Totp,
            "JBSWY3DPEHPK3PXP",
        );
        totp.section_id = Some("sec".into());
        totp.details = Some(ItemFieldDetails::Otp(OtpFieldDetails {
            code: Some("123456".into()),
            error_message: None,
        }));
        Item {
            id: "aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            title: "Postgres".into(),
            category: ItemCategory::Database,
            vault_id: "bbbbbbbbbbbbbbbbbbbbbbbbbb".into(),
            fields: vec![
                ItemField::new(
                    "password",
                    "password",
                    ItemFieldType::Concealed,
                    "correct horse",
                ),
                totp,
            ],
            sections: vec![ItemSection {
                id: "sec".into(),
                title: "Security".into(),
            }],
            notes: "the secret notes".into(),
            tags: vec!["prod".into()],
            websites: vec![Website {
                url: "https://db.example".into(),
                label: "website".into(),
                autofill_behavior: AutofillBehavior::ExactDomain,
            }],
            version: 3,
            files: vec![ItemFile {
                attributes: FileAttributes {
                    name: "ca.pem".into(),
                    id: "f".repeat(26),
                    size: 1200,
                },
                section_id: "sec".into(),
                field_id: "ca".into(),
            }],
            document: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn item_json_uses_1password_names() {
        let value = serde_json::to_value(sample_item()).unwrap();
        assert_eq!(value["vaultId"], "bbbbbbbbbbbbbbbbbbbbbbbbbb");
        assert_eq!(value["category"], "Database");
        assert_eq!(value["fields"][1]["sectionId"], "sec");
        assert_eq!(value["fields"][1]["fieldType"], "Totp");
        assert_eq!(
            value["fields"][1]["details"],
            json!({"type": "Otp", "content": {"code": "123456"}})
        );
        assert_eq!(value["websites"][0]["autofillBehavior"], "ExactDomain");
        assert_eq!(value["files"][0]["fieldId"], "ca");
        assert_eq!(value["createdAt"], "1970-01-01T00:00:00Z");
        let back: Item = serde_json::from_value(value).unwrap();
        assert_eq!(back, sample_item());
    }

    #[test]
    fn null_lists_read_as_empty_as_missing_ones_do() {
        // A Go nil slice is JSON null; a list left out is missing: both are empty.
        let mut value = serde_json::to_value(sample_item()).unwrap();
        for key in ["fields", "sections", "tags", "websites", "files"] {
            value[key] = serde_json::Value::Null;
        }
        let item: Item = serde_json::from_value(value.clone()).unwrap();
        assert!(item.fields.is_empty() && item.sections.is_empty() && item.tags.is_empty());
        assert!(item.websites.is_empty() && item.files.is_empty());
        // Anything else than a list or null is still refused.
        value["tags"] = json!("prod");
        assert!(serde_json::from_value::<Item>(value).is_err());
    }

    #[test]
    fn debug_never_shows_values_notes_or_codes() {
        let text = format!("{:?}", sample_item());
        for secret in [
            "correct horse",
            "JBSWY3DPEHPK3PXP",
            "123456",
            "the secret notes",
        ] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
        assert!(text.contains("Postgres"));
        let params = ItemCreateParams {
            notes: Some("the secret notes".into()),
            files: Some(vec![FileCreateParams {
                name: "key".into(),
                content: b"PRIVATE KEY BYTES".to_vec(),
                section_id: "s".into(),
                field_id: "f".into(),
            }]),
            document: Some(DocumentCreateParams {
                name: "d".into(),
                content: b"DOC BYTES".to_vec(),
            }),
            ..ItemCreateParams::new(ItemCategory::Login, "v", "t")
        };
        let text = format!("{params:?}");
        for secret in ["the secret notes", "PRIVATE KEY BYTES", "DOC BYTES"] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }

    #[test]
    fn unknown_enum_values_deserialize_to_unsupported() {
        let field: ItemField = serde_json::from_value(json!({
            "id": "x", "title": "x", "fieldType": "Hologram", "value": "",
            "details": {"type": "Quantum", "content": {"spin": 1}}
        }))
        .unwrap();
        assert_eq!(field.field_type, ItemFieldType::Unsupported);
        assert_eq!(field.details, Some(ItemFieldDetails::Unsupported));
        let category: ItemCategory = serde_json::from_value(json!("Spaceship")).unwrap();
        assert_eq!(category, ItemCategory::Unsupported);
        let state: ItemState = serde_json::from_value(json!("deleted")).unwrap();
        assert_eq!(state, ItemState::Unsupported);
        let autofill: AutofillBehavior = serde_json::from_value(json!("Sometimes")).unwrap();
        assert_eq!(autofill, AutofillBehavior::Unsupported);
    }

    #[test]
    fn every_category_and_field_type_round_trips_by_its_1password_name() {
        let categories = [
            "Login",
            "SecureNote",
            "CreditCard",
            "CryptoWallet",
            "Identity",
            "Password",
            "Document",
            "ApiCredentials",
            "BankAccount",
            "Database",
            "DriverLicense",
            "Email",
            "MedicalRecord",
            "Membership",
            "OutdoorLicense",
            "Passport",
            "Rewards",
            "Router",
            "Server",
            "SshKey",
            "SocialSecurityNumber",
            "SoftwareLicense",
            "Person",
            "Unsupported",
        ];
        for name in categories {
            let c: ItemCategory = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(serde_json::to_value(c).unwrap(), json!(name));
        }
        let all: Vec<_> = ItemCategory::ALL
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect();
        assert_eq!(
            all,
            categories[..23]
                .iter()
                .map(|n| json!(n))
                .collect::<Vec<_>>()
        );
        let types = [
            "Text",
            "Concealed",
            "CreditCardType",
            "CreditCardNumber",
            "Phone",
            "Url",
            "Totp",
            "Email",
            "Reference",
            "SshKey",
            "Menu",
            "MonthYear",
            "Address",
            "Date",
            "Unsupported",
        ];
        for name in types {
            let t: ItemFieldType = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(serde_json::to_value(t).unwrap(), json!(name));
        }
        assert_eq!(
            serde_json::to_value(ItemState::Archived).unwrap(),
            json!("archived")
        );
    }

    #[test]
    fn field_details_variants_match_the_sdk_shape() {
        let ssh = ItemFieldDetails::SshKey(Some(SshKeyAttributes {
            public_key: "ssh-ed25519 AAAA".into(),
            fingerprint: "SHA256:x".into(),
            key_type: "ed25519".into(),
        }));
        assert_eq!(
            serde_json::to_value(&ssh).unwrap(),
            json!({"type": "SshKey", "content": {"publicKey": "ssh-ed25519 AAAA", "fingerprint": "SHA256:x", "keyType": "ed25519"}})
        );
        let address = ItemFieldDetails::Address(None);
        assert_eq!(
            serde_json::to_value(&address).unwrap(),
            json!({"type": "Address", "content": null})
        );
    }

    #[test]
    fn file_content_is_base64_with_a_clear_error() {
        let doc = DocumentCreateParams {
            name: "a.bin".into(),
            content: vec![0, 255, 1],
        };
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(value["content"], "AP8B");
        assert_eq!(
            serde_json::from_value::<DocumentCreateParams>(value).unwrap(),
            doc
        );
        let err =
            serde_json::from_value::<DocumentCreateParams>(json!({"name": "a", "content": "%%"}))
                .unwrap_err();
        assert!(err.to_string().contains("not valid base64"), "{err}");
    }

    #[test]
    fn create_params_omit_unset_options_and_accept_minimal_json() {
        let params: ItemCreateParams = serde_json::from_value(json!({
            "category": "Login", "vaultId": "v", "title": "t"
        }))
        .unwrap();
        assert_eq!(params, ItemCreateParams::new(ItemCategory::Login, "v", "t"));
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"category": "Login", "vaultId": "v", "title": "t"})
        );
    }
}
