import type { Database, Queryable } from './database.ts';

/**
 * Runs `fn` in a transaction as the tenant: the role sync_manager_app (neither superuser, owner nor
 * BYPASSRLS) with app.tenant_id set for this transaction only. Row-level security then hides every
 * other tenant's rows even from a query that forgets its tenant filter. Services still filter by
 * tenant explicitly: this is the second wall, not the first.
 */
export function withTenant<T>(db: Database, tenantId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(
      `SELECT set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', $1, true)`,
      [tenantId],
    );
    return fn(tx);
  });
}
