import { type Command, InvalidArgumentError } from 'commander';
import { listAll, withClient } from '../context.ts';
import { printJson, printTable } from '../output.ts';

function ratio(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1)
    throw new InvalidArgumentError('a number from 0 to 1');
  return parsed;
}

interface PutOptions {
  tenant: string;
  idField?: string;
  deletePolicy?: string;
  conflictPolicy?: string;
  maxDeleteRatio?: number;
  json?: boolean;
}

export function registerCollections(program: Command): void {
  const collections = program.command('collections').description("manage a tenant's collections");
  collections
    .command('list')
    .description('list collections with their counts')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Record<string, unknown>>(client, '/v1/collections', options.tenant);
        if (options.json) return printJson(items);
        const rows = items.map((item) => ({ ...item, ...(item.counts as object) }));
        printTable(rows, [
          'name',
          'idField',
          'deletePolicy',
          'conflictPolicy',
          'records',
          'overridden',
          'openConflicts',
        ]);
      });
    });
  collections
    .command('get <name>')
    .description("a collection's settings and counts")
    .requiredOption('--tenant <slug>', 'the tenant')
    .action(async (name: string, options: { tenant: string }) => {
      await withClient(async (client) => {
        printJson(
          await client.call({
            method: 'GET',
            path: `/v1/collections/${encodeURIComponent(name)}`,
            tenant: options.tenant,
          }),
        );
      });
    });
  collections
    .command('put <name>')
    .description('create a collection or replace its settings')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--id-field <field>', 'the member that identifies a record (default id)')
    .option('--delete-policy <policy>', 'delete | keep: what a full sync does with records gone upstream')
    .option('--conflict-policy <policy>', 'keep-manual | take-source')
    .option(
      '--max-delete-ratio <ratio>',
      'refuse a full sync deleting more than this share (default 0.5)',
      ratio,
    )
    .option('--json', 'print JSON')
    .action(async (name: string, options: PutOptions) => {
      await withClient(async (client) => {
        const body = {
          ...(options.idField ? { idField: options.idField } : {}),
          ...(options.deletePolicy ? { deletePolicy: options.deletePolicy } : {}),
          ...(options.conflictPolicy ? { conflictPolicy: options.conflictPolicy } : {}),
          ...(options.maxDeleteRatio !== undefined ? { maxDeleteRatio: options.maxDeleteRatio } : {}),
        };
        const result = await client.call({
          method: 'PUT',
          path: `/v1/collections/${encodeURIComponent(name)}`,
          tenant: options.tenant,
          body,
        });
        if (options.json) printJson(result);
        else process.stdout.write(`collection ${name} saved\n`);
      });
    });
  collections
    .command('delete <name>')
    .description('delete a collection with its records and history')
    .requiredOption('--tenant <slug>', 'the tenant')
    .action(async (name: string, options: { tenant: string }) => {
      await withClient(async (client) => {
        await client.call({
          method: 'DELETE',
          path: `/v1/collections/${encodeURIComponent(name)}`,
          tenant: options.tenant,
        });
        process.stdout.write(`collection ${name} deleted\n`);
      });
    });
}
