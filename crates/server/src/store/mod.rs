//! Storage behind one trait, shaped by the domain (vaults, grants, items, the audit
//! trail), not by SQL, so that another backend (PostgreSQL) drops in beside
//! [`SqliteStore`](sqlite::SqliteStore).
//!
//! Every method that changes data takes the [`EventRecord`] describing the request and
//! appends it to the audit trail in the same transaction as the change: either both are
//! stored or neither. Reads are recorded with [`Store::append_event`] after they succeed.

use std::future::Future;

use sesame_core::api::{
    AccountVaultRecord, AuditEvent, Ciphertext, ItemChanges, ItemCreateRequest, ItemRecord,
    ItemUpdateRequest, Principal, PrincipalKind, RateLimitSettings, ServiceAccountRights,
    VaultAccessRecord, VaultCreateRequest, VaultGrant, VaultRecord,
};
// Point 11 (issue 9).
use sesame_core::api::{AuditCheckpoint, AuditHead};
use sesame_core::crypto::WrappedVaultKey;
use sesame_core::id::Id;
use sesame_core::model::{ItemShare, ItemShareAccountPolicy, ValidRecipient};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::ApiError;

pub(crate) mod group_commit;
pub mod postgres;
mod rows;
pub mod sqlite;

pub(crate) use group_commit::GroupCommit;

/// The result of a store operation.
pub type StoreResult<T> = Result<T, ApiError>;

/// The account this server serves.
pub struct AccountRecord {
    /// Its id.
    pub id: Id,
    /// The 32-byte HMAC key of sessions as the database holds it: empty since it lives in
    /// its own key file (see `SECURITY.md`, point 5); databases made before keep it here
    /// until the next start moves it out.
    pub session_secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecord")
            .field("id", &self.id)
            .field("session_secret", &"[redacted]")
            .finish()
    }
}

/// A principal to create.
#[derive(Debug, Clone)]
pub struct NewPrincipal {
    /// Its id (from its token).
    pub id: Id,
    /// Its name for people.
    pub name: String,
    /// Owner or service account.
    pub kind: PrincipalKind,
    /// Ed25519 public key, base64url.
    pub signing_public_key: String,
    /// X25519 public key, base64url.
    pub encryption_public_key: String,
    /// When its token stops working.
    pub expires_at: Option<OffsetDateTime>,
    /// The owner's certificate of its keys at key generation 1, base64url (checked by the
    /// caller of the store).
    pub certificate: String,
    /// Whether it may create vaults (stored as true for the owner whatever this says).
    pub can_create_vaults: bool,
}

/// An audit event before the store gives it a sequence number, a time and its hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventRecord {
    /// Who acted, when known.
    pub principal_id: Option<Id>,
    /// What was done, e.g. `item.update`.
    pub action: String,
    /// The vault concerned.
    pub vault_id: Option<Id>,
    /// The item concerned.
    pub item_id: Option<Id>,
    /// `ok` or an error code.
    pub outcome: String,
    /// The caller's integration name.
    pub integration_name: String,
    /// The caller's integration version.
    pub integration_version: String,
    /// Permission bits `principal_id` must hold on `vault_id` for the change to commit
    /// (0: none). Not stored: the store checks them inside the change's own transaction
    /// with [`check_grant`], so a grant revoked or lowered after the route's early check
    /// cannot let one more write through.
    pub requires: u32,
}

/// The outcome of a permission check: no grant at all is the same `404` as a vault that
/// does not exist (a principal cannot probe for vaults it is not a member of); a grant
/// without the bits is `403`. `granted` is the principal's permissions on `vault`, if any.
///
/// # Errors
///
/// `not_found` or `permission_denied` as above.
pub fn check_grant(granted: Option<u32>, vault: &Id, required: u32) -> StoreResult<u32> {
    let granted = granted.ok_or_else(|| ApiError::vault_not_found(vault))?;
    if sesame_core::model::permissions::has(granted, required) {
        Ok(granted)
    } else {
        Err(ApiError::forbidden(format!(
            "this principal lacks {} on vault {vault}",
            sesame_core::model::permissions::names(required & !granted).join(" and ")
        )))
    }
}

/// Where a file blob belongs: its file id, item and vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobKey {
    /// The vault of the item.
    pub vault: Id,
    /// The item the file was uploaded for.
    pub item: Id,
    /// The file id (unique across the server).
    pub file: Id,
}

/// Where a file blob is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// Completely on disk; no item version references it yet.
    Uploaded,
    /// Referenced by its item's current version.
    Attached,
    /// No longer referenced: the collector deletes it.
    Detached,
}

/// What the store knows of one file blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRecord {
    /// Where it belongs.
    pub key: BlobKey,
    /// Its size on disk (ciphertext bytes).
    pub size: u64,
    /// Its state.
    pub state: BlobState,
}

/// A share link to store.
#[derive(Debug, Clone)]
pub struct NewShare {
    /// Its id (chosen by the client).
    pub id: Id,
    /// The shared item's vault.
    pub vault: Id,
    /// The shared item.
    pub item: Id,
    /// Its creator.
    pub created_by: Id,
    /// SHA-256 of the link's access token.
    pub access_hash: [u8; 32],
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// How many views it allows (`None`: unlimited).
    pub max_views: Option<u32>,
    /// Who may open it (empty: anyone holding the link).
    pub recipients: Vec<ValidRecipient>,
    /// The sealed item snapshot.
    pub item_ciphertext: Vec<u8>,
    /// The sealed files, if any.
    pub files_ciphertext: Option<Vec<u8>>,
}

/// Why a share cannot be opened any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareGone {
    /// Its creator or the owner revoked it (or its item, vault or creator is gone).
    Revoked,
    /// It expired.
    Expired(OffsetDateTime),
    /// It was viewed as many times as it allows.
    Exhausted(u32),
}

/// The outcome of opening a share.
#[derive(Debug, Clone)]
pub enum ShareOpening {
    /// No share with this id and access hash.
    NotFound,
    /// It exists but can no longer be opened.
    Gone(ShareGone),
    /// It is restricted to recipients and the proof was missing or refused (recorded).
    Refused(CodeRefusal),
    /// One view was counted; here is the ciphertext.
    Opened {
        /// The share as it is after this view.
        share: ItemShare,
        /// The sealed item snapshot.
        item: Vec<u8>,
        /// The sealed files.
        files: Option<Vec<u8>>,
    },
}

/// A recipient's request for a one-time code, to record (see `0006_share_challenges.sql`).
/// `Debug` shows no address or MAC.
#[derive(Clone)]
pub struct ShareChallenge {
    /// The share.
    pub share: Id,
    /// SHA-256 of the access token presented.
    pub access_hash: [u8; 32],
    /// The visitor's address, lowercased: matched against the share's recipients, never
    /// stored.
    pub email: String,
    /// The keyed MAC of the address (what is stored).
    pub email_mac: [u8; 32],
    /// The keyed MAC of the code to mail, stored when the address is a recipient.
    pub code_mac: [u8; 32],
    /// Random bytes, stored instead of `code_mac` when the address is not a recipient.
    pub decoy_mac: [u8; 32],
    /// Now, on the server's clock.
    pub now: OffsetDateTime,
    /// When the code stops working.
    pub expires_at: OffsetDateTime,
    /// Wrong tries before the code is void.
    pub attempts: u32,
    /// At most `.1` requests per share in any `.0` seconds.
    pub limits: Vec<(i64, u32)>,
}

impl std::fmt::Debug for ShareChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareChallenge")
            .field("share", &self.share)
            .field("now", &self.now)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What became of a [`ShareChallenge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeOutcome {
    /// No share with this id and access hash.
    NotFound,
    /// It exists but can no longer be opened.
    Gone(ShareGone),
    /// The share is not restricted to recipients (nothing recorded).
    NotRestricted,
    /// Too many requests for this share; retry after this many seconds.
    RateLimited(u64),
    /// Recorded; `recipient` says whether the code is to be mailed.
    Recorded {
        /// Whether the address is a recipient.
        recipient: bool,
    },
}

/// A visitor's proof of being a recipient, presented when opening a share. `Debug`
/// shows none of it.
#[derive(Clone)]
pub struct CodeProof {
    /// The visitor's address, lowercased.
    pub email: String,
    /// The keyed MAC of the address.
    pub email_mac: [u8; 32],
    /// The keyed MAC of the code presented.
    pub code_mac: [u8; 32],
}

impl std::fmt::Debug for CodeProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeProof([redacted])")
    }
}

/// Why a code did not open a share restricted to recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// The share needs a code and none was presented.
    Missing,
    /// No code was requested for this address (or it is too old to be kept).
    NoneSent,
    /// The code was used, voided by wrong tries or replaced by a newer one.
    Used,
    /// The code expired.
    Expired,
    /// The code is wrong; this many tries are left (0: it is now void).
    Wrong(u32),
}

/// The persistent state of a Sesame server.
///
/// Errors are [`ApiError`]s: `not_found`, `conflict`, `invalid_input`,
/// `permission_denied` for domain failures, `server` for storage failures.
pub trait Store: Send + Sync + 'static {
    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Closes the connections, waiting for those in use to be returned.
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// The account, if the server was initialized.
    fn account(&self) -> impl Future<Output = StoreResult<Option<AccountRecord>>> + Send;

    /// Creates the account, its session secret and its owner; `conflict` if an account
    /// exists already.
    fn initialize(
        &self,
        account: &Id,
        session_secret: &[u8],
        owner: &NewPrincipal,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// One principal, revoked or not.
    fn principal(&self, id: &Id) -> impl Future<Output = StoreResult<Option<Principal>>> + Send;

    /// The account owner.
    fn owner(&self) -> impl Future<Output = StoreResult<Principal>> + Send;

    /// Every principal, oldest first.
    fn principals(&self) -> impl Future<Output = StoreResult<Vec<Principal>>> + Send;

    /// Creates a service account with its grants (signed by `caller`, who must manage
    /// every granted vault).
    fn create_principal(
        &self,
        caller: &Id,
        new: &NewPrincipal,
        grants: &[VaultGrant],
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<Principal>> + Send;

    /// Replaces a principal's keys, certificate and grants (signed by `caller`) and bumps
    /// its key generation to `new_generation` (ending its sessions; `conflict` if that is
    /// not the current generation plus one). A grant may only keep or lower permissions
    /// unless `caller` manages the vault; vaults left out lose the principal.
    #[allow(clippy::too_many_arguments)]
    fn rotate_principal(
        &self,
        caller: &Id,
        id: &Id,
        new_generation: u32,
        signing_public_key: &str,
        encryption_public_key: &str,
        certificate: &str,
        grants: &[VaultGrant],
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<Principal>> + Send;

    /// Revokes a service account: its sessions end and its grants are removed.
    fn revoke_principal(
        &self,
        id: &Id,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Adds one replica's new request counts (principal, reads, writes) in rate-limit
    /// window number `window` (of `window_seconds`) to the database's, and returns each
    /// principal's totals in that window across every replica, in the order of `counts`.
    /// `None`: this database is served by one process only, so there is nothing to share
    /// (the default, for SQLite). Older windows may be pruned.
    fn add_rate_usage(
        &self,
        window: u64,
        window_seconds: u64,
        counts: &[(Id, u64, u64)],
    ) -> impl Future<Output = StoreResult<Option<Vec<(u64, u64)>>>> + Send {
        let _ = (window, window_seconds, counts);
        async { Ok(None) }
    }

    /// Every principal's own rate limits (those with at least one budget set).
    fn rate_limits(&self)
        -> impl Future<Output = StoreResult<Vec<(Id, RateLimitSettings)>>> + Send;

    /// Sets a service account's own rate limits, or removes them when both budgets are
    /// `None`: `not_found` for an unknown principal, `invalid_input` for the owner or a
    /// revoked principal. Budgets are checked by the caller.
    fn set_rate_limits(
        &self,
        principal: &Id,
        settings: &RateLimitSettings,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The permissions of `principal` on `vault`, if it has a grant.
    fn permissions(
        &self,
        vault: &Id,
        principal: &Id,
    ) -> impl Future<Output = StoreResult<Option<u32>>> + Send;

    /// Creates a vault, granting `permissions` to its creator (the grant signed by it).
    fn create_vault(
        &self,
        creator: &Id,
        request: &VaultCreateRequest,
        permissions: u32,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<VaultRecord>> + Send;

    /// A vault as `principal` sees it, if it has a grant.
    fn vault(
        &self,
        vault: &Id,
        principal: &Id,
    ) -> impl Future<Output = StoreResult<Option<VaultRecord>>> + Send;

    /// Every vault `principal` has a grant on.
    fn vaults(&self, principal: &Id) -> impl Future<Output = StoreResult<Vec<VaultRecord>>> + Send;

    /// Replaces the vault attributes if `expected_attribute_version` is current
    /// (`conflict` otherwise).
    fn update_vault(
        &self,
        vault: &Id,
        principal: &Id,
        expected_attribute_version: u64,
        attributes: &Ciphertext,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<VaultRecord>> + Send;

    /// Deletes a vault with its items and grants; their blobs become detached.
    fn delete_vault(
        &self,
        vault: &Id,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Every member of a vault.
    fn vault_members(
        &self,
        vault: &Id,
    ) -> impl Future<Output = StoreResult<Vec<VaultAccessRecord>>> + Send;

    /// Grants or changes a principal's permissions on a vault (a new member needs
    /// `wrapped_key`, with `granter`'s signature of it).
    #[allow(clippy::too_many_arguments)]
    fn grant(
        &self,
        vault: &Id,
        principal: &Id,
        permissions: u32,
        granter: &Id,
        wrapped_key: Option<(&WrappedVaultKey, &str)>,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<VaultAccessRecord>> + Send;

    /// Removes a principal's grant on a vault.
    fn revoke_grant(
        &self,
        vault: &Id,
        principal: &Id,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Creates an item at version 1, bumping the vault content version; the blobs of
    /// `request.files` become attached (`invalid_input` if one is not uploaded for it).
    fn create_item(
        &self,
        vault: &Id,
        request: &ItemCreateRequest,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<ItemRecord>> + Send;

    /// A live (not deleted) item with its details.
    fn item(
        &self,
        vault: &Id,
        item: &Id,
    ) -> impl Future<Output = StoreResult<Option<ItemRecord>>> + Send;

    /// Live items with details, in the order of `ids` (`None` for a missing one).
    fn items(
        &self,
        vault: &Id,
        ids: &[Id],
    ) -> impl Future<Output = StoreResult<Vec<Option<ItemRecord>>>> + Send;

    /// Compare-and-set of an item: succeeds only if its version is still
    /// `request.expected_version` (`conflict` otherwise); a state change needs
    /// `may_change_state` (`permission_denied` otherwise). In the same transaction the blobs
    /// of `request.files` become attached (`invalid_input`, nothing changed, if one is not
    /// uploaded for this item) and its other attached blobs detached.
    fn put_item(
        &self,
        vault: &Id,
        item: &Id,
        request: &ItemUpdateRequest,
        may_change_state: bool,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<ItemRecord>> + Send;

    /// Deletes an item, leaving a tombstone; its blobs become detached.
    fn delete_item(
        &self,
        vault: &Id,
        item: &Id,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Items and tombstones changed after content version `since`.
    fn changes_since(
        &self,
        vault: &Id,
        since: u64,
        details: bool,
    ) -> impl Future<Output = StoreResult<ItemChanges>> + Send;

    /// The blob of a file id, in any state.
    fn blob(&self, file: &Id) -> impl Future<Output = StoreResult<Option<BlobRecord>>> + Send;

    /// Records a blob completely written to disk as [`BlobState::Uploaded`], or replaces
    /// the record of an earlier upload of the same id for the same item that is still
    /// uploaded; `conflict` when the id is attached, detached or belongs to another item.
    fn add_blob(
        &self,
        key: &BlobKey,
        size: u64,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Blobs to delete: every detached one, and uploaded ones recorded before
    /// `uploaded_before`.
    fn blob_garbage(
        &self,
        uploaded_before: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Vec<BlobKey>>> + Send;

    /// Forgets a blob that is not attached, returning whether it did: only then may its
    /// file be deleted (an item write may have attached it since it was listed).
    fn forget_blob(&self, key: &BlobKey) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The account's share policy: the owner's, or the default.
    fn share_policy(&self) -> impl Future<Output = StoreResult<ItemShareAccountPolicy>> + Send;

    /// Replaces the account's share policy (checked by the caller).
    fn set_share_policy(
        &self,
        policy: &ItemShareAccountPolicy,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Stores a share of a live item (`not_found` if the item is gone; `conflict` if the
    /// id is taken). Also drops the ciphertext of shares that expired before its
    /// `created_at`.
    fn create_share(
        &self,
        share: &NewShare,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<ItemShare>> + Send;

    /// One share, in any state.
    fn share(&self, id: &Id) -> impl Future<Output = StoreResult<Option<ItemShare>>> + Send;

    /// The shares `creator` made, newest first.
    fn shares_by(&self, creator: &Id) -> impl Future<Output = StoreResult<Vec<ItemShare>>> + Send;

    /// Revokes a share and drops its ciphertext (idempotent).
    fn revoke_share(
        &self,
        id: &Id,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Counts one view of the share `id` if `access_hash` matches, it can still be
    /// opened at `now` and, when it is restricted to recipients, `proof` holds a live
    /// code of an address it admits (which the view uses up; a wrong code costs a try),
    /// in one transaction with `event` (whose outcome the store sets); drops the
    /// ciphertext when that was its last view or it is gone.
    fn open_share(
        &self,
        id: &Id,
        access_hash: &[u8; 32],
        proof: Option<&CodeProof>,
        now: OffsetDateTime,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<ShareOpening>> + Send;

    /// Records a request for a one-time code if the access hash matches, the share can
    /// still be opened, is restricted to recipients and is under its request limits, in
    /// one transaction with `event` (whose outcome the store sets: `ok` for a recipient,
    /// `permission_denied` for another address). A newer code voids the address's older
    /// ones.
    fn challenge_share(
        &self,
        challenge: &ShareChallenge,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<ChallengeOutcome>> + Send;

    /// Appends an event on its own (reads and failures). Events that require no
    /// permission are group-committed: concurrent calls share one durable commit, and
    /// each returns once its own event is on disk (or fails with the whole group).
    fn append_event(&self, event: &EventRecord) -> impl Future<Output = StoreResult<()>> + Send;

    /// Events with `seq > after`, at most `limit`, in order.
    fn events(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<AuditEvent>>> + Send;

    // Point 11 (issue 9): the persisted audit head and the owner's signed checkpoints.

    /// The persisted head of the audit trail (the newest event's `seq` and `hash`, kept
    /// beside the trail by every append) and the checkpoint with the highest `seq`.
    fn audit_head(&self) -> impl Future<Output = StoreResult<AuditHead>> + Send;

    /// Stores `checkpoint` (its signature checked by the caller) in one transaction with
    /// `event`, if event `checkpoint.seq` exists with `checkpoint.hash`; `false` (nothing
    /// stored) otherwise. Storing a checkpoint already stored changes nothing.
    fn add_audit_checkpoint(
        &self,
        checkpoint: &AuditCheckpoint,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    // Point 12 (issue 9): each signed auth assertion is accepted once.

    /// Records that `principal` used `nonce` in an assertion that stays acceptable until
    /// `expires_at` (unix seconds), in one transaction with `event`, and prunes nonces
    /// expired at `now`. `false` (nothing stored) when the nonce was already used: a replay.
    fn use_auth_nonce(
        &self,
        principal: &Id,
        nonce: &str,
        expires_at: u64,
        now: u64,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    // Vault rights (issue 9, points 2 to 4).

    /// Sets a service account's rights: `not_found` for an unknown principal,
    /// `invalid_input` for the owner (which always has every right) or a revoked one.
    fn set_principal_rights(
        &self,
        id: &Id,
        rights: &ServiceAccountRights,
        event: &EventRecord,
    ) -> impl Future<Output = StoreResult<Principal>> + Send;

    /// Every vault of the account, oldest first, whether or not `member` has a grant on
    /// it (for the owner: vaults it cannot read stay listed and deletable).
    fn account_vaults(
        &self,
        member: &Id,
    ) -> impl Future<Output = StoreResult<Vec<AccountVaultRecord>>> + Send;

    // Point 5 (server-floods): the session key lives in its own file.
    /// Blanks the session secret of the account row (after it was moved to the key file),
    /// overwriting the freed bytes.
    fn clear_session_secret(&self) -> impl Future<Output = StoreResult<()>> + Send;
}
