-- Issue 3, PATCH under load: the optimistic writes of concurrent edits go to the database together,
-- one statement and one commit for all that are waiting (src/features/records/edit-writes.ts), where
-- update_record_as_tenant (0010) took one each. What a write costs apart from its own rows — the
-- round trip, the function call, the role switch, the history trigger's statement and the commit with
-- its WAL flush — is paid once for all of them.
--
-- p_edits is a JSON array of {i, c, r, v, p, k, o, m, d}: the caller's index, the collection, the
-- record id, the version the edit was planned from, the delete policy it was planned with, the API
-- key, and the new overrides, manual delete and data (m and d absent for SQL NULL). Each edit is
-- written only if its record is still at version v and its collection still has delete policy p, as
-- in update_record_as_tenant, and only the first of several edits of one record: the others, and any
-- whose record another transaction holds locked (SKIP LOCKED: a batch never waits for a lock while it
-- holds others, so it cannot deadlock with a sync or another batch), get no row back and are decided
-- again by the caller on a fresh read. Every written edit gets its own change; they share the
-- transaction's time.
--
-- The locked rows are updated through their ctids (a TID scan), and enable_seqscan = off keeps it so:
-- PL/pgSQL keeps one plan for the function's query per connection (its one parameter tells the
-- planner nothing a generic plan lacks), and a plan made while `records` was small joined the locked
-- rows back to it over a scan of the whole table (sequential, or with scans off, of its primary key);
-- kept for the connection's life, that would read every record of every tenant per batch once the
-- table is big. Each edit's row is found by its key, then updated by its ctid, at any size.
CREATE FUNCTION update_records_as_tenant(p_tenant uuid, p_edits jsonb)
  RETURNS TABLE (i integer, version integer, updated_at timestamptz)
  LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    WITH edit AS (
      SELECT DISTINCT ON (e.c, e.r) e.*
        FROM jsonb_to_recordset(p_edits) AS e(i integer, c bigint, r text, v integer, p text, k uuid,
             o jsonb, m jsonb, d jsonb)
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
      RETURNING l.i, l.k, r.version, r.change_id, r.updated_at
    ), change AS (
      INSERT INTO changes (tenant_id, id, at, kind, api_key_id)
      SELECT p_tenant, w.change_id, w.updated_at, 'api', w.k FROM written w
    )
    SELECT w.i, w.version, w.updated_at FROM written w;
END $$;

DROP FUNCTION update_record_as_tenant(uuid, bigint, text, integer, text, uuid, jsonb, jsonb, jsonb);
