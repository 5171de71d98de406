-- An edit of an existing record in two single-statement round trips, with no transaction held open
-- between them (src/features/records/records.service.ts, RecordService.edit): read the record, compute
-- the new state in the client, then write it only if the record is still at the version read. Each
-- function switches to the tenant role and sets the tenant for its own statement's transaction, as
-- read_effective_as_tenant does (0008): call them on the pool, never inside a transaction that goes on.

-- The collection's settings and the record's stored state. No row: no such collection; a NULL
-- version: no record yet.
CREATE FUNCTION read_record_as_tenant(p_tenant uuid, p_collection text, p_record text)
  RETURNS TABLE (collection_id bigint, id_field text, delete_policy text, record_id text, source jsonb,
    upstream_gone boolean, overrides jsonb, manual_delete jsonb, data jsonb, version integer,
    change_id bigint, updated_at timestamptz)
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', p_tenant::text, true);
  RETURN QUERY
    SELECT c.id, c.id_field, c.delete_policy, r.record_id, r.source, r.upstream_gone, r.overrides,
           r.manual_delete, effective_value(r.data, r.source), r.version, r.change_id, r.updated_at
      FROM collections c
      LEFT JOIN records r ON r.tenant_id = c.tenant_id AND r.collection_id = c.id AND r.record_id = p_record
     WHERE c.tenant_id = p_tenant AND c.name = p_collection;
END $$;

-- Writes a manual edit of the record if it is still at p_version and its collection still has the
-- delete policy the edit was planned with, with a new change; no row when it is not (a concurrent writer
-- got there first: the caller reads again). The edit may be planned from a state the server remembers
-- from its own last write instead of a fresh read (src/features/records/recent-edits.ts): the version
-- proves the record unchanged, and the delete policy is the one collection setting the plan depends on
-- that the version does not cover. The UPDATE is one statement, so the history trigger copies the old
-- row as for any other write.
--
-- The change id is drawn in the UPDATE, before its row lock is granted, yet a record's versions still
-- get increasing change ids: the UPDATE writes only if no one wrote the row since the caller's read, and
-- any id drawn after that read is larger than the row's current one (drawn before the read). A writer
-- that held the lock meanwhile moved the version, so the re-check after the wait finds no row.
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
