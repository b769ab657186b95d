-- Vault rights (issue 9, points 2 and 4).
--
-- Creating vaults is a right the owner grants. The owner always has it; service accounts
-- made before this migration get it off (the owner can give it back with
-- `sesame service-account rights NAME --can-create-vaults true`).
ALTER TABLE principals ADD COLUMN can_create_vaults INTEGER NOT NULL DEFAULT 0;
UPDATE principals SET can_create_vaults = 1 WHERE kind = 'owner';

-- Who created each vault, so that the owner is told whose vault it cannot read. No foreign
-- key to principals: a revoked principal's vaults stay (the owner lists and deletes them).
-- For vaults made before this migration the creator is the member whose grant it signed
-- itself (the creator's grant); NULL when that grant is gone.
ALTER TABLE vaults ADD COLUMN created_by TEXT;
UPDATE vaults SET created_by = (
    SELECT a.principal_id FROM vault_access a
    WHERE a.vault_id = vaults.id AND a.granted_by = a.principal_id
    ORDER BY a.principal_id LIMIT 1
);

-- REVEAL_ITEM_PASSWORD (16) is now required with READ_ITEMS (32): Sesame cannot withhold
-- concealed values from a reader. Grants made before already revealed them (the bit was
-- ignored), so setting it states what they could do; nothing gains access.
UPDATE vault_access SET permissions = permissions | 16 WHERE permissions & 32 != 0;
