import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';

/**
 * The document comes from the app itself, not a running server. Building the app issues no query
 * except onReady's recovery of interrupted syncs, so a database that answers every query with no rows
 * is enough.
 */
const noRows: Database = {
  kind: 'postgres',
  query: async () => [],
  queryLast: async () => [],
  transaction: async (fn) => fn(noRows),
  copyFrom: async () => 0,
  copyTo: async function* () {},
  exec: async () => {},
  close: async () => {},
} as unknown as Database;

export async function openApiDocument(): Promise<object> {
  const app = await buildApp({ config: loadConfig({}), db: noRows, logRequests: false });
  try {
    await app.ready();
    return app.swagger() as object;
  } finally {
    await app.close();
  }
}

export async function generateApiTypes(target: string): Promise<void> {
  const document = await openApiDocument();
  // biome-ignore lint/suspicious/noExplicitAny: the document is the app's own, typed loosely by swagger
  const ast = await openapiTS(document as any);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(
    target,
    `// Generated from the app's OpenAPI document by console/scripts/build.ts. Do not edit.\n${astToString(ast)}`,
  );
}
