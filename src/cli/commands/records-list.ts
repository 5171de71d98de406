import type { Command } from 'commander';
import { withClient } from '../context.ts';
import { printJson, printTable } from '../output.ts';

interface ListOptions {
  tenant: string;
  filter?: string;
  sort?: string;
  fields?: string;
  overridden?: boolean;
  conflicts?: boolean;
  upstreamGone?: boolean;
  deleted?: boolean;
  limit?: string;
  json?: boolean;
}

/** Records fetched per request. */
const PAGE = 1000;

/**
 * `sync-manager records list <collection>`: the records, filtered, sorted and projected as GET
 * …/records takes them (docs/querying.md). A table on a terminal; NDJSON (one record a line) when the
 * output is piped; `--json` prints one JSON array. Joins the `records` command group when another
 * command made it first.
 */
export function registerRecordsList(program: Command): void {
  const records =
    program.commands.find((command) => command.name() === 'records') ??
    program.command('records').description("a collection's records");
  records
    .command('list <collection>')
    .description('list records, optionally filtered, sorted and projected')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--filter <json>', 'a filter, e.g. \'{"price":{"_lt":20}}\' (docs/querying.md)')
    .option('--sort <field>', 'sort by a field; -field for descending')
    .option('--fields <names>', 'comma-separated top-level members to print')
    .option('--overridden', 'only records with manual edits')
    .option('--conflicts', 'only records with an open conflict')
    .option('--upstream-gone', 'only records the last full feed no longer holds')
    .option('--deleted', 'only deleted records')
    .option('--limit <n>', 'at most this many records')
    .option('--json', 'print one JSON array')
    .action(async (collection: string, options: ListOptions) => {
      const max = options.limit === undefined ? Number.POSITIVE_INFINITY : Number(options.limit);
      if (!Number.isSafeInteger(max) && max !== Number.POSITIVE_INFINITY) {
        throw new Error('--limit takes a whole number');
      }
      const query = new URLSearchParams();
      if (options.filter !== undefined) query.set('filter', options.filter);
      if (options.sort !== undefined) query.set('sort', options.sort);
      if (options.fields !== undefined) query.set('fields', options.fields);
      if (options.overridden) query.set('overridden', 'true');
      if (options.conflicts) query.set('conflicts', 'open');
      if (options.upstreamGone) query.set('upstreamGone', 'true');
      if (options.deleted) query.set('deleted', 'true');
      const table = !options.json && process.stdout.isTTY === true;
      const kept: Array<Record<string, unknown>> = [];
      await withClient(async (client) => {
        let cursor: string | null = null;
        let count = 0;
        do {
          const page = new URLSearchParams(query);
          page.set('limit', String(Math.min(PAGE, max - count)));
          if (cursor) page.set('cursor', cursor);
          const answer: { items: Array<Record<string, unknown>>; nextCursor: string | null } =
            await client.call({
              method: 'GET',
              path: `/v1/collections/${encodeURIComponent(collection)}/records?${page}`,
              tenant: options.tenant,
            });
          count += answer.items.length;
          // Piped output streams a page at a time; a table or a JSON array needs them all.
          if (table || options.json) kept.push(...answer.items);
          else for (const item of answer.items) process.stdout.write(`${JSON.stringify(item)}\n`);
          cursor = answer.nextCursor;
        } while (cursor && count < max);
      });
      if (options.json) return printJson(kept);
      if (table) printTable(kept, columnsOf(kept, options.fields));
    });
}

/** The projected fields in order, else the members of the records (the first 8 seen). */
function columnsOf(rows: Array<Record<string, unknown>>, fields: string | undefined): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) if (seen.size < 8) seen.add(key);
  if (fields === undefined) return [...seen];
  const named = fields.split(',').map((name) => name.trim());
  return [...[...seen].filter((key) => !named.includes(key)), ...named];
}
