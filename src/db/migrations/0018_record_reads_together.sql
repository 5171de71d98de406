-- Issue 3, GET of one record: the reads of concurrent requests go to the database together
-- (src/features/records/batched-reads.ts), as pages do since 0017: one call, one round trip and one
-- wake-up of a backend for all the reads of a tenant waiting, where read_effective_as_tenant (0008,
-- 0009) took one each.
--
-- p_reads is a JSON array of {i, c, r}: the caller's index, the collection's name and the record id.
-- Each read whose collection exists gets one row, with the record's version and effective value as
-- text (both NULL when there is no such record, or it is deleted); a read of a collection that does
-- not exist gets none. enable_seqscan = off keeps the plan PL/pgSQL keeps for the connection's life
-- a lookup by key for each read, whatever the size of `records` when it was made.
CREATE FUNCTION read_effectives_as_tenant(p_tenant uuid, p_reads jsonb)
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

DROP FUNCTION read_effective_as_tenant(uuid, text, text);
