-- Auto-import (issue 6): scheduled feed sources per collection, their run history, and the claims
-- that let several serve processes on one database import each dropped file exactly once.

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
-- platform table like platform_keys and is only touched by the importer, as the connection's user.
-- The claim is a lease, renewed while the import runs; a crashed process's lease runs out and
-- another process (or the restarted one) takes the file over. `stamp` (size and mtime) tells a
-- takeover of the same file from a new file that arrived under the same name.
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

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['collection_sources', 'source_runs']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO sync_manager_app USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
      t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO sync_manager_app', t);
  END LOOP;
END $$;
