//! A short-lived copy of who may do what: principals (revocation, key generation) and
//! their permissions per vault, as every authenticated request reads them.
//!
//! Without it each request made two database queries before its own work, and on SQLite
//! each query is a hop to a connection's worker thread and back: the server spent more
//! time switching threads than serving. An entry lives [`TTL`] at most, and every change
//! of principals, grants or vaults made through this server voids every entry when it
//! commits. So:
//! - on one server (SQLite, or PostgreSQL with one replica) a revocation, key rotation
//!   or grant change applies to the very next request;
//! - with several replicas, a change made through another replica applies here within
//!   [`TTL`] (documented in `docs/scale-out.md`).
//!
//! Writes never rely on it for permissions: every write checks its grant again inside
//! its own transaction ([`EventRecord::requires`](crate::store::EventRecord::requires)).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sesame_core::api::Principal;
use sesame_core::id::Id;

use crate::store::{Store, StoreResult};

/// How long an entry may be used: the bound on how late another replica's revocation or
/// grant change applies here.
pub(crate) const TTL: Duration = Duration::from_millis(500);

/// Entries at most per map; beyond, expired ones are dropped (then all, if need be), so a
/// flood of distinct principals or vaults cannot grow it without bound.
const MAX_ENTRIES: usize = 10_000;

/// Entries by key.
type Map<K, T> = Mutex<HashMap<K, Entry<T>>>;

struct Entry<T> {
    value: T,
    fetched: Instant,
    generation: u64,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct AccessCache {
    /// Bumped by every change of access made through this server.
    generation: AtomicU64,
    principals: Map<Id, Option<Principal>>,
    /// By (vault, principal).
    permissions: Map<(Id, Id), Option<u32>>,
}

impl std::fmt::Debug for AccessCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessCache").finish_non_exhaustive()
    }
}

/// Whether a route's action can change principals, grants or vaults.
pub(crate) fn changes_access(action: &str) -> bool {
    action.starts_with("principal.") || action.starts_with("vault.")
}

impl AccessCache {
    /// Voids every entry: call it once a change of access has committed.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A principal, revoked or not, as the store had it at most [`TTL`] ago.
    pub(crate) async fn principal<S: Store>(
        &self,
        store: &S,
        id: &Id,
    ) -> StoreResult<Option<Principal>> {
        cached(&self.generation, &self.principals, *id, || {
            store.principal(id)
        })
        .await
    }

    /// A principal's permissions on a vault, as the store had them at most [`TTL`] ago.
    pub(crate) async fn permissions<S: Store>(
        &self,
        store: &S,
        vault: &Id,
        principal: &Id,
    ) -> StoreResult<Option<u32>> {
        cached(
            &self.generation,
            &self.permissions,
            (*vault, *principal),
            || store.permissions(vault, principal),
        )
        .await
    }
}

async fn cached<K, T, F>(
    generation: &AtomicU64,
    map: &Map<K, T>,
    key: K,
    fetch: impl FnOnce() -> F,
) -> StoreResult<T>
where
    K: std::hash::Hash + Eq,
    T: Clone,
    F: std::future::Future<Output = StoreResult<T>>,
{
    // Read before the fetch: a change that commits while the fetch runs voids what it
    // returns.
    let current = generation.load(Ordering::SeqCst);
    {
        let map = lock(map);
        if let Some(entry) = map.get(&key) {
            if entry.generation == current && entry.fetched.elapsed() < TTL {
                return Ok(entry.value.clone());
            }
        }
    }
    let fetched = Instant::now();
    let value = fetch().await?;
    let mut map = lock(map);
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, e| e.generation == current && e.fetched.elapsed() < TTL);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
    }
    map.insert(
        key,
        Entry {
            value: value.clone(),
            fetched,
            generation: current,
        },
    );
    Ok(value)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a request panicked while holding it; the map is still
    // a valid cache.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_expire_and_changes_void_them() {
        let cache = AccessCache::default();
        let generation = &cache.generation;
        let map: Map<u8, u32> = Mutex::default();
        let fetches = AtomicU64::new(0);
        let fetch = || async {
            Ok::<_, crate::error::ApiError>(fetches.fetch_add(1, Ordering::SeqCst) as u32)
        };
        assert_eq!(cached(generation, &map, 1, fetch).await.unwrap(), 0);
        assert_eq!(cached(generation, &map, 1, fetch).await.unwrap(), 0);
        cache.changed();
        assert_eq!(cached(generation, &map, 1, fetch).await.unwrap(), 1);
        lock(&map).get_mut(&1).unwrap().fetched -= TTL;
        assert_eq!(cached(generation, &map, 1, fetch).await.unwrap(), 2);
        // A change committed while a fetch ran voids its result.
        let value = cached(generation, &map, 2, || async {
            cache.changed();
            Ok(7)
        })
        .await
        .unwrap();
        assert_eq!(value, 7);
        assert_eq!(cached(generation, &map, 2, fetch).await.unwrap(), 3);
    }
}
