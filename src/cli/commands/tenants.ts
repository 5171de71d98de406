import type { Command } from 'commander';
import { listAll, withClient } from '../context.ts';
import { printJson, printTable } from '../output.ts';

export function registerTenants(program: Command): void {
  const tenants = program.command('tenants').description('manage tenants (platform admin)');
  tenants
    .command('create <slug>')
    .description('create a tenant and print its first admin key (shown once)')
    .option('--name <name>', 'display name (default: the slug)')
    .option('--json', 'print JSON')
    .action(async (slug: string, options: { name?: string; json?: boolean }) => {
      await withClient(async (client) => {
        const created = await client.call<{ tenant: { id: string; slug: string }; apiKey: { key: string } }>({
          method: 'POST',
          path: '/v1/tenants',
          body: { slug, ...(options.name ? { name: options.name } : {}) },
        });
        if (options.json) return printJson(created);
        process.stdout.write(`tenant ${created.tenant.slug} (${created.tenant.id}) created\n`);
        process.stdout.write(`admin key (shown once, keep it safe):\n${created.apiKey.key}\n`);
      });
    });
  tenants
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Record<string, unknown>>(client, '/v1/tenants');
        if (options.json) printJson(items);
        else printTable(items, ['slug', 'name', 'id', 'createdAt']);
      });
    });
}
