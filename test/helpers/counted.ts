import type { Database, Statement } from '../../src/db/database.ts';

/** The database, counting the statements sent through it (transactions' own are not counted). */
export function counted(db: Database): { db: Database; statements: () => number } {
  let statements = 0;
  const query = (textOrStatement: string | Statement, values?: readonly unknown[]) => {
    statements++;
    return typeof textOrStatement === 'string'
      ? db.query(textOrStatement, values)
      : db.query(textOrStatement);
  };
  return { db: { ...db, query: query as Database['query'] }, statements: () => statements };
}
