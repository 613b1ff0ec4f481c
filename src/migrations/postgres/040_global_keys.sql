-- Global admin keys (issue 13) are stored under the reserved organization '*', which has no
-- row in orgs: the key table no longer references orgs. Organizations are never deleted, so
-- the cascade this drops was never used.
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_org_id_fkey;
