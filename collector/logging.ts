/**
 * pino, to stderr (stdout stays free for what the CLI prints): JSON for log
 * collectors, readable lines on a terminal. Keys that may hold secrets are
 * redacted wherever they appear in a logged object.
 */
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'password',
  'passphrase',
  'token',
  'env',
  '*.password',
  '*.passphrase',
  '*.token',
  '*.env',
  '*.*.password',
  '*.*.passphrase',
  '*.*.env',
  'headers.authorization',
  'req.headers.authorization',
];

export interface LogOptions {
  readonly level: string;
  readonly format: 'auto' | 'json' | 'pretty';
}

export async function createLogger(options: LogOptions): Promise<Logger> {
  const base = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '<secret>' },
    base: { pid: process.pid },
  };
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stderr.isTTY);
  if (pretty) {
    // In-process and synchronous: no worker thread for a prettier line.
    const { default: pinoPretty } = await import('pino-pretty');
    return pino(base, pinoPretty({ destination: 2, colorize: process.stderr.isTTY, sync: true }));
  }
  return pino(base, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for tests and one-shot commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
