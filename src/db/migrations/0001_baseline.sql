-- The schema: tables, indexes, row-level security and the history trigger. The functions that
-- request paths call live in ../functions.sql, re-applied whenever that file changes.
-- Every table carries tenant_id. Row-level security is the second wall behind the explicit tenant
-- filters: request transactions run as sync_manager_app with app.tenant_id set locally
-- (src/db/tenant-scope.ts).

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Platform admin keys manage tenants and belong to none, so they are kept apart from api_keys.
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
-- Recovering an interrupted sync run asks whether it wrote its change before its process died.
CREATE INDEX changes_sync_run ON changes (tenant_id, sync_run_id) WHERE sync_run_id IS NOT NULL;

-- `data` is the effective value; NULL means deleted, and the jsonb scalar `true` means "the source
-- value" (a record without overrides keeps its document once), which effective_value() resolves.
CREATE FUNCTION effective_value(data jsonb, source jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN data = 'true'::jsonb THEN source ELSE data END $$;

-- The current state of each record. Past states live in record_versions (copied there by a trigger
-- whenever a row's change_id moves), so a first import writes each record once. Record ids compare
-- byte-wise (COLLATE "C"): cheaper than a libc collation, and still code point order.
-- No foreign key to collections: a referential check per written row is a large share of a bulk
-- import, and CollectionService.delete removes a collection's records and versions itself.
-- The keys leave out tenant_id: a collection id is unique across tenants, and every query still
-- names tenant_id (row-level security filters on it). See docs/performance.md.
CREATE TABLE records (
  tenant_id      uuid NOT NULL,
  collection_id  bigint NOT NULL,
  record_id      text COLLATE "C" NOT NULL,
  source         jsonb,                        -- last value from the feed; NULL = made by hand
  source_hash    text,                         -- hash of the feed's text for this record
  upstream_gone  boolean NOT NULL DEFAULT false, -- missing from the last full feed
  overrides      jsonb NOT NULL DEFAULT '{}',  -- JSON Pointer -> { value | removed, by, at, sourceValue }
  manual_delete  jsonb,                        -- { by, at } when deleted by hand (an override too)
  data           jsonb DEFAULT 'true'::jsonb,  -- effective value (see effective_value); NULL = deleted
  version        integer NOT NULL DEFAULT 1,
  change_id      bigint NOT NULL,              -- the change that made this version
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT records_pkey PRIMARY KEY (collection_id, record_id)
);
-- Restore and diff read only the records written since a snapshot: a range scan on change_id.
CREATE INDEX records_change ON records (collection_id, change_id);

-- Closed versions: valid for changes in [valid_from, valid_to). The current version is the records row.
CREATE TABLE record_versions (
  tenant_id      uuid NOT NULL,
  collection_id  bigint NOT NULL,
  record_id      text COLLATE "C" NOT NULL,
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
  PRIMARY KEY (tenant_id, collection_id, record_id, version)
);
CREATE INDEX record_versions_valid_to ON record_versions (tenant_id, collection_id, valid_to);

-- Set-based history: one INSERT … SELECT per statement, not a row trigger, so a sync that updates
-- many rows copies them in one pass. A row whose change_id did not move was not a new version.
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
  record_id      text COLLATE "C" NOT NULL,
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
-- Listing snapshots and finding those a version holds, by change id.
CREATE INDEX snapshots_change ON snapshots (tenant_id, change_id);

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

-- A collection's scheduled feed. next_run_at is advanced inside the claiming transaction
-- (SELECT … FOR UPDATE SKIP LOCKED), so one process runs each tick.
CREATE TABLE collection_sources (
  tenant_id      uuid NOT NULL,
  collection_id  bigint NOT NULL,
  url            text NOT NULL,
  schedule       text NOT NULL,                 -- cron expression (5 or 6 fields), evaluated in UTC
  mode           text NOT NULL DEFAULT 'full' CHECK (mode IN ('full', 'partial')),
  headers        jsonb NOT NULL DEFAULT '{}',   -- extra request headers (e.g. an upstream token)
  etag           text,                          -- validators of the last body that synced
  last_modified  text,
  next_run_at    timestamptz NOT NULL,
  last_run_at    timestamptz,
  last_status    text CHECK (last_status IN ('synced', 'unchanged', 'failed')),
  last_error     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, collection_id),
  FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX collection_sources_due ON collection_sources (next_run_at);

-- One row per scheduled fetch: unchanged (304), synced (with its sync run) or failed (with the reason).
CREATE TABLE source_runs (
  tenant_id      uuid NOT NULL,
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  collection_id  bigint NOT NULL,
  url            text NOT NULL,
  status         text NOT NULL CHECK (status IN ('synced', 'unchanged', 'failed')),
  http_status    integer,
  error          text,
  sync_run_id    uuid,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX source_runs_collection ON source_runs (tenant_id, collection_id, started_at DESC);

-- A file in the import folder being imported by one process. Keyed by the tenant folder's name (the
-- tenant may not exist: its files still need one process to move them to .failed/), so this is a
-- platform table like platform_keys, touched only by the importer as the connection's user. The
-- claim is a lease renewed while the import runs; a crashed process's lease runs out and another
-- process takes the file over. `stamp` (size and mtime) tells a takeover of the same file from a
-- new file that arrived under the same name.
CREATE TABLE import_claims (
  folder       text NOT NULL,
  file_name    text NOT NULL,
  stamp        text NOT NULL,
  claim_id     uuid NOT NULL,
  owner        text NOT NULL,
  lease_until  timestamptz NOT NULL,
  attempts     integer NOT NULL DEFAULT 1,
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (folder, file_name)
);

-- Row-level security. The policy compares with the transaction's app.tenant_id; '' (what a reused
-- session reports once it was set) means no tenant, so nothing is visible.
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
    'sync_runs', 'conflicts', 'snapshots', 'idempotency_keys', 'collection_sources', 'source_runs']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO sync_manager_app USING (%I = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
      t, CASE WHEN t = 'tenants' THEN 'id' ELSE 'tenant_id' END);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO sync_manager_app', t);
  END LOOP;
END $$;
GRANT USAGE ON SEQUENCE change_seq TO sync_manager_app;
