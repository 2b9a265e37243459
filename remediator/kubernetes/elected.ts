/**
 * The remediator behind leader election: it starts (journal, engine, HTTP API) only
 * once this replica holds the Lease, so a standby neither acts nor listens and
 * Kubernetes sends Alertmanager's webhooks to the leader alone (a standby fails its
 * readiness probe). Leadership lost (the Lease could not be renewed) stops the
 * remediator at once and ends the process with an error, as client-go advises: the
 * kubelet restarts it as a fresh candidate, with no state of the old term left.
 */
import type { Logger } from 'pino';
import { KubeClient } from '../../collector/kube/client.js';
import { resolveConnection } from '../../collector/kube/connection.js';
import type { RemediatorConfig } from '../schema.js';
import { LeaderElector } from './leader.js';

export interface Elected<R extends { stop(): Promise<void> }> {
  /** The running remediator while this replica leads. */
  current(): R | undefined;
  readonly identity: string;
  /** Resolves (with why) when leadership was lost: the process should exit non-zero. */
  readonly lost: Promise<string>;
  /** Stops campaigning; a leader stops its remediator and releases the Lease. */
  stop(): Promise<void>;
}

export function startElected<R extends { stop(): Promise<void> }>(config: RemediatorConfig, start: () => Promise<R>, log: Logger): Elected<R> {
  const le = config.leader_election;
  const connection = resolveConnection(le);
  const client = new KubeClient(connection);
  const namespace = le.namespace ?? connection.namespace ?? 'default';
  let running: R | undefined;
  let starting: Promise<void> | undefined;
  let stopping = false;
  let onLost: (why: string) => void = () => {};
  const lost = new Promise<string>((resolve) => (onLost = resolve));
  const elector = new LeaderElector({
    client,
    namespace,
    name: le.lease_name,
    ...(le.identity ? { identity: le.identity } : {}),
    leaseDurationMs: le.lease_duration,
    renewDeadlineMs: le.renew_deadline,
    retryPeriodMs: le.retry_period,
    log,
    onStartedLeading: () => {
      starting = (async () => {
        try {
          running = await start();
        } catch (err) {
          log.error({ err: (err as Error).message }, 'the remediator did not start as leader');
          onLost(`start failed: ${(err as Error).message}`);
        }
      })();
    },
    onStoppedLeading: async () => {
      await starting;
      const r = running;
      running = undefined;
      await r?.stop();
      if (!stopping) onLost('leadership lost');
    },
  });
  elector.start();
  log.info({ lease: `${namespace}/${le.lease_name}`, identity: elector.identity, api: connection.source }, 'waiting to lead: the remediator starts once this replica holds the Lease');
  return {
    current: () => running,
    identity: elector.identity,
    lost,
    async stop() {
      stopping = true;
      await elector.stop();
      client.close();
    },
  };
}
