//! The audit trail: its events, the owner's signed checkpoints and what checking it found.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::Id;

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Position in the trail, from 1, without gaps.
    pub seq: u64,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "super::schema::Rfc3339"))]
    pub time: OffsetDateTime,
    /// Who acted (absent for failed authentications of unknown principals).
    pub principal_id: Option<Id>,
    /// What was done, e.g. `item.update`.
    pub action: String,
    /// The vault concerned.
    pub vault_id: Option<Id>,
    /// The item concerned.
    pub item_id: Option<Id>,
    /// `ok`, or the [`ErrorCode`](crate::ErrorCode) string of the failure.
    pub outcome: String,
    /// The caller's integration name.
    pub integration_name: String,
    /// The caller's integration version.
    pub integration_version: String,
    /// Hash of the previous event (hex SHA-256; 64 zeros for the first).
    pub prev_hash: String,
    /// Hash of this event (hex SHA-256), chaining it to `prev_hash`.
    pub hash: String,
}

/// A page of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventsPage {
    /// Events in order.
    pub events: Vec<AuditEvent>,
    /// The `after=` of the next page, if there may be more.
    pub next_cursor: Option<u64>,
}

/// The owner's signature over the audit trail's head at event `seq`: Ed25519 by the
/// owner key over [`audit_checkpoint_message`](crate::crypto::audit_checkpoint_message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditCheckpoint {
    /// The event signed for (the head when it was signed).
    pub seq: u64,
    /// That event's `hash` (64 hex digits).
    pub hash: String,
    /// Ed25519 signature, base64url (64 bytes).
    pub signature: String,
}

/// Where the server says the audit trail ends, and the newest checkpoint it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditHead {
    /// The `seq` of the newest event, as persisted beside the trail (0 when empty).
    pub seq: u64,
    /// Its `hash` ([`GENESIS_HASH`](crate::audit::GENESIS_HASH) when empty).
    pub hash: String,
    /// The checkpoint with the highest `seq`, if the owner signed any.
    pub checkpoint: Option<AuditCheckpoint>,
}

/// What [`Client::verify_events`](crate::Client::verify_events) established about the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditVerification {
    /// How many events were checked: the chain from the first event to event `events`
    /// is intact.
    pub events: u64,
    /// The `hash` of event `events` (the head that was checked).
    pub head_hash: String,
    /// The newest checkpoint whose owner signature verified and that the chain matches:
    /// every event up to its `seq` is the one the owner signed for.
    pub checkpoint: Option<AuditCheckpoint>,
    /// Events after `checkpoint` (all of them when there is none): chained, but not yet
    /// vouched for by a signature, so a server could still drop or rewrite them unnoticed.
    pub unsigned: u64,
}
