import { type Command, Option } from 'commander';
import type { ApiResponse } from '../client.ts';
import { listAll, withClient } from '../context.ts';
import { jsonOption, readJsonInput, tenantOption, UsageError } from '../options.ts';
import { printJson, printTable } from '../output.ts';

/**
 * `records get|put|patch|delete|history|overrides|revert`: manual edits, one record at a time, through
 * the same routes as the API (so the same overrides, versions, preconditions and errors).
 */

const GROUP = 'records';

/**
 * The `records` command group, made by whichever file asks first. Another file adds a subcommand with
 * one line, e.g. `recordsGroup(program).command('list')…` in a register function listed in main.ts.
 */
export function recordsGroup(program: Command): Command {
  return (
    program.commands.find((command) => command.name() === GROUP) ??
    program
      .command(GROUP)
      .description("read and edit a collection's records by hand (edits are overrides syncs keep)")
  );
}

export const recordPath = (collection: string, id: string, suffix = '') =>
  `/v1/collections/${encodeURIComponent(collection)}/records/${encodeURIComponent(id)}${suffix}`;

/** `--if-match 3` means the ETag "3"; `*` and a quoted ETag pass as they are. */
function ifMatch(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  return { 'if-match': /^\d+$/.test(value) ? `"${value}"` : value };
}

function versionOf(headers: ApiResponse['headers']): string {
  return String(headers.etag ?? '').replaceAll('"', '') || '?';
}

const ifMatchOption = () =>
  new Option('--if-match <version>', 'only if the record is still at this version (its ETag); else 412');

interface EditOptions {
  tenant: string;
  ifMatch?: string;
  json?: boolean;
}

export function registerRecords(program: Command): void {
  const records = recordsGroup(program);
  records
    .command('get <collection> <id>')
    .description('the effective record (JSON); --meta adds source value, overrides and version')
    .addOption(tenantOption())
    .option('--meta', 'the record with its source value, overrides and version')
    .addOption(jsonOption('print JSON (the record is printed as JSON either way)'))
    .action(async (collection: string, id: string, options: { tenant: string; meta?: boolean }) => {
      await withClient(async (client) => {
        const query = options.meta ? '?meta=true' : '';
        printJson(
          await client.call({
            method: 'GET',
            path: recordPath(collection, id, query),
            tenant: options.tenant,
          }),
        );
      });
    });

  records
    .command('put <collection> <id> [json]')
    .description(
      'create or replace a record by hand: JSON as the argument, @file, or on stdin (- or nothing)',
    )
    .addOption(tenantOption())
    .addOption(ifMatchOption())
    .addOption(jsonOption('print the saved record as JSON'))
    .action(async (collection: string, id: string, json: string | undefined, options: EditOptions) => {
      const body = await readJsonInput(json, 'record');
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new UsageError('the record must be a JSON object');
      await withClient(async (client) => {
        const saved = await client.exchange({
          method: 'PUT',
          path: recordPath(collection, id),
          tenant: options.tenant,
          body,
          headers: ifMatch(options.ifMatch),
        });
        if (options.json) return printJson(saved.body);
        process.stdout.write(`record ${id} saved (version ${versionOf(saved.headers)})\n`);
      });
    });

  records
    .command('patch <collection> <id> [json]')
    .description(
      'change a record by hand with a JSON merge patch (RFC 7396), or --json-patch (RFC 6902): ' +
        'the patch as the argument, @file, or on stdin',
    )
    .addOption(tenantOption())
    .option('--json-patch', 'the patch is a JSON Patch array of operations, not a merge patch')
    .addOption(ifMatchOption())
    .addOption(jsonOption('print the patched record as JSON'))
    .action(
      async (
        collection: string,
        id: string,
        json: string | undefined,
        options: EditOptions & { jsonPatch?: boolean },
      ) => {
        const body = await readJsonInput(json, 'patch');
        if (options.jsonPatch && !Array.isArray(body))
          throw new UsageError('a JSON Patch is an array of operations');
        await withClient(async (client) => {
          const saved = await client.exchange({
            method: 'PATCH',
            path: recordPath(collection, id),
            tenant: options.tenant,
            body,
            headers: {
              'content-type': options.jsonPatch
                ? 'application/json-patch+json'
                : 'application/merge-patch+json',
              ...ifMatch(options.ifMatch),
            },
          });
          if (options.json) return printJson(saved.body);
          process.stdout.write(`record ${id} patched (version ${versionOf(saved.headers)})\n`);
        });
      },
    );

  records
    .command('delete <collection> <id>')
    .description('delete a record by hand: syncs leave it deleted until `records revert`')
    .addOption(tenantOption())
    .addOption(ifMatchOption())
    .addOption(jsonOption())
    .action(async (collection: string, id: string, options: EditOptions) => {
      await withClient(async (client) => {
        const done = await client.exchange({
          method: 'DELETE',
          path: recordPath(collection, id),
          tenant: options.tenant,
          headers: ifMatch(options.ifMatch),
        });
        const version = versionOf(done.headers);
        if (options.json) return printJson({ id, deleted: true, version: Number(version) });
        process.stdout.write(`record ${id} deleted (version ${version}); undo with records revert\n`);
      });
    });

  records
    .command('history <collection> <id>')
    .description('the versions of a record, newest first, with origin and changed fields')
    .addOption(tenantOption())
    .addOption(jsonOption('print every version as JSON'))
    .action(async (collection: string, id: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const items = await listAll<HistoryEntry>(
          client,
          recordPath(collection, id, '/history'),
          options.tenant,
        );
        if (options.json) return printJson(items);
        printTable(
          items.map((entry) => ({
            version: entry.version,
            at: entry.at,
            origin: entry.origin.kind,
            by: entry.origin.syncRunId ?? entry.origin.apiKeyId ?? entry.origin.snapshotId,
            changes: entry.changes.map((change) => `${change.op} ${change.path || '/'}`).join(', '),
          })),
          ['version', 'at', 'origin', 'by', 'changes'],
        );
      });
    });

  records
    .command('overrides <collection> <id>')
    .description("a record's manual changes: overrides by JSON Pointer, and a manual delete")
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(async (collection: string, id: string, options: { tenant: string; json?: boolean }) => {
      await withClient(async (client) => {
        const view = await client.call<{
          items: Array<Record<string, unknown>>;
          manualDelete: { by: string | null; at: string } | null;
        }>({ method: 'GET', path: recordPath(collection, id, '/overrides'), tenant: options.tenant });
        if (options.json) return printJson(view);
        printTable(
          view.items.map((item) => ({
            ...item,
            value: item.removed ? '(removed)' : JSON.stringify(item.value),
            sourceValue: item.sourceMissing ? '(none)' : JSON.stringify(item.sourceValue),
          })),
          ['path', 'value', 'sourceValue', 'by', 'at'],
        );
        if (view.manualDelete) process.stdout.write(`deleted by hand at ${view.manualDelete.at}\n`);
      });
    });

  records
    .command('revert <collection> <id>')
    .description(
      'undo manual changes: every override (and a manual delete), or only --path, back to the source value',
    )
    .addOption(tenantOption())
    .option('--path <pointer>', 'only the override at this JSON Pointer, e.g. /price')
    .addOption(ifMatchOption())
    .addOption(jsonOption('print the record with its metadata as JSON'))
    .action(async (collection: string, id: string, options: EditOptions & { path?: string }) => {
      if (options.path !== undefined && !(options.path === '' || options.path.startsWith('/')))
        throw new UsageError('--path is a JSON Pointer: empty or starting with /');
      await withClient(async (client) => {
        const query = options.path === undefined ? '' : `?${new URLSearchParams({ path: options.path })}`;
        const done = await client.exchange<{ version: number; overrides: unknown[] }>({
          method: 'DELETE',
          path: recordPath(collection, id, `/overrides${query}`),
          tenant: options.tenant,
          headers: ifMatch(options.ifMatch),
        });
        if (options.json) return printJson(done.body);
        const left = done.body.overrides.length;
        process.stdout.write(
          `record ${id} reverted (version ${done.body.version}; ${left} override(s) left)\n`,
        );
      });
    });
}

interface HistoryEntry {
  version: number;
  at: string;
  origin: { kind: string; apiKeyId?: string; syncRunId?: string; snapshotId?: string };
  changes: Array<{ path: string; op: string }>;
}
