import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { apiKeyRoutes } from './features/api-keys/api-keys.routes.ts';
import { ApiKeyService } from './features/api-keys/api-keys.service.ts';
import { backupRoutes } from './features/backups/backups.routes.ts';
import { blameRoutes } from './features/blame/blame.routes.ts';
import { BlameService } from './features/blame/blame.service.ts';
import { changeRoutes } from './features/changes/changes.routes.ts';
import { ChangeFeed } from './features/changes/changes.service.ts';
import { ChangeNotifier } from './features/changes/notifier.ts';
import { collectionRoutes } from './features/collections/collections.routes.ts';
import { CollectionService } from './features/collections/collections.service.ts';
import { IndexBuilder } from './features/collections/index-builder.ts';
import { CollectionSchemas } from './features/collections/record-schema.ts';
import { conflictRoutes } from './features/conflicts/conflicts.routes.ts';
import { ConflictService } from './features/conflicts/conflicts.service.ts';
import { consoleRoutes, defaultConsoleDir } from './features/console/console.routes.ts';
import { sessionRoutes } from './features/console/session.routes.ts';
import { SessionService } from './features/console/sessions.service.ts';
import { healthRoutes } from './features/health/health.routes.ts';
import { heldRunRoutes } from './features/held-runs/held-runs.routes.ts';
import { HeldRunService } from './features/held-runs/held-runs.service.ts';
import { metricsRoutes, registerMetrics } from './features/metrics/metrics.routes.ts';
import { RecordQueries } from './features/records/record-queries.ts';
import { recordRoutes } from './features/records/records.routes.ts';
import { RecordService } from './features/records/records.service.ts';
import { validationRoutes } from './features/records/validation.routes.ts';
import { revertRoutes } from './features/revert/revert.routes.ts';
import { RevertService } from './features/revert/revert.service.ts';
import { snapshotRoutes } from './features/snapshots/snapshots.routes.ts';
import { SnapshotService } from './features/snapshots/snapshots.service.ts';
import { namedSourceRoutes } from './features/sources/named-sources.routes.ts';
import { NamedSourceService } from './features/sources/named-sources.service.ts';
import { sourceRoutes } from './features/sources/sources.routes.ts';
import { SourceService } from './features/sources/sources.service.ts';
import { syncRoutes } from './features/syncs/syncs.routes.ts';
import { SyncService } from './features/syncs/syncs.service.ts';
import { tenantRoutes } from './features/tenants/tenants.routes.ts';
import { TenantService } from './features/tenants/tenants.service.ts';
import { webhookRoutes } from './features/webhooks/webhooks.routes.ts';
import { WebhookService } from './features/webhooks/webhooks.service.ts';
import { type RouteAuth, registerAuth } from './http/auth.ts';
import { registerStrictJson } from './http/json-body.ts';
import { addSharedSchemas, openApiOptions } from './http/openapi.ts';
import {
  clientErrorProblem,
  frameworkProblem,
  type RoutePattern,
  registerErrorHandling,
  routePattern,
} from './http/problem.ts';
import { DOCS_CSP, registerProtection, requestIdOf } from './http/protection.ts';
import { registerValidation } from './http/validation.ts';
import { loggerOptions } from './logger.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  /** In-memory platform secrets: the local CLI's or the running server's operator token. */
  operatorTokens?: string[];
  /** false in tests and the CLI's in-process app. */
  logRequests?: boolean;
  /** The clock for snapshot creation and expiry; tests inject one to move time. */
  now?: () => Date;
  /** false in the CLI's in-process app: its own caller's sync body needs no spooling (docs/sync.md). */
  spoolSyncBodies?: boolean;
  /** The built console's folder; console/dist of the package unless a test names another. */
  consoleDir?: string;
}

/** Default body limit for JSON bodies; the sync route raises it for feeds. */
export const BODY_LIMIT = 1024 * 1024;

/** One route as registered, with the auth it declares ('none' when it declares none). */
export interface RegisteredRoute {
  method: string;
  url: string;
  auth: RouteAuth;
}

const registeredRouteLists = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route an app built by buildApp registered, e.g. to check each one in a test. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registeredRouteLists.get(app) ?? [];
}

/** The composition root: config, database, logger and services wired by hand. No listen here. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: deps.logRequests === false ? false : loggerOptions(config.logLevel),
    bodyLimit: BODY_LIMIT,
    // Record ids are path parameters up to 512 characters, percent-encoded up to 9 bytes each.
    routerOptions: { maxParamLength: 5000 },
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    requestIdHeader: false,
    // Fastify takes a hop count too (proxy-addr), though its types leave numbers out.
    trustProxy: config.trustProxy as boolean | string[],
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    frameworkErrors: frameworkProblem,
    clientErrorHandler: clientErrorProblem,
    // A client may take this long to send a request (a feed upload); the sync route also refuses a body
    // that stalls (SYNC_MANAGER_BODY_IDLE_MS). No socket idle timeout: a long sync answers late.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: 72_000,
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const routes: RoutePattern[] = [];
  const registered: RegisteredRoute[] = [];
  registeredRouteLists.set(app, registered);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routes.push(routePattern(route.url, methods));
    const auth = (route.config as { auth?: RouteAuth } | undefined)?.auth ?? 'none';
    for (const method of methods) registered.push({ method, url: route.url, auth });
  });

  registerValidation(app);
  // JSON everywhere: a JSON route sent text/plain answers 415, not a confusing "body must be object".
  // A route that takes another type (feeds) adds its parser in its own plugin.
  app.removeContentTypeParser('text/plain');
  registerStrictJson(app);
  registerErrorHandling(app, () => routes);
  const db = registerMetrics(app, deps.db);
  await registerProtection(app, config);

  const keys = new ApiKeyService(db, deps.operatorTokens ?? []);
  const tenants = new TenantService(db, keys);
  const schemas = new CollectionSchemas(db);
  // Declared indexes are built in the background (and an interrupted build finished) from the start.
  const indexBuilder = new IndexBuilder(db, app.log);
  app.addHook('onReady', async () => indexBuilder.wake());
  app.addHook('onClose', async () => indexBuilder.stop());
  const collections = new CollectionService(db, { schemas, indexesChanged: () => indexBuilder.wake() });
  const snapshots = new SnapshotService(db, {
    retentionDays: config.snapshotRetentionDays,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const records = new RecordService(db, schemas);
  const sessions = new SessionService(db, keys, config.sessionLifetimeSeconds);
  registerAuth(app, keys, tenants, sessions);

  addSharedSchemas(app);
  await app.register(swagger, openApiOptions());
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { db });
  await app.register(metricsRoutes, { config });
  await app.register(backupRoutes, { db });
  await app.register(tenantRoutes, { tenants });
  await app.register(apiKeyRoutes, { keys });
  await app.register(collectionRoutes, { collections });
  await app.register(namedSourceRoutes, {
    namedSources: new NamedSourceService(db, collections, { allowPrivate: config.allowPrivateFeedUrls }),
  });
  await app.register(sourceRoutes, {
    sources: new SourceService(db, collections, { allowPrivate: config.allowPrivateFeedUrls }),
  });
  await app.register(snapshotRoutes, { snapshots });
  const syncs = new SyncService(db, collections, {
    snapshotRetentionDays: config.snapshotRetentionDays,
    heldRunDays: config.heldRunDays,
  });
  await app.register(syncRoutes, {
    syncs,
    bodyLimit: config.syncBodyLimit,
    intake: {
      spool: deps.spoolSyncBodies ?? true,
      dir: config.spoolDir,
      idleMs: config.bodyIdleMs,
      syncsPerTenant: config.syncsPerTenant,
    },
  });
  const held = new HeldRunService(db, collections, syncs, {
    snapshotRetentionDays: config.snapshotRetentionDays,
  });
  await app.register(heldRunRoutes, { held });
  await app.register(revertRoutes, {
    reverts: new RevertService(db, { snapshotRetentionDays: config.snapshotRetentionDays }),
  });
  await app.register(conflictRoutes, { conflicts: new ConflictService(db, collections) });
  // Runs left 'running' by a process that died are marked failed when a server or the CLI starts.
  app.addHook('onReady', async () => {
    await syncs.recoverInterruptedRuns();
    await held.expire();
  });
  app.addHook('onClose', async () => syncs.close());
  const notifier = new ChangeNotifier(db);
  app.addHook('onReady', async () => {
    await notifier.listen();
  });
  app.addHook('onClose', () => notifier.close());
  const feed = new ChangeFeed(db, notifier, deps.now ? { now: deps.now } : {});
  await app.register(changeRoutes, { feed });
  const webhooks = new WebhookService(db, feed, {
    allowPrivate: config.allowPrivateFeedUrls,
    ...(deps.now ? { now: deps.now } : {}),
  });
  await app.register(webhookRoutes, { webhooks });
  const queries = new RecordQueries(db, { unindexedQueryLimit: config.unindexedQueryLimit });
  await app.register(recordRoutes, { records, snapshots, queries, feed });
  await app.register(blameRoutes, { blame: new BlameService(db, collections) });
  await app.register(validationRoutes, { db });
  await app.register(sessionRoutes, { sessions, lifetimeSeconds: config.sessionLifetimeSeconds });
  await app.register(consoleRoutes, { dir: deps.consoleDir ?? defaultConsoleDir() });
  return app;
}
