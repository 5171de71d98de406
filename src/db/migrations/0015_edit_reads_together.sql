-- Issue 3, PATCH under load: the reads of concurrent edits go to the database together, as their
-- writes do since 0013 (src/db/statement-batches.ts): one round trip, one function call and one role
-- switch for all that are waiting, where read_record_as_tenant (0010) took one each. pgbench, 4
-- clients, 10k-row batches of ten against single reads: 140–170k records read a second against 39k.
--
-- p_reads is a JSON array of {i, c, r}: the caller's index, the collection's name and the record id.
-- Each read whose collection exists gets one row, with the collection's settings and the record's
-- stored state (all NULL when there is no such record); a read of a collection that does not exist
-- gets none. enable_seqscan = off makes sure the plan PL/pgSQL keeps for the connection's life stays
-- a lookup by key for each read, whatever the size of `records` when it was made; PostgreSQL 15 chose
-- the lookup on a table of three records even without it, so it is a guard here, as it is needed in 0013
-- (test/db/kept-plans.test.ts).
CREATE FUNCTION read_records_as_tenant(p_tenant uuid, p_reads jsonb)
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

DROP FUNCTION read_record_as_tenant(uuid, text, text);
