import { type Command, Option } from 'commander';
import { listAll, withClient } from '../context.ts';
import { jsonOption, tenantOption } from '../options.ts';
import { printFields, printJson, printTable } from '../output.ts';

interface SyncRun {
  id: string;
  collection: string;
  mode: string;
  dryRun: boolean;
  forced: boolean;
  status: string;
  counts: Record<string, number>;
  snapshotId: string | null;
  errors: Array<{ row?: number; id?: string; code?: string; message?: string }>;
  timings: Record<string, number>;
  origin: Record<string, unknown>;
  startedAt: string;
  finishedAt: string | null;
  plan?: unknown;
}

const RUN_STATUSES = ['running', 'succeeded', 'failed', 'planned', 'held', 'rejected', 'expired'];

export function registerSyncs(program: Command): void {
  const syncs = program.command('syncs').description("sync runs: a collection's history, or one run");
  syncs
    .command('list <collection>')
    .description("a collection's sync runs, newest first")
    .addOption(tenantOption())
    .addOption(jsonOption())
    .addOption(
      new Option(
        '--status <status>',
        'only the runs of this status (held: the ones waiting for approval)',
      ).choices(RUN_STATUSES),
    )
    .action(async (collection: string, options: { tenant: string; json?: boolean; status?: string }) => {
      await withClient(async (client) => {
        const status = options.status ? `?status=${options.status}` : '';
        const runs = await listAll<SyncRun>(
          client,
          `/v1/collections/${encodeURIComponent(collection)}/syncs${status}`,
          options.tenant,
        );
        if (options.json) return printJson(runs);
        printTable(
          runs.map((run) => ({
            ...run.counts,
            id: run.id,
            startedAt: run.startedAt,
            status: run.status,
            mode: run.dryRun ? `${run.mode} (dry run)` : run.mode,
            origin: run.origin.kind,
            errors: run.errors.length,
          })),
          [
            'id',
            'startedAt',
            'status',
            'mode',
            'origin',
            'created',
            'updated',
            'deleted',
            'conflicts',
            'errors',
          ],
        );
      });
    });
  syncs
    .command('get <syncId>')
    .description('one sync run: counts, timings, errors, origin and its snapshot')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(async (syncId: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const run = await client.call<SyncRun>({
          method: 'GET',
          path: `/v1/syncs/${encodeURIComponent(syncId)}`,
          tenant: options.tenant,
        });
        if (options.json) return printJson(run);
        const { counts, timings, errors, origin, plan: _plan, ...fields } = run;
        printFields({ ...fields, ...counts, origin, totalMs: timings.totalMs });
        if (errors.length > 0) {
          process.stdout.write('\n');
          printTable(errors as Record<string, unknown>[], ['row', 'id', 'code', 'message']);
        }
      });
    });
  for (const action of ['approve', 'reject'] as const) {
    syncs
      .command(`${action} <syncId>`)
      .description(
        action === 'approve'
          ? 'apply a held run exactly as planned (refused when the collection changed since)'
          : 'discard a held run and what it staged',
      )
      .addOption(tenantOption())
      .addOption(jsonOption())
      .action(async (syncId: string, options: { tenant: string; json?: boolean }) => {
        await withClient(async (client) => {
          const run = await client.call<SyncRun>({
            method: 'POST',
            path: `/v1/syncs/${encodeURIComponent(syncId)}/${action}`,
            tenant: options.tenant,
          });
          if (options.json) return printJson(run);
          printFields({ id: run.id, status: run.status, ...run.counts });
        });
      });
  }
  syncs
    .command('revert <syncId>')
    .description(
      'undo one run field by field; fields changed since (edits, runs, restores) stay and are listed',
    )
    .addOption(tenantOption())
    .option('--dry-run', 'report what the revert would do, write nothing')
    .addOption(jsonOption())
    .action(async (syncId: string, options: { tenant: string; dryRun?: boolean; json?: boolean }) => {
      await withClient(async (client) => {
        const result = await client.call<RevertResult>({
          method: 'POST',
          path: `/v1/syncs/${encodeURIComponent(syncId)}/revert${options.dryRun ? '?dryRun=true' : ''}`,
          tenant: options.tenant,
        });
        if (options.json) return printJson(result);
        printFields({ revert: result.id ?? '(dry run)', of: result.syncId, ...result.counts });
        if (result.kept.length > 0) {
          process.stdout.write('\nkept (changed again since the run):\n');
          printTable(
            result.kept.map((k) => ({
              record: k.recordId,
              path: k.path,
              by: k.keptBy.kind,
              change: k.keptBy.changeId,
            })),
            ['record', 'path', 'by', 'change'],
          );
        }
      });
    });
}

interface RevertResult {
  id: string | null;
  syncId: string;
  counts: Record<string, number>;
  kept: Array<{ recordId: string; path: string; keptBy: { kind: string; changeId: string } }>;
}
