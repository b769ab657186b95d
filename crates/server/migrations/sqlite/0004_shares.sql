-- Item sharing. The account's share policy (one row; absent until the owner sets one, the
-- default applies) and the share links. A share holds only ciphertext sealed with the
-- link's secret, which never reaches the server, plus the SHA-256 of the access token
-- derived from it: the server serves the ciphertext only to a holder of the link.
--
-- `item` and `files` become NULL once the share cannot be opened any more (revoked,
-- expired, out of views), so nothing outlives its usefulness. No foreign keys: the row
-- is the share's history (views, revocation) and outlives the item it snapshotted.
CREATE TABLE share_policy (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    policy  TEXT NOT NULL
);

CREATE TABLE shares (
    id           TEXT PRIMARY KEY,
    vault_id     TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    access_hash  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    max_views    INTEGER,
    views        INTEGER NOT NULL DEFAULT 0,
    recipients   TEXT NOT NULL,
    has_files    INTEGER NOT NULL,
    item         BLOB,
    files        BLOB,
    revoked_at   INTEGER
);
CREATE INDEX shares_by_creator ON shares(created_by, created_at);
CREATE INDEX shares_by_item ON shares(vault_id, item_id);
CREATE INDEX shares_live_by_expiry ON shares(expires_at) WHERE item IS NOT NULL;
