/**
 * The Prometheus exposition: a prom-client registry whose metrics read the
 * runners' kept state at scrape time (prom-client's `collect` hook). Nothing here
 * does I/O, so a scrape is as fast as the formatting, whatever the sources do.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { ERROR_REASONS, type ExporterKind, type MetricSpec } from './contract.js';
import type { InstanceRunner, InstanceStatus } from './instance-runner.js';
import { SELF, selfMetrics } from './self-metrics.js';
import { VERSION } from './version.js';

export interface ExpositionOptions {
  /** prom-client's process_* and nodejs_* metrics (the server has them; `collect` does not). */
  readonly processMetrics: boolean;
  readonly log: Logger;
}

/** A sample whose labels do not match its catalogue entry is dropped (and said once). */
function labelsMatch(spec: MetricSpec, labels: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(labels);
  return (
    keys.length === spec.labels.length &&
    spec.labels.every((l) => typeof labels[l] === 'string') &&
    keys.every((k) => spec.labels.includes(k))
  );
}

export function buildRegistry(
  kinds: readonly ExporterKind[],
  runners: readonly InstanceRunner[],
  options: ExpositionOptions,
): Registry {
  const registry = new Registry();
  const warned = new Set<string>();
  // One status read per runner and scrape, shared by every metric of the scrape:
  // prom-client collects metrics in registration order, and the first one
  // registered (homestation_exporter_up, below) takes the fresh reading.
  let cache: InstanceStatus[] | undefined;
  const refresh = (): InstanceStatus[] => (cache = runners.map((r) => r.status()));
  const statuses = (): InstanceStatus[] => cache ?? refresh();

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
  for (const kind of kinds) {
    const mine = runners.filter((r) => r.exporter === kind.name);
    if (mine.length === 0) continue;
    // The catalogue, plus what the instances' configs declare (one spec per name).
    const specs = new Map(kind.metrics.map((m) => [m.name, m]));
    for (const r of mine) for (const m of kind.configuredMetrics?.(r.config) ?? []) if (!specs.has(m.name)) specs.set(m.name, m);
    for (const spec of specs.values()) {
      const labelNames = ['exporter_instance', ...spec.labels];
      const fill = (set: (labels: Record<string, string>, value: number) => void) => {
        for (const st of statuses()) {
          if (st.exporter !== kind.name) continue;
          for (const s of st.samples) {
            if (s.metric !== spec.name) continue;
            const labels = s.labels ?? {};
            if (!labelsMatch(spec, labels) || typeof s.value !== 'number') {
              const key = `${kind.name}/${spec.name}`;
              if (!warned.has(key)) {
                warned.add(key);
                options.log.error({ exporter: kind.name, metric: spec.name, labels }, 'sample does not match its catalogue entry; dropped');
              }
              continue;
            }
            set({ exporter_instance: st.instance, ...labels }, s.value);
          }
        }
      };
      if (spec.type === 'counter') {
        new Counter({
          name: spec.name,
          help: spec.help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            fill((labels, value) => this.inc(labels, value));
          },
        });
      } else {
        new Gauge({
          name: spec.name,
          help: spec.help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            fill((labels, value) => this.set(labels, value));
          },
        });
      }
    }
  }

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
  return registry;
}

function selfHelp(name: string): string {
  return selfMetrics.find((m) => m.name === name)?.help ?? name;
}
