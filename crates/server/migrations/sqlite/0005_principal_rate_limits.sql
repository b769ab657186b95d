-- Per-principal rate limits set by the account owner. A NULL budget means the server's
-- default (rate_limit_reads / rate_limit_writes); a principal without a row uses both
-- defaults. The server loads this table into memory at start and updates its copy on
-- every change, so counting a request never reads it.
CREATE TABLE principal_rate_limits (
    principal_id TEXT PRIMARY KEY NOT NULL REFERENCES principals(id),
    reads        INTEGER CHECK (reads IS NULL OR reads > 0),
    writes       INTEGER CHECK (writes IS NULL OR writes > 0),
    updated_at   INTEGER NOT NULL
);
