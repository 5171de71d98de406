-- Querying records and validating them (docs/querying.md).
--
-- 1. Collection settings `schema` (a JSON Schema 2020-12 the records must fit; NULL = none) and
--    `indexes` (the fields a client declared for filtering and sorting).
-- 2. collection_indexes: one row per declared index and its state. The PostgreSQL index is named from
--    the row's id (records_field_<id>), never from user text, so names cannot collide across tenants
--    or collections. The builder (src/features/collections/index-builder.ts) runs as the connection's
--    user (the table owner), outside tenant transactions.
-- 3. Partial indexes for the record-state filters an editor uses (overridden, upstream gone, deleted):
--    each holds only the few rows that match, so the sync's bulk writes of plain records skip them.
ALTER TABLE collections ADD COLUMN record_schema jsonb;
ALTER TABLE collections ADD COLUMN indexes jsonb NOT NULL DEFAULT '[]'::jsonb;

CREATE TABLE collection_indexes (
  tenant_id      uuid NOT NULL,
  collection_id  bigint NOT NULL,
  field          text NOT NULL,
  id             bigint GENERATED ALWAYS AS IDENTITY,
  state          text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'ready', 'failed', 'dropping')),
  error          text,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, collection_id, field),
  UNIQUE (id),
  FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE collection_indexes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON collection_indexes TO sync_manager_app
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON collection_indexes TO sync_manager_app;

CREATE INDEX records_overridden ON records (collection_id, record_id)
  WHERE overrides <> '{}'::jsonb OR manual_delete IS NOT NULL;
CREATE INDEX records_upstream_gone ON records (collection_id, record_id) WHERE upstream_gone;
CREATE INDEX records_deleted ON records (collection_id, record_id) WHERE data IS NULL;
