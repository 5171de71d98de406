-- Issue 4, first import speed: records' two indexes keyed without tenant_id. A collection's id is an
-- identity, unique across tenants, so (collection_id, record_id) is as unique as the old primary key
-- and (collection_id, change_id) as selective as the old change index; every query still names
-- tenant_id too (row-level security filters on it), which the index no longer has to compare.
-- Every new record pays one entry in each index: PostgreSQL's instruction count for a COPY of 100k
-- records-shaped rows (callgrind, docs/performance.md session 9) fell 9% (5.38 → 4.89 G), the
-- primary key's entries are 16 bytes shorter, and so is its tree.
ALTER TABLE records DROP CONSTRAINT records_pkey;
ALTER TABLE records ADD CONSTRAINT records_pkey PRIMARY KEY (collection_id, record_id);
DROP INDEX records_change;
CREATE INDEX records_change ON records (collection_id, change_id);
