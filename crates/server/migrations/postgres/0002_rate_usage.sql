-- Request counts per principal and rate-limit window, summed over every replica (each
-- adds its own counts every 250 ms and reads the totals back). UNLOGGED: counts are
-- worth no WAL traffic, and losing them in a crash only resets a window's budgets.
CREATE UNLOGGED TABLE rate_usage (
    principal_id   TEXT NOT NULL,
    window_seconds BIGINT NOT NULL,
    window_number  BIGINT NOT NULL,
    reads          BIGINT NOT NULL,
    writes         BIGINT NOT NULL,
    PRIMARY KEY (principal_id, window_seconds, window_number)
);
