//! Item sharing: the account share policy, validated recipients and share options, named
//! and shaped as in the 1Password SDKs, plus [`ItemShare`] (the shares a caller created,
//! which the official SDK cannot list).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::Id;
use crate::model::{ItemCategory, ItemField, ItemSection, Website};

/// How long a share link works, as in the 1Password SDK.
///
/// ```
/// use sesame_core::model::ItemShareDuration;
/// assert_eq!(ItemShareDuration::SevenDays.seconds(), 7 * 24 * 3600);
/// assert!(ItemShareDuration::OneHour < ItemShareDuration::ThirtyDays);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ItemShareDuration {
    /// One hour.
    OneHour,
    /// One day.
    OneDay,
    /// Seven days.
    SevenDays,
    /// Fourteen days.
    FourteenDays,
    /// Thirty days.
    ThirtyDays,
}

impl ItemShareDuration {
    /// Every duration, shortest first.
    pub const ALL: [Self; 5] = [
        Self::OneHour,
        Self::OneDay,
        Self::SevenDays,
        Self::FourteenDays,
        Self::ThirtyDays,
    ];

    /// The duration in seconds.
    pub const fn seconds(self) -> u64 {
        const HOUR: u64 = 3600;
        match self {
            Self::OneHour => HOUR,
            Self::OneDay => 24 * HOUR,
            Self::SevenDays => 7 * 24 * HOUR,
            Self::FourteenDays => 14 * 24 * HOUR,
            Self::ThirtyDays => 30 * 24 * HOUR,
        }
    }
}

/// Who a share link may be for, as allowed by the account policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AllowedType {
    /// Links restricted to named recipients, who must prove who they are.
    Authenticated,
    /// Links that anyone holding them can open.
    Public,
}

/// The kinds of recipient a restricted share may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AllowedRecipientType {
    /// One email address.
    Email,
    /// Every address of a domain.
    Domain,
}

/// The file part of the share policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemShareFiles {
    /// Whether a share may carry the item's files.
    pub allowed: bool,
    /// The largest encrypted size, in bytes, of the files of one share.
    pub max_size: u64,
    /// Stricter share types for shares with files (`None`: as the policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_types: Option<Vec<AllowedType>>,
    /// Stricter recipient types for shares with files (`None`: as the policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_recipient_types: Option<Vec<AllowedRecipientType>>,
    /// A shorter longest duration for shares with files (`None`: as the policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_expiry: Option<ItemShareDuration>,
    /// A default duration for shares with files (`None`: as the policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_expiry: Option<ItemShareDuration>,
    /// Fewer views for shares with files (`None`: as the policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_views: Option<u32>,
}

/// The account's rules for sharing items, set by the owner and enforced by the server.
///
/// ```
/// use sesame_core::model::{AllowedType, ItemShareAccountPolicy, ItemShareDuration};
/// let policy = ItemShareAccountPolicy::default();
/// assert_eq!(policy.default_expiry, ItemShareDuration::SevenDays);
/// assert_eq!(policy.allowed_types, vec![AllowedType::Public]);
/// assert!(!policy.files.allowed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemShareAccountPolicy {
    /// The longest a share may last.
    pub max_expiry: ItemShareDuration,
    /// How long a share lasts when its creator does not say.
    pub default_expiry: ItemShareDuration,
    /// How many times a share may be viewed (`None`: unlimited).
    #[serde(default)]
    pub max_views: Option<u32>,
    /// The share types allowed.
    pub allowed_types: Vec<AllowedType>,
    /// The recipient types allowed in restricted shares.
    pub allowed_recipient_types: Vec<AllowedRecipientType>,
    /// Whether and how files may be shared.
    pub files: ItemShareFiles,
}

impl Default for ItemShareAccountPolicy {
    /// Public links only, seven days by default and thirty at most, unlimited views, no
    /// files (as a new 1Password account).
    fn default() -> Self {
        Self {
            max_expiry: ItemShareDuration::ThirtyDays,
            default_expiry: ItemShareDuration::SevenDays,
            max_views: None,
            allowed_types: vec![AllowedType::Public],
            allowed_recipient_types: Vec::new(),
            files: ItemShareFiles {
                allowed: false,
                max_size: 2 * 1024 * 1024,
                allowed_types: None,
                allowed_recipient_types: None,
                max_expiry: None,
                default_expiry: None,
                max_views: None,
            },
        }
    }
}

impl ItemShareAccountPolicy {
    /// The policy that applies to one share: the file overrides when it carries files.
    pub fn effective(&self, with_files: bool) -> Self {
        if !with_files {
            return self.clone();
        }
        let files = &self.files;
        Self {
            max_expiry: files.max_expiry.unwrap_or(self.max_expiry),
            default_expiry: files.default_expiry.unwrap_or(self.default_expiry),
            max_views: files.max_views.or(self.max_views),
            allowed_types: files
                .allowed_types
                .clone()
                .unwrap_or_else(|| self.allowed_types.clone()),
            allowed_recipient_types: files
                .allowed_recipient_types
                .clone()
                .unwrap_or_else(|| self.allowed_recipient_types.clone()),
            files: files.clone(),
        }
    }
}

/// A recipient checked by [`Shares::validate_recipients`](crate::client::Shares::validate_recipients).
///
/// JSON as in the 1Password SDK: `{"type": "Email", "parameters": {"email": "…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", content = "parameters")]
pub enum ValidRecipient {
    /// This exact address.
    Email {
        /// The address, lowercased.
        email: String,
    },
    /// Anyone with an address at this domain.
    Domain {
        /// The domain, lowercased.
        domain: String,
    },
}

impl ValidRecipient {
    /// Parses one recipient: an email address if `text` has an `@`, a domain otherwise.
    /// Both are lowercased. The client's
    /// [`validate_recipients`](crate::client::Shares::validate_recipients) and the server
    /// (on share creation and when a visitor proves an address) use this one parser.
    ///
    /// ```
    /// use sesame_core::model::ValidRecipient;
    /// assert_eq!(
    ///     ValidRecipient::parse("Bob@Example.com").unwrap(),
    ///     ValidRecipient::Email { email: "bob@example.com".into() }
    /// );
    /// assert!(matches!(ValidRecipient::parse("example.org"), Ok(ValidRecipient::Domain { .. })));
    /// let err = ValidRecipient::parse("bob@localhost").unwrap_err();
    /// assert!(err.to_string().contains("no dot"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidRecipient`], whose message says what is wrong (it reads after the
    /// recipient, e.g. "has no dot: …").
    pub fn parse(text: &str) -> Result<Self, InvalidRecipient> {
        parse_recipient(text).map_err(InvalidRecipient)
    }

    /// Whether `email` (an address as [`parse`](Self::parse) returns it: lowercased) is
    /// this recipient: the same address, or any address whose domain is exactly this
    /// domain (not a subdomain of it).
    ///
    /// ```
    /// use sesame_core::model::ValidRecipient;
    /// let domain = ValidRecipient::parse("example.com").unwrap();
    /// assert!(domain.admits("ann@example.com"));
    /// assert!(!domain.admits("ann@mail.example.com"));
    /// assert!(!domain.admits("ann@example.com.evil.org"));
    /// ```
    pub fn admits(&self, email: &str) -> bool {
        match self {
            Self::Email { email: own } => own == email,
            Self::Domain { domain } => email
                .rsplit_once('@')
                .is_some_and(|(local, at)| !local.is_empty() && at == domain),
        }
    }
}

/// Why a text is not a recipient; the message reads after the recipient ("has no dot: …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecipient(String);

impl std::fmt::Display for InvalidRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidRecipient {}

/// The options of a new share, as in the 1Password SDK.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemShareParams {
    /// Who may open the link (`None` or empty: anyone holding it).
    #[serde(default)]
    pub recipients: Option<Vec<ValidRecipient>>,
    /// How long the link works (`None`: the policy's default).
    #[serde(default)]
    pub expire_after: Option<ItemShareDuration>,
    /// Whether the link works for one view only.
    #[serde(default)]
    pub one_time_only: bool,
}

/// A share link as its creator sees it later: everything but the link's secret, which
/// only the link itself holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemShare {
    /// The share's id (the last segment of the link's path).
    pub id: Id,
    /// The shared item's vault.
    pub vault_id: Id,
    /// The shared item.
    pub item_id: Id,
    /// Who created it.
    pub created_by: Id,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub created_at: OffsetDateTime,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub expires_at: OffsetDateTime,
    /// How many views it allows (`None`: unlimited).
    pub max_views: Option<u32>,
    /// How many times it was viewed.
    pub views: u32,
    /// Whether it carries files.
    pub has_files: bool,
    /// When its creator (or the owner) revoked it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<super::schema::Rfc3339>"))]
    pub revoked_at: Option<OffsetDateTime>,
}

/// One recipient: an address if it has an `@`, a domain otherwise.
fn parse_recipient(text: &str) -> std::result::Result<ValidRecipient, String> {
    if text.is_empty() {
        return Err("is empty: give an email address or a domain".into());
    }
    let lower = text.to_ascii_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else {
        check_domain(&lower)?;
        return Ok(ValidRecipient::Domain { domain: lower });
    };
    if local.is_empty() {
        return Err(format!(
            "has nothing before the @; for everyone at a domain give just the domain ({domain})"
        ));
    }
    if local.len() > 64 {
        return Err(format!(
            "has {} characters before the @; at most 64 are allowed",
            local.len()
        ));
    }
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(*c)))
    {
        return Err(format!(
            "has {c:?} before the @, which an email address cannot hold there"
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(
            "has a dot at the start or end of the part before the @, or two in a row".into(),
        );
    }
    if lower.len() > 254 {
        return Err(format!(
            "is {} characters long; an email address has at most 254",
            lower.len()
        ));
    }
    check_domain(domain).map_err(|why| format!("has a domain that {why}"))?;
    Ok(ValidRecipient::Email { email: lower })
}

fn check_domain(domain: &str) -> std::result::Result<(), String> {
    if let Some(c) = domain.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "holds {c:?}: give an internationalized domain in its ASCII (xn--) form"
        ));
    }
    if domain.len() > 253 {
        return Err(format!(
            "is {} characters long; at most 253 are allowed",
            domain.len()
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("has no dot: give a full domain such as example.com".into());
    }
    for label in &labels {
        if label.is_empty() {
            return Err("has an empty label (a dot at the start or end, or two in a row)".into());
        }
        if label.len() > 63 {
            return Err(format!(
                "has a label of {} characters; at most 63 are allowed",
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "holds {c:?}; only letters, digits, '-' and '.' are allowed"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "has a label ({label}) that starts or ends with '-'"
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("ends in a number: give a domain name, not an IP address".into());
    }
    Ok(())
}

/// A shared item as its link shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SharedItem {
    /// The item's title.
    pub title: String,
    /// Its category.
    pub category: ItemCategory,
    /// Its fields (values included).
    pub fields: Vec<ItemField>,
    /// Its sections.
    pub sections: Vec<ItemSection>,
    /// Its notes.
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub notes: String,
    /// Its websites.
    pub websites: Vec<Website>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its files, when the share carries them.
    pub files: Vec<SharedFile>,
    /// When the link stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub expires_at: OffsetDateTime,
    /// Views left after this one (`None`: unlimited).
    pub views_left: Option<u32>,
}

impl fmt::Debug for SharedItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedItem")
            .field("title", &self.title)
            .field("category", &self.category)
            .field("fields", &self.fields)
            .field("notes", &super::Redacted(self.notes.len()))
            .field("files", &self.files)
            .field("expires_at", &self.expires_at)
            .field("views_left", &self.views_left)
            .finish_non_exhaustive()
    }
}

/// A file of a shared item, with its content.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SharedFile {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its content (standard base64 in JSON).
    #[serde(with = "super::base64_bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Base64Bytes"))]
    #[cfg_attr(feature = "schema", schemars(extend("x-secret" = true)))]
    pub content: Vec<u8>,
}

impl fmt::Debug for SharedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFile")
            .field("name", &self.name)
            .field("size", &self.size)
            .field("content", &super::Redacted(self.content.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn json_matches_the_1password_sdk() {
        let policy = ItemShareAccountPolicy::default();
        let value = serde_json::to_value(&policy).unwrap();
        assert_eq!(value["maxExpiry"], "ThirtyDays");
        assert_eq!(value["allowedTypes"], json!(["Public"]));
        assert_eq!(value["files"]["maxSize"], 2 * 1024 * 1024);
        assert!(value["files"].get("maxViews").is_none());
        let recipient = ValidRecipient::Email {
            email: "a@b.co".into(),
        };
        assert_eq!(
            serde_json::to_value(&recipient).unwrap(),
            json!({"type": "Email", "parameters": {"email": "a@b.co"}})
        );
        let params: ItemShareParams =
            serde_json::from_value(json!({"expireAfter": "OneHour", "oneTimeOnly": true})).unwrap();
        assert_eq!(params.expire_after, Some(ItemShareDuration::OneHour));
        assert!(params.one_time_only && params.recipients.is_none());
    }

    #[test]
    fn file_overrides_apply_only_with_files() {
        let mut policy = ItemShareAccountPolicy::default();
        policy.files.max_expiry = Some(ItemShareDuration::OneDay);
        policy.files.max_views = Some(3);
        assert_eq!(
            policy.effective(false).max_expiry,
            ItemShareDuration::ThirtyDays
        );
        let with = policy.effective(true);
        assert_eq!(
            (with.max_expiry, with.max_views),
            (ItemShareDuration::OneDay, Some(3))
        );
    }
}
