import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { errorResponses } from '../../http/schemas.ts';

const BackupBody = Type.Object(
  {
    directory: Type.String({
      minLength: 2,
      maxLength: 4096,
      pattern: '^/',
      description: 'An absolute path on the server: a new or empty folder, whose parent exists',
    }),
  },
  { additionalProperties: false },
);

const BackupView = Type.Object({
  directory: Type.String({
    description: 'The copy, a data folder: SYNC_MANAGER_DATA_DIR=<directory> opens it',
  }),
});

/** A consistent copy of the embedded database while the server runs (`sync-manager backup`). */
export const backupRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.post(
    '/v1/backups',
    {
      config: { auth: 'platform' },
      schema: {
        operationId: 'createBackup',
        summary: 'Copy the embedded data folder while the server runs',
        description:
          'Writes a consistent copy of the embedded (PGlite) database into `directory`, on the server ' +
          'machine, as a data folder of its own. Statements wait while the files are copied. On PostgreSQL use pg_dump (422).',
        tags: ['operations'],
        body: BackupBody,
        response: { 201: BackupView, ...errorResponses(400, 401, 403, 415, 422) },
      },
    },
    async (request, reply) => {
      const copyDataDir = db.copyDataDir;
      if (!copyDataDir) {
        throw new AppError(
          'unprocessable',
          'This server has no embedded data folder to copy: on PostgreSQL, back up with pg_dump',
        );
      }
      const directory = request.body.directory;
      if (!isAbsolute(directory))
        throw new AppError('validation_failed', 'directory must be an absolute path');
      const created = makeEmptyFolder(directory);
      const dataDir = join(directory, 'pgdata');
      try {
        await copyDataDir(dataDir);
      } catch (error) {
        rmSync(created ? directory : dataDir, { recursive: true, force: true });
        throw error;
      }
      return reply.code(201).send({ directory });
    },
  );
};

/** Creates `directory` (its parent must exist) or accepts an empty one; true when it made it. */
function makeEmptyFolder(directory: string): boolean {
  try {
    mkdirSync(directory);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && readdirSync(directory).length === 0) return false;
    const why =
      code === 'EEXIST'
        ? 'it exists and is not empty'
        : code === 'ENOENT'
          ? 'its parent does not exist'
          : code;
    throw new AppError('unprocessable', `Cannot back up into ${directory}: ${why}`);
  }
}
