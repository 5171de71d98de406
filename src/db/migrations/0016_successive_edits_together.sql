-- Issue 3, PATCH of one record from many connections: the edits of one record waiting their turn
-- (src/features/records/edit-turns.ts) are planned one after the other, each from the state the one
-- before it leaves, and written in one call: the first as in 0013, and then, while each went through,
-- the next as its own UPDATE of the row this transaction now holds locked, with its own change, version
-- and history (the trigger fires for each statement). One round trip and one commit for all of them,
-- where each took its own.
--
-- An element of p_edits may carry x, a JSON array of {k, o, m, d}: the record's next states after
-- the element's own, in order, each planned from the one before it. The first of them that is not
-- written (the collection's delete policy changed meanwhile) stops the rest. The element's row says
-- how far it got: its version is the last one written, so version - v - 1 of its x went through.
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
