import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { detectFormatFromName } from '../../sync/feed/index.ts';
import { withClient } from '../context.ts';
import { choiceOption, FileError, fileProblem, jsonOption, tenantOption } from '../options.ts';
import { printJson } from '../output.ts';
import { recordCounter } from '../record-counter.ts';

interface ExportOptions {
  tenant: string;
  format?: 'json' | 'ndjson';
  output?: string;
  json?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export <collection>')
    .description('every effective record of a collection, streamed: a JSON array, or NDJSON (one a line)')
    .addOption(tenantOption())
    .addOption(
      choiceOption('--format <format>', 'json | ndjson (default: from the --output name, else json)', [
        'json',
        'ndjson',
      ]),
    )
    .option(
      '--output <file>',
      'write to this file (replaced only once the export is complete) instead of stdout',
    )
    .addOption(jsonOption('with --output: print what was written as JSON'))
    .action(async (collection: string, options: ExportOptions) => {
      const format =
        options.format ?? (options.output ? detectFormatFromName(options.output) : null) ?? 'json';
      const query = new URLSearchParams({ format });
      await withClient(async (client) => {
        const response = await client.stream({
          method: 'GET',
          path: `/v1/collections/${encodeURIComponent(collection)}/export?${query}`,
          tenant: options.tenant,
        });
        if (!options.output) {
          await pipeline(response.body, process.stdout, { end: false });
          return;
        }
        const counter = recordCounter(format);
        let bytes = 0;
        const meter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            bytes += chunk.length;
            counter.push(chunk);
            callback(null, chunk);
          },
        });
        // Written beside the target and renamed at the end: a failed export leaves no half file.
        const partial = `${options.output}.partial-${process.pid}`;
        try {
          await pipeline(response.body, meter, createWriteStream(partial, { flags: 'wx' }));
          renameSync(partial, options.output);
        } catch (error) {
          rmSync(partial, { force: true });
          if ((error as NodeJS.ErrnoException).code)
            throw new FileError(`cannot write ${options.output}: ${fileProblem(error)}`);
          throw error;
        }
        counter.end();
        const written = { collection, format, output: options.output, records: counter.records, bytes };
        if (options.json) return printJson(written);
        process.stdout.write(`exported ${written.records} record(s) of ${collection} to ${options.output}\n`);
      });
    });
}
