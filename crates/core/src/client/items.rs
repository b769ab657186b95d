//! `client.items()`: create, read, update, archive, delete and list items.

use std::collections::HashSet;

use reqwest::Method;
use time::OffsetDateTime;

use crate::api::{
    self, ItemBatchGetRequest, ItemBatchGetResponse, ItemCreateRequest, ItemRecord,
    ItemUpdateRequest, MAX_BATCH,
};
use crate::crypto::VaultKey;
use crate::id::Id;
use crate::model::{
    Item, ItemCategory, ItemCreateParams, ItemFieldType, ItemFile, ItemListFilters, ItemOverview,
    ItemState, ItemsDeleteAllResponse, ItemsGetAllResponse, ItemsUpdateAllResponse,
};
use crate::Resource;
use crate::{Error, ErrorCode, Result};

use super::cache::{item_from_parts, item_overview};
use super::files::{Files, StreamedDocument};
use super::lookup;
use super::sealed::{self, DetailsPlain, OverviewPlain, SealedFileKey};
use super::transport::{map_error, Retry};
use super::{parse_id, Client, Inner};

/// How often [`Items::archive`] re-reads and retries when another writer got there first.
const ARCHIVE_ATTEMPTS: usize = 3;

/// Item management, from [`Client::items`].
#[derive(Debug, Clone, Copy)]
pub struct Items<'a> {
    pub(super) client: &'a Client,
}

impl<'a> Items<'a> {
    /// Attaches, reads and removes files, and replaces documents.
    pub fn files(&self) -> Files<'a> {
        Files {
            client: self.client,
        }
    }

    /// Shares items by link; lists and revokes the links this principal made.
    pub fn shares(&self) -> super::Shares<'a> {
        super::Shares {
            client: self.client,
        }
    }

    /// Creates an item; the client makes its id and seals it at version 1.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a malformed vault id, duplicate or empty field ids, a
    /// field or file in an unknown section, a document on an item that is not of the
    /// Document category, or a file larger than the
    /// server accepts; [`Error::PermissionDenied`] without `CREATE_ITEMS`. Files are
    /// uploaded before the item is created, so a failure creates no item.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, vault_id: &str) -> sesame_core::Result<()> {
    /// use sesame_core::model::{ItemCategory, ItemCreateParams, ItemField, ItemFieldType};
    /// let item = client.items().create(ItemCreateParams {
    ///     fields: Some(vec![ItemField::new("password", "password", ItemFieldType::Concealed, "s3cret")]),
    ///     ..ItemCreateParams::new(ItemCategory::Login, vault_id, "Postgres")
    /// }).await?;
    /// assert_eq!(item.version, 1);
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, mut params: ItemCreateParams) -> Result<Item> {
        let document = params.document.take().map(|d| StreamedDocument {
            size: d.content.len() as u64,
            name: d.name,
            reader: Box::new(std::io::Cursor::new(d.content)),
        });
        self.create_streaming(params, document).await
    }

    /// [`create`](Self::create) with the document (if any) streamed from a reader.
    pub(crate) async fn create_streaming(
        &self,
        params: ItemCreateParams,
        document: Option<StreamedDocument>,
    ) -> Result<Item> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", &params.vault_id)?;
        if let Some(document) = &document {
            if params.category != ItemCategory::Document {
                return Err(Error::invalid_input(
                    "document",
                    format!(
                        "only Document items have a document, this one is {:?}; attach the \
                         file with `files` instead",
                        params.category
                    ),
                ));
            }
            if document.name.trim().is_empty() {
                return Err(Error::invalid_input(
                    "document",
                    "the document needs a name",
                ));
            }
        }
        check_params(&params)?;
        let key = inner.vault_key(&vault).await?;
        let id = Id::generate();
        let now = OffsetDateTime::now_utc();
        let mut details = DetailsPlain {
            fields: params.fields.unwrap_or_default(),
            sections: params.sections.unwrap_or_default(),
            notes: params.notes.unwrap_or_default(),
            files: Vec::new(),
            document: None,
            file_keys: Vec::new(),
        };
        // Blobs first, under fresh file ids: if any upload fails, no item exists and the
        // server collects the orphans.
        for file in params.files.unwrap_or_default() {
            let size = file.content.len() as u64;
            let (attributes, sealed) = inner
                .upload_file(
                    &vault,
                    &id,
                    &key,
                    &file.name,
                    size,
                    std::io::Cursor::new(file.content),
                )
                .await?;
            details.files.push(ItemFile {
                attributes,
                section_id: file.section_id,
                field_id: file.field_id,
            });
            details.file_keys.push(sealed);
        }
        if let Some(document) = document {
            let (attributes, sealed) = inner
                .upload_file(
                    &vault,
                    &id,
                    &key,
                    &document.name,
                    document.size,
                    document.reader,
                )
                .await?;
            details.document = Some(attributes);
            details.file_keys.push(sealed);
        }
        let overview = OverviewPlain {
            title: params.title,
            category: params.category,
            tags: params.tags.unwrap_or_default(),
            websites: params.websites.unwrap_or_default(),
            created_at: now,
            updated_at: now,
            state: ItemState::Active,
        };
        let request = ItemCreateRequest {
            id,
            state: ItemState::Active,
            overview: sealed::seal(
                &key,
                &sealed::overview_context(inner.account(), &vault, &id, 1),
                &overview,
            )?,
            details: sealed::seal(
                &key,
                &sealed::details_context(inner.account(), &vault, &id, 1),
                &details,
            )?,
            files: details.file_ids()?,
        };
        let record: ItemRecord = inner
            .call_json(
                Method::POST,
                &format!("/v1/vaults/{vault}/items"),
                Some(&request),
                Retry::Once,
                Resource::Vault,
            )
            .await?;
        Ok(item_from_parts(
            &vault,
            &id,
            record.version,
            overview,
            details,
        ))
    }

    /// Creates up to 50 items in one vault; each gets its own result.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for more than 50 items; everything else is per item.
    pub async fn create_all(
        &self,
        vault_id: &str,
        params: Vec<ItemCreateParams>,
    ) -> Result<ItemsUpdateAllResponse> {
        check_batch(params.len())?;
        let mut individual_responses = Vec::with_capacity(params.len());
        for p in params {
            let result = if p.vault_id == vault_id {
                self.create(p).await
            } else {
                Err(Error::invalid_input(
                    "vault_id",
                    format!(
                        "item {:?} names vault {:?}, not {vault_id:?}",
                        p.title, p.vault_id
                    ),
                ))
            };
            individual_responses.push(result);
        }
        Ok(ItemsUpdateAllResponse {
            individual_responses,
        })
    }

    /// An item with everything it holds (one round trip, plus a sync the first time the
    /// vault is used). One-time password fields carry their current code in `details`.
    pub async fn get(&self, vault_id: &str, item_id: &str) -> Result<Item> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        let item = parse_id("item_id", item_id)?;
        let key = inner.vault_key(&vault).await?;
        let (overview, details, version) =
            inner
                .fetch_item(&vault, &item, &key)
                .await
                .map_err(|e| match e {
                    // Say how to get rid of it: deleting needs no decryption.
                    Error::Integrity(why) => super::cache::unreadable_item(&vault, &item, &why),
                    other => other,
                })?;
        Ok(item_from_parts(&vault, &item, version, overview, details))
    }

    /// Up to 50 items of one vault in one round trip; each gets its own result.
    pub async fn get_all(&self, vault_id: &str, item_ids: &[&str]) -> Result<ItemsGetAllResponse> {
        check_batch(item_ids.len())?;
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        let mut ids = Vec::with_capacity(item_ids.len());
        let mut individual_responses: Vec<Option<Result<Item>>> =
            Vec::with_capacity(item_ids.len());
        for text in item_ids {
            match parse_id("item_id", text) {
                Ok(id) => {
                    ids.push(id);
                    individual_responses.push(None);
                }
                Err(e) => individual_responses.push(Some(Err(e))),
            }
        }
        let key = inner.vault_key(&vault).await?;
        let response: ItemBatchGetResponse = if ids.is_empty() {
            ItemBatchGetResponse { items: Vec::new() }
        } else {
            inner
                .call_json(
                    Method::POST,
                    &format!("/v1/vaults/{vault}/items/batch-get"),
                    Some(&ItemBatchGetRequest { ids }),
                    Retry::Idempotent,
                    Resource::Vault,
                )
                .await?
        };
        let mut answers = response.items.into_iter();
        for slot in individual_responses.iter_mut().filter(|s| s.is_none()) {
            let result = match answers.next() {
                Some(api::ItemResult {
                    item: Some(record), ..
                }) => inner.open_record(&vault, &key, &record),
                Some(api::ItemResult {
                    id,
                    error: Some(body),
                    ..
                }) => {
                    let status =
                        ErrorCode::from_name(&body.code).map_or(500, ErrorCode::http_status);
                    let status = reqwest::StatusCode::from_u16(status)
                        .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
                    let bytes = serde_json::to_vec(&body).unwrap_or_default();
                    Err(match map_error(status, &bytes, None, Resource::Item) {
                        Error::NotFound { what, message, .. } => Error::NotFound {
                            what,
                            name: None,
                            message: format!("item {id}: {message}"),
                        },
                        other => other,
                    })
                }
                _ => Err(Error::Server(
                    "the batch-get answer has fewer or emptier results than requested ids".into(),
                )),
            };
            *slot = Some(result);
        }
        Ok(ItemsGetAllResponse {
            individual_responses: individual_responses.into_iter().flatten().collect(),
        })
    }

    /// Saves a new version of `item`, which must carry the version it was read at; if
    /// someone saved in between, nothing changes and the error is [`Error::Conflict`].
    /// Files removed from `item.files` (or a removed document) are detached and their
    /// content freed by the server; an item with files costs one more round trip, to
    /// carry over the sealed file keys of the stored version. Add files with
    /// [`files().attach`](super::Files::attach), not by editing `item.files`.
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, vault: &str, id: &str) -> sesame_core::Result<()> {
    /// let mut item = client.items().get(vault, id).await?;
    /// item.notes = "rotated".into();
    /// let saved = client.items().put(&item).await?;
    /// assert_eq!(saved.version, item.version + 1);
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, item: &Item) -> Result<Item> {
        self.put_with_keys(item, Vec::new()).await
    }

    /// [`put`](Self::put), with the sealed keys of files just uploaded for this version;
    /// the keys of files the item already had are carried over from the stored version.
    pub(super) async fn put_with_keys(
        &self,
        item: &Item,
        new_keys: Vec<SealedFileKey>,
    ) -> Result<Item> {
        let inner = &self.client.inner;
        let vault = parse_id("item.vault_id", &item.vault_id)?;
        let id = parse_id("item.id", &item.id)?;
        let key = inner.vault_key(&vault).await?;
        let state = match inner.cached_state(&vault, &id, item.version)? {
            Some(state) => state,
            None => inner.fetch_item(&vault, &id, &key).await?.0.state,
        };
        let overview = OverviewPlain {
            title: item.title.clone(),
            category: item.category,
            tags: item.tags.clone(),
            websites: item.websites.clone(),
            created_at: item.created_at,
            updated_at: OffsetDateTime::now_utc(),
            state,
        };
        let mut details = DetailsPlain {
            fields: item.fields.clone(),
            sections: item.sections.clone(),
            notes: item.notes.clone(),
            files: item.files.clone(),
            document: item.document.clone(),
            file_keys: new_keys,
        };
        let has_files = details.file_attributes().next().is_some();
        if has_files {
            // The keys of files kept from the stored version live only in its details.
            let (_, stored, stored_version) = inner.fetch_item(&vault, &id, &key).await?;
            // A stale item is a conflict, whatever its files: the keys it keeps may be
            // gone from the newer version, and that is not the caller's mistake.
            if stored_version != item.version {
                return Err(Error::Conflict(format!(
                    "item {id} is at version {stored_version}, not {}: another writer changed \
                     it; get it again and reapply the change",
                    item.version
                )));
            }
            let wanted: Vec<String> = details.file_attributes().map(|f| f.id.clone()).collect();
            for file_id in wanted {
                if details.file_key(&file_id).is_some() {
                    continue;
                }
                let sealed = stored.file_key(&file_id).cloned().ok_or_else(|| {
                    Error::invalid_input(
                        "item.files",
                        format!(
                            "file id {file_id:?} is not attached to the stored item; attach \
                             files with items().files().attach"
                        ),
                    )
                })?;
                details.file_keys.push(sealed);
            }
        }
        // Computed codes are presentation, not content.
        for field in &mut details.fields {
            if field.field_type == ItemFieldType::Totp {
                field.details = None;
            }
        }
        check_fields(&details)?;
        let record = inner
            .put_record(&vault, &id, &key, item.version, &overview, &details)
            .await?;
        Ok(item_from_parts(
            &vault,
            &id,
            record.version,
            overview,
            details,
        ))
    }

    /// Deletes an item (the server keeps a tombstone so other clients learn of it).
    pub async fn delete(&self, vault_id: &str, item_id: &str) -> Result<()> {
        let vault = parse_id("vault_id", vault_id)?;
        let item = parse_id("item_id", item_id)?;
        self.client
            .inner
            .call_empty(
                Method::DELETE,
                &format!("/v1/vaults/{vault}/items/{item}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Item,
            )
            .await
    }

    /// Deletes up to 50 items of one vault; each id gets its own result.
    pub async fn delete_all(
        &self,
        vault_id: &str,
        item_ids: &[&str],
    ) -> Result<ItemsDeleteAllResponse> {
        check_batch(item_ids.len())?;
        let mut individual_responses = std::collections::HashMap::with_capacity(item_ids.len());
        for id in item_ids {
            // An id given twice is deleted once: its one entry is that deletion's result.
            if individual_responses.contains_key(*id) {
                continue;
            }
            let result = self.delete(vault_id, id).await;
            individual_responses.insert((*id).to_owned(), result);
        }
        Ok(ItemsDeleteAllResponse {
            individual_responses,
        })
    }

    /// Archives an item: it stays listed on request but never resolves. Archiving an
    /// archived item does nothing.
    pub async fn archive(&self, vault_id: &str, item_id: &str) -> Result<()> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        let id = parse_id("item_id", item_id)?;
        let key = inner.vault_key(&vault).await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (mut overview, details, version) = inner.fetch_item(&vault, &id, &key).await?;
            if overview.state == ItemState::Archived {
                return Ok(());
            }
            overview.state = ItemState::Archived;
            overview.updated_at = OffsetDateTime::now_utc();
            match inner
                .put_record(&vault, &id, &key, version, &overview, &details)
                .await
            {
                Err(Error::Conflict(_)) if attempt < ARCHIVE_ATTEMPTS => continue,
                other => return other.map(|_| ()),
            }
        }
    }

    /// The item of vault `vault_id` that `name_or_id` names, by the rule secret references
    /// follow (DESIGN.md §4): the item with that id, else the one active item whose title
    /// equals it ignoring case (Unicode lowercase folding). One sync round trip on a warm
    /// cache.
    ///
    /// Unlike a reference, which never resolves an archived item, `find` is for managing
    /// items: an id finds its item whatever its state, and a title no active item has is
    /// looked up among the archived ones, so that they can still be read or deleted by
    /// title.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no item has that id or title; [`Error::Ambiguous`],
    /// listing their ids, when several titles match; [`Error::Integrity`] naming the item
    /// when `name_or_id` is the id of an item this client cannot decrypt (see
    /// [`Client::unreadable_records`](crate::Client::unreadable_records); it can still be
    /// deleted by id).
    ///
    /// ```no_run
    /// # async fn run(client: sesame_core::Client, vault_id: &str) -> sesame_core::Result<()> {
    /// let postgres = client.items().find(vault_id, "postgres").await?; // titled "Postgres"
    /// let item = client.items().get(vault_id, &postgres.id).await?;
    /// # drop(item); Ok(()) }
    /// ```
    pub async fn find(&self, vault_id: &str, name_or_id: &str) -> Result<ItemOverview> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        inner.sync(false).await?;
        inner.read_cache(|cache| {
            let cached = cache.usable_vault(&vault)?;
            if let Some(unreadable) = name_or_id
                .parse::<Id>()
                .ok()
                .and_then(|item| cache.unreadable_item(&vault, &item))
            {
                return Err(unreadable);
            }
            let items: Vec<ItemOverview> = cached
                .items
                .iter()
                .map(|(id, item)| item_overview(&vault, id, &item.overview))
                .collect();
            if let Some(item) = items.iter().find(|i| i.id == name_or_id) {
                return Ok(item.clone());
            }
            fn id(i: &ItemOverview) -> &str {
                &i.id
            }
            fn title(i: &ItemOverview) -> &str {
                &i.title
            }
            let (active, archived): (Vec<&ItemOverview>, Vec<&ItemOverview>) =
                items.iter().partition(|i| i.state == ItemState::Active);
            if let Some(item) = lookup::pick(Resource::Item, name_or_id, active, id, title)? {
                return Ok(item.clone());
            }
            lookup::find(Resource::Item, name_or_id, archived, id, title, || {
                format!(
                    "no item named {name_or_id:?} or with that id in vault {}",
                    cached
                        .title()
                        .map_or_else(|| vault.to_string(), |t| format!("{t:?}"))
                )
            })
            .cloned()
        })?
    }

    /// The overviews of a vault's items that pass `filters`, sorted by title: one sync
    /// round trip on a warm cache. Items whose overview cannot be opened are left out and
    /// reported by [`Client::unreadable_records`](crate::Client::unreadable_records).
    pub async fn list(
        &self,
        vault_id: &str,
        filters: &ItemListFilters,
    ) -> Result<Vec<ItemOverview>> {
        let inner = &self.client.inner;
        let vault = parse_id("vault_id", vault_id)?;
        inner.sync(false).await?;
        let mut listed = inner.read_cache(|cache| {
            cache.usable_vault(&vault).map(|v| {
                v.items
                    .iter()
                    .map(|(id, item)| item_overview(&vault, id, &item.overview))
                    .filter(|o| filters.keeps(o))
                    .collect::<Vec<_>>()
            })
        })??;
        listed.sort_by(|a, b| {
            a.title
                .to_lowercase()
                .cmp(&b.title.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        Ok(listed)
    }
}

impl Inner {
    /// GETs an item and opens both parts.
    pub(crate) async fn fetch_item(
        &self,
        vault: &Id,
        item: &Id,
        key: &VaultKey,
    ) -> Result<(OverviewPlain, DetailsPlain, u32)> {
        let record: ItemRecord = self
            .call_json(
                Method::GET,
                &format!("/v1/vaults/{vault}/items/{item}"),
                None::<&()>,
                Retry::Idempotent,
                Resource::Item,
            )
            .await?;
        self.open_parts(vault, key, &record)
    }

    fn open_parts(
        &self,
        vault: &Id,
        key: &VaultKey,
        record: &ItemRecord,
    ) -> Result<(OverviewPlain, DetailsPlain, u32)> {
        if record.vault_id != *vault {
            return Err(Error::integrity(format!(
                "asked for an item of vault {vault}, the server answered with one of vault {}",
                record.vault_id
            )));
        }
        let overview = self.open_overview(key, record)?;
        let sealed = record.details.as_ref().ok_or_else(|| {
            Error::Server(format!(
                "the server sent item {} without its details",
                record.id
            ))
        })?;
        let details = self.open_details(key, vault, &record.id, record.version, sealed)?;
        Ok((overview, details, record.version))
    }

    fn open_record(&self, vault: &Id, key: &VaultKey, record: &ItemRecord) -> Result<Item> {
        let (overview, details, version) = self.open_parts(vault, key, record)?;
        Ok(item_from_parts(
            vault, &record.id, version, overview, details,
        ))
    }

    /// The state of a cached item, if the cache has it at exactly `version`.
    fn cached_state(&self, vault: &Id, item: &Id, version: u32) -> Result<Option<ItemState>> {
        self.read_cache(|cache| {
            cache
                .vaults
                .get(vault)
                .and_then(|v| v.items.get(item))
                .filter(|i| i.version == version)
                .map(|i| i.overview.state)
        })
    }

    /// PUTs a new version sealed at `expected + 1`.
    async fn put_record(
        &self,
        vault: &Id,
        id: &Id,
        key: &VaultKey,
        expected: u32,
        overview: &OverviewPlain,
        details: &DetailsPlain,
    ) -> Result<ItemRecord> {
        let next = expected.checked_add(1).ok_or_else(|| {
            Error::invalid_input("item.version", "has reached its maximum; copy the item")
        })?;
        let request = ItemUpdateRequest {
            expected_version: expected,
            state: overview.state,
            overview: sealed::seal(
                key,
                &sealed::overview_context(self.account(), vault, id, next),
                overview,
            )?,
            details: sealed::seal(
                key,
                &sealed::details_context(self.account(), vault, id, next),
                details,
            )?,
            files: details.file_ids()?,
        };
        self.call_json(
            Method::PUT,
            &format!("/v1/vaults/{vault}/items/{id}"),
            Some(&request),
            Retry::Idempotent,
            Resource::Item,
        )
        .await
    }
}

fn check_batch(len: usize) -> Result<()> {
    if len > MAX_BATCH {
        return Err(Error::invalid_input(
            "items",
            format!("{len} items in one batch; at most {MAX_BATCH} are allowed, split the call"),
        ));
    }
    Ok(())
}

fn check_params(params: &ItemCreateParams) -> Result<()> {
    let is_document = params.category == ItemCategory::Document;
    if params.document.is_some() && !is_document {
        return Err(Error::invalid_input(
            "document",
            format!(
                "only Document items have a document, this one is {:?}; attach the file \
                 with `files` instead",
                params.category
            ),
        ));
    }
    let sections = params.sections.clone().unwrap_or_default();
    let fields = params.fields.clone().unwrap_or_default();
    let mut file_fields = HashSet::new();
    for file in params.files.iter().flatten() {
        if file.name.trim().is_empty() {
            return Err(Error::invalid_input("files", "every file needs a name"));
        }
        if !sections.iter().any(|s| s.id == file.section_id) {
            return Err(Error::invalid_input(
                "files",
                format!(
                    "file {:?} is in section {:?}, which the item does not have",
                    file.name, file.section_id
                ),
            ));
        }
        if file.field_id.is_empty()
            || fields.iter().any(|f| f.id == file.field_id)
            || !file_fields.insert(file.field_id.as_str())
        {
            return Err(Error::invalid_input(
                "files",
                format!(
                    "file {:?} has field id {:?}, which is empty or used twice",
                    file.name, file.field_id
                ),
            ));
        }
    }
    if let Some(document) = &params.document {
        if document.name.trim().is_empty() {
            return Err(Error::invalid_input(
                "document",
                "the document needs a name",
            ));
        }
    }
    let details = DetailsPlain {
        fields,
        sections,
        notes: String::new(),
        files: Vec::new(),
        document: None,
        file_keys: Vec::new(),
    };
    check_fields(&details)
}

/// Field ids are non-empty and unique, section ids unique, and every field's section exists.
fn check_fields(details: &DetailsPlain) -> Result<()> {
    let mut sections = HashSet::new();
    for section in &details.sections {
        if section.id.is_empty() || !sections.insert(section.id.as_str()) {
            return Err(Error::invalid_input(
                "sections",
                format!("section id {:?} is empty or used twice", section.id),
            ));
        }
    }
    let mut fields = HashSet::new();
    for field in &details.fields {
        if field.id.is_empty() || !fields.insert(field.id.as_str()) {
            return Err(Error::invalid_input(
                "fields",
                format!(
                    "field id {:?} (title {:?}) is empty or used twice",
                    field.id, field.title
                ),
            ));
        }
        if let Some(section) = &field.section_id {
            if !sections.contains(section.as_str()) {
                return Err(Error::invalid_input(
                    "fields",
                    format!(
                        "field {:?} is in section {section:?}, which the item does not have",
                        field.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ItemField, ItemListFilter, ItemListFilterByStateInner, ItemSection};

    fn overview(
        title: &str,
        state: ItemState,
        tags: &[&str],
        category: ItemCategory,
    ) -> ItemOverview {
        ItemOverview {
            id: "a".repeat(26),
            title: title.into(),
            category,
            vault_id: "b".repeat(26),
            websites: vec![],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            state,
        }
    }

    #[test]
    fn list_filters_default_to_active_and_combine() {
        let active = overview(
            "GitHub Work",
            ItemState::Active,
            &["Prod"],
            ItemCategory::Login,
        );
        let archived = overview("Old", ItemState::Archived, &[], ItemCategory::Login);
        let all = ItemListFilters::default();
        assert!(all.keeps(&active) && !all.keeps(&archived));
        let both = ItemListFilters {
            state: Some(ItemListFilter::ByState(ItemListFilterByStateInner {
                active: false,
                archived: true,
            })),
            ..ItemListFilters::default()
        };
        assert!(!both.keeps(&active) && both.keeps(&archived));
        let f = ItemListFilters {
            tag: Some("prod".into()),
            category: Some(ItemCategory::Login),
            title_contains: Some("github".into()),
            ..ItemListFilters::default()
        };
        assert!(f.keeps(&active));
        assert!(!ItemListFilters {
            tag: Some("dev".into()),
            ..f.clone()
        }
        .keeps(&active));
        assert!(!ItemListFilters {
            category: Some(ItemCategory::Server),
            ..f.clone()
        }
        .keeps(&active));
        assert!(!ItemListFilters {
            title_contains: Some("gitlab".into()),
            ..f
        }
        .keeps(&active));
    }

    #[test]
    fn fields_must_have_unique_ids_and_known_sections() {
        let mut params = ItemCreateParams::new(ItemCategory::Login, "v", "t");
        params.fields = Some(vec![
            ItemField::new("a", "a", ItemFieldType::Text, "1"),
            ItemField::new("a", "b", ItemFieldType::Text, "2"),
        ]);
        assert!(check_params(&params).is_err());
        let mut field = ItemField::new("a", "a", ItemFieldType::Text, "1");
        field.section_id = Some("s".into());
        params.fields = Some(vec![field]);
        assert!(check_params(&params).is_err());
        params.sections = Some(vec![ItemSection {
            id: "s".into(),
            title: "S".into(),
        }]);
        assert!(check_params(&params).is_ok());
        assert!(check_batch(50).is_ok() && check_batch(51).is_err());
    }
}
