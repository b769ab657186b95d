//! The audit trail: append-only and hash-chained, with a persisted head and the owner's
//! signed checkpoints.
//!
//! The chain itself ([`event_hash`], [`GENESIS_HASH`]) is specified in
//! [`sesame_core::audit`], which the owner's client checks the same way. Changing,
//! removing or reordering any stored event breaks the chain at that event, which
//! [`verify`] reports. Every append also moves a persisted head (seq and hash), so
//! deleting the newest events is reported too; and the owner's client signs checkpoints
//! of the head, which [`verify`] checks against the chain.
//!
//! What [`verify`] cannot see: someone who can write the database can rewrite the chain
//! from any event on, re-hash every later one and rewrite the persisted head, and all of
//! that verifies here unless it cuts below or alters an event up to the newest signed
//! checkpoint (and the checkpoint rows can be deleted as well). The owner's client is the
//! check that holds: it verifies checkpoints with the owner key that the account id
//! anchors, remembers the newest one it saw, and so notices what this cannot.

use sesame_core::api::AuditHead;
pub use sesame_core::audit::{event_hash, GENESIS_HASH};
use sesame_core::audit::{hash_bytes, ChainWalk};
use sesame_core::crypto::{account_id_for, audit_checkpoint_message, verify_signature};
use sesame_core::encoding::base64url_decode;

use crate::error::ServerError;
use crate::store::Store;

/// The result of walking the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// How many events were checked.
    pub events: u64,
    /// The first event that breaks the chain, and why.
    pub first_broken: Option<(u64, String)>,
    /// The `seq` of the newest signed checkpoint, when the chain agrees with it.
    pub signed_through: Option<u64>,
}

impl ChainReport {
    /// Whether the whole chain is intact.
    pub fn intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Walks the whole audit trail from the first event and reports the first broken one: a
/// gap in `seq`, a `prev_hash` that is not the previous `hash`, a `hash` that does not
/// match the event's fields; then a trail shorter than its persisted head or whose event
/// at the head is another one; then a newest signed checkpoint beyond the trail, not
/// matching it, or whose signature does not verify with the owner key.
///
/// # Errors
///
/// [`ServerError::Api`] when the store cannot be read.
pub async fn verify<S: Store>(store: &S) -> Result<ChainReport, ServerError> {
    const PAGE: u32 = 1000;
    // Read before the walk: the trail only grows, so a running server's new events are
    // after the head, never a false alarm.
    let head = store.audit_head().await?;
    let checkpoint = head.checkpoint.clone();
    let mut walk = ChainWalk::new();
    // The stored hashes at the persisted head and at the checkpoint, met on the way.
    let mut at_head = None;
    let mut at_checkpoint = None;
    loop {
        let page = store.events(walk.events(), PAGE).await?;
        let done = page.len() < PAGE as usize;
        for event in page {
            if let Err(why) = walk.push(&event) {
                return Ok(ChainReport {
                    events: walk.events(),
                    first_broken: Some((event.seq, why)),
                    signed_through: None,
                });
            }
            if event.seq == head.seq {
                at_head = Some(event.hash.clone());
            }
            if checkpoint.as_ref().is_some_and(|c| c.seq == event.seq) {
                at_checkpoint = Some(event.hash);
            }
        }
        if done {
            break;
        }
    }
    let events = walk.events();
    let broken = |seq: u64, why: String| ChainReport {
        events,
        first_broken: Some((seq, why)),
        signed_through: None,
    };
    if let Some(why) = head_mismatch(&head, events, at_head.as_deref()) {
        return Ok(broken(events + 1, why));
    }
    let Some(checkpoint) = checkpoint else {
        return Ok(ChainReport {
            events,
            first_broken: None,
            signed_through: None,
        });
    };
    if checkpoint.seq > events {
        return Ok(broken(
            events + 1,
            format!(
                "the owner signed a checkpoint at event {}, but only {events} events are \
                 stored: the newest events were deleted",
                checkpoint.seq
            ),
        ));
    }
    if at_checkpoint.as_deref() != Some(checkpoint.hash.as_str()) {
        return Ok(broken(
            checkpoint.seq,
            "it is not the event the owner signed a checkpoint of: the trail was rewritten \
             up to here"
                .into(),
        ));
    }
    if !checkpoint_signed_by_owner(store, &checkpoint).await? {
        return Ok(broken(
            checkpoint.seq,
            "the checkpoint signed at it does not verify with the account owner's key".into(),
        ));
    }
    Ok(ChainReport {
        events,
        first_broken: None,
        signed_through: Some(checkpoint.seq),
    })
}

/// Why the walked trail (`events` long, `stored_hash` at the head's seq) disagrees with
/// the persisted head, if it does.
fn head_mismatch(head: &AuditHead, events: u64, stored_hash: Option<&str>) -> Option<String> {
    if head.seq > events {
        return Some(format!(
            "the persisted head says the trail has {} events, but only {events} are stored: \
             the newest events were deleted",
            head.seq
        ));
    }
    if head.seq > 0 && stored_hash != Some(head.hash.as_str()) {
        return Some(format!(
            "event {} is not the one the persisted head recorded: the trail was rewritten",
            head.seq
        ));
    }
    None
}

/// Whether the checkpoint's signature verifies with the stored owner key, and that key
/// hashes to the stored account id. (A consistency check of the database only: whoever
/// can rewrite the database can replace both, which the owner's client would notice.)
async fn checkpoint_signed_by_owner<S: Store>(
    store: &S,
    checkpoint: &sesame_core::api::AuditCheckpoint,
) -> Result<bool, ServerError> {
    let Some(account) = store.account().await? else {
        return Ok(false);
    };
    let owner = store.owner().await?;
    let key = base64url_decode("owner key", &owner.signing_public_key)
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k).ok());
    let hash = hash_bytes(&checkpoint.hash);
    let signature = base64url_decode("checkpoint signature", &checkpoint.signature).ok();
    let (Some(key), Some(hash), Some(signature)) = (key, hash, signature) else {
        return Ok(false);
    };
    if account_id_for(&key) != account.id {
        return Ok(false);
    }
    let message = audit_checkpoint_message(&account.id, checkpoint.seq, &hash);
    Ok(verify_signature(&key, &message, &signature).is_ok())
}
