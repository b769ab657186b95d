//! The audit trail: append-only and hash-chained.
//!
//! Each event's `hash` is `hex(SHA-256(prev_hash || "\n" || canonical JSON))`, where the
//! canonical JSON is the object `{seq, time, principalId, action, vaultId, itemId,
//! outcome, integrationName, integrationVersion}` with exactly these keys in this order,
//! no whitespace, `time` in RFC 3339 and absent ids as `null`. The first event's
//! `prev_hash` is 64 zeros. Changing, removing or reordering any stored event breaks the
//! chain at that event, which [`verify`] reports.

use serde::Serialize;
use sesame_core::api::AuditEvent;
use sesame_core::id::Id;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::ServerError;
use crate::store::Store;

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
///     prev_hash: sesame_server::audit::GENESIS_HASH.into(),
///     hash: String::new(),
/// };
/// event.hash = sesame_server::audit::event_hash(&event);
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
    // object would still give a hash that verify rejects, never a silent pass.
    let json = serde_json::to_vec(&canonical).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&json);
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The result of walking the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// How many events were checked.
    pub events: u64,
    /// The first event that breaks the chain, and why.
    pub first_broken: Option<(u64, String)>,
}

impl ChainReport {
    /// Whether the whole chain is intact.
    pub fn intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Walks the whole audit trail from the first event and reports the first broken one: a
/// gap in `seq`, a `prev_hash` that is not the previous `hash`, or a `hash` that does not
/// match the event's fields.
///
/// # Errors
///
/// [`ServerError::Api`] when the store cannot be read.
pub async fn verify<S: Store>(store: &S) -> Result<ChainReport, ServerError> {
    const PAGE: u32 = 1000;
    let mut after = 0;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut count = 0;
    loop {
        let page = store.events(after, PAGE).await?;
        let done = page.len() < PAGE as usize;
        for event in page {
            let broken = |why: String| {
                Ok(ChainReport {
                    events: count,
                    first_broken: Some((event.seq, why)),
                })
            };
            if event.seq != after + 1 {
                return broken(format!(
                    "expected seq {} next, found {}: events are missing",
                    after + 1,
                    event.seq
                ));
            }
            if event.prev_hash != prev_hash {
                return broken("its prev_hash is not the hash of the event before it".into());
            }
            if event_hash(&event) != event.hash {
                return broken(
                    "its hash does not match its contents: the event was altered".into(),
                );
            }
            count += 1;
            after = event.seq;
            prev_hash = event.hash;
        }
        if done {
            return Ok(ChainReport {
                events: count,
                first_broken: None,
            });
        }
    }
}
