import type { Database, Statement } from '../../db/database.ts';

/**
 * Builds and drops the indexes collections declare (`indexes` in their settings), in the background,
 * one at a time, without blocking writes: `CREATE INDEX CONCURRENTLY` / `DROP INDEX CONCURRENTLY` on
 * PostgreSQL, outside any transaction. PGlite has no concurrent build (it serves one connection
 * anyway): there a plain CREATE INDEX runs, and edits wait for it (docs/querying.md).
 *
 * Each index is on the effective value at the field's path, then the record id, and holds only its
 * collection's live records: `(effective_value(data, source) #> '{path}'), record_id WHERE
 * collection_id = <id> AND data IS NOT NULL` — the expressions record-query.ts filters and sorts by.
 * Its name comes from its collection_indexes row id (records_field_<id>), never from user text.
 *
 * A build interrupted by a killed server leaves its row `building` and, on PostgreSQL, an INVALID
 * index: the next start drops that and builds again. Indexes whose row is gone (a deleted
 * collection) are dropped too.
 */
export class IndexBuilder {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly log: { info(o: object, m: string): void; error(o: object, m: string): void } = {
      info() {},
      error() {},
    },
  ) {}

  /** Starts a pass over the pending work, or asks the running one to look again when done. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.passes().finally(() => {
      this.running = null;
    });
  }

  /** Resolves once no pass is running (tests, and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No new work; waits for the statement in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (error) {
        this.log.error({ err: error }, 'index builder pass failed');
      }
    } while (this.again && !this.stopped);
  }

  private async pass(): Promise<void> {
    const rows = await this.db.query<IndexRow>(pendingIndexes);
    for (const row of rows) {
      if (this.stopped) return;
      if (row.state === 'dropping') await this.drop(row);
      else await this.build(row);
    }
    if (!this.stopped) await this.dropOrphans();
  }

  private async build(row: IndexRow): Promise<void> {
    const name = indexName(row.id);
    const [existing] = await this.db.query<{ valid: boolean }>(indexValidity(name));
    if (existing && !existing.valid) {
      this.log.info({ index: name, field: row.field }, 'dropping an index a previous build left invalid');
      await this.db.exec(await this.ddl(dropIndex(name, this.db.kind)));
    }
    if (!existing?.valid) {
      this.log.info({ index: name, field: row.field, collectionId: row.collection_id }, 'building index');
      try {
        await this.db.exec(await this.ddl(createIndex(name, row, this.db.kind)));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.log.error({ index: name, err: error }, 'index build failed');
        await this.db.query(markFailed(row.id, message));
        await this.db.exec(await this.ddl(dropIndex(name, this.db.kind))).catch(() => {});
        return;
      }
    }
    await this.db.query(markReady(row.id));
  }

  private async drop(row: IndexRow): Promise<void> {
    await this.db.exec(await this.ddl(dropIndex(indexName(row.id), this.db.kind)));
    await this.db.query(deleteDropped(row.id));
  }

  private async dropOrphans(): Promise<void> {
    const orphans = await this.db.query<{ name: string }>(orphanIndexes);
    for (const { name } of orphans) {
      if (this.stopped) return;
      await this.db.exec(await this.ddl(dropIndex(name, this.db.kind)));
    }
  }

  /** DDL takes no parameters: the database quotes the name and path itself (format %I, %L). */
  private async ddl(statement: Statement): Promise<string> {
    const [row] = await this.db.query<{ ddl: string }>(statement);
    return row!.ddl;
  }
}

interface IndexRow {
  id: string;
  collection_id: string;
  field: string;
  state: 'building' | 'dropping';
}

export function indexName(id: string | number): string {
  return `records_field_${id}`;
}

const pendingIndexes: Statement = {
  text: `SELECT id, collection_id, field, state FROM collection_indexes
          WHERE state IN ('building', 'dropping') ORDER BY id`,
  values: [],
};

const indexValidity = (name: string): Statement => ({
  text: `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`,
  values: [name],
});

const createIndex = (name: string, row: IndexRow, kind: Database['kind']): Statement => ({
  text: `SELECT format('CREATE INDEX ${kind === 'postgres' ? 'CONCURRENTLY ' : ''}IF NOT EXISTS %I ON records
                         ((effective_value(data, source) #> %L::text[]), record_id)
                         WHERE collection_id = %s AND data IS NOT NULL', $1::text, $2::text[], $3::bigint) AS ddl`,
  values: [name, row.field.split('.'), row.collection_id],
});

const dropIndex = (name: string, kind: Database['kind']): Statement => ({
  text: `SELECT format('DROP INDEX ${kind === 'postgres' ? 'CONCURRENTLY ' : ''}IF EXISTS %I', $1::text) AS ddl`,
  values: [name],
});

const markReady = (id: string): Statement => ({
  text: `UPDATE collection_indexes SET state = 'ready', error = NULL, updated_at = now()
          WHERE id = $1 AND state = 'building'`,
  values: [id],
});

const markFailed = (id: string, error: string): Statement => ({
  text: `UPDATE collection_indexes SET state = 'failed', error = $2, updated_at = now()
          WHERE id = $1 AND state = 'building'`,
  values: [id, error.slice(0, 1000)],
});

const deleteDropped = (id: string): Statement => ({
  text: `DELETE FROM collection_indexes WHERE id = $1 AND state = 'dropping'`,
  values: [id],
});

/** Indexes of this builder whose row is gone (their collection was deleted). */
const orphanIndexes: Statement = {
  text: `SELECT c.relname AS name FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
          WHERE i.indrelid = 'records'::regclass AND c.relname ~ '^records_field_[0-9]+$'
            AND NOT EXISTS (SELECT 1 FROM collection_indexes x
                             WHERE 'records_field_' || x.id = c.relname)`,
  values: [],
};
