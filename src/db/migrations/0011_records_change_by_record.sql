-- records_change gains the record id after (change_id, collection_id), so the change feed reads a big
-- change in one collection page by page as one ordered range instead of sorting what is left of it
-- on every page. As an expression, (record_id || ''), which no lookup by record id matches: with the
-- plain column, a kept generic plan of a read by (collection_id, record_id) took this index over the
-- primary key on a small table (test/db/kept-plans.test.ts). The feed orders by the same expression.
DROP INDEX records_change;
CREATE INDEX records_change ON records (change_id, collection_id, (record_id || ''));
