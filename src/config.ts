import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Everything the process reads from its environment, validated once. Nothing else reads process.env. */
export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  adminKey: string | undefined;
  snapshotRetentionDays: number;
  importDir: string | undefined;
  logLevel: string;
  /** Feed URLs on loopback/private addresses are refused unless this is set (they are tenant input). */
  allowPrivateFeedUrls: boolean;
  /** Largest sync body accepted over HTTP, in bytes. */
  syncBodyLimit: number;
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
    importDir: optionalPath(env.SYNC_MANAGER_IMPORT_DIR),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    allowPrivateFeedUrls: env.SYNC_MANAGER_ALLOW_PRIVATE_URLS === 'true',
    syncBodyLimit: integer(env, 'SYNC_MANAGER_SYNC_BODY_LIMIT', 2 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
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
