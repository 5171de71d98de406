-- records_change leads with the change id. Led by collection_id, it served a lookup by collection
-- alone as cheaply as the primary key served one by (collection_id, record_id) on a small table, so a
-- kept generic plan of the record reads and edit writes could take it, and read a whole collection
-- per record once the table grew (test/db/kept-plans.test.ts). The feed, restores and diffs look
-- changes up by id (equality or a range) and then the collection, which this order serves as well.
DROP INDEX records_change;
CREATE INDEX records_change ON records (change_id, collection_id);
