/**
 * The Prometheus exposition at scrape time, from the runners' kept state: nothing
 * here does I/O, so a scrape is as fast as the formatting, whatever the sources do.
 * HomeStation's own metrics (and the process's, and the remediator's) are a
 * prom-client registry; the exporters' samples are written out directly
 * (sample-text.ts), one line per series.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { BodyPool, type Body } from './body-buffer.js';
import { ERROR_REASONS, type ExporterKind, type MetricSpec } from './contract.js';
import type { InstanceRunner, InstanceStatus } from './instance-runner.js';
import { SampleText } from './sample-text.js';
import { SELF, selfMetrics } from './self-metrics.js';
import { VERSION } from './version.js';

export interface ExpositionOptions {
  /** prom-client's process_* and nodejs_* metrics (the server has them; `collect` does not). */
  readonly processMetrics: boolean;
  readonly log: Logger;
}

export interface Exposition {
  /** HomeStation's own and the process metrics; the remediator registers its own here too. */
  readonly registry: Registry;
  readonly contentType: string;
  /**
   * The whole /metrics body: the registry, then every exporter family, written into a
   * pooled buffer (see body-buffer.ts). One status read per runner. The caller releases it.
   */
  body(): Promise<Body>;
  /** The same body as a string (`homestation collect`, tests). */
  text(): Promise<string>;
}

export function buildExposition(
  kinds: readonly ExporterKind[],
  runners: readonly InstanceRunner[],
  options: ExpositionOptions,
): Exposition {
  const registry = new Registry();
  // One status read per runner and scrape, shared by every metric of the scrape:
  // text() pins it; a registry read alone (prom-client collects in registration
  // order) takes it fresh in homestation_exporter_up, the first registered.
  let pinned: InstanceStatus[] | undefined;
  let cache: InstanceStatus[] | undefined;
  const refresh = (): InstanceStatus[] => (cache = pinned ?? runners.map((r) => r.status()));
  const statuses = (): InstanceStatus[] => pinned ?? cache ?? refresh();

  const perInstance = ['exporter', 'exporter_instance'];
  const helpOf = (name: string) => selfHelp(name);
  new Gauge({
    name: SELF.up,
    help: helpOf(SELF.up),
    labelNames: perInstance,
    registers: [registry],
    collect() {
      this.reset();
      for (const st of refresh()) this.set({ exporter: st.exporter, exporter_instance: st.instance }, st.up ? 1 : 0);
    },
  });
  const families = new Map<string, MetricSpec[]>();
  for (const kind of kinds) {
    const mine = runners.filter((r) => r.exporter === kind.name);
    if (mine.length === 0) continue;
    // The catalogue, plus what the instances' configs declare (one spec per name).
    const specs = new Map(kind.metrics.map((m) => [m.name, m]));
    for (const r of mine) for (const m of kind.configuredMetrics?.(r.config) ?? []) if (!specs.has(m.name)) specs.set(m.name, m);
    families.set(kind.name, [...specs.values()]);
  }
  const sampleText = new SampleText(families, options.log);

  /** A per-instance gauge of a value the status may not have yet (then no series). */
  const perInstanceGauge = (name: string, valueOf: (st: InstanceStatus) => number | undefined) =>
    new Gauge({
      name,
      help: helpOf(name),
      labelNames: perInstance,
      registers: [registry],
      collect() {
        this.reset();
        for (const st of statuses()) {
          const v = valueOf(st);
          if (v !== undefined) this.set({ exporter: st.exporter, exporter_instance: st.instance }, v);
        }
      },
    });
  perInstanceGauge(SELF.lastSuccess, (st) => (st.lastSuccess === undefined ? undefined : st.lastSuccess / 1000));
  perInstanceGauge(SELF.duration, (st) => (st.lastDurationMs === undefined ? undefined : st.lastDurationMs / 1000));
  new Counter({
    name: SELF.errors,
    help: helpOf(SELF.errors),
    labelNames: [...perInstance, 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const st of statuses()) {
        // Every reason from 0, so that rate() and increase() see the first error.
        for (const reason of ERROR_REASONS) {
          this.inc({ exporter: st.exporter, exporter_instance: st.instance, reason }, st.errors[reason]);
        }
      }
    },
  });
  const build = new Gauge({
    name: SELF.build,
    help: helpOf(SELF.build),
    labelNames: ['version', 'node_version'],
    registers: [registry],
  });
  build.set({ version: VERSION, node_version: process.versions.node }, 1);

  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const pool = new BodyPool();
  const body = async (): Promise<Body> => {
    pinned = runners.map((r) => r.status());
    const out = pool.acquire();
    try {
      out.write(await registry.metrics());
      if (families.size > 0) out.write('\n'); // the blank line between the registry's families and the exporters'
      sampleText.write(
        pinned.map((st) => ({ exporter: st.exporter, instance: st.instance, samples: st.samples })),
        out,
      );
    } catch (err) {
      pool.release(out);
      throw err;
    } finally {
      pinned = undefined;
      cache = undefined;
    }
    let released = false;
    return {
      chunks: out.chunks(),
      length: out.length,
      release() {
        if (released) return;
        released = true;
        pool.release(out);
      },
    };
  };
  return {
    registry,
    contentType: registry.contentType,
    body,
    async text() {
      const b = await body();
      try {
        return Buffer.concat(b.chunks).toString('utf8');
      } finally {
        b.release();
      }
    },
  };
}

function selfHelp(name: string): string {
  return selfMetrics.find((m) => m.name === name)?.help ?? name;
}
