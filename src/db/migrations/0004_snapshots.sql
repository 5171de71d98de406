-- Snapshots (issue 5): restore and diff read only the records written since a snapshot S, i.e. rows
-- with change_id > S. This index makes that a range scan, so their cost follows the change, not the
-- collection's size. (It costs every record write one more index entry; measured in bench/snapshots.)
CREATE INDEX records_change ON records (tenant_id, collection_id, change_id);

-- Listing snapshots newest first and finding those a version holds, by change id.
CREATE INDEX snapshots_change ON snapshots (tenant_id, change_id);
