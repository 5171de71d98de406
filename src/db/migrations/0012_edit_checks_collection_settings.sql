-- An optimistic edit may now be planned from a record state the server remembers from its own last
-- write instead of a fresh read (src/features/records/recent-edits.ts). The record's version proves the
-- record is unchanged; the plan also depends on the collection's delete policy, which the record's
-- version does not cover, so the write checks that too and writes nothing when it moved. (It also
-- closes the window, on the read-then-write path, where the policy changed between the two statements.)
DROP FUNCTION update_record_as_tenant(uuid, bigint, text, integer, uuid, jsonb, jsonb, jsonb);

CREATE FUNCTION update_record_as_tenant(p_tenant uuid, p_collection bigint, p_record text, p_version integer,
    p_delete_policy text, p_api_key uuid, p_overrides jsonb, p_manual_delete jsonb, p_data jsonb)
  RETURNS TABLE (version integer, updated_at timestamptz)
  LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_version integer;
  v_change bigint;
  v_at timestamptz;
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  UPDATE records r
     SET overrides = p_overrides, manual_delete = p_manual_delete, data = p_data, version = r.version + 1,
         change_id = nextval('change_seq'), updated_at = now()
   WHERE r.tenant_id = p_tenant AND r.collection_id = p_collection AND r.record_id = p_record
     AND r.version = p_version
     AND EXISTS (SELECT 1 FROM collections c
                  WHERE c.tenant_id = p_tenant AND c.id = p_collection AND c.delete_policy = p_delete_policy)
  RETURNING r.version, r.change_id, r.updated_at INTO v_version, v_change, v_at;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO changes (tenant_id, id, at, kind, api_key_id) VALUES (p_tenant, v_change, v_at, 'api', p_api_key);
  version := v_version;
  updated_at := v_at;
  RETURN NEXT;
END $$;
