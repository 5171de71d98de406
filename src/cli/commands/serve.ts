import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API (with auto-import and snapshot retention when configured)')
    .action(async () => {
      const config = loadConfig();
      const { startServer } = await import('../../server.ts'); // not loaded by other commands (client.ts)
      const server = await startServer(config);
      server.app.log.info({ url: server.url, database: server.db.kind }, 'sync-manager is listening');
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          server.app.log.info({ signal }, 'shutting down');
          server.close().then(resolve, (error) => {
            server.app.log.error({ err: error }, 'error while shutting down');
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
