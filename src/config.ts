import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Everything the process reads from its environment, validated once. Nothing else reads process.env. */
export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  adminKey: string | undefined;
  snapshotRetentionDays: number;
  /** Days a held run waits for approval before it expires and its staged rows go. */
  heldRunDays: number;
  /** How often held runs past their time are expired (serve). */
  heldRunExpiryMs: number;
  importDir: string | undefined;
  logLevel: string;
  /** Feed URLs on loopback/private addresses are refused unless this is set (they are tenant input). */
  allowPrivateFeedUrls: boolean;
  /** Largest sync body accepted over HTTP, in bytes. */
  syncBodyLimit: number;
  /** How often serve scans the import folder, in ms. */
  importPollMs: number;
  /** A dropped file is read only once its size and mtime have not changed for this long, in ms. */
  importStableMs: number;
  /** How long a claim on a file lasts without renewal: a crashed importer's files wait this long. */
  importLeaseMs: number;
  /** How often serve looks for due scheduled sources, in ms. */
  scheduleTickMs: number;
  /** A feed fetch that waits longer than this for the upstream (connect, headers or data) fails, in ms. */
  feedTimeoutMs: number;
  /** Largest feed body fetched from a scheduled source, in bytes. */
  feedMaxBytes: number;
  /** A sync body that sends nothing for this long is refused (408), in ms. */
  bodyIdleMs: number;
  /** Where sync bodies are received before the sync starts (a private folder per upload). */
  spoolDir: string;
  /** Syncs of one tenant at once per process (uploading or running); more get 429. */
  syncsPerTenant: number;
  /** Longest time to receive a whole request (headers and body), in ms; 0 = no limit. */
  requestTimeoutMs: number;
  /** A filter or sort no declared index serves answers 422 index_required on collections above this many records. */
  unindexedQueryLimit: number;
  /** Browser origins allowed to call the API (CORS); empty: no cross-origin access. */
  corsOrigins: string[];
  /** Requests per minute per API key (per token hash when unauthenticated); 0 turns limiting off. */
  rateLimitPerMinute: number;
  /** Fastify's trustProxy: false, true, a hop count, or a list of proxy addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  /** Who may read GET /metrics: the platform admin key, anyone (a private network), or nobody. */
  metrics: 'admin' | 'public' | 'off';
  /** How long a console sign-in lasts, in seconds (the key's revocation ends it sooner). */
  sessionLifetimeSeconds: number;
  /** Webhook deliveries in flight from this process; 0 sends none (another server may). */
  webhookConcurrency: number;
  /** One webhook attempt (connect, answer, body) at most this long, in ms. */
  webhookTimeoutMs: number;
  /** The first retry of a failed delivery after about this long, doubling each time, in ms. */
  webhookRetryBaseMs: number;
  /** A delivery is retried for this many hours after its first attempt. */
  webhookRetryHours: number;
  /** An endpoint failing without a success for this many hours is disabled. */
  webhookDisableAfterHours: number;
  /** How often the delivery worker looks for due retries when no commit wakes it, in ms. */
  webhookPollMs: number;
}

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Builds the config from an environment (process.env by default). A `.env` file in the working
 * directory is loaded first, without overriding variables that are already set.
 */
export function loadConfig(env: NodeJS.ProcessEnv = readEnvironment()): Config {
  return {
    databaseUrl: nonEmpty(env.DATABASE_URL),
    dataDir: resolve(nonEmpty(env.SYNC_MANAGER_DATA_DIR) ?? './data'),
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0, 65535),
    adminKey: nonEmpty(env.SYNC_MANAGER_ADMIN_KEY),
    snapshotRetentionDays: integer(env, 'SNAPSHOT_RETENTION_DAYS', 30, 0, 36500),
    heldRunDays: integer(env, 'SYNC_MANAGER_HELD_RUN_DAYS', 7, 1, 3650),
    heldRunExpiryMs: integer(env, 'SYNC_MANAGER_HELD_RUN_EXPIRY_MS', 60_000, 10, 86_400_000),
    importDir: optionalPath(env.SYNC_MANAGER_IMPORT_DIR),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    allowPrivateFeedUrls: env.SYNC_MANAGER_ALLOW_PRIVATE_URLS === 'true',
    syncBodyLimit: integer(env, 'SYNC_MANAGER_SYNC_BODY_LIMIT', 2 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
    importPollMs: integer(env, 'SYNC_MANAGER_IMPORT_POLL_MS', 1000, 10, 3_600_000),
    importStableMs: integer(env, 'SYNC_MANAGER_IMPORT_STABLE_MS', 2000, 0, 3_600_000),
    importLeaseMs: integer(env, 'SYNC_MANAGER_IMPORT_LEASE_MS', 30_000, 500, 86_400_000),
    scheduleTickMs: integer(env, 'SYNC_MANAGER_SCHEDULE_TICK_MS', 1000, 10, 3_600_000),
    feedTimeoutMs: integer(env, 'SYNC_MANAGER_FEED_TIMEOUT_MS', 30_000, 100, 3_600_000),
    feedMaxBytes: integer(env, 'SYNC_MANAGER_FEED_MAX_BYTES', 2 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    bodyIdleMs: integer(env, 'SYNC_MANAGER_BODY_IDLE_MS', 30_000, 10, 3_600_000),
    spoolDir: optionalPath(env.SYNC_MANAGER_SPOOL_DIR) ?? tmpdir(),
    syncsPerTenant: integer(env, 'SYNC_MANAGER_SYNCS_PER_TENANT', 8, 1, 1000),
    requestTimeoutMs: integer(env, 'SYNC_MANAGER_REQUEST_TIMEOUT_MS', 3_600_000, 0, 86_400_000),
    unindexedQueryLimit: integer(
      env,
      'SYNC_MANAGER_UNINDEXED_QUERY_LIMIT',
      10_000,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    corsOrigins: list(env.SYNC_MANAGER_CORS_ORIGINS),
    rateLimitPerMinute: integer(env, 'SYNC_MANAGER_RATE_LIMIT', 0, 0, 1_000_000),
    trustProxy: trustProxy(env.SYNC_MANAGER_TRUST_PROXY),
    metrics: oneOf(env, 'SYNC_MANAGER_METRICS', ['admin', 'public', 'off'], 'admin') as Config['metrics'],
    sessionLifetimeSeconds: integer(env, 'SYNC_MANAGER_SESSION_LIFETIME_SECONDS', 8 * 3600, 60, 30 * 86_400),
    webhookConcurrency: integer(env, 'SYNC_MANAGER_WEBHOOK_CONCURRENCY', 16, 0, 1000),
    webhookTimeoutMs: integer(env, 'SYNC_MANAGER_WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
    webhookRetryBaseMs: integer(env, 'SYNC_MANAGER_WEBHOOK_RETRY_BASE_MS', 5000, 1, 3_600_000),
    webhookRetryHours: integer(env, 'SYNC_MANAGER_WEBHOOK_RETRY_HOURS', 26, 1, 720),
    webhookDisableAfterHours: integer(env, 'SYNC_MANAGER_WEBHOOK_DISABLE_AFTER_HOURS', 120, 1, 8760),
    webhookPollMs: integer(env, 'SYNC_MANAGER_WEBHOOK_POLL_MS', 1000, 10, 3_600_000),
  };
}

function readEnvironment(): NodeJS.ProcessEnv {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function optionalPath(value: string | undefined): string | undefined {
  const path = nonEmpty(value);
  return path === undefined ? undefined : resolve(path);
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** 'true'/'false', a number of proxy hops, or a comma-separated list of proxy addresses or CIDRs. */
function trustProxy(value: string | undefined): boolean | number | string[] {
  const raw = nonEmpty(value);
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return list(raw);
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function oneOf(env: NodeJS.ProcessEnv, name: string, allowed: string[], fallback: string): string {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

/** Where a server on the embedded database tells local CLI commands how to reach it. */
export function serverFile(config: Config): string {
  return join(config.dataDir, 'server.json');
}
