import { createRequire } from 'node:module';
import type { LoggerOptions } from 'pino';

/**
 * pino everywhere; pretty lines only when a person is watching a terminal and pino-pretty is installed.
 * It is a development dependency: a production install (`npm ci --omit=dev`) logs JSON lines, on a
 * terminal too, rather than failing to start.
 */
export function loggerOptions(level: string): LoggerOptions {
  const pretty =
    process.stdout.isTTY && hasPinoPretty()
      ? { transport: { target: 'pino-pretty', options: { colorize: true } } }
      : {};
  return { level, ...pretty, redact: ['req.headers.authorization'] };
}

function hasPinoPretty(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
