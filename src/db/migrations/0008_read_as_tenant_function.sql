-- A GET of one record in one statement: the function switches to the tenant role and sets the tenant
-- for the rest of its transaction, then reads. Called from the pool outside any transaction, its
-- transaction is the statement itself, so the switch ends with it. Never call it inside a transaction
-- that goes on afterwards (the role would stay switched). SECURITY INVOKER: the role switch needs
-- the caller's membership of sync_manager_app, which the app's connection user has (0001).
CREATE FUNCTION read_effective_as_tenant(p_tenant uuid, p_collection text, p_record text)
  RETURNS TABLE (collection_id bigint, version integer, data_text text)
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT c.id, r.version, r.data::text
      FROM collections c
      LEFT JOIN records r ON r.tenant_id = c.tenant_id AND r.collection_id = c.id AND r.record_id = p_record
     WHERE c.tenant_id = p_tenant AND c.name = p_collection;
END $$;

-- A page of effective values the same way. No row: no such collection; one row with a NULL record_id:
-- the collection has no record after p_after.
CREATE FUNCTION list_effective_as_tenant(p_tenant uuid, p_collection text, p_after text, p_limit integer)
  RETURNS TABLE (record_id text, data_text text)
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT p.record_id, p.data_text
      FROM collections c
      LEFT JOIN LATERAL (
        SELECT r.record_id, r.data::text AS data_text FROM records r
         WHERE r.tenant_id = c.tenant_id AND r.collection_id = c.id AND r.data IS NOT NULL
           AND (p_after IS NULL OR r.record_id > p_after)
         ORDER BY r.record_id LIMIT p_limit) p ON true
     WHERE c.tenant_id = p_tenant AND c.name = p_collection;
END $$;
