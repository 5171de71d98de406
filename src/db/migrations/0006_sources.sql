-- Several named sources per collection, each owning fields (docs/sources.md).
--
-- collection_sources becomes one row per named source. The row a collection had is its source
-- `default`; the schedule columns become optional (a source may be fed by pushed syncs only).
ALTER TABLE collection_sources ADD COLUMN name text NOT NULL DEFAULT 'default';
ALTER TABLE collection_sources ADD COLUMN fields jsonb NOT NULL DEFAULT '["/"]';
ALTER TABLE collection_sources ADD COLUMN priority integer NOT NULL DEFAULT 0;
ALTER TABLE collection_sources ADD COLUMN ignore_empty boolean NOT NULL DEFAULT false;
ALTER TABLE collection_sources ALTER COLUMN url DROP NOT NULL;
ALTER TABLE collection_sources ALTER COLUMN schedule DROP NOT NULL;
ALTER TABLE collection_sources ALTER COLUMN next_run_at DROP NOT NULL;
ALTER TABLE collection_sources ALTER COLUMN mode DROP NOT NULL;
ALTER TABLE collection_sources DROP CONSTRAINT collection_sources_pkey;
ALTER TABLE collection_sources ADD PRIMARY KEY (tenant_id, collection_id, name);
ALTER TABLE collection_sources ADD CONSTRAINT collection_sources_schedule_whole
  CHECK ((url IS NULL) = (schedule IS NULL) AND (url IS NULL) = (next_run_at IS NULL));

ALTER TABLE source_runs ADD COLUMN source_name text NOT NULL DEFAULT 'default';

-- Which source a sync run wrote for (NULL: the collection's only source, `default`), and how the
-- collection settles two sources that own one field.
ALTER TABLE sync_runs ADD COLUMN source_name text;
ALTER TABLE collections ADD COLUMN overlap text NOT NULL DEFAULT 'priority'
  CHECK (overlap IN ('priority', 'conflict'));

-- Per-source values of a record: { "<source>": { "h": <hash of its feed text>, "v": <its fields> } }.
-- NULL for a record of a collection with one source owning everything: there `source` and
-- `source_hash` are that source's value and hash, as before. Versioned with the rest of the row.
ALTER TABLE records ADD COLUMN source_parts jsonb;
ALTER TABLE record_versions ADD COLUMN source_parts jsonb;

-- A conflict between two sources (kind source) names both: source_name won, other_source lost, and
-- manual_value holds the losing value; a conflict under an override names the source that moved.
ALTER TABLE conflicts ADD COLUMN kind text NOT NULL DEFAULT 'override' CHECK (kind IN ('override', 'source'));
ALTER TABLE conflicts ADD COLUMN source_name text;
ALTER TABLE conflicts ADD COLUMN other_source text;  -- kind source: the lower-priority source whose value lost

CREATE OR REPLACE FUNCTION records_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO record_versions (tenant_id, collection_id, record_id, version, valid_from, valid_to, source,
      source_hash, upstream_gone, overrides, manual_delete, data, updated_at, source_parts)
    SELECT o.tenant_id, o.collection_id, o.record_id, o.version, o.change_id, GREATEST(n.change_id, o.change_id),
      o.source, o.source_hash, o.upstream_gone, o.overrides, o.manual_delete, o.data, o.updated_at, o.source_parts
    FROM old_rows o JOIN new_rows n USING (tenant_id, collection_id, record_id)
    WHERE n.change_id <> o.change_id;
  END IF;
  RETURN NULL;
END $$;

-- Per-field conflict policy: a map from JSON Pointer to policy (the longest matching pointer wins);
-- NULL when the collection has one policy, conflict_policy (which holds the map's "/" otherwise).
ALTER TABLE collections ADD COLUMN conflict_policies jsonb;
