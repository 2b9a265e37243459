/**
 * The fast path for crashes: the engine's /events stream, followed for the services
 * the remediator manages. A container that dies (or is OOM-killed, or turns
 * unhealthy) starts the same guarded ladder as an alert, at once; the alert that
 * follows for the same failure joins the incident (engine.ts). Docker and podman's
 * compatible API name things differently: `die` / `died`, `health_status: unhealthy` /
 * `health_status` with a top-level HealthStatus. Docker follows a deliberate stop's
 * `die` with `stop`, which is waited for and left alone; podman emits no `stop`, so
 * there a deliberate stop of a managed service is restarted: pause remediation (or
 * silence the service) first. A container its own restart policy brings back within
that wait is left to the engine. The stream reconnects after the engine restarts.
 */
import type { Logger } from 'pino';
import type { DockerDriver } from './docker/driver.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE, OPT_IN_LABEL } from './docker/driver.js';
import type { Engine } from './engine.js';
import type { ServiceConfig } from './schema.js';

export interface EngineEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly status?: string;
  readonly HealthStatus?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
  readonly time?: number;
  readonly timeNano?: number;
}

export type Failure = { kind: 'die' | 'oom' | 'unhealthy'; containerId: string; attributes: Readonly<Record<string, string>>; at: number };

/** Pure: what an engine event says, in Docker's or podman's words. */
export function readEvent(e: EngineEvent): Failure | { kind: 'stop'; containerId: string } | undefined {
  if ((e.Type ?? 'container') !== 'container') return undefined;
  const action = e.Action ?? e.status ?? '';
  const containerId = e.Actor?.ID ?? '';
  const attributes = e.Actor?.Attributes ?? {};
  const at = e.timeNano ? Math.round(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
  if (action === 'die' || action === 'died') return { kind: 'die', containerId, attributes, at };
  if (action === 'oom') return { kind: 'oom', containerId, attributes, at };
  if (action === 'stop') return { kind: 'stop', containerId };
  if (action === 'health_status: unhealthy' || (action.startsWith('health_status') && e.HealthStatus === 'unhealthy')) {
    return { kind: 'unhealthy', containerId, attributes, at };
  }
  return undefined;
}

/** The managed service a container is, by its name, compose labels, or the opt-in label. */
export function serviceOf(attributes: Readonly<Record<string, string>>, services: readonly ServiceConfig[]): string | undefined {
  const name = attributes.name ?? '';
  const listed = services.find(
    (s) => s.container === name || (s.compose && attributes[COMPOSE_PROJECT] === s.compose.project && attributes[COMPOSE_SERVICE] === s.compose.service),
  );
  if (listed) return listed.name;
  return attributes[OPT_IN_LABEL] === 'true' ? name : undefined;
}

/**
 * How long a `die` waits before the ladder starts: for the `stop` that makes it
 * deliberate (Docker sends it at once), and for the engine's own restart policy to
 * bring the container back (then the ladder is not needed). podman sends no `stop`.
 */
const STOP_GRACE_MS = 1000;
const PODMAN_GRACE_MS = 300;

export class ContainerEvents {
  private stream: NodeJS.ReadableStream | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private backoff = 1000;
  private readonly pendingDies = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly driver: DockerDriver,
    private readonly engine: Engine,
    private readonly services: readonly ServiceConfig[],
    private readonly log: Logger,
    /** Whether a service runs on this engine now: events of a service that moved away are not its failures. */
    private readonly runsHere: (service: string) => boolean = () => true,
  ) {}

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      const stream = await this.driver.events();
      this.stream = stream;
      this.backoff = 1000;
      this.log.info('following container events');
      let buffer = '';
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) this.onLine(line);
        }
      });
      const again = () => {
        if (this.stream !== stream) return;
        this.stream = undefined;
        this.retry('the event stream ended');
      };
      stream.on('end', again);
      stream.on('close', again);
      stream.on('error', again);
    } catch (err) {
      this.retry((err as Error).message);
    }
  }

  private retry(why: string): void {
    if (this.stopped) return;
    this.log.warn({ why, retryMs: this.backoff }, 'container events lost; reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.backoff);
    this.timer.unref();
    this.backoff = Math.min(this.backoff * 2, 30_000);
  }

  private onLine(line: string): void {
    let e: EngineEvent;
    try {
      e = JSON.parse(line) as EngineEvent;
    } catch {
      return;
    }
    const what = readEvent(e);
    if (!what) return;
    if (what.kind === 'stop') {
      const pending = this.pendingDies.get(what.containerId);
      if (pending) {
        clearTimeout(pending);
        this.pendingDies.delete(what.containerId);
      }
      return;
    }
    const service = serviceOf(what.attributes, this.services);
    // Not ours, our own action's doing, or remediation paused / the service silenced.
    if (!service || !this.runsHere(service) || this.engine.busy(service) || this.engine.quiet(service)) return;
    const detail = `${what.kind} of ${what.attributes.name ?? what.containerId.slice(0, 12)}${what.attributes.exitCode ? ` (exit ${what.attributes.exitCode})` : ''}`;
    if (what.kind !== 'die') {
      this.engine.onDetected(service, 'container_event', what.at || Date.now(), detail);
      return;
    }
    // A die that a stop follows was deliberate (docker stop): wait a moment for it.
    clearTimeout(this.pendingDies.get(what.containerId));
    const t = setTimeout(() => {
      this.pendingDies.delete(what.containerId);
      if (this.engine.busy(service)) return;
      // Its restart policy brought it back already: the engine did the job, nothing to race it on.
      void this.driver
        .inspect(what.containerId)
        .catch(() => undefined)
        .then((info) => {
          if (info?.running) {
            this.log.info({ service, container: info.name }, `${detail}: running again (its restart policy); not acting`);
            return;
          }
          if (!this.engine.busy(service)) this.engine.onDetected(service, 'container_event', what.at || Date.now(), detail);
        });
    }, this.driver.isPodman ? PODMAN_GRACE_MS : STOP_GRACE_MS);
    t.unref();
    this.pendingDies.set(what.containerId, t);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const t of this.pendingDies.values()) clearTimeout(t);
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.stream = undefined;
    s?.destroy?.();
  }
}
