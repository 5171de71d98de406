-- The whole product's schema, designed up front so later features extend it instead of reshaping it.
-- Every table carries tenant_id, leading in its keys and indexes. Row-level security is the second
-- wall behind the explicit tenant filters: request transactions run as sync_manager_app with
-- app.tenant_id set locally (see src/db/tenant-scope.ts).

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Platform admin keys are not a tenant's: they manage tenants. Kept apart from api_keys so that
-- the tenant tables hold tenant rows only.
CREATE TABLE platform_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key_hash     bytea NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE api_keys (
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  key_hash     bytea NOT NULL,
  hint         text NOT NULL,                -- the first characters, to recognise a key in listings
  scopes       text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (id)
);
-- Authentication looks a key up by its hash before the tenant is known.
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

CREATE TABLE collections (
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  name             text NOT NULL,
  id_field         text NOT NULL DEFAULT 'id',
  delete_policy    text NOT NULL DEFAULT 'delete' CHECK (delete_policy IN ('delete', 'keep')),
  conflict_policy  text NOT NULL DEFAULT 'keep-manual' CHECK (conflict_policy IN ('keep-manual', 'take-source')),
  max_delete_ratio double precision NOT NULL DEFAULT 0.5 CHECK (max_delete_ratio >= 0 AND max_delete_ratio <= 1),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);

-- A change is one event that wrote records: a sync run, one API call, a restore. Its id comes from
-- one global sequence, so "every change before X" is a number comparison; snapshots are such numbers.
CREATE SEQUENCE change_seq;
CREATE TABLE changes (
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           bigint NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  kind         text NOT NULL CHECK (kind IN ('api', 'sync', 'restore')),
  api_key_id   uuid,
  sync_run_id  uuid,
  snapshot_id  uuid,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX changes_at ON changes (tenant_id, at);

-- The current state of each record. Past states live in record_versions (copied there by a trigger
-- whenever a row's change_id moves), so a first import writes each record once.
CREATE TABLE records (
  tenant_id      uuid NOT NULL,
  collection_id  bigint NOT NULL,
  record_id      text NOT NULL,
  source         jsonb,                        -- last value from the feed; NULL = made by hand
  source_hash    text,                         -- hash of the feed's text for this record
  upstream_gone  boolean NOT NULL DEFAULT false, -- missing from the last full feed
  overrides      jsonb NOT NULL DEFAULT '{}',  -- JSON Pointer -> { value | removed, by, at, sourceValue }
  manual_delete  jsonb,                        -- { by, at } when deleted by hand (an override too)
  data           jsonb,                        -- effective value; NULL = deleted
  version        integer NOT NULL DEFAULT 1,
  change_id      bigint NOT NULL,              -- the change that made this version
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, collection_id, record_id),
  FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE
);

-- Closed versions: valid for changes in [valid_from, valid_to). The current version is the records row.
CREATE TABLE record_versions (
  tenant_id      uuid NOT NULL,
  collection_id  bigint NOT NULL,
  record_id      text NOT NULL,
  version        integer NOT NULL,
  valid_from     bigint NOT NULL,
  valid_to       bigint NOT NULL,
  source         jsonb,
  source_hash    text,
  upstream_gone  boolean NOT NULL,
  overrides      jsonb NOT NULL,
  manual_delete  jsonb,
  data           jsonb,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, collection_id, record_id, version),
  FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX record_versions_valid_to ON record_versions (tenant_id, collection_id, valid_to);

-- Set-based history: one INSERT … SELECT per statement, not a row trigger, so a sync that updates
-- 10k rows copies them in one pass. A row whose change_id did not move was not a new version.
CREATE FUNCTION records_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO record_versions (tenant_id, collection_id, record_id, version, valid_from, valid_to, source,
      source_hash, upstream_gone, overrides, manual_delete, data, updated_at)
    SELECT o.tenant_id, o.collection_id, o.record_id, o.version, o.change_id, GREATEST(n.change_id, o.change_id),
      o.source, o.source_hash, o.upstream_gone, o.overrides, o.manual_delete, o.data, o.updated_at
    FROM old_rows o JOIN new_rows n USING (tenant_id, collection_id, record_id)
    WHERE n.change_id <> o.change_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER records_history AFTER UPDATE ON records
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION records_keep_history();

CREATE TABLE sync_runs (
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  collection_id   bigint NOT NULL,
  mode            text NOT NULL CHECK (mode IN ('full', 'partial')),
  dry_run         boolean NOT NULL DEFAULT false,
  forced          boolean NOT NULL DEFAULT false,
  status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'planned')),
  counts          jsonb NOT NULL DEFAULT '{}',
  errors          jsonb NOT NULL DEFAULT '[]',
  timings         jsonb NOT NULL DEFAULT '{}',
  snapshot_id     uuid,
  change_id       bigint,
  origin          jsonb NOT NULL DEFAULT '{}',  -- { kind: api|cli|auto-import|schedule, apiKeyId?, file?, url? }
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (id),
  FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sync_runs_collection ON sync_runs (tenant_id, collection_id, started_at DESC);
CREATE INDEX sync_runs_running ON sync_runs (status) WHERE status = 'running';

CREATE TABLE conflicts (
  tenant_id      uuid NOT NULL,
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  collection_id  bigint NOT NULL,
  record_id      text NOT NULL,
  path           text NOT NULL,
  manual_value   jsonb,
  source_value   jsonb,
  previous_source_value jsonb,
  status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  resolution     text CHECK (resolution IN ('keep-manual', 'take-source')),
  sync_run_id    uuid,
  created_at     timestamptz NOT NULL DEFAULT now(),
  resolved_at    timestamptz,
  resolved_by    uuid,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (id),
  FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conflicts_open ON conflicts (tenant_id, collection_id, record_id) WHERE status = 'open';

CREATE TABLE snapshots (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  change_id   bigint NOT NULL,   -- the snapshot sees every change with a smaller id
  label       text,
  auto        boolean NOT NULL DEFAULT false,
  pinned      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (id)
);
CREATE INDEX snapshots_created ON snapshots (tenant_id, created_at DESC);

CREATE TABLE idempotency_keys (
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  key           text NOT NULL,
  scope         text NOT NULL,   -- e.g. 'sync:<collectionId>'
  request_hash  text NOT NULL,
  status_code   integer,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scope, key)
);

-- Row-level security: the second wall. The policy compares with the transaction's app.tenant_id;
-- '' (what a reused session reports once it was set) means no tenant, so nothing is visible.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sync_manager_app') THEN
    CREATE ROLE sync_manager_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
  -- The user that runs the server must be able to switch to the role (a superuser always can).
  IF NOT pg_has_role(current_user, 'sync_manager_app', 'MEMBER') THEN
    EXECUTE format('GRANT sync_manager_app TO %I', current_user);
  END IF;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'api_keys', 'collections', 'changes', 'records', 'record_versions',
    'sync_runs', 'conflicts', 'snapshots', 'idempotency_keys']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO sync_manager_app USING (%I = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
      t, CASE WHEN t = 'tenants' THEN 'id' ELSE 'tenant_id' END);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO sync_manager_app', t);
  END LOOP;
END $$;
GRANT USAGE ON SEQUENCE change_seq TO sync_manager_app;
