-- Sesame server schema (PostgreSQL): the SQLite schema with every SQLite migration up to
-- 0010 applied, in one step. The server stores ciphertext, wrapped keys, public keys, ids,
-- versions and permission bits only.
--
-- Encodings are SQLite's, so that both backends' code and the tests' SQL read the same
-- values: times are unix milliseconds (BIGINT), every number is a BIGINT, flags are 0 or
-- 1 (BIGINT), ciphertext is BYTEA. Ids are `TEXT COLLATE "C"`: ordered by their bytes as
-- SQLite orders them, whatever the database's default collation.

CREATE TABLE account (
    id             TEXT COLLATE "C" PRIMARY KEY,
    -- HMAC key of stateless sessions: empty once it moved to its own key file.
    session_secret BYTEA NOT NULL,
    created_at     BIGINT NOT NULL
);
-- A server serves one account: a second `init`, even one racing the first from another
-- replica, fails on this index.
CREATE UNIQUE INDEX account_only_one ON account ((true));

CREATE TABLE principals (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    account_id            TEXT COLLATE "C" NOT NULL REFERENCES account(id),
    name                  TEXT NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('owner', 'serviceAccount')),
    signing_public_key    TEXT NOT NULL,
    encryption_public_key TEXT NOT NULL,
    key_generation        BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT,
    revoked_at            BIGINT,
    -- The owner's Ed25519 signature (base64url) over the principal's certificate message
    -- (account, id, key generation, both public keys). Self-signed for the owner.
    certificate           TEXT NOT NULL,
    -- Whether it may create vaults (always 1 for the owner).
    can_create_vaults     BIGINT NOT NULL DEFAULT 0 CHECK (can_create_vaults IN (0, 1))
);

CREATE TABLE vaults (
    id                TEXT COLLATE "C" PRIMARY KEY,
    attributes        BYTEA NOT NULL,
    attribute_version BIGINT NOT NULL,
    -- Bumped (under the row's lock) by every item write: strictly increasing per vault.
    content_version   BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    -- Who created it. No foreign key: a revoked principal's vaults stay.
    created_by        TEXT COLLATE "C"
);

CREATE TABLE vault_access (
    vault_id        TEXT COLLATE "C" NOT NULL REFERENCES vaults(id) ON DELETE CASCADE,
    principal_id    TEXT COLLATE "C" NOT NULL REFERENCES principals(id),
    permissions     BIGINT NOT NULL,
    -- The vault key wrapped to the principal, as its wire JSON.
    wrapped_key     TEXT NOT NULL,
    -- Who wrapped the vault key to the member, and its Ed25519 signature (base64url) over
    -- the grant message (account, vault, member, member key generation, granter, wrapped
    -- key).
    granted_by      TEXT COLLATE "C" REFERENCES principals(id),
    grant_signature TEXT,
    PRIMARY KEY (vault_id, principal_id)
);
CREATE INDEX vault_access_by_principal ON vault_access(principal_id);

CREATE TABLE items (
    vault_id        TEXT COLLATE "C" NOT NULL REFERENCES vaults(id) ON DELETE CASCADE,
    id              TEXT COLLATE "C" NOT NULL,
    version         BIGINT NOT NULL,
    state           TEXT NOT NULL,
    content_version BIGINT NOT NULL,
    overview        BYTEA NOT NULL,
    details         BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    -- A tombstone: the ciphertext is gone, the id and content version stay for sync.
    deleted         BIGINT NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    PRIMARY KEY (vault_id, id)
);
CREATE INDEX items_by_content_version ON items(vault_id, content_version);

-- File blobs: the encrypted bytes live in files under <data-dir>/blobs/<vault>/<item>/<id>;
-- this table records which exist and whether the item's current version references them.
-- No foreign keys: rows must outlive their item or vault until the collector has deleted
-- the file on disk. state: 'uploaded', 'attached' or 'detached'.
CREATE TABLE file_blobs (
    id         TEXT COLLATE "C" PRIMARY KEY,
    vault_id   TEXT COLLATE "C" NOT NULL,
    item_id    TEXT COLLATE "C" NOT NULL,
    size       BIGINT NOT NULL,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX file_blobs_by_item ON file_blobs(vault_id, item_id);
CREATE INDEX file_blobs_by_state ON file_blobs(state, created_at);

-- The account's share policy (one row; absent until the owner sets one).
CREATE TABLE share_policy (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    policy TEXT NOT NULL
);

-- Share links. `item` and `files` become NULL once the share cannot be opened any more.
-- No foreign keys: the row is the share's history and outlives the item it snapshotted.
CREATE TABLE shares (
    id          TEXT COLLATE "C" PRIMARY KEY,
    vault_id    TEXT COLLATE "C" NOT NULL,
    item_id     TEXT COLLATE "C" NOT NULL,
    created_by  TEXT COLLATE "C" NOT NULL,
    access_hash BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    max_views   BIGINT,
    views       BIGINT NOT NULL DEFAULT 0,
    recipients  TEXT NOT NULL,
    has_files   BIGINT NOT NULL CHECK (has_files IN (0, 1)),
    item        BYTEA,
    files       BYTEA,
    revoked_at  BIGINT
);
CREATE INDEX shares_by_creator ON shares(created_by, created_at);
CREATE INDEX shares_by_item ON shares(vault_id, item_id);
CREATE INDEX shares_live_by_expiry ON shares(expires_at) WHERE item IS NOT NULL;

-- Per-principal rate limits set by the account owner (NULL: the server's default).
CREATE TABLE principal_rate_limits (
    principal_id TEXT COLLATE "C" PRIMARY KEY REFERENCES principals(id),
    reads        BIGINT CHECK (reads IS NULL OR reads > 0),
    writes       BIGINT CHECK (writes IS NULL OR writes > 0),
    updated_at   BIGINT NOT NULL
);

-- One-time codes of recipients (see the SQLite migration 0006_share_challenges.sql): MACs
-- only, never the code or the address.
CREATE TABLE share_challenges (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    share_id      TEXT COLLATE "C" NOT NULL,
    email_mac     BYTEA NOT NULL,
    code_mac      BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    attempts_left BIGINT NOT NULL
);
CREATE INDEX share_challenges_by_share ON share_challenges(share_id, created_at);
CREATE INDEX share_challenges_by_address ON share_challenges(share_id, email_mac, id);
CREATE INDEX share_challenges_by_time ON share_challenges(created_at);

-- Each signed auth assertion is accepted once: its (principal, nonce) stays until the
-- assertion leaves the clock-skew window (`expires_at`, unix seconds).
CREATE TABLE auth_nonces (
    principal_id TEXT COLLATE "C" NOT NULL,
    nonce        TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (principal_id, nonce)
);
CREATE INDEX auth_nonces_by_expiry ON auth_nonces(expires_at);

-- The audit trail, hash-chained. Appends serialize on the `audit_head` row (locked FOR
-- UPDATE until commit), so seqs are gapless and commit in order across replicas.
CREATE TABLE audit_events (
    seq                 BIGINT PRIMARY KEY,
    time                BIGINT NOT NULL,
    principal_id        TEXT COLLATE "C",
    action              TEXT NOT NULL,
    vault_id            TEXT COLLATE "C",
    item_id             TEXT COLLATE "C",
    outcome             TEXT NOT NULL,
    integration_name    TEXT NOT NULL,
    integration_version TEXT NOT NULL,
    prev_hash           TEXT NOT NULL,
    hash                TEXT NOT NULL
);

-- The newest event's seq and hash, moved by every append in the same transaction; new
-- events chain from it, so deleting the newest events is detected. Created here, so the
-- first append of a fresh database locks an existing row.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The owner's signed checkpoints of the head (Ed25519 by the owner key, base64url, over
-- "sesame/v1/audit-checkpoint" || account || seq (u64 BE) || hash (32 bytes)).
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       TEXT NOT NULL,
    signature  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The guards of the trail: the server never updates or deletes an event, moves the head
-- back or removes a checkpoint. The refusal's message is the trigger's argument. (The
-- table owner's role can drop them, as SQLite's file owner can: the hash chain and the
-- owner's checkpoints are what detect that.)
CREATE FUNCTION sesame_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION sesame_refuse('the audit trail is append-only');
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION sesame_refuse('the audit trail is append-only');
-- TRUNCATE fires no row triggers.
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION sesame_refuse('the audit trail is append-only');

CREATE TRIGGER audit_head_only_grows BEFORE UPDATE ON audit_head
    FOR EACH ROW WHEN (NEW.seq <= OLD.seq)
    EXECUTE FUNCTION sesame_refuse('the audit head only moves forward');
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION sesame_refuse('the audit head cannot be deleted');
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION sesame_refuse('the audit head cannot be deleted');

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION sesame_refuse('audit checkpoints are append-only');
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION sesame_refuse('audit checkpoints are append-only');
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION sesame_refuse('audit checkpoints are append-only');
