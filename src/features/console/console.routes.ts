import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { errorResponses } from '../../http/schemas.ts';

/**
 * Only the console's own files may run or style the page: no inline script, no other origin. The API
 * it calls is this same origin.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** console/dist, found from the package's root: this module runs from src/ (tsx) or bundled in dist/. */
export function defaultConsoleDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'console', 'dist');
    if (dirname(dir) === dir) return join(process.cwd(), 'console', 'dist');
  }
}

/** Serves the built console at /console: its files, and index.html for every page path (an SPA). */
export const consoleRoutes: FastifyPluginAsyncTypebox<{ dir: string }> = async (app, { dir }) => {
  await app.register(fastifyStatic, { root: dir, serve: false, preCompressed: true });

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
  });

  const schema = {
    hide: true,
    tags: ['console'],
    response: { ...errorResponses(404) },
  };

  app.get('/console', { config: { auth: 'none' }, schema }, async (_request, reply) =>
    reply.redirect('/console/'),
  );

  app.get(
    '/console/*',
    { config: { auth: 'none' }, schema: { ...schema, params: Type.Object({ '*': Type.String() }) } },
    async (request, reply) => serve(request, reply, dir, request.params['*']),
  );
};

function serve(request: FastifyRequest, reply: FastifyReply, dir: string, path: string) {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new AppError(
      'console_not_built',
      `The console is not built (no ${join(dir, 'index.html')}): run \`npm run build:console\`, ` +
        'or `npm run build`, then reload',
    );
  }
  const file = normalize(path);
  if (file !== '.' && !file.startsWith('..') && isFile(join(dir, file))) {
    // Vite names assets by content hash, so they never change under their name.
    const immutable = file.startsWith(`assets${sep}`);
    return reply.sendFile(file, { maxAge: immutable ? '365d' : 0, immutable });
  }
  // A missing file (a name with an extension) is a 404, not the page: a script tag must not get HTML.
  if (/\.[A-Za-z0-9]+$/.test(file)) {
    throw new AppError('route_not_found', `No console file ${request.url.split('?')[0]}`);
  }
  // Always revalidated: a new build must be picked up at the next load.
  reply.header('cache-control', 'no-cache');
  return reply.sendFile('index.html', { cacheControl: false });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
