/** Builds a real InstanceRunner for a kind from a YAML-shaped instance config. */
import type { ExporterKind } from '../../collector/contract.js';
import { parseConfig } from '../../collector/config/load.js';
import { InstanceRunner } from '../../collector/instance-runner.js';
import { silentLogger } from '../../collector/logging.js';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { Writable } from 'node:stream';

/** A logger that keeps every line, to assert on what the user would read. */
export function memoryLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** Validates `instance` through the real config loader and wraps it in a runner. */
export function runnerFor(
  kind: ExporterKind,
  instance: Record<string, unknown>,
  options: { log?: Logger; now?: () => number } = {},
): InstanceRunner {
  const text = JSON.stringify({ exporters: { [kind.name]: [instance] } });
  const config = parseConfig(text, 'test-config.json', [kind], { env: process.env });
  const only = config.instances[0];
  if (!only) throw new Error('no instance');
  return new InstanceRunner(kind, only.config, { log: options.log ?? silentLogger(), now: options.now ?? Date.now });
}
