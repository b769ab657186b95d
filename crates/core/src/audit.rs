//! The audit trail's hash chain, checked the same way by the server and by the owner's
//! client.
//!
//! Each event's `hash` is `hex(SHA-256(prev_hash || "\n" || canonical JSON))`, where the
//! canonical JSON is the object `{seq, time, principalId, action, vaultId, itemId,
//! outcome, integrationName, integrationVersion}` with exactly these keys in this order,
//! no whitespace, `time` in RFC 3339 and absent ids as `null`. The first event's
//! `prev_hash` is [`GENESIS_HASH`]. Changing, removing or reordering any stored event
//! breaks the chain at that event, which [`ChainWalk`] reports.
//!
//! The chain alone cannot reveal a trail that was cut short, or rewritten from some event
//! on with every later hash recomputed: both leave a valid chain. The owner's client
//! therefore signs checkpoints of the chain head
//! ([`audit_checkpoint_message`](crate::crypto::audit_checkpoint_message)) with a key the
//! server never holds.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::api::AuditEvent;
use crate::id::Id;

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Canonical<'a> {
    seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    time: OffsetDateTime,
    principal_id: Option<&'a Id>,
    action: &'a str,
    vault_id: Option<&'a Id>,
    item_id: Option<&'a Id>,
    outcome: &'a str,
    integration_name: &'a str,
    integration_version: &'a str,
}

/// The hash an event must have, given every field but `hash`.
///
/// ```
/// use sesame_core::api::AuditEvent;
/// use sesame_core::audit::{event_hash, GENESIS_HASH};
/// let mut event = AuditEvent {
///     seq: 1,
///     time: time::OffsetDateTime::UNIX_EPOCH,
///     principal_id: None,
///     action: "auth".into(),
///     vault_id: None,
///     item_id: None,
///     outcome: "unauthenticated".into(),
///     integration_name: "app".into(),
///     integration_version: "1.0".into(),
///     prev_hash: GENESIS_HASH.into(),
///     hash: String::new(),
/// };
/// event.hash = event_hash(&event);
/// assert_eq!(event.hash.len(), 64);
/// ```
pub fn event_hash(event: &AuditEvent) -> String {
    let canonical = Canonical {
        seq: event.seq,
        time: event.time,
        principal_id: event.principal_id.as_ref(),
        action: &event.action,
        vault_id: event.vault_id.as_ref(),
        item_id: event.item_id.as_ref(),
        outcome: &event.outcome,
        integration_name: &event.integration_name,
        integration_version: &event.integration_version,
    };
    // Serializing a struct of strings, numbers and a formatted time cannot fail; an empty
    // object would still give a hash that verification rejects, never a silent pass.
    let json = serde_json::to_vec(&canonical).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&json);
    data_encoding::HEXLOWER.encode(&hasher.finalize())
}

/// The 32 bytes of a chain hash written as 64 lowercase hex digits, or `None`.
///
/// ```
/// use sesame_core::audit::{hash_bytes, GENESIS_HASH};
/// assert_eq!(hash_bytes(GENESIS_HASH), Some([0; 32]));
/// assert_eq!(hash_bytes("00"), None);
/// ```
pub fn hash_bytes(hash: &str) -> Option<[u8; 32]> {
    data_encoding::HEXLOWER
        .decode(hash.as_bytes())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

/// Checks events one after another from the first (`seq` 1): no gap in `seq`, each
/// `prev_hash` the previous `hash`, each `hash` matching the event's fields.
///
/// ```
/// use sesame_core::audit::ChainWalk;
/// let walk = ChainWalk::new();
/// assert_eq!(walk.events(), 0);
/// assert_eq!(walk.head_hash(), sesame_core::audit::GENESIS_HASH);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainWalk {
    events: u64,
    head_hash: String,
}

impl Default for ChainWalk {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainWalk {
    /// A walk at genesis, before event 1.
    pub fn new() -> Self {
        Self {
            events: 0,
            head_hash: GENESIS_HASH.to_owned(),
        }
    }

    /// How many events were checked (the `seq` of the last one).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The hash of the last event checked ([`GENESIS_HASH`] before the first).
    pub fn head_hash(&self) -> &str {
        &self.head_hash
    }

    /// Checks the next event.
    ///
    /// # Errors
    ///
    /// Why `event` breaks the chain, for a message naming its `seq`.
    pub fn push(&mut self, event: &AuditEvent) -> Result<(), String> {
        let expected = self.events + 1;
        if event.seq != expected {
            return Err(format!(
                "expected seq {expected} next, found {}: events are missing",
                event.seq
            ));
        }
        if event.prev_hash != self.head_hash {
            return Err("its prev_hash is not the hash of the event before it".into());
        }
        if event_hash(event) != event.hash {
            return Err("its hash does not match its contents: the event was altered".into());
        }
        self.events = event.seq;
        self.head_hash.clone_from(&event.hash);
        Ok(())
    }
}
