/**
 * The host: creates one runner per configured instance, owns the exposition
 * registry, and starts and stops them together. A kind that no instance uses is
 * never created.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ExporterKind } from './contract.js';
import type { Config } from './config/load.js';
import { buildExposition, type Exposition } from './exposition.js';
import { InstanceRunner } from './instance-runner.js';

export interface HostOptions {
  readonly log: Logger;
  readonly now?: () => number;
  readonly processMetrics?: boolean;
  /** Only instances of this kind (and name), for `homestation collect`. */
  readonly only?: { readonly exporter: string; readonly instance?: string };
}

export class Host {
  readonly runners: readonly InstanceRunner[];
  readonly registry: Registry;
  /** The /metrics body. */
  readonly exposition: Exposition;
  private readonly log: Logger;

  constructor(config: Config, kinds: readonly ExporterKind[], options: HostOptions) {
    this.log = options.log;
    const now = options.now ?? Date.now;
    this.runners = config.instances
      .filter((i) => !options.only || (i.kind.name === options.only.exporter && (!options.only.instance || i.config.name === options.only.instance)))
      .map((i) => new InstanceRunner(i.kind, i.config, { log: options.log, now }));
    const used = kinds.filter((k) => this.runners.some((r) => r.exporter === k.name));
    this.exposition = buildExposition(used, this.runners, { processMetrics: options.processMetrics ?? true, log: options.log });
    this.registry = this.exposition.registry;
  }

  start(): void {
    for (const r of this.runners) r.start();
    this.log.info({ instances: this.runners.map((r) => `${r.exporter}/${r.instance}`) }, 'exporters started');
  }

  /** Ready once every instance has finished its first collection, well or not. */
  readiness(): { ready: boolean; pending: string[] } {
    const pending = this.runners.filter((r) => !r.status().settled).map((r) => `${r.exporter}/${r.instance}`);
    return { ready: pending.length === 0, pending };
  }

  async stop(): Promise<void> {
    const results = await Promise.allSettled(this.runners.map((r) => r.stop()));
    results.forEach((res, i) => {
      if (res.status === 'rejected') {
        const r = this.runners[i] as InstanceRunner;
        this.log.error({ exporter: r.exporter, instance: r.instance, err: String(res.reason) }, 'exporter did not stop cleanly');
      }
    });
  }
}
