/**
 * The one narrow database port. Everything above src/db/ talks to this interface and never learns
 * whether PostgreSQL or embedded PGlite runs underneath.
 *
 * Conventions every adapter honours, so SQL reads the same on both:
 * - parameters are positional (`$1`); a jsonb parameter is passed as JSON text (`JSON.stringify(v)`)
 *   and written `$1::jsonb` in SQL;
 * - int8 values come back as decimal strings, jsonb as parsed values, timestamptz as Date.
 */
export type DatabaseKind = 'postgres' | 'pglite';

export type Row = Record<string, unknown>;

/** One SQL statement with its positional values, as the `<feature>.sql.ts` files build them. */
export interface Statement {
  text: string;
  values: readonly unknown[];
  /**
   * false: not kept as a prepared statement, so planned at each run with its values (a kept generic
   * plan cannot use a partial or expression index that depends on them) and nothing is left behind per
   * connection: for statements whose shape comes from client input (record filters).
   */
  prepare?: false;
}

export type CopyFormat = 'text' | 'binary';

/** What follows a COPY's source for `format`: nothing for text, PostgreSQL's default. */
export function copyOptions(format: CopyFormat): string {
  return format === 'binary' ? ' WITH (FORMAT binary)' : '';
}

export interface Queryable {
  query<T = Row>(statement: Statement): Promise<T[]>;
  query<T = Row>(text: string, values?: readonly unknown[]): Promise<T[]>;
  /**
   * Bulk-loads rows with `COPY … FROM STDIN`. `statement` is the COPY statement without its source,
   * e.g. `COPY staging (id, hash, doc)`. In text format (the default) each chunk must end on a row
   * boundary; in binary format the chunks together are one COPY binary stream (see
   * src/db/copy/copy-binary.ts).
   */
  copyFrom(statement: string, chunks: AsyncIterable<string | Uint8Array>, format?: CopyFormat): Promise<void>;
  /**
   * Reads rows with `COPY (query) TO STDOUT` (text format): `statement` is the COPY statement without
   * its target, e.g. `COPY (SELECT id FROM t ORDER BY id)`. Yields the output in pieces that need not
   * end on a row boundary. COPY takes no parameters: the caller inlines only values it has checked.
   */
  copyTo(statement: string): AsyncIterable<Uint8Array>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * In a transaction: runs `statement` as its last one and commits; on PostgreSQL the COMMIT leaves
   * with it, so the two take one round trip. A statement issued after it is refused, and an error
   * thrown after it no longer rolls anything back: issue it only once nothing can go wrong. Outside a
   * transaction it is `query`.
   */
  queryLast<T = Row>(statement: Statement): Promise<T[]>;
}

export interface TransactionOptions {
  /**
   * A read-only transaction made of the statements `fn` issues before its first `await`: on PostgreSQL
   * they go out between BEGIN READ ONLY and COMMIT in one round trip. A statement issued after that
   * is refused with an error (it would run after the COMMIT), and a write fails (READ ONLY).
   */
  readOnlyBatch?: boolean;
}

export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /**
   * Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. Statements that
   * `fn` issues without awaiting in between run in the order issued; on PostgreSQL they go out together
   * with the BEGIN (one round trip), so issue the first ones before the first `await`.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * LISTEN on `channel` (lower case): `onNotify` gets the payload of each NOTIFY committed from then
   * on (on PGlite, within this process). Resolves to a function that stops listening. Optional so
   * that wrappers (tests) need not forward it; both adapters have it.
   */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /**
   * Embedded databases on disk only: copies the data folder to `target` (which must not exist) while
   * no statement runs, so the copy is what a crash at that moment would leave, and opens the same way.
   */
  copyDataDir?(target: string): Promise<void>;
}

export function statementParts(
  textOrStatement: string | Statement,
  values: readonly unknown[],
): [string, readonly unknown[]] {
  return typeof textOrStatement === 'string'
    ? [textOrStatement, values]
    : [textOrStatement.text, textOrStatement.values];
}
