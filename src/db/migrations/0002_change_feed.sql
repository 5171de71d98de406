-- The change feed. It is read from what every writer already writes in its transaction:
-- the `changes` row, and the records rows (current versions) and record_versions rows (closed ones)
-- that carry that change's id. What it needs besides is the id of the transaction that wrote each
-- change, so that it can serve changes in an order that never lets a late commit slip behind a
-- consumer's cursor (docs/changes.md). A column default sets it for every writer, including the
-- plpgsql edit functions, without touching them; the rows written before this migration all get
-- the migration's own transaction id, which sorts them by change id, as before.
ALTER TABLE changes ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX changes_feed ON changes (tenant_id, xid, id);

-- A change's closed versions by change id (the current ones have records_change).
CREATE INDEX record_versions_change ON record_versions (collection_id, valid_from, record_id);

-- Long polls and the webhook worker wake when a change commits (NOTIFY is delivered at commit and
-- not at all on rollback). One notification per statement, naming the tenants it wrote for.
CREATE FUNCTION changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sync_manager_changes', t.tenant_id::text) FROM (SELECT DISTINCT tenant_id FROM new_rows) t;
  RETURN NULL;
END $$;
CREATE TRIGGER changes_notify AFTER INSERT ON changes
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION changes_notify();

-- Retention prunes closed versions: a cursor read before the last prune's window start may have lost
-- changes after it, and answers 410 cursor_expired.
CREATE TABLE change_feed_horizons (
  tenant_id      uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  pruned_before  timestamptz NOT NULL
);
ALTER TABLE change_feed_horizons ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON change_feed_horizons TO sync_manager_app
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON change_feed_horizons TO sync_manager_app;
