-- Signed grants and principal certificates: the client checks every key the server serves
-- against the account owner's key, so the server stores the signatures that prove them.

-- The owner's Ed25519 signature (base64url) over the principal's certificate message
-- (account, id, key generation, both public keys). Self-signed for the owner.
ALTER TABLE principals ADD COLUMN certificate TEXT;

-- Who wrapped the vault key to the member, and its Ed25519 signature (base64url) over the
-- grant message (account, vault, member, member key generation, granter, wrapped key).
-- NULL only for grants made before this migration, which clients refuse to use.
ALTER TABLE vault_access ADD COLUMN granted_by TEXT REFERENCES principals(id);
ALTER TABLE vault_access ADD COLUMN grant_signature TEXT;
