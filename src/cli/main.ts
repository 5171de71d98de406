import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.ts';
import { DataDirLockedError } from '../db/data-dir-lock.ts';
import { AppError } from '../errors.ts';
import { limitHeapGrowth } from '../lib/heap.ts';
import { CliApiError } from './client.ts';
import { registerBackup } from './commands/backup.ts';
import { registerChanges } from './commands/changes.ts';
import { registerCollections } from './commands/collections.ts';
import { registerConflicts } from './commands/conflicts.ts';
import { registerExport } from './commands/export.ts';
import { registerInit } from './commands/init.ts';
import { registerKeys } from './commands/keys.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerRecords } from './commands/records.ts';
import { registerRecordsList } from './commands/records-list.ts';
import { registerServe } from './commands/serve.ts';
import { registerSnapshots } from './commands/snapshots.ts';
import { registerSources } from './commands/sources.ts';
import { registerSync } from './commands/sync.ts';
import { registerSyncs } from './commands/syncs.ts';
import { registerTenants } from './commands/tenants.ts';
import { registerWebhooks } from './commands/webhooks.ts';
import { FileError, packageVersion, UsageError } from './options.ts';

/** Exit codes: 0 ok, 1 refused or failed, 2 usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function buildProgram(): Command {
  const program = new Command('sync-manager')
    .description('Keeps website data in step with upstream JSON feeds without losing manual edits')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'print stack traces on errors')
    // One line for a usage error, like every other error (subcommands inherit this).
    .configureOutput({
      outputError: (message, write) =>
        write(`sync-manager: ${message.replace(/^error: /, '').trimEnd()} (see --help)\n`),
    })
    .exitOverride();
  for (const register of [
    registerInit,
    registerMigrate,
    registerServe,
    registerTenants,
    registerKeys,
    registerCollections,
    registerSnapshots,
    registerSources,
    registerSync,
    registerSyncs,
    registerRecords,
    registerConflicts,
    registerExport,
    registerRecordsList,
    registerBackup,
    registerChanges,
    registerWebhooks,
  ]) {
    register(program);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`sync-manager: ${error.message} (see --help)\n`);
      return EXIT.usage;
    }
    const debug = argv.includes('--debug');
    process.stderr.write(`sync-manager: ${describe(error)}\n`);
    if (debug && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT.failed;
  }
}

function describe(error: unknown): string {
  if (error instanceof CliApiError) return `${error.message} [${error.code}]`;
  if (error instanceof AppError) return `${error.message} [${error.code}]`;
  if (error instanceof ConfigError || error instanceof DataDirLockedError) return error.message;
  if (error instanceof FileError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

limitHeapGrowth();
process.exitCode = await main(process.argv);
