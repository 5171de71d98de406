import { type Command, InvalidArgumentError } from 'commander';
import { listAll, withClient } from '../context.ts';
import { printJson, printTable } from '../output.ts';

function list(value: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new InvalidArgumentError('give one or more, comma-separated');
  return items;
}

export function registerWebhooks(program: Command): void {
  const webhooks = program.command('webhooks').description("manage a tenant's webhook endpoints");
  webhooks
    .command('list')
    .description('list endpoints (never their secrets)')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Record<string, unknown>>(client, '/v1/webhooks', options.tenant);
        if (options.json) printJson(items);
        else printTable(items, ['id', 'url', 'events', 'collections', 'enabled', 'disabledReason']);
      });
    });
  webhooks
    .command('create')
    .description('register an endpoint and print its signing secret (shown once)')
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--url <url>', 'where to POST events (http or https, a public address)')
    .requiredOption(
      '--events <list>',
      'comma-separated: records.changed, sync.succeeded, sync.failed, conflict.opened, conflict.resolved, snapshot.restored',
      list,
    )
    .option('--collections <list>', 'only events of these collections', list)
    .option('--description <text>', 'what it is for')
    .option('--json', 'print JSON')
    .action(
      async (options: {
        tenant: string;
        url: string;
        events: string[];
        collections?: string[];
        description?: string;
        json?: boolean;
      }) => {
        await withClient(async (client) => {
          const created = await client.call<{ id: string; secret: string }>({
            method: 'POST',
            path: '/v1/webhooks',
            tenant: options.tenant,
            body: {
              url: options.url,
              events: options.events,
              ...(options.collections ? { collections: options.collections } : {}),
              ...(options.description ? { description: options.description } : {}),
            },
          });
          if (options.json) return printJson(created);
          process.stdout.write(`webhook ${created.id}; signing secret, shown once:\n${created.secret}\n`);
        });
      },
    );
  webhooks
    .command('delete <webhookId>')
    .description('remove an endpoint and its deliveries')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (webhookId: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        await client.call({
          method: 'DELETE',
          path: `/v1/webhooks/${encodeURIComponent(webhookId)}`,
          tenant: options.tenant,
        });
        if (options.json) return printJson({ id: webhookId, deleted: true });
        process.stdout.write(`webhook ${webhookId} deleted\n`);
      });
    });
  webhooks
    .command('deliveries <webhookId>')
    .description('deliveries to an endpoint, newest first, with their attempts')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (webhookId: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const page = await client.call<{ items: Record<string, unknown>[] }>({
          method: 'GET',
          path: `/v1/webhooks/${encodeURIComponent(webhookId)}/deliveries?limit=100`,
          tenant: options.tenant,
        });
        if (options.json) printJson(page.items);
        else
          printTable(page.items, [
            'id',
            'type',
            'status',
            'attempts',
            'lastStatusCode',
            'nextAttemptAt',
            'lastError',
          ]);
      });
    });
}
