/**
 * The remediator's link to the Kubernetes API when it drives no container engine: not
 * ready (webhooks 503, Alertmanager retries) until the API server has answered once
 * (GET /version), retried with backoff.
 */
import type { Logger } from 'pino';
import type { KubeClient } from '../../collector/kube/client.js';
import type { EngineLinkStatus } from '../engine-link.js';

export class KubeApiLink {
  private state: EngineLinkStatus = { connected: false, error: 'not tried yet', since: Date.now() };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly onConnected: () => void,
  ) {}

  status(): EngineLinkStatus {
    return this.state;
  }

  async start(): Promise<void> {
    let backoff = 1000;
    const attempt = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        const v = await this.client.request<{ gitVersion?: string }>('GET', '/version', { timeoutMs: 5000 });
        this.state = { connected: true, since: Date.now() };
        this.log.info({ api: this.client.connection.source, version: v.gitVersion }, 'Kubernetes API reachable');
        this.onConnected();
      } catch (err) {
        this.state = { connected: false, error: `Kubernetes API: ${(err as Error).message}`, since: this.state.connected ? Date.now() : this.state.since };
        this.log.warn({ err: (err as Error).message, retryInMs: backoff }, 'Kubernetes API unreachable');
        this.timer = setTimeout(() => void attempt(), backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    };
    await attempt();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
