import type { Command } from 'commander';
import { withClient } from '../context.ts';
import { UsageError } from '../options.ts';
import { printJson } from '../output.ts';

interface ChangesPage {
  items: { cursor: string }[];
  nextCursor: string;
  hasMore: boolean;
}

/** Seconds a --follow long poll waits before asking again. */
const FOLLOW_WAIT_SECONDS = 30;

export function registerChanges(program: Command): void {
  program
    .command('changes <collection>')
    .description("print a collection's changes as NDJSON, one a line (each carries its cursor)")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option(
      '--cursor <cursor>',
      'start after this cursor (a line\'s "cursor", or an export\'s); default: the oldest kept',
    )
    .option('--follow', 'keep waiting for new changes (long poll) instead of stopping when caught up')
    .option('--data', "include each record's new value")
    .option('--json', 'print the changes up to now as one JSON array instead (not with --follow)')
    .action(
      async (
        collection: string,
        options: { tenant: string; cursor?: string; follow?: boolean; data?: boolean; json?: boolean },
      ) => {
        if (options.json && options.follow) throw new UsageError('--json and --follow cannot be combined');
        const collected: unknown[] = [];
        await withClient(async (client) => {
          let cursor = options.cursor;
          let stop = false;
          process.once('SIGINT', () => {
            stop = true;
          });
          let caughtUp = false;
          while (!stop) {
            const query = new URLSearchParams({ limit: '1000' });
            if (cursor) query.set('cursor', cursor);
            if (options.data) query.set('include', 'data');
            if (caughtUp) query.set('wait', String(FOLLOW_WAIT_SECONDS));
            const page = await client.call<ChangesPage>({
              method: 'GET',
              path: `/v1/collections/${encodeURIComponent(collection)}/changes?${query}`,
              tenant: options.tenant,
            });
            if (options.json) collected.push(...page.items);
            else if (page.items.length > 0) {
              const text = `${page.items.map((item) => JSON.stringify(item)).join('\n')}\n`;
              if (!process.stdout.write(text))
                await new Promise((resolve) => process.stdout.once('drain', resolve));
            }
            cursor = page.nextCursor;
            caughtUp = !page.hasMore;
            if (caughtUp && !options.follow) break;
          }
        });
        if (options.json) printJson(collected);
      },
    );
}
