-- Run safety (docs/run-safety.md): reverting one run, and the guards that hold a run for approval.
--
-- 1. A revert is a change of its own kind, and a run of its own mode in the sync history (so a revert
--    can itself be reverted, listed and looked up like any run). `reverts_run_id` names the run it undid;
--    `report` keeps what a revert left in place (per record and field, with the change that kept it).
-- 2. The guards are optional collection settings; NULL keeps today's behaviour.
ALTER TABLE changes DROP CONSTRAINT changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check CHECK (kind IN ('api', 'sync', 'restore', 'revert'));

ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_mode_check;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_mode_check CHECK (mode IN ('full', 'partial', 'revert'));
ALTER TABLE sync_runs ADD COLUMN reverts_run_id uuid;
ALTER TABLE sync_runs ADD COLUMN report jsonb;

-- { maxChangeRatio?, maxFieldChangeRatio?: { pointer: share }, requiredFields?: [pointer] }
ALTER TABLE collections ADD COLUMN guards jsonb NOT NULL DEFAULT '{}'::jsonb;

-- 3. Held runs: a run that trips a guard keeps its plan (hold: reasons, counts, sample ids) and what it
--    staged (held_run_rows), so an approval applies exactly that, never a re-read of the feed.
--    planned_at_change: the collection's newest change when planned; any later one refuses the approval.
ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_status_check;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_status_check
  CHECK (status IN ('running', 'succeeded', 'failed', 'planned', 'held', 'rejected', 'expired'));
ALTER TABLE sync_runs ADD COLUMN hold jsonb;
ALTER TABLE sync_runs ADD COLUMN held_until timestamptz;
ALTER TABLE sync_runs ADD COLUMN planned_at_change bigint;
CREATE INDEX sync_runs_held ON sync_runs (held_until) WHERE status = 'held';

-- kind: 'new' (an id the collection did not hold: doc, hash), 'feed' (a changed row or a tombstone,
-- as sync_feed holds it) or 'gone' (full mode: a stored id the feed lacked).
CREATE TABLE held_run_rows (
  tenant_id    uuid NOT NULL,
  sync_run_id  uuid NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('new', 'feed', 'gone')),
  record_id    text COLLATE "C" NOT NULL,
  row_no       integer,
  hash         text,
  deleted      boolean NOT NULL DEFAULT false,
  doc          text,
  PRIMARY KEY (tenant_id, sync_run_id, kind, record_id),
  FOREIGN KEY (tenant_id, sync_run_id) REFERENCES sync_runs (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE held_run_rows ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON held_run_rows TO sync_manager_app
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON held_run_rows TO sync_manager_app;
