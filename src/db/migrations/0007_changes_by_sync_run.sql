-- Recovering interrupted sync runs (src/features/syncs/syncs.sql.ts failInterruptedRuns) asks whether a
-- run wrote its change before its process died: one index entry per sync run that wrote anything.
CREATE INDEX changes_sync_run ON changes (tenant_id, sync_run_id) WHERE sync_run_id IS NOT NULL;
