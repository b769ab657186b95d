//! The owner's check of the audit trail: the hash chain from the first event, the server's
//! persisted head, and checkpoints of the head signed with the owner key (which the
//! server never holds), so the server cannot cut the trail short below, or rewrite it up
//! to, a checkpoint unnoticed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;

use crate::api::{AuditCheckpoint, AuditHead, EventsPage};
use crate::audit::{hash_bytes, ChainWalk};
use crate::crypto::{account_id_for, audit_checkpoint_message, verify_signature};
use crate::encoding::base64url_encode;
use crate::model::AuditVerification;
use crate::Resource;
use crate::{Error, Result};

use super::transport::Retry;
use super::{Client, Inner};

/// Events per page while walking the trail (the server's largest page).
const PAGE: u32 = 1000;

impl Client {
    /// Checks the whole audit trail (the account owner only): reads every event from the
    /// first, checks the hash chain, checks that it reaches the server's persisted head,
    /// and checks the newest signed checkpoint the server holds and `known` (one this
    /// caller remembers, so that a server deleting checkpoints is noticed) against the
    /// owner key that the account id anchors, and the chain against them.
    ///
    /// Reading the trail is itself audited, so the trail grows by one event per page read.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] naming the event where the trail was cut short, rewritten or
    /// broken, or the checkpoint that does not verify; [`Error::PermissionDenied`] for a
    /// service account; network and server errors as for any call.
    pub async fn verify_events(
        &self,
        known: Option<&AuditCheckpoint>,
    ) -> Result<AuditVerification> {
        let owner_key = self.inner.owner_signing_key()?;
        let head: AuditHead = self
            .inner
            .call_json(
                Method::GET,
                "/v1/events/head",
                None::<&()>,
                Retry::Idempotent,
                Resource::Events,
            )
            .await?;
        let mut checkpoints = Vec::new();
        if let Some(checkpoint) = &head.checkpoint {
            self.inner
                .check_checkpoint(&owner_key, checkpoint, "the server's newest")?;
            checkpoints.push(checkpoint.clone());
        }
        if let Some(known) = known {
            self.inner
                .check_checkpoint(&owner_key, known, "the remembered")?;
            if head.checkpoint.as_ref().is_none_or(|c| c.seq < known.seq) {
                return Err(Error::integrity(format!(
                    "the server's newest audit checkpoint is {}, but the owner signed one at \
                     event {}: checkpoints were deleted from the server's database",
                    head.checkpoint
                        .as_ref()
                        .map_or("missing".to_owned(), |c| format!("at event {}", c.seq)),
                    known.seq
                )));
            }
            checkpoints.push(known.clone());
        }

        let mut walk = ChainWalk::new();
        // The stored hash of each event a checkpoint or the persisted head names.
        let mut seen = Vec::new();
        let wanted = |seq: u64| seq == head.seq || checkpoints.iter().any(|c| c.seq == seq);
        loop {
            let page: EventsPage = self.events(walk.events(), PAGE).await?;
            for event in &page.events {
                walk.push(event).map_err(|why| {
                    Error::integrity(format!(
                        "the audit trail's hash chain breaks at event {}: {why}",
                        event.seq
                    ))
                })?;
                if wanted(event.seq) {
                    seen.push((event.seq, event.hash.clone()));
                }
            }
            if page.next_cursor.is_none() {
                break;
            }
        }
        let events = walk.events();
        let stored = |seq: u64| seen.iter().find(|(s, _)| *s == seq).map(|(_, h)| h);
        for checkpoint in &checkpoints {
            if checkpoint.seq > events {
                return Err(Error::integrity(format!(
                    "the audit trail was cut short: the owner signed a checkpoint at event {}, \
                     but the server returns only {events} events",
                    checkpoint.seq
                )));
            }
            if stored(checkpoint.seq) != Some(&checkpoint.hash) {
                return Err(Error::integrity(format!(
                    "event {} is not the event the owner signed a checkpoint of: the audit \
                     trail was rewritten up to it",
                    checkpoint.seq
                )));
            }
        }
        if head.seq > events {
            return Err(Error::integrity(format!(
                "the audit trail was cut short: the server's persisted head is event {}, but \
                 it returns only {events} events",
                head.seq
            )));
        }
        if head.seq > 0 && stored(head.seq) != Some(&head.hash) {
            return Err(Error::integrity(format!(
                "event {} is not the one the server's persisted head records: the audit trail \
                 was rewritten",
                head.seq
            )));
        }
        let checkpoint = checkpoints.into_iter().max_by_key(|c| c.seq);
        let unsigned = events - checkpoint.as_ref().map_or(0, |c| c.seq);
        Ok(AuditVerification {
            events,
            head_hash: walk.head_hash().to_owned(),
            checkpoint,
            unsigned,
        })
    }

    /// Signs a checkpoint at the head that `verification` checked, with the owner key, and
    /// stores it on the server (the account owner only). Sign only what
    /// [`verify_events`](Self::verify_events) returned: the signature vouches that every
    /// event up to the head is genuine.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty trail; [`Error::PermissionDenied`] for a
    /// service account; what the server answers otherwise.
    pub async fn sign_events_checkpoint(
        &self,
        verification: &AuditVerification,
    ) -> Result<AuditCheckpoint> {
        self.inner.owner_signing_key()?;
        let hash = hash_bytes(&verification.head_hash)
            .filter(|_| verification.events > 0)
            .ok_or_else(|| {
                Error::invalid_input(
                    "verification",
                    "the audit trail is empty: there is no event to sign a checkpoint of",
                )
            })?;
        let message = audit_checkpoint_message(self.inner.account(), verification.events, &hash);
        let checkpoint = AuditCheckpoint {
            seq: verification.events,
            hash: verification.head_hash.clone(),
            signature: base64url_encode(self.inner.keys.sign(&message)),
        };
        self.inner
            .call_json(
                Method::POST,
                "/v1/events/checkpoints",
                Some(&checkpoint),
                Retry::Idempotent,
                Resource::Events,
            )
            .await
    }
}

impl Inner {
    /// The owner's signing key, which is this client's own: the account id is its
    /// fingerprint, so it is anchored without asking the server.
    fn owner_signing_key(&self) -> Result<[u8; 32]> {
        let key = self.keys.signing_public_key();
        if account_id_for(&key) == *self.account() {
            Ok(key)
        } else {
            Err(Error::PermissionDenied(
                "only the account owner checks and signs the audit trail; this is a service \
                 account token"
                    .into(),
            ))
        }
    }

    fn check_checkpoint(
        &self,
        owner_key: &[u8; 32],
        checkpoint: &AuditCheckpoint,
        which: &str,
    ) -> Result<()> {
        let signature = URL_SAFE_NO_PAD.decode(&checkpoint.signature).ok();
        let valid = hash_bytes(&checkpoint.hash)
            .zip(signature)
            .is_some_and(|(hash, signature)| {
                let message = audit_checkpoint_message(self.account(), checkpoint.seq, &hash);
                verify_signature(owner_key, &message, &signature).is_ok()
            });
        if valid {
            Ok(())
        } else {
            Err(Error::integrity(format!(
                "{which} audit checkpoint (event {}) is not signed by the account owner: it was \
                 forged or altered",
                checkpoint.seq
            )))
        }
    }
}
