-- File blobs: the encrypted bytes live in files under <data-dir>/blobs/<vault>/<item>/<id>;
-- this table records which exist and whether the item's current version references them.
-- No foreign keys: rows must outlive their item or vault until the collector has deleted
-- the file on disk.
--
-- state: 'uploaded' (complete on disk, not referenced by any item version yet),
--        'attached' (referenced by the item's current version),
--        'detached' (no longer referenced: the collector deletes it).
CREATE TABLE file_blobs (
    id          TEXT PRIMARY KEY,
    vault_id    TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    size        INTEGER NOT NULL,
    state       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX file_blobs_by_item ON file_blobs(vault_id, item_id);
CREATE INDEX file_blobs_by_state ON file_blobs(state, created_at);
