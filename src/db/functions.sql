-- The functions that request paths call, re-applied by src/db/migrate.ts whenever this file's text
-- changes (after the numbered migrations), so there is one current definition of each. Keep every
-- statement re-runnable: CREATE OR REPLACE, and a DROP FUNCTION IF EXISTS before a signature changes.
--
-- Each *_as_tenant function runs as its own statement on the pool: it switches to the tenant role and
-- sets the tenant for the rest of its transaction (the statement's own), then works under row-level
-- security. Never call one inside a transaction that goes on afterwards: the role would stay switched.
-- SECURITY INVOKER: the switch needs the caller's membership of sync_manager_app (0001_baseline).
-- Batches arrive as JSON arrays of small objects, encoded by the callers in src/features/records/.
--
-- PL/pgSQL keeps one plan per query per connection. The SET clauses below keep that plan a walk or a
-- lookup by key at any table size, whatever the table looked like when it was planned
-- (test/db/kept-plans.test.ts checks the plans).

-- Reads for edits. p_reads: [{i, c, r}] — the caller's index, the collection's name, the record id.
-- A read whose collection exists gets one row (the record's columns NULL when there is no record);
-- a read of a missing collection gets none.
CREATE OR REPLACE FUNCTION read_records_as_tenant(p_tenant uuid, p_reads jsonb)
  RETURNS TABLE (i integer, collection_id bigint, id_field text, delete_policy text, record_id text,
    source jsonb, upstream_gone boolean, overrides jsonb, manual_delete jsonb, data jsonb, version integer,
    change_id bigint, updated_at timestamptz)
  LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT q.i, c.id, c.id_field, c.delete_policy, r.record_id, r.source, r.upstream_gone, r.overrides,
           r.manual_delete, effective_value(r.data, r.source), r.version, r.change_id, r.updated_at
      FROM jsonb_to_recordset(p_reads) AS q(i integer, c text, r text)
      JOIN collections c ON c.tenant_id = p_tenant AND c.name = q.c
      LEFT JOIN LATERAL (
            SELECT * FROM records r
             WHERE r.collection_id = c.id AND r.record_id = q.r AND r.tenant_id = p_tenant) r ON true;
END $$;

-- Writes of edits, planned by the caller from a read (src/features/records/edits/). p_series: one element
-- a record, as writeSeriesAsTenant in src/features/records/edits/edits.sql.ts encodes it: {i, collection_id,
-- record_id, version, delete_policy, states: [{api_key_id, overrides, manual_delete, data}]}, the states'
-- jsonb columns sent as JSON text (null for SQL NULL). A series is written only if its record is still at
-- `version` and its collection still has `delete_policy`, and only the first series of a record; the
-- others, and any whose record another transaction holds (SKIP LOCKED: a call never waits for a lock
-- while holding others, so it cannot deadlock with a sync or another call), get no row and the caller
-- takes the row lock instead. The rows are locked before any change id is drawn, so a record's versions
-- get increasing change ids. Then round n writes the n-th state of every locked series that has one:
-- each state its own UPDATE, change, version and history entry, all at the transaction's time. A row
-- per written series gives the version of its last state.
DROP FUNCTION IF EXISTS update_records_as_tenant(uuid, jsonb);
CREATE OR REPLACE FUNCTION write_series_as_tenant(p_tenant uuid, p_series jsonb)
  RETURNS TABLE (i integer, version integer, updated_at timestamptz)
  LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
DECLARE
  locked integer[];
  rounds integer;
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  SELECT array_agg(s.i), max(jsonb_array_length(s.states)) INTO locked, rounds
    FROM (SELECT DISTINCT ON (s.collection_id, s.record_id) s.*
            FROM jsonb_to_recordset(p_series) AS s(i integer, collection_id bigint, record_id text,
                 version integer, delete_policy text, states jsonb)
           ORDER BY s.collection_id, s.record_id, s.i) s
   CROSS JOIN LATERAL (
         SELECT 1 FROM records r
          WHERE r.collection_id = s.collection_id AND r.record_id = s.record_id AND r.tenant_id = p_tenant
            AND r.version = s.version
            AND EXISTS (SELECT 1 FROM collections c
                         WHERE c.tenant_id = p_tenant AND c.id = s.collection_id
                           AND c.delete_policy = s.delete_policy)
            FOR UPDATE SKIP LOCKED) r;
  FOR step IN 0 .. coalesce(rounds, 0) - 1 LOOP
    WITH state AS (
      SELECT s.collection_id, s.record_id, st.*
        FROM jsonb_to_recordset(p_series) AS s(i integer, collection_id bigint, record_id text, states jsonb)
       CROSS JOIN LATERAL jsonb_to_record(s.states -> step)
             AS st(api_key_id uuid, overrides text, manual_delete text, data text)
       WHERE s.i = ANY (locked) AND step < jsonb_array_length(s.states)
    ), written AS (
      UPDATE records r
         SET overrides = st.overrides::jsonb, manual_delete = st.manual_delete::jsonb, data = st.data::jsonb,
             version = r.version + 1, change_id = nextval('change_seq'), updated_at = now()
        FROM state st
       WHERE r.collection_id = st.collection_id AND r.record_id = st.record_id AND r.tenant_id = p_tenant
      RETURNING r.change_id, st.api_key_id
    )
    INSERT INTO changes (tenant_id, id, at, kind, api_key_id)
    SELECT p_tenant, w.change_id, now(), 'api', w.api_key_id FROM written w;
  END LOOP;
  RETURN QUERY
    SELECT s.i, r.version, r.updated_at
      FROM jsonb_to_recordset(p_series) AS s(i integer, collection_id bigint, record_id text)
      JOIN records r
        ON r.collection_id = s.collection_id AND r.record_id = s.record_id AND r.tenant_id = p_tenant
     WHERE s.i = ANY (locked);
END $$;

-- Pages of effective values. p_pages: [{i, c, a, l}] — the caller's index, the collection's name, the
-- id the page starts after ('' for the first page: record ids are never empty) and its length. A page
-- of an existing collection gets one row: `items` (the values joined as a JSON array's elements; NULL
-- when empty), `last_id`, and `more`, whether a live record follows. string_agg keeps the subquery's
-- order: a plain aggregate reads its input in order and the LIMIT keeps partial aggregation out.
CREATE OR REPLACE FUNCTION pages_effective_as_tenant(p_tenant uuid, p_pages jsonb)
  RETURNS TABLE (i integer, items text, last_id text, more boolean)
  LANGUAGE plpgsql VOLATILE
  SET plan_cache_mode = force_generic_plan SET enable_sort = off SET enable_seqscan = off AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT q.i, page.items, page.last_id,
           page.last_id IS NOT NULL AND EXISTS (
             SELECT 1 FROM records r
              WHERE r.tenant_id = p_tenant AND r.collection_id = c.id AND r.data IS NOT NULL
                AND r.record_id > page.last_id)
      FROM jsonb_to_recordset(p_pages) AS q(i integer, c text, a text, l integer)
      JOIN collections c ON c.tenant_id = p_tenant AND c.name = q.c
     CROSS JOIN LATERAL (
           SELECT string_agg(p.data_text, ',') AS items, max(p.record_id) AS last_id
             FROM (SELECT r.record_id, effective_value(r.data, r.source)::text AS data_text
                     FROM records r
                    WHERE r.tenant_id = p_tenant AND r.collection_id = c.id AND r.data IS NOT NULL
                      AND r.record_id > q.a
                    ORDER BY r.record_id LIMIT q.l) p) page;
END $$;

-- GETs of single records. p_reads: [{i, c, r}] as for read_records_as_tenant. A read of an existing
-- collection gets its record's version and effective value as text (NULL when there is no record, or
-- it is deleted); a read of a missing collection gets none.
CREATE OR REPLACE FUNCTION read_effectives_as_tenant(p_tenant uuid, p_reads jsonb)
  RETURNS TABLE (i integer, version integer, data_text text)
  LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT q.i, r.version, effective_value(r.data, r.source)::text
      FROM jsonb_to_recordset(p_reads) AS q(i integer, c text, r text)
      JOIN collections c ON c.tenant_id = p_tenant AND c.name = q.c
      LEFT JOIN LATERAL (
            SELECT r.version, r.data, r.source FROM records r
             WHERE r.collection_id = c.id AND r.record_id = q.r AND r.tenant_id = p_tenant) r ON true;
END $$;
