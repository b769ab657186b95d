//! `client.items().shares()`: share an item by link, as in the 1Password SDK, and list and
//! revoke the links the caller made (which the official SDK cannot).
//!
//! A share is a snapshot of the item sealed with a random secret that only the link holds,
//! in its fragment (see [`crate::crypto`], "Share links"). The server stores ciphertext,
//! expiry and view counts, enforces the account policy, and serves a page that decrypts
//! the snapshot in the browser; [`open_share_link`] does the same in Rust.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{Ciphertext, ShareCreateRequest, ShareOpenRequest, ShareOpenResponse};
use crate::crypto::{SharePart, ShareSecret};
use crate::id::Id;
use crate::model::{
    AllowedRecipientType, AllowedType, FileAttributes, Item, ItemCategory, ItemField, ItemSection,
    ItemShare, ItemShareAccountPolicy, ItemShareParams, ValidRecipient, Website,
};
use crate::{Error, Result};

use super::transport::{Call, Retry, Transport};
use super::{parse_id, to_json, Client};

/// The snapshot's format version.
const SNAPSHOT_VERSION: u32 = 1;

/// Share links of items, from [`Items::shares`](super::Items::shares).
#[derive(Debug, Clone, Copy)]
pub struct Shares<'a> {
    pub(super) client: &'a Client,
}

/// What a link holds: the item as it was shared. The share page reads the same JSON.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    v: u32,
    title: String,
    category: ItemCategory,
    #[serde(with = "time::serde::rfc3339")]
    shared_at: OffsetDateTime,
    fields: Vec<ItemField>,
    sections: Vec<ItemSection>,
    notes: String,
    websites: Vec<Website>,
    tags: Vec<String>,
}

/// The files part of a link.
#[derive(Serialize, Deserialize)]
struct FilesSnapshot {
    files: Vec<SnapshotFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotFile {
    id: String,
    name: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    section_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field_id: Option<String>,
    /// Unpadded base64url.
    content: String,
}

impl Shares<'_> {
    /// The account's share policy. `vault_id` and `item_id` are checked (as the 1Password
    /// SDK takes them) though the policy is account-wide.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a malformed id; network and server errors.
    pub async fn get_account_policy(
        &self,
        vault_id: &str,
        item_id: &str,
    ) -> Result<ItemShareAccountPolicy> {
        parse_id("vault_id", vault_id)?;
        parse_id("item_id", item_id)?;
        self.client
            .inner
            .call_json(
                Method::GET,
                "/v1/share-policy",
                None::<&()>,
                Retry::Idempotent,
                "share policy",
            )
            .await
    }

    /// Replaces the account's share policy (the owner only) and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::PermissionDenied`] for a service account; [`Error::InvalidInput`] for a
    /// policy that cannot work (e.g. a default expiry above the maximum, or
    /// `Authenticated` links, which this server does not support).
    pub async fn set_account_policy(
        &self,
        policy: &ItemShareAccountPolicy,
    ) -> Result<ItemShareAccountPolicy> {
        self.client
            .inner
            .call_json(
                Method::PUT,
                "/v1/share-policy",
                Some(policy),
                Retry::Idempotent,
                "share policy",
            )
            .await
    }

    /// Checks recipients (email addresses, or domains for everyone at them) and the
    /// policy's rules for them; returns them lowercased, without duplicates, in order.
    ///
    /// ```
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// let shares = client.items().shares();
    /// let policy = shares.get_account_policy("a".repeat(26).as_str(), "b".repeat(26).as_str()).await?;
    /// let err = shares.validate_recipients(&policy, &["bob@@example.com"]).unwrap_err();
    /// assert!(err.to_string().contains("recipient 1"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first bad recipient (its position and what is
    /// wrong), or the policy rule that forbids it.
    pub fn validate_recipients(
        &self,
        policy: &ItemShareAccountPolicy,
        recipients: &[impl AsRef<str>],
    ) -> Result<Vec<ValidRecipient>> {
        validate_recipients(policy, recipients)
    }

    /// Shares `item` (as given: a snapshot of it now) by link, and returns the link.
    /// The item's files go along when the policy allows files; otherwise they are left
    /// out (a Document item, whose content is its file, is refused).
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, item: sesame_core::model::Item) -> sesame_core::Result<()> {
    /// use sesame_core::model::{ItemShareDuration, ItemShareParams};
    /// let shares = client.items().shares();
    /// let policy = shares.get_account_policy(&item.vault_id, &item.id).await?;
    /// let link = shares.create(&item, &policy, ItemShareParams {
    ///     expire_after: Some(ItemShareDuration::OneDay),
    ///     one_time_only: true,
    ///     ..Default::default()
    /// }).await?;
    /// # drop(link); Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the options break the policy (also enforced by the
    /// server) or name recipients (not supported: recipients have no way to prove their
    /// address yet); [`Error::PermissionDenied`] without `SEND_ITEMS` on the vault;
    /// [`Error::NotFound`] when the item is gone.
    pub async fn create(
        &self,
        item: &Item,
        policy: &ItemShareAccountPolicy,
        params: ItemShareParams,
    ) -> Result<String> {
        let vault = parse_id("item.vault_id", &item.vault_id)?;
        let item_id = parse_id("item.id", &item.id)?;
        let attachments = attachments(item);
        if item.category == ItemCategory::Document && !policy.files.allowed {
            return Err(Error::invalid_input(
                "item",
                "is a Document, whose content is its file, and the account's share policy \
                 does not allow sharing files (files.allowed is false)",
            ));
        }
        let with_files = policy.files.allowed && !attachments.is_empty();
        let effective = policy.effective(with_files);
        let expire_after = params.expire_after.unwrap_or(effective.default_expiry);
        if expire_after > effective.max_expiry {
            return Err(Error::invalid_input(
                "expire_after",
                format!(
                    "{expire_after:?} is longer than the share policy allows ({:?})",
                    effective.max_expiry
                ),
            ));
        }
        let recipients = params.recipients.unwrap_or_default();
        if !recipients.is_empty() {
            return Err(Error::invalid_input(
                "recipients",
                "recipient-restricted shares are not supported by this server: recipients have \
                 no way to prove their address yet, so the restriction would not be enforced; \
                 share without recipients (anyone holding the link can open it)",
            ));
        }
        let share = Id::generate();
        let secret = ShareSecret::generate();
        let snapshot = Snapshot {
            v: SNAPSHOT_VERSION,
            title: item.title.clone(),
            category: item.category,
            shared_at: OffsetDateTime::now_utc(),
            fields: item.fields.clone(),
            sections: item.sections.clone(),
            notes: item.notes.clone(),
            websites: item.websites.clone(),
            tags: item.tags.clone(),
        };
        let plain = zeroize::Zeroizing::new(to_json(&snapshot)?);
        let sealed_item = secret.seal(&share, SharePart::Item, &plain)?;
        let files = if with_files {
            Some(Ciphertext(
                self.seal_files(item, &attachments, policy, &secret, &share)
                    .await?,
            ))
        } else {
            None
        };
        let request = ShareCreateRequest {
            id: share,
            access_hash: URL_SAFE_NO_PAD.encode(secret.access_hash(&share)),
            expire_after,
            one_time_only: params.one_time_only,
            recipients,
            item: Ciphertext(sealed_item),
            files,
        };
        let path = format!("/v1/vaults/{vault}/items/{item_id}/shares");
        let _: ItemShare = self
            .client
            .inner
            .call_json(Method::POST, &path, Some(&request), Retry::Once, "item")
            .await?;
        Ok(format!(
            "{}/s/{share}#{}",
            self.client.server_url(),
            secret.fragment().as_str()
        ))
    }

    async fn seal_files(
        &self,
        item: &Item,
        attachments: &[(&FileAttributes, Option<&str>, Option<&str>)],
        policy: &ItemShareAccountPolicy,
        secret: &ShareSecret,
        share: &Id,
    ) -> Result<Vec<u8>> {
        let total: u64 = attachments.iter().map(|(a, _, _)| a.size).sum();
        // Checked before downloading anything; the sealed size is checked again below.
        if total > policy.files.max_size {
            return Err(Error::invalid_input(
                "item",
                format!(
                    "its files hold {total} bytes; the share policy allows at most {} \
                     (files.maxSize)",
                    policy.files.max_size
                ),
            ));
        }
        let mut files = Vec::with_capacity(attachments.len());
        for (attributes, section_id, field_id) in attachments {
            let content = zeroize::Zeroizing::new(
                self.client
                    .items()
                    .files()
                    .read(&item.vault_id, &item.id, attributes)
                    .await?,
            );
            files.push(SnapshotFile {
                id: attributes.id.clone(),
                name: attributes.name.clone(),
                size: attributes.size,
                section_id: section_id.map(str::to_owned),
                field_id: field_id.map(str::to_owned),
                content: URL_SAFE_NO_PAD.encode(content.as_slice()),
            });
        }
        let plain = zeroize::Zeroizing::new(to_json(&FilesSnapshot { files })?);
        let sealed = secret.seal(share, SharePart::Files, &plain)?;
        if sealed.len() as u64 > policy.files.max_size {
            return Err(Error::invalid_input(
                "item",
                format!(
                    "its files take {} bytes encoded and encrypted; the share policy allows at \
                     most {} (files.maxSize)",
                    sealed.len(),
                    policy.files.max_size
                ),
            ));
        }
        Ok(sealed)
    }

    /// The share links this principal created, newest first, in every state.
    ///
    /// # Errors
    ///
    /// Network and server errors.
    pub async fn list(&self) -> Result<Vec<ItemShare>> {
        self.client
            .inner
            .call_json(
                Method::GET,
                "/v1/shares",
                None::<&()>,
                Retry::Idempotent,
                "shares",
            )
            .await
    }

    /// Revokes a link this principal created (the owner may revoke any): it stops working
    /// at once and the server deletes its ciphertext. Revoking twice is not an error.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown share or another principal's.
    pub async fn revoke(&self, share_id: &str) -> Result<()> {
        let id = parse_id("share_id", share_id)?;
        self.client
            .inner
            .call_empty(
                Method::DELETE,
                &format!("/v1/shares/{id}"),
                None::<&()>,
                Retry::Idempotent,
                "share",
            )
            .await
    }
}

/// The files of an item a share may carry: its attachments and its document.
fn attachments(item: &Item) -> Vec<(&FileAttributes, Option<&str>, Option<&str>)> {
    item.files
        .iter()
        .map(|f| {
            (
                &f.attributes,
                Some(f.section_id.as_str()),
                Some(f.field_id.as_str()),
            )
        })
        .chain(item.document.iter().map(|d| (d, None, None)))
        .collect()
}

fn validate_recipients(
    policy: &ItemShareAccountPolicy,
    recipients: &[impl AsRef<str>],
) -> Result<Vec<ValidRecipient>> {
    let bad = |index: usize, text: &str, why: String| {
        Error::invalid_input(
            "recipients",
            format!("recipient {} ({text:?}) {why}", index + 1),
        )
    };
    // Spelling first, so that every mistake is reported whatever the policy says.
    let mut valid: Vec<(usize, &str, ValidRecipient)> = Vec::with_capacity(recipients.len());
    for (index, text) in recipients.iter().enumerate() {
        let text = text.as_ref().trim();
        let recipient = parse_recipient(text).map_err(|why| bad(index, text, why))?;
        if !valid.iter().any(|(_, _, r)| *r == recipient) {
            valid.push((index, text, recipient));
        }
    }
    if !valid.is_empty() && !policy.allowed_types.contains(&AllowedType::Authenticated) {
        return Err(Error::invalid_input(
            "recipients",
            format!(
                "the account's share policy allows only public links (allowedTypes: {:?}), so \
                 a share cannot name recipients; share without recipients",
                policy.allowed_types
            ),
        ));
    }
    for (index, text, recipient) in &valid {
        let (kind, described) = match recipient {
            ValidRecipient::Email { .. } => (AllowedRecipientType::Email, "an email address"),
            ValidRecipient::Domain { .. } => (AllowedRecipientType::Domain, "a domain"),
        };
        if !policy.allowed_recipient_types.contains(&kind) {
            return Err(bad(
                *index,
                text,
                format!(
                    "is {described}, which the account's share policy does not allow \
                     (allowedRecipientTypes: {:?})",
                    policy.allowed_recipient_types
                ),
            ));
        }
    }
    Ok(valid.into_iter().map(|(_, _, r)| r).collect())
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
#[derive(Clone, PartialEq, Eq)]
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
    pub notes: String,
    /// Its websites.
    pub websites: Vec<Website>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its files, when the share carries them.
    pub files: Vec<SharedFile>,
    /// When the link stops working.
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
            .field("notes", &crate::model::Redacted(self.notes.len()))
            .field("files", &self.files)
            .field("expires_at", &self.expires_at)
            .field("views_left", &self.views_left)
            .finish_non_exhaustive()
    }
}

/// A file of a shared item, with its content.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedFile {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its content.
    pub content: Vec<u8>,
}

impl fmt::Debug for SharedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFile")
            .field("name", &self.name)
            .field("size", &self.size)
            .field("content", &crate::model::Redacted(self.content.len()))
            .finish()
    }
}

/// Opens a share link as the share page does (no token needed: the link is the
/// credential), counting one view.
///
/// ```no_run
/// # async fn run(link: &str) -> sesame_core::Result<()> {
/// let shared = sesame_core::client::open_share_link(link, std::time::Duration::from_secs(30)).await?;
/// println!("{} has {} fields", shared.title, shared.fields.len());
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`Error::InvalidInput`] for a link without its `#` part or not of a share;
/// [`Error::NotFound`] for an unknown share, a wrong secret, or one that expired, was
/// revoked or used all its views (the message says which); [`Error::Integrity`] when the
/// ciphertext was altered.
pub async fn open_share_link(link: &str, timeout: Duration) -> Result<SharedItem> {
    let bad = |why: &str| Error::invalid_input("share link", why.to_owned());
    let (url, fragment) = link
        .split_once('#')
        .ok_or_else(|| bad("has no # part, which holds its secret; copy the whole link"))?;
    let secret = ShareSecret::from_fragment(fragment)?;
    let (base, id) = url
        .rsplit_once("/s/")
        .ok_or_else(|| bad("is not a share link: its path does not end in /s/<share id>"))?;
    let share = parse_id("share link id", id)?;
    let transport = Transport::new(base, timeout, 0)?;
    let request = ShareOpenRequest {
        access: URL_SAFE_NO_PAD.encode(secret.access_token(&share).as_ref()),
    };
    let path = format!("/v1/shares/{share}/open");
    let call = Call {
        method: Method::POST,
        path: &path,
        body: Some(to_json(&request)?),
        session: None,
        // Every answer counts a view: never sent twice.
        retry: Retry::Once,
        not_found: "share",
    };
    let response: ShareOpenResponse = transport.send(&call).await?.json()?;
    let plain = secret.open(&share, SharePart::Item, &response.item.0)?;
    let snapshot: Snapshot = serde_json::from_slice(&plain)
        .map_err(|e| Error::integrity(format!("the shared item is not a snapshot: {e}")))?;
    let files = match &response.files {
        None => Vec::new(),
        Some(sealed) => {
            let plain = secret.open(&share, SharePart::Files, &sealed.0)?;
            let files: FilesSnapshot = serde_json::from_slice(&plain)
                .map_err(|e| Error::integrity(format!("the shared files are malformed: {e}")))?;
            files
                .files
                .into_iter()
                .map(|f| {
                    let content = URL_SAFE_NO_PAD.decode(f.content.as_bytes()).map_err(|_| {
                        Error::integrity("a shared file's content is not base64url")
                    })?;
                    Ok(SharedFile {
                        name: f.name,
                        size: f.size,
                        content,
                    })
                })
                .collect::<Result<_>>()?
        }
    };
    Ok(SharedItem {
        title: snapshot.title,
        category: snapshot.category,
        fields: snapshot.fields,
        sections: snapshot.sections,
        notes: snapshot.notes,
        websites: snapshot.websites,
        tags: snapshot.tags,
        files,
        expires_at: OffsetDateTime::from_unix_timestamp(
            i64::try_from(response.expires_at).unwrap_or(i64::MAX),
        )
        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        views_left: response.views_left,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn open_policy() -> ItemShareAccountPolicy {
        ItemShareAccountPolicy {
            allowed_types: vec![AllowedType::Authenticated, AllowedType::Public],
            allowed_recipient_types: vec![
                AllowedRecipientType::Email,
                AllowedRecipientType::Domain,
            ],
            ..ItemShareAccountPolicy::default()
        }
    }

    fn error(recipients: &[&str]) -> String {
        validate_recipients(&open_policy(), recipients)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn recipients_are_normalized_and_deduplicated() {
        let valid = validate_recipients(
            &open_policy(),
            &[" Bob@Example.COM", "example.org", "bob@example.com"],
        )
        .unwrap();
        assert_eq!(
            valid,
            vec![
                ValidRecipient::Email {
                    email: "bob@example.com".into()
                },
                ValidRecipient::Domain {
                    domain: "example.org".into()
                },
            ]
        );
        assert!(validate_recipients(&open_policy(), &[] as &[&str])
            .unwrap()
            .is_empty());
        assert!(validate_recipients(&open_policy(), &["o'hara+tag@sub.example.co.uk"]).is_ok());
    }

    #[test]
    fn bad_recipients_say_which_and_why() {
        for (input, expected) in [
            ("", "recipient 1 (\"\") is empty"),
            ("@example.com", "nothing before the @"),
            ("bob@@example.com", "'@' before the @"),
            ("bob@example", "has no dot"),
            ("bob@exa_mple.com", "'_'"),
            (".bob@example.com", "dot at the start"),
            ("bob..x@example.com", "two in a row"),
            ("bob@-example.com", "starts or ends with '-'"),
            ("bob@example..com", "empty label"),
            ("bob@10.0.0.1", "IP address"),
            ("bob@bücher.de", "xn--"),
            ("localhost", "has no dot"),
        ] {
            let message = error(&[input]);
            assert!(message.contains(expected), "{input:?}: {message}");
        }
        assert!(error(&["a@b.co", "nope"]).contains("recipient 2"));
        assert!(error(&[&format!("{}@example.com", "a".repeat(65))]).contains("at most 64"));
    }

    #[test]
    fn the_policy_decides_which_recipients_are_allowed() {
        let mut policy = open_policy();
        policy.allowed_recipient_types = vec![AllowedRecipientType::Domain];
        let err = validate_recipients(&policy, &["bob@example.com"]).unwrap_err();
        assert!(err.to_string().contains("an email address"), "{err}");
        let err =
            validate_recipients(&ItemShareAccountPolicy::default(), &["example.com"]).unwrap_err();
        assert!(err.to_string().contains("only public links"), "{err}");
        let mut public_only = open_policy();
        public_only.allowed_types = vec![AllowedType::Public];
        let err = validate_recipients(&public_only, &["example.com"]).unwrap_err();
        assert!(err.to_string().contains("only public links"), "{err}");
    }
}
