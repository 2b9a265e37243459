/**
 * The remediator's own liveness watch, for the failures no event shows: a frozen
 * process does not die. Each listed service with a probe is checked on its period;
 * `failure_threshold` failures in a row start the guarded ladder (as a Kubernetes
 * liveness probe would restart it), with the first failed probe as the failure's
 * start. While the service is being acted on, the watch leaves it alone.
 */
import type { Logger } from 'pino';
import type { DockerDriver } from './docker/driver.js';
import type { Engine } from './engine.js';
import { checkOnce } from './probe.js';
import type { RemediatorConfig, ServiceConfig } from './schema.js';

interface Watched {
  readonly service: ServiceConfig;
  readonly period: number;
  readonly threshold: number;
  failures: number;
  firstFailure?: number;
  timer?: NodeJS.Timeout;
  checking: boolean;
}

export class LivenessWatch {
  private readonly watched: Watched[];
  private stopped = false;

  constructor(
    config: RemediatorConfig,
    /** The engine each service runs on now (a migrated one is watched where it went). */
    private readonly driverOf: (service: ServiceConfig) => DockerDriver,
    private readonly engine: Engine,
    private readonly log: Logger,
  ) {
    this.watched = config.services
      .filter((s) => s.probe && (s.watch?.enabled ?? config.watch.enabled))
      .map((s) => ({ service: s, period: s.watch?.period ?? config.watch.period, threshold: s.watch?.failure_threshold ?? config.watch.failure_threshold, failures: 0, checking: false }));
  }

  /** The services watched, for the log and the tests. */
  get services(): string[] {
    return this.watched.map((w) => w.service.name);
  }

  start(): void {
    for (const w of this.watched) {
      w.timer = setInterval(() => void this.tick(w), w.period);
      w.timer.unref();
    }
    if (this.watched.length) this.log.info({ services: this.services }, 'liveness watch started');
  }

  private async tick(w: Watched): Promise<void> {
    if (this.stopped || w.checking) return;
    if (this.engine.busy(w.service.name) || this.engine.quiet(w.service.name)) {
      w.failures = 0;
      w.firstFailure = undefined;
      return;
    }
    w.checking = true;
    const at = Date.now();
    try {
      const driver = this.driverOf(w.service);
      const container = await driver.find(w.service);
      const check = container ? await checkOnce(driver, w.service, container.id) : { ok: false, detail: 'no container' };
      if (check.ok) {
        w.failures = 0;
        w.firstFailure = undefined;
        return;
      }
      w.failures += 1;
      w.firstFailure ??= at;
      if (w.failures >= w.threshold && !this.engine.busy(w.service.name)) {
        const first = w.firstFailure;
        w.failures = 0;
        w.firstFailure = undefined;
        this.engine.onDetected(w.service.name, 'watch', first, `${w.threshold} probes failed in a row, every ${w.period / 1000} s: ${check.detail}`);
      }
    } catch (err) {
      // The engine itself unreachable: the engine link reports that; nothing to act on here.
      this.log.debug({ service: w.service.name, err: (err as Error).message }, 'liveness check failed to run');
    } finally {
      w.checking = false;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watched) clearInterval(w.timer);
  }
}
