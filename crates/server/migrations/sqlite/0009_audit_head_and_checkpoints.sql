-- Point 11 of issue 9: an audit trail the server cannot rewrite unnoticed.
--
-- `audit_head` persists the newest event's seq and hash beside the trail, updated in the
-- same transaction as every append; new events chain from it, not from whatever the
-- newest stored row is. So deleting the newest events leaves a head that no stored event
-- matches (and the next append leaves a gap), which `sesame server audit verify` reports.
-- Someone who can write the database can also rewrite this row: the defence against
-- that is `audit_checkpoints`, the owner's signatures (made by the owner's client, with a
-- key the server never holds) over the head at some event.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
SELECT 1,
       COALESCE((SELECT MAX(seq) FROM audit_events), 0),
       COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1),
                '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER audit_head_only_grows BEFORE UPDATE ON audit_head
WHEN NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'the audit head only moves forward');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head cannot be deleted');
END;

-- `signature` is Ed25519 by the owner key, base64url, over
-- "sesame/v1/audit-checkpoint" || account || seq (u64 BE) || hash (32 bytes)
-- (see crates/core/src/crypto/mod.rs). The server checks it and that event `seq` has
-- this `hash` before storing it.
CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY NOT NULL,
    hash       TEXT NOT NULL,
    signature  TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
