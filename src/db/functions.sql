-- The functions that request paths call, re-applied by src/db/migrate.ts whenever this file's text
-- changes (after the numbered migrations), so there is one current definition of each. Keep every
-- statement re-runnable: CREATE OR REPLACE, and a DROP FUNCTION IF EXISTS before a signature changes.
--
-- Each *_as_tenant function runs as its own statement on the pool: it switches to the tenant role and
-- sets the tenant for the rest of its transaction (the statement's own), then works under row-level
-- security. Never call one inside a transaction that goes on afterwards: the role would stay switched.
-- SECURITY INVOKER: the switch needs the caller's membership of sync_manager_app (0001_baseline).
-- Batches arrive as JSON arrays of small objects with one-letter keys, encoded by the callers in
-- src/features/records/ (docs/architecture.md).
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

-- Writes of edits, planned by the caller from a read. p_edits: [{i, c, r, v, p, k, o, m, d, x}] — the
-- caller's index, the collection id, the record id, the version the edit was planned from, the delete
-- policy it was planned with, the API key, the new overrides, manual delete and data (m and d absent
-- for SQL NULL), and x, the record's next states after this one ([{k, o, m, d}], each planned from the
-- one before). An edit is written only if its record is still at version v and its collection still has
-- delete policy p, and only the first of several edits of one record; the others, and any whose record
-- another transaction holds (SKIP LOCKED: a batch never waits for a lock while holding others, so it
-- cannot deadlock with a sync or another batch), get no row and are decided again by the caller. The
-- first of x that is not written stops the rest; the row's version is the last one written. Every
-- written state gets its own change and history entry; all share the transaction's time. The locked
-- rows are updated through their ctids, which enable_seqscan = off keeps a TID scan.
CREATE OR REPLACE FUNCTION update_records_as_tenant(p_tenant uuid, p_edits jsonb)
  RETURNS TABLE (i integer, version integer, updated_at timestamptz)
  LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
DECLARE
  edited record;
  next_state record;
  reached integer;
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  FOR edited IN
    WITH edit AS (
      SELECT DISTINCT ON (e.c, e.r) e.*
        FROM jsonb_to_recordset(p_edits) AS e(i integer, c bigint, r text, v integer, p text, k uuid,
             o jsonb, m jsonb, d jsonb, x jsonb)
       ORDER BY e.c, e.r, e.i
    ), locked AS (
      -- A lookup by primary key for each edit, whatever the planner guesses of the array's length.
      SELECT r.row_at, edit.*
        FROM edit
       CROSS JOIN LATERAL (
             SELECT r.ctid AS row_at FROM records r
              WHERE r.collection_id = edit.c AND r.record_id = edit.r AND r.tenant_id = p_tenant
                AND r.version = edit.v
                AND EXISTS (SELECT 1 FROM collections c
                             WHERE c.tenant_id = p_tenant AND c.id = edit.c AND c.delete_policy = edit.p)
                FOR UPDATE SKIP LOCKED) r
    ), written AS (
      UPDATE records r
         SET overrides = l.o, manual_delete = l.m, data = l.d, version = r.version + 1,
             change_id = nextval('change_seq'), updated_at = now()
        FROM locked l
       WHERE r.ctid = ANY (ARRAY(SELECT row_at FROM locked)) AND r.ctid = l.row_at
         AND r.collection_id = l.c AND r.record_id = l.r
      RETURNING l.i, l.k, l.c, l.r, l.p, l.x, r.version, r.change_id, r.updated_at
    ), change AS (
      INSERT INTO changes (tenant_id, id, at, kind, api_key_id)
      SELECT p_tenant, w.change_id, w.updated_at, 'api', w.k FROM written w
    )
    SELECT w.i, w.c, w.r, w.p, w.x, w.version, w.updated_at FROM written w
  LOOP
    reached := edited.version;
    FOR next_state IN
      SELECT s.k, s.o, s.m, s.d
        FROM jsonb_array_elements(coalesce(edited.x, '[]')) WITH ORDINALITY AS a(state, n),
             jsonb_to_record(a.state) AS s(k uuid, o jsonb, m jsonb, d jsonb)
       ORDER BY a.n
    LOOP
      WITH moved AS (
        UPDATE records r
           SET overrides = next_state.o, manual_delete = next_state.m, data = next_state.d,
               version = r.version + 1, change_id = nextval('change_seq'), updated_at = now()
         WHERE r.collection_id = edited.c AND r.record_id = edited.r AND r.tenant_id = p_tenant
           AND r.version = reached
           AND EXISTS (SELECT 1 FROM collections c
                        WHERE c.tenant_id = p_tenant AND c.id = edited.c AND c.delete_policy = edited.p)
        RETURNING r.change_id, r.updated_at)
      INSERT INTO changes (tenant_id, id, at, kind, api_key_id)
      SELECT p_tenant, moved.change_id, moved.updated_at, 'api', next_state.k FROM moved;
      EXIT WHEN NOT FOUND;
      reached := reached + 1;
    END LOOP;
    i := edited.i;
    version := reached;
    updated_at := edited.updated_at;
    RETURN NEXT;
  END LOOP;
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
