//! `client.items().shares()`: share an item by link, as in the 1Password SDK, and list and
//! revoke the links the caller made (which the official SDK cannot).
//!
//! A share is a snapshot of the item sealed with a random secret that only the link holds,
//! in its fragment (see [`crate::crypto`], "Share links"). The server stores ciphertext,
//! expiry and view counts, enforces the account policy, and serves a page that decrypts
//! the snapshot in the browser; [`open_share_link`] does the same in Rust. A share
//! restricted to recipients opens only for a visitor who proves a recipient's address
//! with a one-time code the server mails to it ([`request_share_code`], then
//! [`open_share_link_with_code`]).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{
    Ciphertext, ShareChallengeRequest, ShareChallengeResponse, ShareCreateRequest,
    ShareOpenRequest, ShareOpenResponse,
};
use crate::crypto::{SharePart, ShareSecret};
use crate::encoding::base64url_encode;
use crate::id::Id;
use crate::model::{
    AllowedRecipientType, AllowedType, FileAttributes, Item, ItemCategory, ItemField, ItemSection,
    ItemShare, ItemShareAccountPolicy, ItemShareParams, SharedFile, SharedItem, ValidRecipient,
    Website,
};
use crate::Resource;
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
                Resource::SharePolicy,
            )
            .await
    }

    /// Replaces the account's share policy (the owner only) and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::PermissionDenied`] for a service account; [`Error::InvalidInput`] for a
    /// policy that cannot work (e.g. a default expiry above the maximum, or
    /// `Authenticated` links on a server without SMTP, which could not mail recipients
    /// their codes).
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
                Resource::SharePolicy,
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
    ///
    /// With `recipients`, only they can open the link: besides holding it, a visitor must
    /// prove an address that is a recipient (one named, or any at a domain named) with a
    /// one-time code the server mails to it (see [`request_share_code`]). The server
    /// needs an SMTP server for that, and the policy must allow `Authenticated` links.
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
    /// server), e.g. recipients when it does not allow `Authenticated` links or their
    /// kind, or when the server has no SMTP server to mail recipients their codes;
    /// [`Error::PermissionDenied`] without `SEND_ITEMS` on the vault;
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
        let recipients = checked_recipients(&effective, params.recipients.unwrap_or_default())?;
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
            access_hash: base64url_encode(secret.access_hash(&share)),
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
            .call_json(
                Method::POST,
                &path,
                Some(&request),
                Retry::Once,
                Resource::Item,
            )
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
                content: base64url_encode(content.as_slice()),
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
                Resource::Share,
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
                Resource::Share,
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

/// Recipients as given to [`Shares::create`], checked again (they may have been built by
/// hand rather than by `validate_recipients`) against the policy that applies.
fn checked_recipients(
    policy: &ItemShareAccountPolicy,
    recipients: Vec<ValidRecipient>,
) -> Result<Vec<ValidRecipient>> {
    if recipients.is_empty() {
        return Ok(recipients);
    }
    let texts: Vec<&str> = recipients
        .iter()
        .map(|r| match r {
            ValidRecipient::Email { email } => email.as_str(),
            ValidRecipient::Domain { domain } => domain.as_str(),
        })
        .collect();
    let valid = validate_recipients(policy, &texts)?;
    for (index, recipient) in recipients.iter().enumerate() {
        let same_kind = matches!(
            (recipient, ValidRecipient::parse(texts[index].trim())),
            (
                ValidRecipient::Email { .. },
                Ok(ValidRecipient::Email { .. })
            ) | (
                ValidRecipient::Domain { .. },
                Ok(ValidRecipient::Domain { .. })
            )
        );
        if !same_kind {
            return Err(Error::invalid_input(
                "recipients",
                format!(
                    "recipient {} ({:?}) is given as {} but is {}",
                    index + 1,
                    texts[index],
                    if matches!(recipient, ValidRecipient::Email { .. }) {
                        "an email address"
                    } else {
                        "a domain"
                    },
                    if matches!(recipient, ValidRecipient::Email { .. }) {
                        "a domain (it has no @)"
                    } else {
                        "an email address (it has an @)"
                    },
                ),
            ));
        }
    }
    Ok(valid)
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
        let recipient =
            ValidRecipient::parse(text).map_err(|why| bad(index, text, why.to_string()))?;
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

/// A parsed share link: where its server is, its id and its secret.
struct Link {
    transport: Transport,
    share: Id,
    secret: ShareSecret,
}

impl Link {
    fn parse(link: &str, timeout: Duration) -> Result<Self> {
        let bad = |why: &str| Error::invalid_input("share link", why.to_owned());
        let (url, fragment) = link
            .split_once('#')
            .ok_or_else(|| bad("has no # part, which holds its secret; copy the whole link"))?;
        let secret = ShareSecret::from_fragment(fragment)?;
        let (base, id) = url
            .rsplit_once("/s/")
            .ok_or_else(|| bad("is not a share link: its path does not end in /s/<share id>"))?;
        let share = parse_id("share link id", id)?;
        Ok(Self {
            transport: Transport::new(base, timeout, 0)?,
            share,
            secret,
        })
    }

    fn access(&self) -> String {
        base64url_encode(self.secret.access_token(&self.share).as_ref())
    }
}

/// The visitor's address as the server compares it: one email address, lowercased.
fn visitor_email(email: &str) -> Result<String> {
    match ValidRecipient::parse(email.trim()) {
        Ok(ValidRecipient::Email { email }) => Ok(email),
        Ok(ValidRecipient::Domain { .. }) => Err(Error::invalid_input(
            "email",
            "is a domain; give your own email address (the code is mailed to it)",
        )),
        Err(why) => Err(Error::invalid_input("email", format!("({email:?}) {why}"))),
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
/// ciphertext was altered; [`Error::Unauthenticated`] for a share restricted to
/// recipients, which opens with [`request_share_code`] and [`open_share_link_with_code`].
pub async fn open_share_link(link: &str, timeout: Duration) -> Result<SharedItem> {
    let link = Link::parse(link, timeout)?;
    open(&link, None).await
}

/// For a share restricted to recipients: asks the server to mail a one-time code to
/// `email`, which [`open_share_link_with_code`] then takes. The server answers the same
/// whether or not `email` is a recipient (so nobody learns who the recipients are), and
/// mails a code only to a recipient: an address named by the share, or any address at a
/// domain it names. A code works once, for 10 minutes, and 5 wrong tries void it; asking
/// again voids the previous code. Returns how long the code works.
///
/// ```no_run
/// # async fn run(link: &str, read_code_from_mail: impl Fn() -> String) -> sesame_core::Result<()> {
/// use sesame_core::client::{open_share_link_with_code, request_share_code};
/// let timeout = std::time::Duration::from_secs(30);
/// request_share_code(link, "ann@example.com", timeout).await?;
/// let code = read_code_from_mail();
/// let shared = open_share_link_with_code(link, "ann@example.com", &code, timeout).await?;
/// # drop(shared); Ok(()) }
/// ```
///
/// # Errors
///
/// [`Error::InvalidInput`] for a malformed link or address, or a share that is not
/// restricted (open it with [`open_share_link`]); [`Error::RateLimited`] after too many
/// requests for this share (5 in 10 minutes); [`Error::NotFound`] as [`open_share_link`];
/// [`Error::Server`] when the server cannot send mail.
pub async fn request_share_code(link: &str, email: &str, timeout: Duration) -> Result<Duration> {
    let link = Link::parse(link, timeout)?;
    let request = ShareChallengeRequest {
        access: link.access(),
        email: visitor_email(email)?,
    };
    let path = format!("/v1/shares/{}/challenge", link.share);
    let call = Call {
        method: Method::POST,
        path: &path,
        body: Some(to_json(&request)?),
        session: None,
        // Each request may send a mail and voids the previous code: never sent twice.
        retry: Retry::Once,
        not_found: Resource::Share,
    };
    let response: ShareChallengeResponse = link.transport.send(&call).await?.json()?;
    Ok(Duration::from_secs(response.expires_in))
}

/// Opens a share restricted to recipients with the code [`request_share_code`] had
/// mailed to `email`, counting one view. A code opens once.
///
/// # Errors
///
/// [`Error::PermissionDenied`] for a wrong code (the message says how many tries are
/// left), an expired or used code, or an address that was sent none; otherwise as
/// [`open_share_link`].
pub async fn open_share_link_with_code(
    link: &str,
    email: &str,
    code: &str,
    timeout: Duration,
) -> Result<SharedItem> {
    let link = Link::parse(link, timeout)?;
    let email = visitor_email(email)?;
    let code = zeroize::Zeroizing::new(
        code.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    );
    open(&link, Some((email, code))).await
}

async fn open(
    link: &Link,
    proof: Option<(String, zeroize::Zeroizing<String>)>,
) -> Result<SharedItem> {
    let (share, secret, transport) = (&link.share, &link.secret, &link.transport);
    let (email, code) = match proof {
        Some((email, code)) => (Some(email), Some(code)),
        None => (None, None),
    };
    let request = ShareOpenRequest {
        access: link.access(),
        email,
        code: code.as_ref().map(|c| c.to_string()),
    };
    let path = format!("/v1/shares/{share}/open");
    let call = Call {
        method: Method::POST,
        path: &path,
        body: Some(to_json(&request)?),
        session: None,
        // Every answer counts a view: never sent twice.
        retry: Retry::Once,
        not_found: Resource::Share,
    };
    let response: ShareOpenResponse = transport.send(&call).await?.json()?;
    let plain = secret.open(share, SharePart::Item, &response.item.0)?;
    let snapshot: Snapshot = serde_json::from_slice(&plain)
        .map_err(|e| Error::integrity(format!("the shared item is not a snapshot: {e}")))?;
    let files = match &response.files {
        None => Vec::new(),
        Some(sealed) => {
            let plain = secret.open(share, SharePart::Files, &sealed.0)?;
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
