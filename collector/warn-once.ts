/**
 * Warns once per distinct problem: a parser meeting the same unknown output at every
 * collection, or a tool failing the same way every interval, says so once. The memory
 * is bounded: past `max` distinct problems, new ones are no longer logged.
 */
import type { Logger } from 'pino';

export class WarnOnce {
  private readonly seen = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly max = 100,
  ) {}

  /** Logs `msg` with `fields` the first time `key` comes; whether it logged. */
  warn(key: string, fields: Record<string, unknown>, msg: string): boolean {
    if (this.seen.has(key) || this.seen.size >= this.max) return false;
    this.seen.add(key);
    this.log.warn(fields, msg);
    return true;
  }
}
