import type { Database, Queryable } from './database.ts';

/**
 * Runs `fn` in a transaction as the tenant: the role sync_manager_app (neither superuser, owner nor
 * BYPASSRLS) with app.tenant_id set for this transaction only. Row-level security then hides every
 * other tenant's rows even from a query that forgets its tenant filter. Services still filter by
 * tenant explicitly: this is the second wall, not the first.
 *
 * The role switch is issued without awaiting it, so that on PostgreSQL it travels with the BEGIN and
 * `fn`'s first statements in one round trip. Statements of one transaction run in the order issued, so
 * none of `fn`'s runs before the switch; if the switch fails, the transaction is aborted, every later
 * statement fails with it, and the switch's error is thrown whatever `fn` made of theirs.
 */
export function withTenant<T>(db: Database, tenantId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction((tx) => asTenant(tx, tenantId, fn));
}

/**
 * withTenant for a call that only reads and issues every statement before its first `await`: with the
 * role switch, one round trip in all (TransactionOptions.readOnlyBatch).
 */
export function readAsTenant<T>(
  db: Database,
  tenantId: string,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  return db.transaction((tx) => asTenant(tx, tenantId, fn), { readOnlyBatch: true });
}

async function asTenant<T>(tx: Queryable, tenantId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const switched = tx.query(
    `SELECT set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', $1, true)`,
    [tenantId],
  );
  let result: Promise<T>;
  try {
    result = fn(tx);
  } catch (error) {
    switched.catch(() => {});
    throw error;
  }
  try {
    await switched;
  } catch (error) {
    result.catch(() => {}); // it fails too (aborted transaction); the switch's error is the cause
    throw error;
  }
  return result;
}

const LEAVE_TENANT_ROLE = `SELECT set_config('role', 'none', true)`;
const ENTER_TENANT_ROLE = `SELECT set_config('role', 'sync_manager_app', true)`;

/**
 * Runs `fn` inside a tenant transaction as the connection's own user (the tables' owner), for the bulk
 * work the tenant role may not do: COPY (PGlite's goes through a device) and ANALYZE. Row-level
 * security does not apply meanwhile, so every statement `fn` issues must name its tenant itself; this
 * is the one place outside withTenant that switches roles. The switch is not awaited, so it travels
 * with `fn`'s first statement. When `fn` fails the tenant role is not restored: roll back (the
 * transaction, or to a savepoint taken before this call), which restores it.
 *
 * @example await asOwner(tx, () => tx.copyFrom('COPY staging (id, hash)', chunks));
 */
export async function asOwner<T>(tx: Queryable, fn: () => Promise<T>): Promise<T> {
  const left = tx.query(LEAVE_TENANT_ROLE);
  left.catch(() => {}); // if it failed, so does fn (aborted transaction), whose error is thrown
  const result = await fn();
  await left;
  await tx.query(ENTER_TENANT_ROLE);
  return result;
}
