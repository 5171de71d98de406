import { type Command, Option } from 'commander';
import { CliApiError } from '../client.ts';
import { listAll, withClient } from '../context.ts';
import { choiceOption, jsonOption, tenantOption, UsageError } from '../options.ts';
import { printJson, printTable } from '../output.ts';

interface Conflict {
  id: string;
  recordId: string;
  path: string;
  manualValue: unknown;
  sourceValue: unknown;
  status: string;
  resolution: string | null;
  createdAt: string;
}

const conflictsPath = (collection: string) => `/v1/collections/${encodeURIComponent(collection)}/conflicts`;

const COLUMNS = ['id', 'recordId', 'path', 'manualValue', 'sourceValue', 'status', 'createdAt'];

export function registerConflicts(program: Command): void {
  const conflicts = program
    .command('conflicts')
    .description('fields changed upstream under a manual edit: list them, keep the edit or take the source');
  conflicts
    .command('list <collection>')
    .description("a collection's conflicts, oldest first (open ones unless --status)")
    .addOption(tenantOption())
    .addOption(
      choiceOption('--status <status>', 'which conflicts', ['open', 'resolved', 'all']).default('open'),
    )
    .addOption(jsonOption())
    .action(async (collection: string, options: { tenant: string; status: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Conflict>(
          client,
          `${conflictsPath(collection)}?status=${options.status}`,
          options.tenant,
        );
        if (options.json) return printJson(items);
        printTable(
          items.map(asRow),
          options.status === 'open' ? COLUMNS.filter((c) => c !== 'status') : COLUMNS,
        );
      });
    });
  conflicts
    .command('resolve <collection> [conflictIds...]')
    .description(
      'resolve conflicts by id (or every open one with --all): keep the manual value or take the source',
    )
    .addOption(tenantOption())
    .addOption(new Option('--keep-manual', 'keep the override; the conflict closes').conflicts('takeSource'))
    .addOption(new Option('--take-source', 'drop the override; the record takes the source value'))
    .option('--all', 'every open conflict of the collection')
    .addOption(jsonOption('print the resolved conflicts as JSON'))
    .action(
      async (
        collection: string,
        ids: string[],
        options: {
          tenant: string;
          keepManual?: boolean;
          takeSource?: boolean;
          all?: boolean;
          json?: boolean;
        },
      ) => {
        if (!options.keepManual && !options.takeSource)
          throw new UsageError('say how: --keep-manual or --take-source');
        if (Boolean(options.all) === ids.length > 0)
          throw new UsageError(
            options.all ? 'give conflict ids or --all, not both' : 'give conflict ids, or --all',
          );
        const resolution = options.keepManual ? 'keep-manual' : 'take-source';
        await withClient(async (client) => {
          const targets = options.all
            ? (
                await listAll<Conflict>(client, `${conflictsPath(collection)}?status=open`, options.tenant)
              ).map((c) => c.id)
            : ids;
          const resolved: Conflict[] = [];
          const failed: Array<{ id: string; error: CliApiError }> = [];
          // One at a time, all of them: one stale id does not stop the others.
          for (const id of targets) {
            try {
              resolved.push(
                await client.call<Conflict>({
                  method: 'POST',
                  path: `${conflictsPath(collection)}/${encodeURIComponent(id)}/resolve`,
                  tenant: options.tenant,
                  body: { resolution },
                }),
              );
            } catch (error) {
              if (!(error instanceof CliApiError)) throw error;
              failed.push({ id, error });
            }
          }
          if (options.json) printJson(resolved);
          else if (targets.length === 0) process.stdout.write('no open conflicts\n');
          else if (resolved.length > 0) {
            printTable(resolved.map(asRow), ['id', 'recordId', 'path', 'resolution']);
          }
          if (failed.length === 1 && targets.length === 1) throw failed[0]!.error;
          if (failed.length > 0) {
            const first = failed[0]!;
            throw new CliApiError(
              `${failed.length} of ${targets.length} conflict(s) not resolved; ${first.id}: ${first.error.message}`,
              first.error.code,
              first.error.status,
              first.error.problem,
            );
          }
        });
      },
    );
}

function asRow(conflict: Conflict): Record<string, unknown> {
  return {
    ...conflict,
    manualValue: JSON.stringify(conflict.manualValue),
    sourceValue: JSON.stringify(conflict.sourceValue),
  };
}
