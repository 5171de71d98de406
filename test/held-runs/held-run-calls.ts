import type { Ctx } from '../sync/sync-helpers.ts';

/** GET a run (`''`), or approve or reject it, with the tenant's key. */
export async function call(ctx: Ctx, syncId: string, action: 'approve' | 'reject' | '') {
  const path = action ? `/v1/syncs/${syncId}/${action}` : `/v1/syncs/${syncId}`;
  return ctx.server.request(action ? 'POST' : 'GET', path, { key: ctx.key });
}

/** How many staged rows a held run still keeps (0 once approved, rejected or expired). */
export async function heldRows(ctx: Ctx, syncId: string): Promise<number> {
  const [row] = await ctx.server.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM held_run_rows WHERE sync_run_id = $1',
    [syncId],
  );
  return row!.n;
}
