-- The change feed reads one change's records in record id order, page by page from a cursor. With
-- records_change on (collection_id, change_id) alone, every page of a big change sorted what was left
-- of it (a sync of a million records: each of its pages sorted up to a million rows); with record_id
-- in the key, a page is one ordered range of the index. The range scans by change id that restore and
-- snapshot diffs make read the same leading columns.
DROP INDEX records_change;
CREATE INDEX records_change ON records (collection_id, change_id, record_id);
