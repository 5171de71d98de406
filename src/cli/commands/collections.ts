import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { listAll, withClient } from '../context.ts';
import { choiceOption, jsonOption, ratio, tenantOption, UsageError } from '../options.ts';
import { printFields, printJson, printTable } from '../output.ts';

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
    .addOption(tenantOption())
    .addOption(jsonOption())
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
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(async (name: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const collection = await client.call<Record<string, unknown>>({
          method: 'GET',
          path: `/v1/collections/${encodeURIComponent(name)}`,
          tenant: options.tenant,
        });
        if (options.json) return printJson(collection);
        const { counts, lastSync, ...settings } = collection;
        const last = lastSync as { id: string; status: string; startedAt: string } | null;
        printFields({
          ...settings,
          ...(counts as object),
          lastSync: last ? `${last.status} at ${last.startedAt} (${last.id})` : null,
        });
      });
    });
  collections
    .command('put <name>')
    .description('create a collection or replace its settings')
    .addOption(tenantOption())
    .option('--id-field <field>', 'the member that identifies a record (default id)')
    .addOption(
      choiceOption('--delete-policy <policy>', 'what a full sync does with records gone upstream', [
        'delete',
        'keep',
      ]),
    )
    .addOption(
      choiceOption('--conflict-policy <policy>', 'who wins when upstream changes an edited field', [
        'keep-manual',
        'take-source',
      ]),
    )
    .option(
      '--max-delete-ratio <ratio>',
      'refuse a full sync deleting more than this share (default 0.5)',
      ratio,
    )
    .addOption(jsonOption())
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
    .description(
      'delete a collection with its records and history (asks first on a terminal; --yes otherwise)',
    )
    .addOption(tenantOption())
    .option('--yes', 'do not ask: needed when not on a terminal')
    .addOption(jsonOption())
    .action(async (name: string, options: { tenant: string; yes?: boolean; json?: boolean }) => {
      if (!options.yes && !process.stdin.isTTY)
        throw new UsageError(`deleting collection ${name} needs --yes when not run on a terminal`);
      await withClient(async (client) => {
        const path = `/v1/collections/${encodeURIComponent(name)}`;
        if (!options.yes) {
          const collection = await client.call<{ counts: { records: number } }>({
            method: 'GET',
            path,
            tenant: options.tenant,
          });
          const question = `delete collection ${name} of ${options.tenant} with its ${collection.counts.records} record(s) and their history? [y/N] `;
          if (!(await confirm(question))) throw new Error(`collection ${name} not deleted: not confirmed`);
        }
        await client.call({ method: 'DELETE', path, tenant: options.tenant });
        if (options.json) return printJson({ collection: name, deleted: true });
        process.stdout.write(`collection ${name} deleted\n`);
      });
    });
}

async function confirm(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}
