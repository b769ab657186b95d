//! `client.secrets()`: resolve secret references.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use crate::crypto::VaultKey;
use crate::id::Id;
use crate::model::{permissions, ItemState, ResolveAllResponse, ResolvedReference};
use crate::password::{GeneratedPassword, PasswordRecipe};
use crate::reference::SecretReference;
use crate::Resource;
use crate::{Error, Result};

use super::cache::{unusable_vault, Cache};
use super::resolve::{pick, resolve_in_item, Resolved};
use super::sealed::DetailsPlain;
use super::{unix_now, Client, Inner};

/// Secret resolution, from [`Client::secrets`].
#[derive(Debug, Clone, Copy)]
pub struct Secrets<'a> {
    pub(super) client: &'a Client,
}

/// What [`Secrets::resolve_to_writer`] wrote.
///
/// ```no_run
/// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
/// use sesame_core::client::ResolvedKind;
/// let (mut out, kind) = client.secrets().resolve_to_writer("op://Infra/Postgres/password", Vec::new()).await?;
/// if kind == ResolvedKind::Value {
///     out.push(b'\n'); // text gets a newline; a file's bytes are left as they are
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolvedKind {
    /// Text: a field's value, a one-time password or an attribute (a file's name, size …).
    Value,
    /// A file's content, exactly as stored (any bytes).
    File,
}

/// Where a reference's item lives in the cache, found under the read lock.
enum Located {
    Value {
        value: String,
        vault: Id,
        item: Id,
    },
    /// A file's content: download it.
    File {
        vault: Id,
        item: Id,
        key: Arc<VaultKey>,
        details: Box<DetailsPlain>,
        file_id: String,
    },
    /// The item's details were not in the cache: fetch them.
    Fetch {
        vault: Id,
        item: Id,
        key: Arc<VaultKey>,
    },
}

impl Located {
    /// The vault and item the reference was found in.
    fn ids(&self) -> (Id, Id) {
        match self {
            Self::Value { vault, item, .. }
            | Self::File { vault, item, .. }
            | Self::Fetch { vault, item, .. } => (*vault, *item),
        }
    }
}

/// What [`Secrets::resolve_all`] answers for one reference found in `ids`.
fn resolved(secret: String, (vault, item): (Id, Id)) -> ResolvedReference {
    ResolvedReference {
        secret,
        item_id: item.to_string(),
        vault_id: vault.to_string(),
    }
}

impl Secrets<'_> {
    /// The secret a reference names: one sync round trip on a warm cache, none when
    /// [`ClientConfig::cache_ttl`](super::ClientConfig::cache_ttl) is set and fresh.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] before any network call; [`Error::NotFound`] naming the
    /// segment (`vault`, `item`, `section`, `field`, `file`) that matched nothing;
    /// [`Error::Ambiguous`] listing the ids a name matched; [`Error::InvalidInput`] when
    /// the reference names a file whose content is not UTF-8 text (use
    /// [`resolve_bytes`](Self::resolve_bytes)); [`Error::Integrity`] when a file's stored
    /// content fails authentication.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// let password = client.secrets().resolve("op://Infra/Postgres/password").await?;
    /// let code = client.secrets().resolve("op://Infra/GitHub/one-time password?attribute=totp").await?;
    /// # Ok(()) }
    /// ```
    pub async fn resolve(&self, reference: &str) -> Result<String> {
        let bytes = self.resolve_bytes(reference).await?;
        text_of(reference, bytes)
    }

    /// [`resolve`](Self::resolve) as bytes: what a reference to a file's content
    /// (`op://vault/item/[section/]file-name`, or `?attribute=content`) returns whether or
    /// not it is text. Values of fields come back as their UTF-8 bytes.
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve); [`Error::Integrity`] when a file's stored content
    /// fails authentication.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// let keystore = client.secrets().resolve_bytes("op://Infra/Android/release.keystore").await?;
    /// # drop(keystore); Ok(()) }
    /// ```
    pub async fn resolve_bytes(&self, reference: &str) -> Result<Vec<u8>> {
        let reference = SecretReference::parse(reference)?;
        let inner = &self.client.inner;
        inner.sync(false).await?;
        let located = inner.read_cache(|cache| locate(inner, cache, &reference))??;
        inner.finish(located, &reference).await
    }

    /// [`resolve_bytes`](Self::resolve_bytes) streamed into `writer`, which is returned
    /// with what the reference named: a file's content is downloaded and decrypted chunk
    /// by chunk, so memory stays bounded whatever its size.
    ///
    /// # Errors
    ///
    /// As [`resolve_bytes`](Self::resolve_bytes); [`Error::InvalidInput`] when `writer`
    /// fails. A file's chunks are written as they are authenticated, so after an error
    /// `writer` may hold a prefix of the file: discard it.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// use sesame_core::client::ResolvedKind;
    /// let (_, kind) = client.secrets().resolve_to_writer("op://Infra/Backup/dump.tar", std::io::stdout()).await?;
    /// assert_eq!(kind, ResolvedKind::File);
    /// # Ok(()) }
    /// ```
    pub async fn resolve_to_writer<W: Write + Send + 'static>(
        &self,
        reference: &str,
        writer: W,
    ) -> Result<(W, ResolvedKind)> {
        let reference = SecretReference::parse(reference)?;
        let inner = &self.client.inner;
        inner.sync(false).await?;
        let located = inner.read_cache(|cache| locate(inner, cache, &reference))??;
        inner.finish_into(located, &reference, writer).await
    }

    /// Resolves many references with one sync: a warm cache answers any number of them in
    /// at most two round trips. Each reference gets its own result.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client) -> sesame_core::Result<()> {
    /// let refs = ["op://Infra/Postgres/password", "op://Infra/Redis/password"];
    /// let response = client.secrets().resolve_all(&refs).await?;
    /// for reference in refs {
    ///     match response.get(reference) {
    ///         Some(Ok(resolved)) => println!("{reference}: resolved from item {}", resolved.item_id),
    ///         Some(Err(e)) => println!("{reference}: {e}"),
    ///         None => unreachable!(),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Only when the sync itself fails (network, authentication); per-reference failures
    /// are in the response.
    pub async fn resolve_all<S: AsRef<str>>(&self, references: &[S]) -> Result<ResolveAllResponse> {
        let inner = &self.client.inner;
        inner.sync(false).await?;
        let mut individual_responses = HashMap::with_capacity(references.len());
        let mut fetches = Vec::new();
        inner.read_cache(|cache| {
            for text in references {
                let text = text.as_ref();
                if individual_responses.contains_key(text) {
                    continue;
                }
                let result = SecretReference::parse(text)
                    .map_err(Error::from)
                    .and_then(|reference| Ok((locate(inner, cache, &reference)?, reference)));
                let result = match result {
                    Ok((Located::Value { value, vault, item }, _)) => {
                        Ok(resolved(value, (vault, item)))
                    }
                    Ok((located, reference)) => {
                        fetches.push((text.to_owned(), located, reference));
                        continue;
                    }
                    Err(e) => Err(e),
                };
                individual_responses.insert(text.to_owned(), result);
            }
        })?;
        // File contents, and details missing from the cache: one fetch each.
        for (text, located, reference) in fetches {
            let ids = located.ids();
            let result = match inner.finish(located, &reference).await {
                Ok(bytes) => text_of(&text, bytes).map(|secret| resolved(secret, ids)),
                Err(e) => Err(e),
            };
            individual_responses.insert(text, result);
        }
        Ok(ResolveAllResponse {
            individual_responses,
        })
    }

    /// Checks a reference's syntax offline (see [`crate::reference::validate`]).
    ///
    /// ```
    /// use sesame_core::client::Secrets;
    /// assert!(Secrets::validate_secret_reference("op://Infra/Postgres/password").is_ok());
    /// assert!(Secrets::validate_secret_reference("op://Infra").is_err());
    /// ```
    pub fn validate_secret_reference(reference: &str) -> Result<()> {
        crate::reference::validate(reference).map_err(Error::from)
    }

    /// Generates a password from a 1Password recipe, offline (see
    /// [`crate::password::generate_password`]).
    ///
    /// ```
    /// use sesame_core::client::Secrets;
    /// use sesame_core::password::{PasswordRecipe, PasswordRecipePinInner};
    /// let pin = Secrets::generate_password(&PasswordRecipe::Pin(PasswordRecipePinInner { length: 6 }))?;
    /// assert!(pin.entropy_bits() > 19.0);
    /// # Ok::<(), sesame_core::Error>(())
    /// ```
    pub fn generate_password(recipe: &PasswordRecipe) -> Result<GeneratedPassword> {
        crate::password::generate_password(recipe)
    }
}

/// Finds the vault and item of `reference` in the cache and, when the details are there,
/// the value.
fn locate(inner: &Inner, cache: &Cache, reference: &SecretReference) -> Result<Located> {
    let vaults: Vec<_> = cache.vaults.iter().collect();
    let (vault_id, vault) = *pick(
        Resource::Vault,
        reference.vault(),
        &vaults,
        |(id, _)| id.as_str(),
        |(_, v)| v.title().unwrap_or_default(),
    )?
    .ok_or_else(|| {
        // A vault named by its id whose key cannot be used: say so, not "not found".
        let unusable = reference
            .vault()
            .parse::<Id>()
            .ok()
            .and_then(|id| cache.unusable.get(&id).map(|why| unusable_vault(&id, why)));
        unusable.unwrap_or_else(|| not_found_vault(reference, cache))
    })?;
    if !permissions::has(vault.permissions, permissions::READ_ITEMS) {
        return Err(Error::PermissionDenied(format!(
            "reading items of vault {vault_id} needs READ_ITEMS, which this principal lacks"
        )));
    }
    // Archived items never resolve, so they cannot make a name ambiguous either.
    let active: Vec<_> = vault
        .items
        .iter()
        .filter(|(_, item)| item.overview.state == ItemState::Active)
        .collect();
    let (item_id, item) = *pick(
        Resource::Item,
        reference.item(),
        &active,
        |(id, _)| id.as_str(),
        |(_, i)| i.overview.title.as_str(),
    )?
    .ok_or_else(|| {
        let unreadable = reference
            .item()
            .parse::<Id>()
            .ok()
            .and_then(|id| cache.unreadable_item(vault_id, &id));
        unreadable.unwrap_or_else(|| Error::NotFound {
            what: crate::Resource::Item,
            name: Some(reference.item().to_owned()),
            message: format!(
                "no active item {:?} in vault {}",
                reference.item(),
                vault
                    .title()
                    .map_or_else(|| vault_id.to_string(), |t| format!("{t:?}"))
            ),
        })
    })?;
    let Some(details) = &item.details else {
        return Ok(Located::Fetch {
            vault: *vault_id,
            item: *item_id,
            key: Arc::clone(&vault.key),
        });
    };
    let details = inner.open_details(&vault.key, vault_id, item_id, item.version, details)?;
    Ok(
        match resolve_in_item(&details, reference, &item.overview.title, unix_now())? {
            Resolved::Text(value) => Located::Value {
                value,
                vault: *vault_id,
                item: *item_id,
            },
            Resolved::FileContent(file_id) => Located::File {
                vault: *vault_id,
                item: *item_id,
                key: Arc::clone(&vault.key),
                details: Box::new(details),
                file_id,
            },
        },
    )
}

fn not_found_vault(reference: &SecretReference, cache: &Cache) -> Error {
    Error::NotFound {
        what: crate::Resource::Vault,
        name: Some(reference.vault().to_owned()),
        message: format!(
            "no vault {:?} among the {} vaults this principal can see",
            reference.vault(),
            cache.vaults.len()
        ),
    }
}

/// Resolved bytes as text, with a clear error when a file's content is not UTF-8.
fn text_of(reference: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        Error::invalid_input(
            "reference",
            format!(
                "{reference} names a file whose content is not UTF-8 text (byte {} of {} is \
                 not valid UTF-8); read binary content with secrets().resolve_bytes",
                e.utf8_error().valid_up_to(),
                e.as_bytes().len()
            ),
        )
    })
}

impl Inner {
    /// The bytes a located reference names: a value, a downloaded file, or the result of
    /// fetching the item's details first.
    async fn finish(&self, located: Located, reference: &SecretReference) -> Result<Vec<u8>> {
        self.finish_into(located, reference, Vec::new())
            .await
            .map(|(bytes, _)| bytes)
    }

    /// [`finish`](Self::finish) into `writer`.
    async fn finish_into<W: Write + Send + 'static>(
        &self,
        located: Located,
        reference: &SecretReference,
        mut writer: W,
    ) -> Result<(W, ResolvedKind)> {
        let mut text = |value: String| {
            writer
                .write_all(value.as_bytes())
                .and_then(|()| writer.flush())
                .map_err(|e| Error::invalid_input("writer", format!("could not be written: {e}")))
        };
        match located {
            Located::Value { value, .. } => {
                text(value)?;
                Ok((writer, ResolvedKind::Value))
            }
            Located::File {
                vault,
                item,
                key,
                details,
                file_id,
            } => {
                let writer = self
                    .download_file(&vault, &item, &key, &details, &file_id, writer)
                    .await?;
                Ok((writer, ResolvedKind::File))
            }
            Located::Fetch { vault, item, key } => {
                let (overview, details, _) = self.fetch_item(&vault, &item, &key).await?;
                if overview.state != ItemState::Active {
                    return Err(Error::NotFound {
                        what: crate::Resource::Item,
                        name: None,
                        message: format!("item {:?} is archived", overview.title),
                    });
                }
                match resolve_in_item(&details, reference, &overview.title, unix_now())? {
                    Resolved::Text(value) => {
                        text(value)?;
                        Ok((writer, ResolvedKind::Value))
                    }
                    Resolved::FileContent(file_id) => {
                        let writer = self
                            .download_file(&vault, &item, &key, &details, &file_id, writer)
                            .await?;
                        Ok((writer, ResolvedKind::File))
                    }
                }
            }
        }
    }
}
