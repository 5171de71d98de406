import type { Command } from 'commander';
import type { ApiClient } from '../client.ts';
import { listAll, withClient } from '../context.ts';
import { printJson, printTable } from '../output.ts';

interface PruneReport {
  dryRun: boolean;
  windowStart: string;
  expired: Array<{ id: string; label: string | null; createdAt: string; reason: string }>;
  kept: Array<{ id: string; label: string | null; createdAt: string; reason: string }>;
  versions: Array<{ collection: string; pruned: number; kept: number }>;
}

interface DiffPage {
  collections: Array<{
    name: string;
    counts: { created: number; changed: number; deleted: number };
    records: Array<{ id: string; change: string; changes: Array<{ path: string; op: string }> }>;
  }>;
  nextCursor: string | null;
}

const path = (id: string, suffix = '') => `/v1/snapshots/${encodeURIComponent(id)}${suffix}`;

export function registerSnapshots(program: Command): void {
  const snapshots = program
    .command('snapshots')
    .description("a tenant's points in time: list, take, compare with now, restore, prune");
  snapshots
    .command('list')
    .description('list snapshots, newest first')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Record<string, unknown>>(client, '/v1/snapshots', options.tenant);
        if (options.json) return printJson(items);
        printTable(items, ['id', 'label', 'auto', 'pinned', 'createdAt', 'expiresAt']);
      });
    });
  snapshots
    .command('create')
    .description('take a snapshot of the whole tenant (instant, whatever the data size)')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--label <label>', 'a name to recognise it by')
    .option('--pin', 'keep it until unpinned (never expires)')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; label?: string; pin?: boolean; json?: boolean }) => {
      await withClient(async (client) => {
        const body = {
          ...(options.label ? { label: options.label } : {}),
          ...(options.pin ? { pinned: true } : {}),
        };
        const created = await client.call<{ id: string; expiresAt: string | null }>({
          method: 'POST',
          path: '/v1/snapshots',
          tenant: options.tenant,
          body,
        });
        if (options.json) return printJson(created);
        const until = created.expiresAt ? `kept until ${created.expiresAt}` : 'pinned';
        process.stdout.write(`snapshot ${created.id} taken (${until})\n`);
      });
    });
  snapshots
    .command('diff <snapshotId>')
    .description('what changed since the snapshot, per collection and record')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--collection <name>', 'only this collection')
    .option('--json', 'print JSON (every page)')
    .action(async (snapshotId: string, options: { tenant: string; collection?: string; json?: boolean }) => {
      await withClient(async (client) => {
        const pages = await allDiffPages(client, snapshotId, options.tenant, options.collection);
        if (options.json) return printJson(mergePages(pages));
        const merged = mergePages(pages);
        printTable(
          merged.map((c) => ({ collection: c.name, ...c.counts })),
          ['collection', 'created', 'changed', 'deleted'],
        );
        const rows = merged.flatMap((c) =>
          c.records.map((r) => ({
            collection: c.name,
            id: r.id,
            change: r.change,
            fields: r.change === 'changed' ? r.changes.map((f) => f.path).join(' ') : '',
          })),
        );
        if (rows.length > 0) {
          process.stdout.write('\n');
          printTable(rows, ['collection', 'id', 'change', 'fields']);
        }
      });
    });
  snapshots
    .command('restore <snapshotId>')
    .description(
      'restore the tenant (or the collections named) to the snapshot; undo by restoring the one taken first',
    )
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--collection <name...>', 'only these collections (repeatable)')
    .option('--json', 'print JSON')
    .action(
      async (snapshotId: string, options: { tenant: string; collection?: string[]; json?: boolean }) => {
        await withClient(async (client) => {
          const result = await client.call<{
            undoSnapshotId: string;
            collections: Array<{
              name: string;
              restored: Record<string, number>;
              closedConflicts: number;
              reopenedConflicts: number;
            }>;
          }>({
            method: 'POST',
            path: path(snapshotId, '/restore'),
            tenant: options.tenant,
            body: options.collection ? { collections: options.collection } : {},
          });
          if (options.json) return printJson(result);
          printTable(
            result.collections.map((c) => ({
              collection: c.name,
              ...c.restored,
              closedConflicts: c.closedConflicts,
              reopenedConflicts: c.reopenedConflicts,
            })),
            ['collection', 'created', 'changed', 'deleted', 'closedConflicts', 'reopenedConflicts'],
          );
          process.stdout.write(
            `restored; to undo: sync-manager snapshots restore ${result.undoSnapshotId}\n`,
          );
        });
      },
    );
  snapshots
    .command('prune')
    .description(
      'expire unpinned snapshots older than SNAPSHOT_RETENTION_DAYS and the versions nothing needs',
    )
    .option('--tenant <slug>', 'one tenant (default: every tenant)')
    .option('--dry-run', 'say what would go and why the rest stays; change nothing')
    .option('--json', 'print JSON')
    .action(async (options: { tenant?: string; dryRun?: boolean; json?: boolean }) => {
      await withClient(async (client) => {
        const tenants = options.tenant
          ? [options.tenant]
          : (await listAll<{ slug: string }>(client, '/v1/tenants')).map((t) => t.slug);
        const reports: Record<string, PruneReport> = {};
        for (const tenant of tenants) {
          reports[tenant] = await client.call<PruneReport>({
            method: 'POST',
            path: `/v1/snapshots/prune${options.dryRun ? '?dryRun=true' : ''}`,
            tenant,
          });
        }
        if (options.json) return printJson(options.tenant ? reports[options.tenant] : reports);
        for (const [tenant, report] of Object.entries(reports)) printPrune(tenant, report);
      });
    });
}

function printPrune(tenant: string, report: PruneReport): void {
  const verb = report.dryRun ? 'would go' : 'gone';
  process.stdout.write(`tenant ${tenant} (window from ${report.windowStart})\n`);
  const rows = [
    ...report.expired.map((s) => ({ ...s, fate: verb })),
    ...report.kept.map((s) => ({ ...s, fate: 'kept' })),
  ];
  printTable(rows, ['id', 'label', 'createdAt', 'fate', 'reason']);
  printTable(
    report.versions.map((v) => ({
      collection: v.collection,
      [`versions ${verb}`]: v.pruned,
      'versions kept': v.kept,
    })),
    ['collection', `versions ${verb}`, 'versions kept'],
  );
  process.stdout.write('\n');
}

async function allDiffPages(
  client: ApiClient,
  id: string,
  tenant: string,
  collection?: string,
): Promise<DiffPage[]> {
  const pages: DiffPage[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000' });
    if (collection) query.set('collection', collection);
    if (cursor) query.set('cursor', cursor);
    const page: DiffPage = await client.call<DiffPage>({
      method: 'GET',
      path: path(id, `/diff?${query}`),
      tenant,
    });
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

function mergePages(pages: DiffPage[]): DiffPage['collections'] {
  const byName = new Map<string, DiffPage['collections'][number]>();
  for (const page of pages) {
    for (const c of page.collections) {
      const seen = byName.get(c.name);
      if (seen) seen.records.push(...c.records);
      else byName.set(c.name, { ...c, records: [...c.records] });
    }
  }
  return [...byName.values()];
}
