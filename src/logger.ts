import type { LoggerOptions } from 'pino';

/** pino everywhere; pretty lines only when a person is watching a terminal. */
export function loggerOptions(level: string): LoggerOptions {
  const pretty = process.stdout.isTTY
    ? { transport: { target: 'pino-pretty', options: { colorize: true } } }
    : {};
  return { level, ...pretty, redact: ['req.headers.authorization'] };
}
