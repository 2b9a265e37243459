/**
 * The container engines the remediator drives, by name: `local` (the `docker:`
 * one) and those under `hosts:`. Where each service runs now is kept in the
 * journal (`placement:<service>`), so that a migrated service is restarted,
 * watched and checked on the host it was moved to, across restarts.
 */
import { DockerDriver } from './docker/driver.js';
import type { Journal } from './journal.js';
import { LOCAL_HOST, type RemediatorConfig, type ServiceConfig } from './schema.js';

export class Hosts {
  private constructor(
    private readonly drivers: ReadonlyMap<string, DockerDriver>,
    private readonly journal: Journal,
  ) {}

  /** Drivers for every configured engine (no I/O: an engine that is down is found out when used). */
  static async open(config: Pick<RemediatorConfig, 'docker' | 'hosts'>, journal: Journal, local?: DockerDriver): Promise<Hosts> {
    const drivers = new Map<string, DockerDriver>([[LOCAL_HOST, local ?? (await DockerDriver.create(config.docker))]]);
    for (const h of config.hosts) drivers.set(h.name, await DockerDriver.create(h));
    return new Hosts(drivers, journal);
  }

  /** Only the local engine (no `hosts:`): what tests of single-host behaviour use. */
  static single(local: DockerDriver, journal: Journal): Hosts {
    return new Hosts(new Map([[LOCAL_HOST, local]]), journal);
  }

  get names(): string[] {
    return [...this.drivers.keys()];
  }

  driver(name: string): DockerDriver {
    const d = this.drivers.get(name);
    if (!d) throw new Error(`unknown host "${name}" (known: ${this.names.join(', ')})`);
    return d;
  }

  /** The host the service runs on now: where it was last migrated to, else its home (the first of its hosts). */
  hostOf(service: Pick<ServiceConfig, 'name' | 'hosts'>): string {
    const placed = this.journal.getState(`placement:${service.name}`);
    if (placed && this.drivers.has(placed)) return placed;
    return service.hosts?.[0] ?? LOCAL_HOST;
  }

  driverOf(service: Pick<ServiceConfig, 'name' | 'hosts'>): DockerDriver {
    return this.driver(this.hostOf(service));
  }

  place(service: string, host: string): void {
    this.journal.setState(`placement:${service}`, host);
  }
}
