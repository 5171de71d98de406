-- Issue 3, a page of records: list_effective_as_tenant (0008, 0009) was planned again at every call.
-- Its one query took the cursor as `p_after IS NULL OR record_id > p_after` and the page size as a
-- parameter; a generic plan of that could use neither in the index, so PL/pgSQL's plan cache judged it
-- dearer than a plan for the values at hand and made one each time: ~80 µs of planning a call, more
-- than the read (pgbench, 4 clients: 8.0–8.5k pages/s against 14.6–16.2k for a plan made once, on
-- 10k and on 1M records).
--
-- Now the first page and the pages after a cursor are two queries, each planned once per connection
-- (plan_cache_mode = force_generic_plan) with the cursor in the index condition. enable_sort = off
-- keeps that one plan right at every size: planned while the table is small, the cheapest first page
-- would be a sort of the collection's rows, and a plan kept for the connection's life must not turn
-- into a sort of a million rows once the collection grows. The only plan without a sort is the walk
-- of the primary key in order, which is what a page is at any size.
CREATE OR REPLACE FUNCTION list_effective_as_tenant(p_tenant uuid, p_collection text, p_after text, p_limit integer)
  RETURNS TABLE (record_id text, data_text text)
  LANGUAGE plpgsql VOLATILE
  SET plan_cache_mode = force_generic_plan SET enable_sort = off AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  IF p_after IS NULL THEN
    RETURN QUERY
      SELECT p.record_id, p.data_text
        FROM collections c
        LEFT JOIN LATERAL (
          SELECT r.record_id::text AS record_id, effective_value(r.data, r.source)::text AS data_text FROM records r
           WHERE r.tenant_id = c.tenant_id AND r.collection_id = c.id AND r.data IS NOT NULL
           ORDER BY r.record_id LIMIT p_limit) p ON true
       WHERE c.tenant_id = p_tenant AND c.name = p_collection;
  ELSE
    RETURN QUERY
      SELECT p.record_id, p.data_text
        FROM collections c
        LEFT JOIN LATERAL (
          SELECT r.record_id::text AS record_id, effective_value(r.data, r.source)::text AS data_text FROM records r
           WHERE r.tenant_id = c.tenant_id AND r.collection_id = c.id AND r.data IS NOT NULL
             AND r.record_id > p_after
           ORDER BY r.record_id LIMIT p_limit) p ON true
       WHERE c.tenant_id = p_tenant AND c.name = p_collection;
  END IF;
END $$;
