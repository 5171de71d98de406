import { type Command, InvalidArgumentError } from 'commander';
import { listAll, withClient } from '../context.ts';
import { printFields, printJson, printTable } from '../output.ts';

/** `--header 'Authorization: Bearer x'`, repeatable. */
function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('a header is "Name: value"');
  return { ...previous, [value.slice(0, colon).trim()]: value.slice(colon + 1).trim() };
}

function mode(value: string): string {
  if (value !== 'full' && value !== 'partial') throw new InvalidArgumentError('full or partial');
  return value;
}

const sourcePath = (collection: string) => `/v1/collections/${encodeURIComponent(collection)}/source`;

/** `--field /price`, repeatable. */
function field(value: string, previous: string[] = []): string[] {
  if (value !== '/' && !value.startsWith('/'))
    throw new InvalidArgumentError('a field is "/" or a JSON Pointer');
  return [...previous, value];
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('an integer');
  return Number(value);
}

const namedPath = (collection: string, name?: string) =>
  `/v1/collections/${encodeURIComponent(collection)}/sources${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

export function registerSources(program: Command): void {
  const sources = program
    .command('sources')
    .description(
      "a collection's named sources (the fields each owns) and scheduled feed URLs, fetched with conditional GET and synced by `serve`",
    );
  sources
    .command('show <collection>')
    .description("a collection's named sources: the fields each owns, priority, schedule")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (collection: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const { items } = await client.call<{ items: Record<string, unknown>[] }>({
          method: 'GET',
          path: namedPath(collection),
          tenant: options.tenant,
        });
        if (options.json) return printJson(items);
        const rows = items.map((item) => ({ ...item, fields: (item.fields as string[]).join(' ') }));
        printTable(rows, ['name', 'fields', 'priority', 'ignoreEmpty', 'url', 'schedule', 'mode']);
      });
    });
  sources
    .command('define <collection> <name>')
    .description('create or replace a named source: the fields it owns (default "/", everything)')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--field <pointer>', 'a JSON Pointer the source owns (repeatable)', field)
    .option('--priority <n>', 'the higher wins a field two sources own (default 0)', integer)
    .option('--ignore-empty', 'a null or "" from this source does not overwrite a value')
    .option('--url <url>', 'a feed URL fetched on --schedule')
    .option('--schedule <cron>', 'cron expression in UTC (with --url)')
    .option('--mode <mode>', 'full | partial (default full)', mode)
    .option('--header <header>', 'extra request header "Name: value" (repeatable)', header)
    .option('--json', 'print JSON')
    .action(
      async (
        collection: string,
        name: string,
        options: {
          tenant: string;
          field?: string[];
          priority?: number;
          ignoreEmpty?: boolean;
          url?: string;
          schedule?: string;
          mode?: string;
          header?: Record<string, string>;
          json?: boolean;
        },
      ) => {
        await withClient(async (client) => {
          const body = {
            ...(options.field ? { fields: options.field } : {}),
            ...(options.priority !== undefined ? { priority: options.priority } : {}),
            ...(options.ignoreEmpty ? { ignoreEmpty: true } : {}),
            ...(options.url ? { url: options.url } : {}),
            ...(options.schedule ? { schedule: options.schedule } : {}),
            ...(options.mode ? { mode: options.mode } : {}),
            ...(options.header ? { headers: options.header } : {}),
          };
          const saved = await client.call<{ fields: string[] }>({
            method: 'PUT',
            path: namedPath(collection, name),
            tenant: options.tenant,
            body,
          });
          if (options.json) printJson(saved);
          else
            process.stdout.write(
              `source ${name} of ${collection} saved; it owns ${saved.fields.join(' ')}\n`,
            );
        });
      },
    );
  sources
    .command('remove <collection> <name>')
    .description('remove a named source (its values stay in records until they are next synced)')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (collection: string, name: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        await client.call({ method: 'DELETE', path: namedPath(collection, name), tenant: options.tenant });
        if (options.json) return printJson({ collection, name, deleted: true });
        process.stdout.write(`source ${name} of ${collection} removed\n`);
      });
    });
  sources
    .command('list')
    .description("the tenant's scheduled sources")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Record<string, unknown>>(client, '/v1/sources', options.tenant);
        if (options.json) return printJson(items);
        const rows = items.map((item) => {
          const last = item.lastRun as { status: string; at: string } | null;
          return { ...item, lastStatus: last?.status, lastRunAt: last?.at };
        });
        printTable(rows, [
          'collection',
          'name',
          'url',
          'schedule',
          'mode',
          'nextRunAt',
          'lastStatus',
          'lastRunAt',
        ]);
      });
    });
  sources
    .command('set <collection> <url>')
    .description("set a collection's feed URL and schedule (the collection must exist)")
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--schedule <cron>', 'cron expression in UTC, e.g. "0 * * * *" or @hourly')
    .option('--mode <mode>', 'full | partial (default full)', mode)
    .option('--header <header>', 'extra request header "Name: value" (repeatable)', header)
    .option('--json', 'print JSON')
    .action(
      async (
        collection: string,
        url: string,
        options: {
          tenant: string;
          schedule: string;
          mode?: string;
          header?: Record<string, string>;
          json?: boolean;
        },
      ) => {
        await withClient(async (client) => {
          const body = {
            url,
            schedule: options.schedule,
            ...(options.mode ? { mode: options.mode } : {}),
            ...(options.header ? { headers: options.header } : {}),
          };
          const saved = await client.call<{ nextRunAt: string }>({
            method: 'PUT',
            path: sourcePath(collection),
            tenant: options.tenant,
            body,
          });
          if (options.json) printJson(saved);
          else process.stdout.write(`source of ${collection} saved; next run at ${saved.nextRunAt}\n`);
        });
      },
    );
  sources
    .command('get <collection>')
    .description("a collection's source and its last run")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (collection: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const source = await client.call<Record<string, unknown>>({
          method: 'GET',
          path: sourcePath(collection),
          tenant: options.tenant,
        });
        if (options.json) return printJson(source);
        const { lastRun, ...settings } = source;
        const last = lastRun as { status?: string; at?: string; error?: string | null } | null;
        printFields({
          ...settings,
          lastStatus: last?.status,
          lastRunAt: last?.at,
          ...(last?.error ? { lastError: last.error } : {}),
        });
      });
    });
  sources
    .command('delete <collection>')
    .description("remove a collection's source")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (collection: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        await client.call({ method: 'DELETE', path: sourcePath(collection), tenant: options.tenant });
        if (options.json) return printJson({ collection, deleted: true });
        process.stdout.write(`source of ${collection} deleted\n`);
      });
    });
  sources
    .command('run <collection>')
    .description('fetch at the next scheduler tick of the running server')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (collection: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const due = await client.call({
          method: 'POST',
          path: `${sourcePath(collection)}/run`,
          tenant: options.tenant,
        });
        if (options.json) return printJson(due ?? { collection, due: true });
        process.stdout.write(`source of ${collection} is due now\n`);
      });
    });
  sources
    .command('runs <collection>')
    .description('scheduled fetches, newest first: synced, unchanged (304) or failed with the reason')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (collection: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Record<string, unknown>>(
          client,
          `${sourcePath(collection)}/runs`,
          options.tenant,
        );
        if (options.json) return printJson(items);
        printTable(items, ['startedAt', 'status', 'httpStatus', 'syncId', 'error']);
      });
    });
}
