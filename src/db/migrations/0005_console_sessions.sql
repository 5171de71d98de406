-- Console sign-in: an API key exchanged for a session cookie. Only the token's SHA-256 is stored.
-- A session belongs to the key that opened it: revoking or deleting the key ends it (the lookup
-- joins api_keys on every request, so no cache can outlive a revocation).
CREATE TABLE console_sessions (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  token_hash  bytea NOT NULL,
  api_key_id  uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- A cookie is looked up by its hash before the tenant is known, as API keys are.
CREATE UNIQUE INDEX console_sessions_token ON console_sessions (token_hash);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_key ON console_sessions (api_key_id);

ALTER TABLE console_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON console_sessions TO sync_manager_app
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON console_sessions TO sync_manager_app;
