-- Point 12 of issue 9: a signed auth assertion is accepted once.
--
-- Every accepted `POST /v1/auth` stores its (principal, nonce) until the assertion's
-- timestamp leaves the clock-skew window (`expires_at`, unix seconds); an assertion whose
-- nonce is here is a replay and is refused. Rows are only written for assertions whose
-- signature verified, so no one without a principal's key can grow the table, and
-- expired rows are pruned in the same transaction as every insert.
CREATE TABLE auth_nonces (
    principal_id TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (principal_id, nonce)
) WITHOUT ROWID;
CREATE INDEX auth_nonces_by_expiry ON auth_nonces(expires_at);
