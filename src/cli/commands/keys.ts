import { type Command, InvalidArgumentError } from 'commander';
import { listAll, withClient } from '../context.ts';
import { printJson, printTable } from '../output.ts';

function scopeList(value: string): string[] {
  const scopes = value.split(',').map((scope) => scope.trim());
  for (const scope of scopes) {
    if (!['read', 'write', 'admin'].includes(scope))
      throw new InvalidArgumentError(`unknown scope "${scope}"`);
  }
  return scopes;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("manage a tenant's API keys");
  keys
    .command('create')
    .description('create an API key and print its secret (shown once)')
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scopes <list>', 'comma-separated: read,write,admin', scopeList, ['read'])
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; name: string; scopes: string[]; json?: boolean }) => {
      await withClient(async (client) => {
        const created = await client.call<{ id: string; key: string; scopes: string[] }>({
          method: 'POST',
          path: '/v1/api-keys',
          tenant: options.tenant,
          body: { name: options.name, scopes: options.scopes },
        });
        if (options.json) return printJson(created);
        process.stdout.write(
          `key ${created.id} (${created.scopes.join(',')}), shown once:\n${created.key}\n`,
        );
      });
    });
  keys
    .command('list')
    .description("list a tenant's keys (never their secrets)")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<Record<string, unknown>>(client, '/v1/api-keys', options.tenant);
        if (options.json) printJson(items);
        else printTable(items, ['id', 'name', 'hint', 'scopes', 'createdAt', 'lastUsedAt', 'revokedAt']);
      });
    });
  keys
    .command('revoke <keyId>')
    .description('revoke a key: it stops working at once')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (keyId: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        await client.call({
          method: 'DELETE',
          path: `/v1/api-keys/${encodeURIComponent(keyId)}`,
          tenant: options.tenant,
        });
        if (options.json) return printJson({ id: keyId, revoked: true });
        process.stdout.write(`key ${keyId} revoked\n`);
      });
    });
}
