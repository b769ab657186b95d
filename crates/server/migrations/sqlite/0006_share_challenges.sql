-- Proof of a recipient's address for shares restricted to recipients: one row per code
-- request (`POST /v1/shares/{id}/challenge`) that passed the link's access check.
--
-- Neither the code nor the address is stored: `email_mac` and `code_mac` are
-- HMAC-SHA256 under a key derived from the account's secret, bound to the share (so the
-- six-digit code cannot be brute-forced offline from a copy of the database alone). A
-- request for an address that is not a recipient stores random bytes as `code_mac`, so
-- that every address behaves the same when it is opened (no recipient enumeration) and
-- no code can match it. `attempts_left` counts down on every wrong code; 0 voids the
-- code, as does its use and a newer request for the same address. Rows count against
-- the per-share request limit, and go once older than the longest limit window.
CREATE TABLE share_challenges (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    share_id       TEXT NOT NULL,
    email_mac      BLOB NOT NULL,
    code_mac       BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    attempts_left  INTEGER NOT NULL
);
CREATE INDEX share_challenges_by_share ON share_challenges(share_id, created_at);
CREATE INDEX share_challenges_by_address ON share_challenges(share_id, email_mac, id);
CREATE INDEX share_challenges_by_time ON share_challenges(created_at);
