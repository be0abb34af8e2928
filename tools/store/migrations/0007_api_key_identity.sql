-- A key's name is its identity (thread owner, rate-limit bucket, approver): unique among the keys
-- that are not revoked. Earlier duplicates (two "operator-key"s) keep working under name-<id>.
UPDATE api_keys k SET name = k.name || '-' || k.id
 WHERE k.revoked_at IS NULL
   AND EXISTS (SELECT 1 FROM api_keys o WHERE o.name = k.name AND o.revoked_at IS NULL AND o.id < k.id);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
