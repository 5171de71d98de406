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

ALTER TABLE collections ADD COLUMN max_change_ratio double precision
  CHECK (max_change_ratio >= 0 AND max_change_ratio <= 1);
ALTER TABLE collections ADD COLUMN max_field_change_ratio jsonb;
ALTER TABLE collections ADD COLUMN required_fields jsonb;
