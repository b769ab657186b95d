-- Sesame server schema (SQLite). The server stores ciphertext, wrapped keys, public keys,
-- ids, versions and permission bits only. Times are unix milliseconds.

CREATE TABLE account (
    id             TEXT PRIMARY KEY NOT NULL,
    -- HMAC key of stateless sessions, shared by every replica.
    session_secret BLOB NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE principals (
    id                    TEXT PRIMARY KEY NOT NULL,
    account_id            TEXT NOT NULL REFERENCES account(id),
    name                  TEXT NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('owner', 'serviceAccount')),
    signing_public_key    TEXT NOT NULL,
    encryption_public_key TEXT NOT NULL,
    key_generation        INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER,
    revoked_at            INTEGER
);

CREATE TABLE vaults (
    id                TEXT PRIMARY KEY NOT NULL,
    attributes        BLOB NOT NULL,
    attribute_version INTEGER NOT NULL,
    content_version   INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE vault_access (
    vault_id     TEXT NOT NULL REFERENCES vaults(id) ON DELETE CASCADE,
    principal_id TEXT NOT NULL REFERENCES principals(id),
    permissions  INTEGER NOT NULL,
    -- The vault key wrapped to the principal, as its wire JSON.
    wrapped_key  TEXT NOT NULL,
    PRIMARY KEY (vault_id, principal_id)
);
CREATE INDEX vault_access_by_principal ON vault_access(principal_id);

CREATE TABLE items (
    vault_id        TEXT NOT NULL REFERENCES vaults(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    version         INTEGER NOT NULL,
    state           TEXT NOT NULL,
    content_version INTEGER NOT NULL,
    overview        BLOB NOT NULL,
    details         BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- A tombstone: the ciphertext is gone, the id and content version stay for sync.
    deleted         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vault_id, id)
);
CREATE INDEX items_by_content_version ON items(vault_id, content_version);

CREATE TABLE audit_events (
    seq                 INTEGER PRIMARY KEY NOT NULL,
    time                INTEGER NOT NULL,
    principal_id        TEXT,
    action              TEXT NOT NULL,
    vault_id            TEXT,
    item_id             TEXT,
    outcome             TEXT NOT NULL,
    integration_name    TEXT NOT NULL,
    integration_version TEXT NOT NULL,
    prev_hash           TEXT NOT NULL,
    hash                TEXT NOT NULL
);

-- The audit trail is append-only: the server never updates or deletes an event.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
