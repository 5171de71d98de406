// Writes records the way docs/architecture.md says writers must (one change per event, the change id
// drawn after the row locks, version + 1, deletes as data = NULL), with plain SQL, so the snapshot
// service can be tested against the real history trigger without the records API or the sync engine.
import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../src/db/database.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { applyOverrides, type JsonObject, type OverrideSet } from '../../src/json/index.ts';

export interface StoredState {
  source: JsonObject | null;
  source_hash: string | null;
  upstream_gone: boolean;
  overrides: OverrideSet;
  manual_delete: { by: string | null; at: string } | null;
  data: JsonObject | null;
}

/** What a record that did not exist at a point in time looks like after a restore. */
export const ABSENT: StoredState = {
  source: null,
  source_hash: null,
  upstream_gone: false,
  overrides: {},
  manual_delete: null,
  data: null,
};

export class Writer {
  constructor(
    readonly db: Database,
    readonly tenantId: string,
    readonly clock: () => Date,
  ) {}

  static async create(db: Database, slug: string, clock: () => Date): Promise<Writer> {
    const [tenant] = await db.query<{ id: string }>(
      'INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id',
      [slug],
    );
    return new Writer(db, tenant!.id, clock);
  }

  async collection(name: string): Promise<string> {
    const [row] = await withTenant(this.db, this.tenantId, (tx) =>
      tx.query<{ id: string }>('INSERT INTO collections (tenant_id, name) VALUES ($1, $2) RETURNING id', [
        this.tenantId,
        name,
      ]),
    );
    return row!.id;
  }

  private async change(tx: Queryable, kind: 'api' | 'sync'): Promise<string> {
    const [row] = await tx.query<{ id: string }>(
      `INSERT INTO changes (tenant_id, id, at, kind) VALUES ($1, nextval('change_seq'), $2, $3) RETURNING id`,
      [this.tenantId, this.clock(), kind],
    );
    return row!.id;
  }

  private async lockAll(tx: Queryable, collectionId: string): Promise<Map<string, StoredState>> {
    const rows = await tx.query<StoredState & { record_id: string }>(
      `SELECT record_id, source, source_hash, upstream_gone, overrides, manual_delete,
        effective_value(data, source) AS data FROM records
        WHERE tenant_id = $1 AND collection_id = $2 FOR UPDATE`,
      [this.tenantId, collectionId],
    );
    return new Map(rows.map((row) => [row.record_id, row]));
  }

  private async write(
    tx: Queryable,
    collectionId: string,
    id: string,
    s: StoredState,
    changeId: string,
    exists: boolean,
  ) {
    const values = [
      this.tenantId,
      collectionId,
      id,
      json(s.source),
      s.source_hash,
      s.upstream_gone,
      JSON.stringify(s.overrides),
      json(s.manual_delete),
      json(s.data),
      changeId,
      this.clock(),
    ];
    if (exists) {
      await tx.query(
        `UPDATE records SET source = $4::jsonb, source_hash = $5, upstream_gone = $6, overrides = $7::jsonb,
                manual_delete = $8::jsonb, data = $9::jsonb, version = version + 1, change_id = $10, updated_at = $11
          WHERE tenant_id = $1 AND collection_id = $2 AND record_id = $3`,
        values,
      );
    } else {
      await tx.query(
        `INSERT INTO records (tenant_id, collection_id, record_id, source, source_hash, upstream_gone, overrides,
                manual_delete, data, version, change_id, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, 1, $10, $11)`,
        values,
      );
    }
  }

  /** A full sync: the feed is the whole upstream set; missing records go (delete policy "delete"). */
  async sync(collectionId: string, feed: Record<string, JsonObject>): Promise<number> {
    return withTenant(this.db, this.tenantId, async (tx) => {
      const current = await this.lockAll(tx, collectionId);
      let changeId: string | null = null;
      const changeOnce = async () => {
        changeId ??= await this.change(tx, 'sync');
        return changeId;
      };
      let writes = 0;
      for (const [id, value] of Object.entries(feed)) {
        const hash = createHash('sha1').update(JSON.stringify(value)).digest('hex');
        const old = current.get(id);
        if (old && old.source_hash === hash && !old.upstream_gone) continue;
        const next: StoredState = old
          ? { ...old, source: value, source_hash: hash, upstream_gone: false }
          : { ...ABSENT, source: value, source_hash: hash };
        next.data = next.manual_delete ? null : applyOverrides(value, next.overrides);
        await this.write(tx, collectionId, id, next, await changeOnce(), old !== undefined);
        writes++;
      }
      for (const [id, old] of current) {
        if (id in feed || old.source === null || old.upstream_gone) continue;
        await this.write(
          tx,
          collectionId,
          id,
          { ...old, upstream_gone: true, data: null },
          await changeOnce(),
          true,
        );
        writes++;
      }
      return writes;
    });
  }

  /** A manual change of one field (an override). */
  async patch(collectionId: string, id: string, field: string, value: JsonObject[string]): Promise<boolean> {
    return withTenant(this.db, this.tenantId, async (tx) => {
      const old = (await this.lockAll(tx, collectionId)).get(id);
      if (!old || old.data === null) return false;
      const at = this.clock().toISOString();
      const overrides: OverrideSet = { ...old.overrides, [`/${field}`]: { value: value!, by: null, at } };
      const next = { ...old, overrides, data: applyOverrides(old.source, overrides) };
      await this.write(tx, collectionId, id, next, await this.change(tx, 'api'), true);
      return true;
    });
  }

  /** A manual delete (an override of the whole record). */
  async remove(collectionId: string, id: string): Promise<boolean> {
    return withTenant(this.db, this.tenantId, async (tx) => {
      const old = (await this.lockAll(tx, collectionId)).get(id);
      if (!old || old.data === null) return false;
      const next = { ...old, manual_delete: { by: null, at: this.clock().toISOString() }, data: null };
      await this.write(tx, collectionId, id, next, await this.change(tx, 'api'), true);
      return true;
    });
  }

  /** Every stored record state of a collection, by id. */
  async states(collectionId: string): Promise<Record<string, StoredState>> {
    const rows = await withTenant(this.db, this.tenantId, (tx) =>
      tx.query<StoredState & { record_id: string }>(
        `SELECT record_id, source, source_hash, upstream_gone, overrides, manual_delete,
        effective_value(data, source) AS data FROM records
          WHERE tenant_id = $1 AND collection_id = $2 ORDER BY record_id`,
        [this.tenantId, collectionId],
      ),
    );
    return Object.fromEntries(rows.map(({ record_id, ...state }) => [record_id, state]));
  }

  /** The effective values (deleted records left out), by id. */
  async effective(collectionId: string): Promise<Record<string, JsonObject>> {
    const out: Record<string, JsonObject> = {};
    for (const [id, state] of Object.entries(await this.states(collectionId)))
      if (state.data) out[id] = state.data;
    return out;
  }
}

function json(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** A recorded copy compared with a later state: records absent from the copy must be ABSENT now. */
export function expandCopy(
  copy: Record<string, StoredState>,
  ids: Iterable<string>,
): Record<string, StoredState> {
  const out: Record<string, StoredState> = {};
  for (const id of new Set([...Object.keys(copy), ...ids])) out[id] = copy[id] ?? ABSENT;
  return out;
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
