/** Renders an exporter's samples through the real exposition path, for golden files. */
import type { ExporterKind, Sample } from '../../collector/contract.js';
import { InstanceRunner } from '../../collector/instance-runner.js';
import { buildExposition } from '../../collector/exposition.js';
import { silentLogger } from '../../collector/logging.js';

/** Exposition text of `samples` as instance `instance` of `kind` (the kind's families only). */
export async function exposeSamples(kind: ExporterKind, samples: readonly Sample[], instance = 'test'): Promise<string> {
  const log = silentLogger();
  const fake: ExporterKind = { ...kind, configuredMetrics: undefined, create: () => ({ mode: 'pull', collect: async () => [...samples] }) };
  const runner = new InstanceRunner(fake, { name: instance, interval: 60_000, timeout: 5_000 }, { log, now: Date.now });
  await runner.collectOnce();
  const exposition = buildExposition([fake], [runner], { processMetrics: false, log });
  const names = new Set(kind.metrics.map((m) => m.name));
  const families = (await exposition.text()).split('\n\n');
  return `${families
    .filter((f) => {
      const m = /^# HELP (\S+)/.exec(f);
      return m && names.has(m[1] as string);
    })
    .map((f) => f.trimEnd())
    .join('\n')}\n`;
}
