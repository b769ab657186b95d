//! The in-memory cache of vault keys, vault attributes and item overviews, and the delta
//! sync that keeps it fresh.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use time::OffsetDateTime;

use crate::api::{Ciphertext, ItemRecord, SyncCursor, SyncRequest, SyncResponse, VaultRecord};
use crate::crypto::VaultKey;
use crate::id::Id;
use crate::model::{
    permissions, Item, ItemOverview, ItemState, UnreadableKind, UnreadableRecord, VaultOverview,
    VaultType,
};
use crate::Resource;
use crate::{Error, Result};

use super::sealed::{self, DetailsPlain, OverviewPlain, VaultAttributes};
use super::transport::Retry;
use super::Inner;

#[derive(Default)]
pub(crate) struct Cache {
    pub vaults: HashMap<Id, CachedVault>,
    /// Visible vaults whose key this client cannot use, with why. They have no cursor, so
    /// every sync brings their record again and checks it afresh.
    pub unusable: HashMap<Id, String>,
    pub last_sync: Option<Instant>,
}

pub(crate) struct CachedVault {
    pub key: Arc<VaultKey>,
    pub permissions: u32,
    pub attribute_version: u64,
    /// What this client has of the vault's items: the next sync's cursor.
    pub content_version: u64,
    /// The opened attributes, or why they cannot be opened: the key and the items stay
    /// usable by vault id either way.
    pub attributes: std::result::Result<VaultAttributes, String>,
    pub active_item_count: u32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub items: HashMap<Id, CachedItem>,
    /// Items whose newest version cannot be opened, with why: left out of `items`.
    pub unreadable_items: HashMap<Id, String>,
}

#[derive(Clone)]
pub(crate) struct CachedItem {
    pub version: u32,
    pub overview: OverviewPlain,
    pub details: Option<Ciphertext>,
}

impl CachedVault {
    /// The vault's overview, or an integrity error when its attributes cannot be opened.
    pub fn overview(&self, id: &Id) -> Result<VaultOverview> {
        let attributes = self.attributes.as_ref().map_err(|why| {
            Error::integrity(format!(
                "the attributes (name, description) of vault {id} cannot be opened: {why}"
            ))
        })?;
        Ok(VaultOverview {
            id: id.to_string(),
            title: attributes.title.clone(),
            description: attributes.description.clone(),
            vault_type: VaultType::UserCreated,
            active_item_count: self.active_item_count,
            content_version: self.content_version,
            attribute_version: self.attribute_version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            unreadable: None,
        })
    }

    /// The title, when the attributes could be opened: a vault without one matches
    /// references by id only.
    pub fn title(&self) -> Option<&str> {
        self.attributes.as_ref().ok().map(|a| a.title.as_str())
    }
}

impl Cache {
    /// A visible vault this client can use, or why not: [`Error::Integrity`] naming the
    /// vault when its key cannot be used, [`Error::NotFound`] when it is not visible.
    pub fn usable_vault(&self, vault: &Id) -> Result<&CachedVault> {
        if let Some(v) = self.vaults.get(vault) {
            return Ok(v);
        }
        Err(match self.unusable.get(vault) {
            Some(why) => unusable_vault(vault, why),
            None => Error::NotFound {
                what: crate::Resource::Vault,
                name: Some(vault.to_string()),
                message: format!("no vault {vault} is visible to this principal"),
            },
        })
    }

    /// An integrity error for `item` of `vault` when the last sync could not open it.
    pub fn unreadable_item(&self, vault: &Id, item: &Id) -> Option<Error> {
        let why = self.vaults.get(vault)?.unreadable_items.get(item)?;
        Some(unreadable_item(vault, item, why))
    }

    /// Every record of the last sync this client could not open, by vault then item.
    pub fn unreadable_records(&self) -> Vec<UnreadableRecord> {
        let mut records: Vec<UnreadableRecord> = self
            .unusable
            .iter()
            .map(|(vault, why)| UnreadableRecord {
                vault_id: vault.to_string(),
                item_id: None,
                kind: UnreadableKind::VaultKey,
                message: why.clone(),
            })
            .collect();
        for (id, vault) in &self.vaults {
            if let Err(why) = &vault.attributes {
                records.push(UnreadableRecord {
                    vault_id: id.to_string(),
                    item_id: None,
                    kind: UnreadableKind::VaultAttributes,
                    message: why.clone(),
                });
            }
            records.extend(
                vault
                    .unreadable_items
                    .iter()
                    .map(|(item, why)| UnreadableRecord {
                        vault_id: id.to_string(),
                        item_id: Some(item.to_string()),
                        kind: UnreadableKind::ItemOverview,
                        message: why.clone(),
                    }),
            );
        }
        records.sort_by(|a, b| {
            (&a.vault_id, &a.item_id, a.kind as u8).cmp(&(&b.vault_id, &b.item_id, b.kind as u8))
        });
        records
    }
}

/// The endpoint of the sync: a `POST` that reads.
pub(crate) const SYNC_PATH: &str = "/v1/sync";

pub(crate) fn unusable_vault(vault: &Id, why: &str) -> Error {
    Error::integrity(format!(
        "vault {vault} cannot be used: {why}. Leave it with `sesame vault leave {vault}` (or \
         ask its manager to grant it again)"
    ))
}

pub(crate) fn unreadable_item(vault: &Id, item: &Id, why: &str) -> Error {
    Error::integrity(format!(
        "item {item} of vault {vault} cannot be decrypted: {why}. Delete it with `sesame item \
         delete {item} --vault {vault}`"
    ))
}

/// The message of an integrity failure, without the "integrity check failed" prefix.
fn reason(error: Error) -> Result<String> {
    match error {
        Error::Integrity(message) => Ok(message),
        other => Err(other),
    }
}

pub(crate) fn item_overview(vault: &Id, id: &Id, overview: &OverviewPlain) -> ItemOverview {
    ItemOverview {
        id: id.to_string(),
        title: overview.title.clone(),
        category: overview.category,
        vault_id: vault.to_string(),
        websites: overview.websites.clone(),
        tags: overview.tags.clone(),
        created_at: overview.created_at,
        updated_at: overview.updated_at,
        state: overview.state,
    }
}

pub(crate) fn item_from_parts(
    vault: &Id,
    id: &Id,
    version: u32,
    overview: OverviewPlain,
    details: DetailsPlain,
) -> Item {
    let mut item = Item {
        id: id.to_string(),
        title: overview.title,
        category: overview.category,
        vault_id: vault.to_string(),
        fields: details.fields,
        sections: details.sections,
        notes: details.notes,
        tags: overview.tags,
        websites: overview.websites,
        version,
        files: details.files,
        document: details.document,
        created_at: overview.created_at,
        updated_at: overview.updated_at,
    };
    fill_otp_codes(&mut item);
    item
}

/// Everything a sync brought, decrypted, ready to apply under the lock in one step.
struct Decrypted {
    visible: HashSet<Id>,
    vaults: Vec<(Id, NewVault)>,
    /// Vaults whose record came but whose key cannot be used, with why.
    unusable: HashMap<Id, String>,
    changes: Vec<VaultChanges>,
}

struct NewVault {
    key: Arc<VaultKey>,
    record: VaultRecord,
    attributes: std::result::Result<VaultAttributes, String>,
}

struct VaultChanges {
    vault: Id,
    content_version: u64,
    items: Vec<(Id, CachedItem)>,
    /// Items whose new version cannot be opened, with why.
    unreadable: Vec<(Id, String)>,
    deleted: Vec<Id>,
}

impl Inner {
    /// Brings the cache up to date in one round trip, unless `cache_ttl` says the last
    /// sync is recent enough and `force` is false.
    ///
    /// Concurrent callers share syncs: every sync a caller needs must start after the
    /// caller arrived (so it sees every write that completed before), and when one such
    /// sync completed while the caller waited for its turn, its result is the caller's.
    /// Many concurrent reads thus cost one round trip each wave, not one each.
    pub(crate) async fn sync(&self, force: bool) -> Result<()> {
        use std::sync::atomic::Ordering;
        if !force && self.cache_is_fresh() {
            return Ok(());
        }
        let arrived_after = self.syncs_started.load(Ordering::Acquire);
        let _one_at_a_time = self.sync_lock.lock().await;
        if self.last_sync_done.load(Ordering::Acquire) > arrived_after {
            return Ok(());
        }
        if !force && self.cache_is_fresh() {
            return Ok(());
        }
        let this_sync = self.syncs_started.fetch_add(1, Ordering::AcqRel) + 1;
        self.sync_once().await?;
        self.last_sync_done.store(this_sync, Ordering::Release);
        Ok(())
    }

    /// One sync round trip, applied to the cache (the caller holds `sync_lock`).
    async fn sync_once(&self) -> Result<()> {
        let cursors: Vec<SyncCursor> = self.read_cache(|cache| {
            cache
                .vaults
                .iter()
                .map(|(id, v)| SyncCursor {
                    vault_id: *id,
                    content_version: v.content_version,
                    attribute_version: v.attribute_version,
                    permissions: v.permissions,
                })
                .collect()
        })?;
        let request = SyncRequest {
            cursors,
            details: true,
        };
        let response: SyncResponse = self
            .call_json(
                Method::POST,
                SYNC_PATH,
                Some(&request),
                Retry::Idempotent,
                Resource::Vault,
            )
            .await?;
        let untrusted = self.learn_granters(&response.vaults).await?;
        let decrypted = self.decrypt_sync(response, &untrusted)?;
        self.apply(decrypted)
    }

    fn cache_is_fresh(&self) -> bool {
        let Some(ttl) = self.config.cache_ttl else {
            return false;
        };
        self.read_cache(|cache| cache.last_sync.is_some_and(|at| at.elapsed() < ttl))
            .unwrap_or(false)
    }

    pub(crate) fn read_cache<T>(&self, f: impl FnOnce(&Cache) -> T) -> Result<T> {
        let cache = self
            .cache
            .read()
            .map_err(|_| Error::Server("the client cache is unusable after a panic".into()))?;
        Ok(f(&cache))
    }

    pub(crate) fn write_cache<T>(&self, f: impl FnOnce(&mut Cache) -> T) -> Result<T> {
        let mut cache = self
            .cache
            .write()
            .map_err(|_| Error::Server("the client cache is unusable after a panic".into()))?;
        Ok(f(&mut cache))
    }

    /// Opens what a sync brought. A record that cannot be opened (a grant, vault
    /// attributes, an item overview) is set aside with why, and only calls that need it
    /// fail: one bad record, which any principal with write access can plant, must not
    /// make every call of everyone who can see it fail.
    fn decrypt_sync(
        &self,
        response: SyncResponse,
        untrusted: &HashMap<Id, String>,
    ) -> Result<Decrypted> {
        let mut keys: HashMap<Id, Arc<VaultKey>> = self.read_cache(|cache| {
            cache
                .vaults
                .iter()
                .map(|(id, v)| (*id, Arc::clone(&v.key)))
                .collect()
        })?;
        let mut vaults = Vec::with_capacity(response.vaults.len());
        let mut unusable = HashMap::new();
        for record in response.vaults {
            let key = match self.open_vault_key(&record) {
                Ok(key) => Arc::new(key),
                Err(error) => {
                    let why = untrusted
                        .get(&record.id)
                        .cloned()
                        .map_or_else(|| reason(error), Ok)?;
                    // The server now shows a grant this client cannot use: stop using
                    // the vault rather than keep a key the current grant does not back.
                    keys.remove(&record.id);
                    unusable.insert(record.id, why);
                    continue;
                }
            };
            let attributes = sealed::open(
                &key,
                &sealed::vault_attributes_context(
                    self.account(),
                    &record.id,
                    record.attribute_version,
                ),
                &record.attributes,
                "vault attributes",
            )
            .map_or_else(|e| reason(e).map(Err), |a| Ok(Ok(a)))?;
            keys.insert(record.id, Arc::clone(&key));
            vaults.push((
                record.id,
                NewVault {
                    key,
                    record,
                    attributes,
                },
            ));
        }
        let mut changes = Vec::with_capacity(response.changes.len());
        for change in response.changes {
            let Some(key) = keys.get(&change.vault_id) else {
                // Changes of a vault we hold no key for cannot be read; the next sync
                // asks for it whole.
                continue;
            };
            let mut items = Vec::with_capacity(change.items.len());
            let mut unreadable = Vec::new();
            for record in change.items {
                if record.vault_id != change.vault_id {
                    return Err(Error::integrity(format!(
                        "the server listed item {} of vault {} among the changes of vault {}",
                        record.id, record.vault_id, change.vault_id
                    )));
                }
                match self.open_overview(key, &record) {
                    Ok(overview) => items.push((
                        record.id,
                        CachedItem {
                            version: record.version,
                            overview,
                            details: record.details,
                        },
                    )),
                    Err(error) => unreadable.push((record.id, reason(error)?)),
                }
            }
            changes.push(VaultChanges {
                vault: change.vault_id,
                content_version: change.content_version,
                items,
                unreadable,
                deleted: change.deleted.into_iter().map(|t| t.id).collect(),
            });
        }
        Ok(Decrypted {
            visible: response.visible.into_iter().collect(),
            vaults,
            unusable,
            changes,
        })
    }

    /// The key of a vault record, once its grant is checked: the server could wrap a key
    /// of its own choosing to us, so only keys a trusted principal signed for us are used.
    fn open_vault_key(&self, record: &VaultRecord) -> Result<VaultKey> {
        self.verify_grant(record)?;
        VaultKey::unwrap(
            &record.wrapped_key,
            &self.keys,
            &record.id,
            self.principal_id(),
        )
    }

    /// Opens an item record's overview and checks its sealed state against the record's.
    pub(crate) fn open_overview(
        &self,
        key: &VaultKey,
        record: &ItemRecord,
    ) -> Result<OverviewPlain> {
        let overview: OverviewPlain = sealed::open(
            key,
            &sealed::overview_context(self.account(), &record.vault_id, &record.id, record.version),
            &record.overview,
            "item overview",
        )?;
        if overview.state != record.state {
            return Err(Error::integrity(format!(
                "item {} of vault {} is marked {:?} by the server but was sealed as {:?}",
                record.id, record.vault_id, record.state, overview.state
            )));
        }
        Ok(overview)
    }

    pub(crate) fn open_details(
        &self,
        key: &VaultKey,
        vault: &Id,
        item: &Id,
        version: u32,
        details: &Ciphertext,
    ) -> Result<DetailsPlain> {
        sealed::open(
            key,
            &sealed::details_context(self.account(), vault, item, version),
            details,
            "item details",
        )
    }

    fn apply(&self, decrypted: Decrypted) -> Result<()> {
        self.write_cache(|cache| {
            cache.vaults.retain(|id, _| {
                decrypted.visible.contains(id) && !decrypted.unusable.contains_key(id)
            });
            // Every visible vault without a cursor came whole in this answer, so this is
            // the complete list.
            cache.unusable = decrypted.unusable;
            cache
                .unusable
                .retain(|id, _| decrypted.visible.contains(id));
            for (id, new) in decrypted.vaults {
                if !decrypted.visible.contains(&id) {
                    continue;
                }
                let previous = cache.vaults.remove(&id);
                let readable = permissions::has(new.record.permissions, permissions::READ_ITEMS);
                let (items, unreadable_items, content_version) = match previous {
                    Some(p) if readable => (p.items, p.unreadable_items, p.content_version),
                    _ => (HashMap::new(), HashMap::new(), 0),
                };
                cache.vaults.insert(
                    id,
                    CachedVault {
                        key: new.key,
                        permissions: new.record.permissions,
                        attribute_version: new.record.attribute_version,
                        content_version,
                        attributes: new.attributes,
                        active_item_count: new.record.active_item_count,
                        created_at: new.record.created_at,
                        updated_at: new.record.updated_at,
                        items,
                        unreadable_items,
                    },
                );
            }
            for change in decrypted.changes {
                let Some(vault) = cache.vaults.get_mut(&change.vault) else {
                    continue;
                };
                for (id, item) in change.items {
                    vault.unreadable_items.remove(&id);
                    vault.items.insert(id, item);
                }
                for (id, why) in change.unreadable {
                    // The cached version is outdated by one this client cannot read.
                    vault.items.remove(&id);
                    vault.unreadable_items.insert(id, why);
                }
                for id in change.deleted {
                    vault.items.remove(&id);
                    vault.unreadable_items.remove(&id);
                }
                vault.content_version = change.content_version;
                vault.active_item_count = u32::try_from(
                    vault
                        .items
                        .values()
                        .filter(|i| i.overview.state == ItemState::Active)
                        .count(),
                )
                .unwrap_or(u32::MAX);
            }
            cache.last_sync = Some(Instant::now());
        })
    }

    /// The key of a vault, syncing once if the cache does not know the vault yet.
    pub(crate) async fn vault_key(&self, vault: &Id) -> Result<Arc<VaultKey>> {
        if let Some(key) = self.cached_key(vault)? {
            return Ok(key);
        }
        self.sync(true).await?;
        self.read_cache(|cache| cache.usable_vault(vault).map(|v| Arc::clone(&v.key)))?
    }

    fn cached_key(&self, vault: &Id) -> Result<Option<Arc<VaultKey>>> {
        self.read_cache(|cache| cache.vaults.get(vault).map(|v| Arc::clone(&v.key)))
    }
}

/// Fills in the current code of every one-time password field, as the 1Password SDK does.
pub(crate) fn fill_otp_codes(item: &mut Item) {
    use crate::model::{ItemFieldDetails, ItemFieldType, OtpFieldDetails};
    use crate::totp::Totp;
    for field in item
        .fields
        .iter_mut()
        .filter(|f| f.field_type == ItemFieldType::Totp)
    {
        let details = match Totp::parse(&field.value).and_then(|t| t.now()) {
            Ok(code) => OtpFieldDetails {
                code: Some(code.code().to_owned()),
                error_message: None,
            },
            Err(e) => OtpFieldDetails {
                code: None,
                error_message: Some(e.to_string()),
            },
        };
        field.details = Some(ItemFieldDetails::Otp(details));
    }
}
