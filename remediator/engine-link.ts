/**
 * The remediator's link to its container engine. An engine that is down at start
 * (Docker restarting at boot, a socket proxy not up yet) does not stop HomeStation:
 * the remediator runs degraded (not ready, webhooks answered 503 so Alertmanager
 * retries them), says why once, and retries with backoff until the engine answers.
 */
import type { Logger } from 'pino';
import type { DockerDriver } from './docker/driver.js';

export interface EngineLinkStatus {
  readonly connected: boolean;
  /** Why not, while not connected. */
  readonly error?: string;
  /** Since when (ms) in the current state. */
  readonly since: number;
}

export class EngineLink {
  private state: EngineLinkStatus;
  private timer: NodeJS.Timeout | undefined;
  private backoff: number;
  private stopped = false;

  constructor(
    private readonly driver: DockerDriver,
    private readonly address: string,
    private readonly log: Logger,
    /** Called at every change of state (connected or not). */
    private readonly onChange: (status: EngineLinkStatus) => void,
    private readonly retry = { initialMs: 1000, maxMs: 30_000 },
  ) {
    this.backoff = retry.initialMs;
    this.state = { connected: false, error: 'not connected yet', since: Date.now() };
  }

  status(): EngineLinkStatus {
    return this.state;
  }

  /** The first attempt; resolves either way (the retries go on in the background). */
  async start(): Promise<void> {
    await this.attempt();
  }

  /** An action failed for want of the engine: mark it down and reconnect. */
  lost(err: Error): void {
    if (!this.state.connected || this.stopped) return;
    this.down(err.message);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.driver.ping();
      this.backoff = this.retry.initialMs;
      this.state = { connected: true, since: Date.now() };
      this.log.info({ engine: this.address, podman: this.driver.isPodman }, 'container engine connected');
      this.onChange(this.state);
    } catch (err) {
      this.down((err as Error).message);
    }
  }

  private down(message: string): void {
    const wasConnected = this.state.connected;
    const changed = wasConnected || this.state.error !== message;
    this.state = { connected: false, error: message, since: wasConnected || changed ? Date.now() : this.state.since };
    if (changed) {
      this.onChange(this.state);
      this.log.error(
        { engine: this.address, err: message },
        `cannot reach the container engine at ${this.address}; the remediator runs degraded (not ready, webhooks answered 503) and retries`,
      );
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attempt(), this.backoff);
    this.timer.unref();
    this.backoff = Math.min(this.backoff * 2, this.retry.maxMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
