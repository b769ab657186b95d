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
use crate::model::{permissions, Item, ItemOverview, ItemState, VaultOverview, VaultType};
use crate::{Error, Result};

use super::sealed::{self, DetailsPlain, OverviewPlain, VaultAttributes};
use super::transport::Retry;
use super::Inner;

#[derive(Default)]
pub(crate) struct Cache {
    pub vaults: HashMap<Id, CachedVault>,
    pub last_sync: Option<Instant>,
}

pub(crate) struct CachedVault {
    pub key: Arc<VaultKey>,
    pub permissions: u32,
    pub attribute_version: u64,
    /// What this client has of the vault's items: the next sync's cursor.
    pub content_version: u64,
    pub attributes: VaultAttributes,
    pub active_item_count: u32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub items: HashMap<Id, CachedItem>,
}

#[derive(Clone)]
pub(crate) struct CachedItem {
    pub version: u32,
    pub overview: OverviewPlain,
    pub details: Option<Ciphertext>,
}

impl CachedVault {
    pub fn overview(&self, id: &Id) -> VaultOverview {
        VaultOverview {
            id: id.to_string(),
            title: self.attributes.title.clone(),
            description: self.attributes.description.clone(),
            vault_type: VaultType::UserCreated,
            active_item_count: self.active_item_count,
            content_version: self.content_version,
            attribute_version: self.attribute_version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            unreadable: None,
        }
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
    super::items::fill_otp_codes(&mut item);
    item
}

/// Everything a sync brought, decrypted, ready to apply under the lock in one step.
struct Decrypted {
    visible: HashSet<Id>,
    vaults: Vec<(Id, NewVault)>,
    changes: Vec<VaultChanges>,
}

struct NewVault {
    key: Arc<VaultKey>,
    record: VaultRecord,
    attributes: VaultAttributes,
}

struct VaultChanges {
    vault: Id,
    content_version: u64,
    items: Vec<(Id, CachedItem)>,
    deleted: Vec<Id>,
}

impl Inner {
    /// Brings the cache up to date in one round trip, unless `cache_ttl` says the last
    /// sync is recent enough and `force` is false.
    pub(crate) async fn sync(&self, force: bool) -> Result<()> {
        let _one_at_a_time = self.sync_lock.lock().await;
        if !force && self.cache_is_fresh() {
            return Ok(());
        }
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
                "/v1/sync",
                Some(&request),
                Retry::Idempotent,
                "vault",
            )
            .await?;
        self.learn_granters(&response.vaults).await?;
        let decrypted = self.decrypt_sync(response)?;
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

    fn decrypt_sync(&self, response: SyncResponse) -> Result<Decrypted> {
        let mut keys: HashMap<Id, Arc<VaultKey>> = self.read_cache(|cache| {
            cache
                .vaults
                .iter()
                .map(|(id, v)| (*id, Arc::clone(&v.key)))
                .collect()
        })?;
        let mut vaults = Vec::with_capacity(response.vaults.len());
        for record in response.vaults {
            // The server could wrap a key of its own choosing to us: use only keys a
            // trusted principal signed for us.
            self.verify_grant(&record)?;
            let key = Arc::new(VaultKey::unwrap(
                &record.wrapped_key,
                &self.keys,
                &record.id,
                self.principal_id(),
            )?);
            let attributes: VaultAttributes = sealed::open(
                &key,
                &sealed::vault_attributes_context(
                    self.account(),
                    &record.id,
                    record.attribute_version,
                ),
                &record.attributes,
                "vault attributes",
            )?;
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
            for record in change.items {
                if record.vault_id != change.vault_id {
                    return Err(Error::integrity(format!(
                        "the server listed item {} of vault {} among the changes of vault {}",
                        record.id, record.vault_id, change.vault_id
                    )));
                }
                let overview = self.open_overview(key, &record)?;
                items.push((
                    record.id,
                    CachedItem {
                        version: record.version,
                        overview,
                        details: record.details,
                    },
                ));
            }
            changes.push(VaultChanges {
                vault: change.vault_id,
                content_version: change.content_version,
                items,
                deleted: change.deleted.into_iter().map(|t| t.id).collect(),
            });
        }
        Ok(Decrypted {
            visible: response.visible.into_iter().collect(),
            vaults,
            changes,
        })
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
            cache.vaults.retain(|id, _| decrypted.visible.contains(id));
            for (id, new) in decrypted.vaults {
                if !decrypted.visible.contains(&id) {
                    continue;
                }
                let previous = cache.vaults.remove(&id);
                let readable = permissions::has(new.record.permissions, permissions::READ_ITEMS);
                let (items, content_version) = match previous {
                    Some(p) if readable => (p.items, p.content_version),
                    _ => (HashMap::new(), 0),
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
                    },
                );
            }
            for change in decrypted.changes {
                let Some(vault) = cache.vaults.get_mut(&change.vault) else {
                    continue;
                };
                for (id, item) in change.items {
                    vault.items.insert(id, item);
                }
                for id in change.deleted {
                    vault.items.remove(&id);
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
        self.cached_key(vault)?.ok_or_else(|| Error::NotFound {
            what: "vault".into(),
            message: format!("no vault {vault} is visible to this principal"),
        })
    }

    fn cached_key(&self, vault: &Id) -> Result<Option<Arc<VaultKey>>> {
        self.read_cache(|cache| cache.vaults.get(vault).map(|v| Arc::clone(&v.key)))
    }
}
