import { AsyncLocalStorage } from 'node:async_hooks';
import { AppError } from '../errors.ts';
import type { Database, Queryable } from './database.ts';

/**
 * An API key that authenticated this request from a per-process cache, not from the database: every
 * tenant transaction run for the request checks in its role switch (same statement, same round trip)
 * that the key is still unrevoked, so a revoke takes effect at once in every process. `checked` says
 * a transaction did; a request that ran none is checked by the auth module before its response.
 */
export interface KeyToCheck {
  tenantId: string;
  keyId: string;
  checked: boolean;
  revoked: boolean;
}

const keyToCheck = new AsyncLocalStorage<KeyToCheck>();

/** Runs `fn` (and everything it starts) with `key` checked by each tenant transaction. */
export function checkingKey<T>(key: KeyToCheck, fn: () => T): T {
  return keyToCheck.run(key, fn);
}

const SWITCH_ROLE = `SELECT set_config('role', 'sync_manager_app', true), set_config('app.tenant_id', $1, true)`;
/**
 * The switch for a cached key: the tenant is set only if the key is still live ('' otherwise: row-level
 * security then hides every row and refuses every write, until the caller sees the '' and throws).
 * The key is read first, under the connection's own role, as the uncached lookup does.
 */
const SWITCH_ROLE_CHECKING_KEY = `SELECT set_config('app.tenant_id', coalesce((SELECT k.tenant_id::text FROM api_keys k
    WHERE k.tenant_id = $1::uuid AND k.id = $2::uuid AND k.revoked_at IS NULL), ''), true) AS tenant,
  set_config('role', 'sync_manager_app', true)`;

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
  const store = keyToCheck.getStore();
  const key = store?.tenantId === tenantId ? store : undefined;
  const switched = key
    ? tx.query<{ tenant: string }>(SWITCH_ROLE_CHECKING_KEY, [tenantId, key.keyId])
    : tx.query<{ tenant: string }>(SWITCH_ROLE, [tenantId]);
  let result: Promise<T>;
  try {
    result = fn(tx);
  } catch (error) {
    switched.catch(() => {});
    throw error;
  }
  try {
    const [row] = await switched;
    if (key) {
      key.checked = true;
      if (row?.tenant !== tenantId) {
        key.revoked = true;
        throw new AppError('unauthorized', 'A valid API key is required: Authorization: Bearer <key>');
      }
    }
  } catch (error) {
    result.catch(() => {}); // it fails or sees nothing: the switch's failure is the cause
    throw error;
  }
  return result;
}
